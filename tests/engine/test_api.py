"""The REST API through HTTP: CRUD with nested children, filters, locking, errors, tokens."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.engine.apiclient import add_user_with_token, api_client, client_for, error_of, make_app

SIRET = "73282932000074"
IBAN = "FR1420041010050500013M02606"


@pytest.fixture
def api(runtime: Any) -> TestClient:
    return api_client(runtime)


@pytest.fixture(autouse=True)
def no_internal_errors(caplog: pytest.LogCaptureFixture) -> Any:
    """Bad input must be refused with a 4xx, never reach the catch-all handler (which logs)."""
    with caplog.at_level(logging.ERROR, logger="comptoir.api"):
        yield
    internal = [r for r in caplog.records if r.name == "comptoir.api"]
    assert not internal, [r.getMessage() for r in internal]


def create(api: TestClient, entity: str, data: dict[str, Any]) -> dict[str, Any]:
    response = api.post(f"/api/v1/{entity}", json=data)
    assert response.status_code == 201, response.text
    return dict(response.json())


def count_rows(rt: Any, entity: str) -> int:
    table = rt.models.tables[entity]
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- CRUD ------------------------------------------------------------------------------------


def test_account_crud_with_nested_addresses(api: TestClient, runtime: Any) -> None:
    response = api.post(
        "/api/v1/account",
        json={
            "name": "Dupont Rénovation",
            "siret": "732 829 320 00074",
            "iban": "FR14 2004 1010 0505 0001 3M02 606",
            "credit_limit": "1 234,50",
            "addresses": [
                {"label": "Siège", "city": "Lyon", "kind": "billing"},
                {"label": "Dépôt", "city": "Vénissieux", "kind": "delivery"},
            ],
        },
    )
    assert response.status_code == 201, response.text
    account = response.json()
    assert response.headers["location"] == f"/api/v1/account/{account['id']}"
    assert response.headers["etag"] == '"1"'
    assert account["code"].startswith("CU")  # numbered on creation
    assert account["type"] == "prospect"  # default
    assert account["siret"] == SIRET and account["iban"] == IBAN
    assert account["credit_limit"] == "1234.50"  # French input, string output
    assert account["version"] == 1
    assert [a["label"] for a in account["addresses"]] == ["Siège", "Dépôt"]  # in creation order
    assert all(a["account"] == account["id"] and a["id"] for a in account["addresses"])

    url = f"/api/v1/account/{account['id']}"
    assert api.get(url).json() == account

    first = next(a for a in account["addresses"] if a["label"] == "Siège")
    response = api.patch(
        url,
        json={
            "version": 1,
            "name": "Dupont Rénovation SAS",
            "addresses": [
                {"id": first["id"], "city": "Lyon 3e"},
                {"label": "Chantier", "city": "Bron"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["version"] == 2 and response.headers["etag"] == '"2"'
    assert updated["name"] == "Dupont Rénovation SAS"
    assert updated["siret"] == SIRET  # untouched by a partial update
    by_label = {a["label"]: a for a in updated["addresses"]}
    assert set(by_label) == {"Siège", "Chantier"}  # "Dépôt" left out: deleted
    assert by_label["Siège"]["id"] == first["id"] and by_label["Siège"]["city"] == "Lyon 3e"
    assert by_label["Chantier"]["kind"] == "billing"  # the child's default
    assert count_rows(runtime, "account_address") == 2

    assert api.delete(url).status_code == 204
    assert api.delete(url).status_code == 404
    missing = api.get(url)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert count_rows(runtime, "account_address") == 0


def test_product_with_components_and_amounts_as_strings(api: TestClient) -> None:
    screw = create(api, "product", {"name": "Vis inox", "sale_price": "0,12"})
    plate = create(api, "product", {"name": "Plaque", "sale_price": 15})
    kit = create(
        api,
        "product",
        {
            "name": "Kit de fixation",
            "sale_price": "1 234,50",
            "cost_price": 99.9,
            "vat_rate": "5,5",
            "components": [
                {"component": screw["id"], "quantity": "12"},
                {"component": {"id": plate["id"]}, "quantity": "0,5"},
            ],
        },
    )
    assert kit["sale_price"] == "1234.50" and kit["cost_price"] == "99.90"
    assert kit["vat_rate"] == "5.5000"
    assert screw["vat_rate"] == "20.0000"  # default from the YAML
    assert plate["sale_price"] == "15.00"
    parts = {c["component"]: c["quantity"] for c in kit["components"]}
    assert parts == {screw["id"]: "12.0000", plate["id"]: "0.5000"}
    for value in (kit["sale_price"], kit["vat_rate"], *parts.values()):
        assert isinstance(value, str)

    in_use = api.delete(f"/api/v1/product/{screw['id']}")
    assert in_use.status_code == 409 and error_of(in_use)["code"] == "in_use"
    url = f"/api/v1/product/{kit['id']}"
    response = api.patch(url, json={"components": []})
    assert response.status_code == 200, response.text
    assert response.json()["components"] == []
    # a component still used by a kit cannot be deleted; once unused it can
    assert api.delete(f"/api/v1/product/{screw['id']}").status_code == 204


def test_list_filters_sort_search_and_paging(api: TestClient) -> None:
    rows = [
        ("Dupont Frères", "client", "Lyon", "1000"),
        ("Dupuis et fils", "client", "Paris", "250,50"),
        ("Martin SARL", "prospect", "Lyon", None),
        ("Bernard", "other", "Nantes", "5000"),
        ("Durand", "client", "Lille", "0"),
    ]
    for name, kind, city, limit in rows:
        create(api, "account", {"name": name, "type": kind, "city": city, "credit_limit": limit})

    def names(query: str) -> list[str]:
        response = api.get(f"/api/v1/account?{query}")
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    assert names("type=client") == ["Dupont Frères", "Dupuis et fils", "Durand"]  # default sort: name
    assert names("name__contains=dup") == ["Dupont Frères", "Dupuis et fils"]
    assert names("type__ne=client&sort=-name") == ["Martin SARL", "Bernard"]
    assert names("type__in=other,prospect") == ["Bernard", "Martin SARL"]
    assert names("credit_limit__gte=1 000,00") == ["Bernard", "Dupont Frères"]
    assert names("credit_limit__lt=250.51&credit_limit__gt=0") == ["Dupuis et fils"]
    assert names("credit_limit__null=true") == ["Martin SARL"]
    assert names("sort=type,-name") == ["Durand", "Dupuis et fils", "Dupont Frères", "Bernard", "Martin SARL"]
    assert names("q=lyon") == ["Dupont Frères", "Martin SARL"]  # city is a search field
    assert names("q=DUP&type=client") == ["Dupont Frères", "Dupuis et fils"]

    page = api.get("/api/v1/account?sort=name&page=2&page_size=2").json()
    assert page["total"] == 5 and page["page"] == 2 and page["page_size"] == 2
    assert [i["name"] for i in page["items"]] == ["Dupuis et fils", "Durand"]
    assert api.get("/api/v1/account?page=9").json()["items"] == []
    listed = api.get("/api/v1/account?page_size=1").json()["items"][0]
    assert "addresses" not in listed and isinstance(listed["version"], int)


def test_french_decimal_input(api: TestClient) -> None:
    account = create(api, "account", {"name": "Décimal", "credit_limit": "12 345,67"})
    assert account["credit_limit"] == "12345.67"
    patched = api.patch(f"/api/v1/account/{account['id']}", json={"credit_limit": "1.234,5"})
    assert patched.json()["credit_limit"] == "1234.50"
    patched = api.patch(f"/api/v1/account/{account['id']}", json={"credit_limit": 7.1})
    assert patched.json()["credit_limit"] == "7.10"


# --- optimistic locking --------------------------------------------------------------------


def test_version_conflict(api: TestClient) -> None:
    account = create(api, "account", {"name": "Verrou"})
    url = f"/api/v1/account/{account['id']}"
    assert api.patch(url, json={"name": "A", "version": 1}).status_code == 200
    stale = api.patch(url, json={"name": "B", "version": 1})
    assert stale.status_code == 409
    error = error_of(stale)
    assert error["code"] == "conflict" and error["field"] == "version"
    assert "rechargez" in error["message"]
    stale_header = api.patch(url, json={"name": "B"}, headers={"If-Match": '"1"'})
    assert stale_header.status_code == 409
    fresh = api.patch(url, json={"name": "C"}, headers={"If-Match": api.get(url).headers["etag"]})
    assert fresh.status_code == 200 and fresh.json()["version"] == 3
    assert api.patch(url, json={"name": "D"}, headers={"If-Match": "*"}).status_code == 200
    assert api.get(url).json()["name"] == "D"
    contradictory = api.patch(url, json={"name": "E", "version": 4}, headers={"If-Match": '"3"'})
    assert contradictory.status_code == 400 and error_of(contradictory)["field"] == "version"


# --- authentication ------------------------------------------------------------------------


def test_missing_or_invalid_token_is_401(runtime: Any) -> None:
    app = make_app(runtime)
    token = add_user_with_token(runtime, "alice", ["admin"])
    inactive = add_user_with_token(runtime, "gone", ["admin"], active=False)
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Bearer {inactive}"},
    ):
        client = TestClient(app)
        for method, path in (("GET", "/api/v1/account"), ("POST", "/api/v1/account"), ("GET", "/api/v1/nope/1")):
            response = client.request(method, path, headers=headers, content=b"{not json")
            assert response.status_code == 401, (headers, method, path)
            assert error_of(response)["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
    assert client_for(app, token).get("/api/v1/account").status_code == 200
    assert TestClient(app).get("/api/v1/openapi.json").status_code == 200  # public


# --- the built-in user entity --------------------------------------------------------------


def test_user_password_is_never_output(api: TestClient) -> None:
    created = create(api, "user", {"login": "bob", "password": "long-enough-1", "groups": ["sales"]})
    assert "password" not in created
    assert "password" not in api.get(f"/api/v1/user/{created['id']}").json()
    for item in api.get("/api/v1/user").json()["items"]:
        assert "password" not in item
    for query in ("password=x", "password__contains=a", "sort=password"):
        response = api.get(f"/api/v1/user?{query}")
        assert response.status_code == 400 and error_of(response)["field"] == "password"


def test_only_users_with_rights_on_user_list_users(runtime: Any) -> None:
    app = make_app(runtime)
    admin = client_for(app, add_user_with_token(runtime, "root", ["admin"]))
    nobody = client_for(
        app, add_user_with_token(runtime, "nobody", [], rights=[{"entity": "account", "action": "read"}])
    )
    denied = client_for(
        app,
        add_user_with_token(runtime, "denied", ["readonly"], rights=[{"entity": "user", "action": "read", "effect": "deny"}]),
    )
    assert admin.get("/api/v1/user").status_code == 200
    assert nobody.get("/api/v1/account").status_code == 200
    for client in (nobody, denied):
        response = client.get("/api/v1/user")
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
        assert client.get("/api/v1/user/1").status_code == 403


# --- errors --------------------------------------------------------------------------------

# (method, path, JSON payload, raw bytes or None for no body, status, code, field);
# "{account}" is replaced by the id of an existing account.
ERROR_CASES: list[tuple[str, str, Any, int, str, str | None]] = [
    ("POST", "/api/v1/account", {"name": "X", "siret": "12345678901234"}, 422, "invalid", "siret"),
    ("POST", "/api/v1/account", {"name": "X", "iban": "FR1420041010050500013M02607"}, 422, "invalid", "iban"),
    ("POST", "/api/v1/account", {"name": "X", "type": "vip"}, 422, "invalid", "type"),
    ("POST", "/api/v1/account", {"type": "client"}, 422, "required", "name"),
    ("POST", "/api/v1/account", {"name": ""}, 422, "required", "name"),
    ("POST", "/api/v1/account", {"name": "X", "assigned_user": 999999}, 422, "invalid", "assigned_user"),
    ("POST", "/api/v1/account", {"name": "X", "property_manager": "abc"}, 422, "invalid", "property_manager"),
    ("POST", "/api/v1/account", {"name": "X", "property_manager": 10**30}, 422, "invalid", "property_manager"),
    ("POST", "/api/v1/account", {"name": "X", "colour": "red"}, 422, "unknown_field", "colour"),
    ("POST", "/api/v1/account", {"name": {"fr": "X"}}, 422, "invalid", "name"),
    ("POST", "/api/v1/account", {"name": ["X"]}, 422, "invalid", "name"),
    ("POST", "/api/v1/account", {"name": "X" * 201}, 422, "invalid", "name"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": "beaucoup"}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": True}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": [1]}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": "1,234"}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": -5}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": "1e999"}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": 1e300}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "credit_limit": "99999999999999999"}, 422, "invalid", "credit_limit"),
    ("POST", "/api/v1/account", {"name": "X", "is_supplier": "peut-être"}, 422, "invalid", "is_supplier"),
    ("POST", "/api/v1/account", {"name": "X", "email": "pas-un-mail"}, 422, "invalid", "email"),
    ("POST", "/api/v1/account", {"name": "X", "code": "CU-1"}, 422, "readonly", "code"),
    ("POST", "/api/v1/account", {"name": "X", "addresses": {"label": "a"}}, 422, "invalid", "addresses"),
    ("POST", "/api/v1/account", {"name": "X", "addresses": ["a"]}, 422, "invalid", "addresses[0]"),
    ("POST", "/api/v1/account", {"name": "X", "addresses": [{"city": "Lyon"}]}, 422, "required", "addresses[0].label"),
    ("POST", "/api/v1/account", {"name": "X", "addresses": [{"label": "a", "kind": "x"}]}, 422, "invalid", "addresses[0].kind"),
    ("POST", "/api/v1/account", {"name": "X", "addresses": [{"label": "a", "nope": 1}]}, 422, "unknown_field", "addresses[0].nope"),
    ("POST", "/api/v1/account", {"name": "X", "addresses": [{"id": 999, "label": "a"}]}, 422, "invalid", "addresses[0].id"),
    ("POST", "/api/v1/product", {"name": "K", "components": [{"component": 424242}]}, 422, "invalid", "components[0].component"),
    ("POST", "/api/v1/product", {"name": "K", "months_billed": 10**12}, 422, "invalid", "months_billed"),
    ("POST", "/api/v1/product", {"name": "K", "months_billed": 1.5}, 422, "invalid", "months_billed"),
    ("POST", "/api/v1/product", {"name": "K", "vat_rate": "101"}, 422, "invalid", "vat_rate"),
    ("POST", "/api/v1/account", b"{not json", 400, "bad_json", None),
    ("POST", "/api/v1/account", b"", 400, "bad_json", None),
    ("POST", "/api/v1/account", b'{"name": NaN}', 400, "bad_json", None),
    ("POST", "/api/v1/account", b"[" * 100_000, 400, "bad_json", None),
    ("POST", "/api/v1/account", b"\xff\xfe", 400, "bad_json", None),
    ("POST", "/api/v1/account", [{"name": "X"}], 400, "bad_request", None),
    ("POST", "/api/v1/account", "X", 400, "bad_request", None),
    ("PATCH", "/api/v1/account/{account}", {"version": "abc"}, 422, "invalid", "version"),
    ("PATCH", "/api/v1/account/{account}", {"version": True}, 422, "invalid", "version"),
    ("PATCH", "/api/v1/account/{account}", {"name": None}, 422, "required", "name"),
    ("PATCH", "/api/v1/account/{account}", {"nope": 1}, 422, "unknown_field", "nope"),
    ("PATCH", "/api/v1/account/{account}", None, 400, "bad_json", None),
    ("PATCH", "/api/v1/account/{account}", b"null", 400, "bad_request", None),
    ("POST", "/api/v1/account", b'{"name": "A\\u0000B"}', 400, "bad_json", None),
    ("POST", "/api/v1/account", b'{"name": "\\ud800"}', 400, "bad_json", None),
    ("GET", "/api/v1/account?name=a%00b", None, 400, "bad_filter", "name"),
    ("GET", "/api/v1/account?version=1.5", None, 400, "bad_filter", "version"),
    ("GET", "/api/v1/nothing", None, 404, "unknown_entity", None),
    ("POST", "/api/v1/nothing", {"name": "X"}, 404, "unknown_entity", None),
    ("GET", "/api/v1/account_address", None, 404, "unknown_entity", None),
    ("GET", "/api/v1/account_address/1", None, 404, "unknown_entity", None),
    ("GET", "/api/v1/user_right", None, 404, "unknown_entity", None),
    ("GET", "/api/v1/account/abc", None, 404, "not_found", None),
    ("GET", "/api/v1/account/0", None, 404, "not_found", None),
    ("GET", "/api/v1/account/-1", None, 404, "not_found", None),
    ("GET", "/api/v1/account/1.5", None, 404, "not_found", None),
    ("GET", "/api/v1/account/99999999999999999999999", None, 404, "not_found", None),
    ("GET", "/api/v1/account/" + "9" * 5000, None, 404, "not_found", None),
    ("GET", "/api/v1/account/2147483647", None, 404, "not_found", None),
    ("PATCH", "/api/v1/account/abc", {"name": "X"}, 404, "not_found", None),
    ("DELETE", "/api/v1/account/abc", None, 404, "not_found", None),
    ("DELETE", "/api/v1/account/424242", None, 404, "not_found", None),
    ("GET", "/api/v1/account/1/2/3", None, 404, "not_found", None),
    ("PUT", "/api/v1/account/{account}", {"name": "X"}, 405, "method_not_allowed", None),
    ("DELETE", "/api/v1/account", None, 405, "method_not_allowed", None),
    ("GET", "/api/v1/account?nope=1", None, 400, "unknown_field", "nope"),
    ("GET", "/api/v1/account?name__like=x", None, 400, "bad_filter", "name__like"),
    ("GET", "/api/v1/account?is_supplier=peut-être", None, 400, "bad_filter", "is_supplier"),
    ("GET", "/api/v1/account?credit_limit__gte=abc", None, 400, "bad_filter", "credit_limit__gte"),
    ("GET", "/api/v1/account?credit_limit__gte=1e999", None, 400, "bad_filter", "credit_limit__gte"),
    ("GET", "/api/v1/account?assigned_user=abc", None, 400, "bad_filter", "assigned_user"),
    ("GET", "/api/v1/account?assigned_user=99999999999999999999", None, 400, "bad_filter", "assigned_user"),
    ("GET", "/api/v1/account?id=abc", None, 400, "bad_filter", "id"),
    ("GET", "/api/v1/account?id__in=1,x", None, 400, "bad_filter", "id__in"),
    ("GET", "/api/v1/account?id=99999999999999999999", None, 400, "bad_filter", "id"),
    ("GET", "/api/v1/account?version__gt=abc", None, 400, "bad_filter", "version__gt"),
    ("GET", "/api/v1/account?created_at__gte=hier", None, 400, "bad_filter", "created_at__gte"),
    ("GET", "/api/v1/account?type=client&type=prospect", None, 400, "bad_filter", "type"),
    ("GET", "/api/v1/account?sort=nope", None, 400, "unknown_field", "nope"),
    ("GET", "/api/v1/account?page=0", None, 400, "bad_request", "page"),
    ("GET", "/api/v1/account?page=abc", None, 400, "bad_request", "page"),
    ("GET", "/api/v1/account?page=99999999999", None, 400, "bad_request", "page"),
    ("GET", "/api/v1/account?page_size=0", None, 400, "bad_request", "page_size"),
    ("GET", "/api/v1/account?page_size=501", None, 400, "bad_request", "page_size"),
]


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "code", "field"),
    ERROR_CASES,
    ids=[f"{c[0]} {c[1][:60]} {str(c[2])[:40]}" for c in ERROR_CASES],
)
def test_bad_input_is_a_4xx_envelope(
    api: TestClient, method: str, path: str, payload: Any, status: int, code: str, field: str | None
) -> None:
    account = create(api, "account", {"name": "Existant"})
    path = path.replace("{account}", str(account["id"]))
    if isinstance(payload, bytes):
        response = api.request(method, path, content=payload, headers={"content-type": "application/json"})
    elif payload is None:
        response = api.request(method, path)
    else:
        response = api.request(method, path, json=payload)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["code"] == code, error
    assert error["field"] == field, error
    # nothing was written by a refused request
    assert api.get(f"/api/v1/account/{account['id']}").json()["version"] == 1
    assert api.get("/api/v1/account").json()["total"] == 1


def test_duplicate_is_a_409_naming_the_field(api: TestClient) -> None:
    create(api, "product", {"name": "A", "code": "REF-1"})
    response = api.post("/api/v1/product", json={"name": "B", "code": "REF-1"})
    assert response.status_code == 409
    assert error_of(response) | {"message": ""} == {"code": "duplicate", "message": "", "field": "code"}


def test_in_use_record_cannot_be_deleted(api: TestClient) -> None:
    manager = create(api, "account", {"name": "Syndic"})
    create(api, "account", {"name": "Copropriété", "property_manager": manager["id"]})
    response = api.delete(f"/api/v1/account/{manager['id']}")
    assert response.status_code == 409 and error_of(response)["code"] == "in_use"
    assert api.get(f"/api/v1/account/{manager['id']}").status_code == 200


def test_unexpected_error_is_a_logged_500_envelope(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from app.engine.store import Store

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(Store, "list", broken)
    response = api.get("/api/v1/account")
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal"
    assert "boom" not in response.text
    assert [r.exc_info[1] for r in caplog.records if r.name == "comptoir.api" and r.exc_info]
    caplog.clear()  # expected here: keep the autouse guard quiet


# --- every field type, on a small configuration of its own -----------------------------------

SAMPLE_VALUES: dict[str, Any] = {
    "name": "Échantillon",
    "notes": "Texte\nlong",
    "count": "12",
    "ratio": "1,5",
    "amount": "1 234,5",
    "rate": 5.5,
    "day": "29/02/2024",
    "moment": "2024-02-29T10:30:00",
    "flag": "oui",
    "colour": "red",
    "colours": ["red", "blue"],
    "email": "contact@example.fr",
    "phone": "+33 4 78 00 00 00",
    "website": "https://example.fr",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "bic": "BNPAFRPP",
    "siren": "732 829 320",
    "siret": SIRET,
    "vat_number": "FR 40 303 265 045",
    "attachment": "docs/devis.pdf",
    "picture": "img/logo.png",
}


@pytest.fixture
def sample_api(make_runtime: Any, tmp_path: Any) -> TestClient:
    from tests.engine.configs import write_sample_config

    return api_client(make_runtime(write_sample_config(tmp_path / "config")))


def test_an_empty_multichoice_is_null_however_the_record_is_created(sample_api: TestClient) -> None:
    """One at a time (the unit of work writes the row) or in a batch (one INSERT for all,
    with or without a value in the others): no choice is the same empty value for filters."""
    create(sample_api, "sample", {"name": "Seul"})
    batch = sample_api.post(
        "/api/v1/sample/batch", json={"records": [{"name": "Lot A"}, {"name": "Lot B", "colours": ["red"]}, {"name": "Lot C"}]}
    )
    assert batch.status_code == 201, batch.text
    empty = sample_api.get("/api/v1/sample?colours__null=true&sort=name").json()["items"]
    assert [r["name"] for r in empty] == ["Lot A", "Lot C", "Seul"] and all(r["colours"] is None for r in empty)
    assert [r["name"] for r in sample_api.get("/api/v1/sample?colours__null=false").json()["items"]] == ["Lot B"]


def test_every_field_type_round_trips(sample_api: TestClient) -> None:
    owner = sample_api.get("/api/v1/user").json()["items"][0]["id"]
    created = create(
        sample_api,
        "sample",
        {**SAMPLE_VALUES, "owner": owner, "parts": [{"label": "B", "position": 2}, {"label": "A", "position": 1}]},
    )
    expected = {
        "name": "Échantillon",
        "notes": "Texte\nlong",
        "count": 12,
        "ratio": "1.500",
        "amount": "1234.50",
        "rate": "5.5000",
        "day": "2024-02-29",
        "moment": "2024-02-29T10:30:00",
        "flag": True,
        "colour": "red",
        "colours": ["red", "blue"],
        "owner": owner,
        "parent": None,
        "email": "contact@example.fr",
        "iban": IBAN,
        "bic": "BNPAFRPP",
        "siren": "732829320",
        "siret": SIRET,
        "vat_number": "FR40303265045",
    }
    assert {k: created[k] for k in expected} == expected
    assert created["code"].startswith("S")
    assert [(p["position"], p["label"], p["quantity"]) for p in created["parts"]] == [(1, "A", "1.0000"), (2, "B", "1.0000")]
    child = create(sample_api, "sample", {"name": "Enfant", "parent": created["id"]})
    assert child["parent"] == created["id"]
    assert sample_api.get("/api/v1/sample?parent=" + str(created["id"])).json()["total"] == 1
    assert sample_api.get("/api/v1/sample?colours=blue").json()["total"] == 1
    assert sample_api.get("/api/v1/sample?day__gte=01/02/2024&moment__lt=2024-03-01").json()["total"] == 1
    assert sample_api.get("/api/v1/sample?count__contains=1").json()["total"] == 1
    for text in ("chant", "12", "2024-02", "red", str(owner)):  # search columns of other types
        assert sample_api.get("/api/v1/sample", params={"q": text}).json()["total"] >= 1, text
    assert sample_api.get("/api/v1/sample", params={"q": "introuvable"}).json()["total"] == 0


FILTER_VALUES = ("1", "abc", "", "2024-01-01", "99999999999999999999", "1e999", "%_'\",")


def test_any_filter_and_sort_on_any_column_is_answered_without_error(sample_api: TestClient) -> None:
    """Every field and system column × every operator × odd values: a 200 or a 400, never a 500."""
    from app.engine.store import FILTER_OPERATORS

    create(sample_api, "sample", dict(SAMPLE_VALUES))
    schema = sample_api.get("/api/v1/openapi.json").json()["components"]["schemas"]["sample"]
    columns = [name for name, prop in schema["properties"].items() if prop.get("type") != "array" or name == "colours"]
    assert "colours" in columns and "created_at" in columns
    for name in columns:
        for direction in ("", "-"):
            assert sample_api.get(f"/api/v1/sample?sort={direction}{name}").status_code == 200, name
        for op in ("", *(f"__{o}" for o in FILTER_OPERATORS)):
            for value in FILTER_VALUES:
                response = sample_api.get("/api/v1/sample", params={f"{name}{op}": value})
                assert response.status_code in (200, 400), (name, op, value, response.text)
                if response.status_code == 400:
                    assert error_of(response)["field"] == f"{name}{op}"


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["1 234,50", "1e999", "-0", "29/02/2024", "2024-13-45", "red", "blue", SIRET, IBAN, "0,001"]),
)
def _nested(inner: Any) -> Any:
    """Lists and objects of `inner` (a function, not a lambda: Hypothesis reads a function's
    source to check that it uses its argument, and misreads a lambda's within a call)."""
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)


_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    _nested,
    max_leaves=6,
)
_FIELDS = [*SAMPLE_VALUES, "code", "owner", "parent", "parts", "id", "version", "nope"]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.dictionaries(st.sampled_from(_FIELDS), _JSON_VALUES, max_size=5),
    parts=st.lists(st.dictionaries(st.sampled_from(["label", "position", "quantity", "id", "sample"]), _JSON_VALUES, max_size=4), max_size=2),
)
def test_random_payloads_never_reach_the_error_handler(
    sample_api: TestClient, payload: dict[str, Any], parts: list[dict[str, Any]]
) -> None:
    body = {**payload, "parts": parts} if parts else payload
    created = sample_api.post("/api/v1/sample", json=body)
    assert created.status_code in (201, 400, 409, 422), created.text
    if created.status_code != 201:
        error_of(created)
    patched = sample_api.patch("/api/v1/sample/1", json=body)
    assert patched.status_code in (200, 400, 404, 409, 422), patched.text
