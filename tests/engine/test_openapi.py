"""The OpenAPI document: valid OpenAPI 3.1, complete for the spec, and true to the answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from starlette.testclient import TestClient

from app.engine.fieldtypes import FIELD_TYPES
from app.engine.openapi import openapi_document
from app.spec.loader import load_spec_or_raise
from app.spec.model import AppSpec
from tests.engine.apiclient import api_client
from tests.engine.configs import write_sample_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shipped() -> AppSpec:
    return load_spec_or_raise(PROJECT_ROOT)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> AppSpec:
    return load_spec_or_raise(write_sample_config(tmp_path_factory.mktemp("sample")))


def schema_validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    """A JSON Schema validator for components/schemas/<name>, resolving the document's $refs."""
    registry: Registry[Any] = Registry().with_resource("urn:doc", Resource.from_contents(doc, default_specification=_draft()))
    return Draft202012Validator({"$ref": f"urn:doc#/components/schemas/{name}"}, registry=registry)


def _draft() -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012


@pytest.mark.parametrize("which", ["shipped", "sample"])
def test_document_is_valid_openapi_31(which: str, request: pytest.FixtureRequest) -> None:
    spec: AppSpec = request.getfixturevalue(which)
    doc = openapi_document(spec)
    assert doc["openapi"].startswith("3.1")
    validate_openapi(doc)  # raises on any error


def test_every_entity_and_field_is_described(shipped: AppSpec) -> None:
    doc = openapi_document(shipped)
    schemas = doc["components"]["schemas"]
    for entity in shipped.entities.values():
        schema = schemas[entity.name]
        assert schema["type"] == "object"
        for field in entity.fields.values():
            prop = schema["properties"][field.name]
            base = FIELD_TYPES[field.type].json_schema["type"]
            assert base in prop["type"] and "null" in prop["type"], (entity.name, field.name)
            if field.type == "choice":
                assert prop["enum"][:-1] == shipped.picklists[field.picklist or ""].codes()
        for child in entity.children:
            assert schema["properties"][child.name]["items"] == {"$ref": f"#/components/schemas/{child.entity}"}
        for system in ("id", "version", "created_at", "updated_at"):
            assert system in schema["properties"]
        paths = (f"/{entity.name}", f"/{entity.name}/{{id}}")
        if entity.embedded:
            assert not any(p in doc["paths"] for p in paths), entity.name
        else:
            assert set(doc["paths"][paths[0]]) == {"get", "post"}
            assert {"get", "patch", "delete"} <= set(doc["paths"][paths[1]])
    names = set(shipped.entities)
    assert {"account", "contact", "product", "company", "user"} <= names
    assert "/account_address" not in doc["paths"] and "account_address" in schemas


def test_account_schema_details(shipped: AppSpec) -> None:
    doc = openapi_document(shipped)
    account = doc["components"]["schemas"]["account"]
    props = account["properties"]
    assert account["required"] == ["name"]  # type has a default, code is numbered
    assert props["code"]["readOnly"] is True and props["id"]["readOnly"] is True
    assert props["created_at"]["readOnly"] is True
    assert props["type"]["enum"] == ["prospect", "client", "other", None]
    assert props["credit_limit"]["type"] == ["string", "null"]
    assert props["credit_limit"]["format"] == "decimal"
    assert props["assigned_user"]["x-comptoir-link"] == "user"
    assert props["siret"]["pattern"] == r"^\d{14}$"
    address = doc["components"]["schemas"]["account_address"]
    assert address["properties"]["account"]["readOnly"] is True  # set from the parent
    assert "account" not in address.get("required", [])


def test_user_password_is_write_only(shipped: AppSpec) -> None:
    doc = openapi_document(shipped)
    user = doc["components"]["schemas"]["user"]
    assert user["properties"]["password"]["writeOnly"] is True
    assert "password" not in user.get("required", [])
    assert user["properties"]["rights"]["items"] == {"$ref": "#/components/schemas/user_right"}
    assert user["properties"]["groups"]["items"]["enum"] == list(shipped.groups)


def test_security_and_errors(shipped: AppSpec) -> None:
    doc = openapi_document(shipped)
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "field"]
    create = doc["paths"]["/account"]["post"]["responses"]
    assert create["422"] == {"$ref": "#/components/responses/E422"}
    assert doc["components"]["responses"]["E422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_served_document_matches_the_answers(make_runtime: Any, tmp_path: Path) -> None:
    """Records, pages and errors the API returns validate against the schemas it publishes."""
    rt = make_runtime(write_sample_config(tmp_path / "config"))
    api: TestClient = api_client(rt)
    served = TestClient(api.app).get("/api/v1/openapi.json")  # no token needed
    assert served.status_code == 200
    doc = served.json()
    assert doc == openapi_document(rt.spec)
    owner = api.get("/api/v1/user").json()["items"][0]["id"]
    created = api.post(
        "/api/v1/sample",
        json={
            "name": "Complet",
            "count": 3,
            "ratio": "0,125",
            "amount": "10",
            "day": "2024-01-31",
            "moment": "2024-01-31T08:00:00",
            "colour": "blue",
            "colours": ["red"],
            "owner": owner,
            "email": "a@b.fr",
            "siret": "73282932000074",
            "parts": [{"label": "P", "quantity": "2,5"}],
        },
    )
    assert created.status_code == 201, created.text
    record = schema_validator(doc, "sample")
    record.validate(created.json())
    record.validate(api.get(f"/api/v1/sample/{created.json()['id']}").json())
    schema_validator(doc, "sample.page").validate(api.get("/api/v1/sample").json())
    schema_validator(doc, "user.page").validate(api.get("/api/v1/user").json())
    error = api.post("/api/v1/sample", json={"name": "X", "siret": "1"})
    assert error.status_code == 422
    schema_validator(doc, "Error").validate(error.json())
    # and the validator is not a rubber stamp
    assert not record.is_valid({**created.json(), "amount": 10.0})
    assert not record.is_valid({**created.json(), "colour": "green"})
    assert not record.is_valid({**created.json(), "nope": 1})
