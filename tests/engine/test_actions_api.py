"""Transitions through the REST API: POST /api/v1/{entity}/{id}/actions/{name}, the answers and
errors, `links` and `allowed_actions` on records, and the OpenAPI document describing them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from openapi_spec_validator import validate as validate_openapi
from starlette.testclient import TestClient

from app.engine.openapi import openapi_document
from tests.engine.apiclient import add_user_with_token, api_client, client_for, make_app
from tests.engine.test_openapi import schema_validator
from tests.engine.test_workflow import TODAY
from tests.engine.workflow_config import LINE, make_workflow_runtime


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_workflow_runtime(make_runtime, tmp_path)


@pytest.fixture
def api(rt: Any) -> TestClient:
    return api_client(rt)


def new_bill(api: TestClient, **data: Any) -> dict[str, Any]:
    firm = api.post("/api/v1/firm", json={"name": "Dupont"}).json()["id"]
    # numbers follow the bill's date (FA{yy}-…), given here: the app's clock is the real one
    response = api.post("/api/v1/bill", json={"firm": firm, "date": TODAY.isoformat(), "lines": [LINE, LINE], **data})
    assert response.status_code == 201, response.text
    return dict(response.json())


def action(api: TestClient, bill: int, name: str) -> Any:
    return api.post(f"/api/v1/bill/{bill}/actions/{name}")


def test_a_transition_answers_the_record(api: TestClient) -> None:
    bill = new_bill(api)
    assert bill["status"] == "draft" and bill["allowed_actions"] == ["validate", "touch", "broken"] and bill["links"] == []
    response = action(api, bill["id"], "validate")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"record", "created", "warnings"} and body["created"] == [] and body["warnings"] == []
    record = body["record"]
    assert (record["status"], record["number"], record["total_gross"]) == ("validated", "FA26-0001", "2.73")
    assert record["allowed_actions"] == ["convert"]  # cancel: managers only
    assert response.headers["etag"] == f'"{record["version"]}"'
    assert api.get(f"/api/v1/bill/{bill['id']}").json() == record


def test_a_conversion_answers_the_created_record_and_links_both_ways(api: TestClient) -> None:
    bill = new_bill(api)
    action(api, bill["id"], "validate")
    response = action(api, bill["id"], "convert")
    assert response.status_code == 200, response.text
    [created] = response.json()["created"]
    assert created["entity"] == "job" and created["url"] == f"/api/v1/job/{created['id']}"
    assert response.headers["location"] == created["url"]
    job = api.get(created["url"]).json()
    assert job["bill"] == bill["id"] and job["total_gross"] == "2.73" and len(job["lines"]) == 2
    assert job["links"] == [
        {"entity": "bill", "id": bill["id"], "kind": "parent", "transition": "convert", "title": "FA26-0001"}
    ]
    assert "allowed_actions" not in job  # no workflow
    assert response.json()["record"]["links"] == [
        {"entity": "job", "id": created["id"], "kind": "child", "transition": "convert", "title": "Depuis FA26-0001"}
    ]
    listed = api.get("/api/v1/bill").json()["items"]
    assert listed[0]["links"][0]["id"] == created["id"] and listed[0]["allowed_actions"] == []


def test_not_allowed_from_this_state_is_409_listing_the_allowed(api: TestClient) -> None:
    bill = new_bill(api)
    action(api, bill["id"], "validate")
    response = action(api, bill["id"], "validate")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "transition_not_allowed" and error["allowed"] == ["convert"] and error["field"] is None
    assert " / " in error["message"]


@pytest.mark.parametrize(
    ("groups", "name", "status", "code"),
    [
        (["clerk"], "validate", 403, "forbidden"),
        (["sales"], "cancel", 409, "transition_not_allowed"),  # from draft: not even possible
        (["sales"], "nope", 404, "unknown_transition"),
        (["readonly"], "validate", 403, "forbidden"),
    ],
)
def test_refusals(rt: Any, api: TestClient, groups: list[str], name: str, status: int, code: str) -> None:
    bill = new_bill(api)
    other = client_for(make_app(rt), add_user_with_token(rt, "other", groups))
    response = other.post(f"/api/v1/bill/{bill['id']}/actions/{name}")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert api.get(f"/api/v1/bill/{bill['id']}").json()["status"] == "draft"


def test_group_restricted_transition(rt: Any, api: TestClient) -> None:
    bill = new_bill(api)
    action(api, bill["id"], "validate")
    sales = client_for(make_app(rt), add_user_with_token(rt, "sam", ["sales"]))
    assert sales.post(f"/api/v1/bill/{bill['id']}/actions/cancel").status_code == 403
    boss = client_for(make_app(rt), add_user_with_token(rt, "max", ["manager"]))
    assert boss.get(f"/api/v1/bill/{bill['id']}").json()["allowed_actions"] == ["cancel"]
    response = boss.post(f"/api/v1/bill/{bill['id']}/actions/cancel")
    assert response.status_code == 200 and response.json()["record"]["status"] == "cancelled"


def test_false_condition_is_422_with_its_message(api: TestClient) -> None:
    bill = new_bill(api, lines=[])
    response = action(api, bill["id"], "validate")
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "condition_failed",
        "message": "La facture est vide. / The bill is empty.",
        "field": None,
    }


def test_bad_requests(rt: Any, api: TestClient) -> None:
    bill = new_bill(api)
    assert api.get(f"/api/v1/bill/{bill['id']}/actions/validate").status_code == 405
    assert action(api, 999, "validate").status_code == 404
    assert api.post("/api/v1/bill/abc/actions/validate").status_code == 404
    assert api.post("/api/v1/nope/1/actions/validate").json()["error"]["code"] == "unknown_entity"
    assert api.post(f"/api/v1/firm/{bill['firm']}/actions/validate").json()["error"]["code"] == "unknown_transition"
    assert TestClient(make_app(rt)).post(f"/api/v1/bill/{bill['id']}/actions/validate").status_code == 401
    response = action(api, bill["id"], "broken")  # fails in its second effect: all rolled back
    assert response.status_code == 422 and response.json()["error"]["field"] == "date"
    assert api.get(f"/api/v1/bill/{bill['id']}").json()["number"] is None


def test_openapi_describes_the_actions_and_the_answers(rt: Any, api: TestClient) -> None:
    doc = openapi_document(rt.spec)
    validate_openapi(doc)
    for name in ("validate", "convert", "cancel"):
        post = doc["paths"][f"/bill/{{id}}/actions/{name}"]["post"]
        assert post["responses"]["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TransitionRefused"}
    assert "/job/{id}/actions/convert" not in doc["paths"]
    bill_schema = doc["components"]["schemas"]["bill"]["properties"]
    assert bill_schema["status"]["readOnly"] is True and bill_schema["status"]["enum"][:-1] == ["draft", "validated", "converted", "cancelled"]
    assert bill_schema["allowed_actions"]["items"]["enum"] == ["validate", "convert", "cancel", "touch", "broken"]
    bill = new_bill(api)
    schema_validator(doc, "bill").validate(api.get(f"/api/v1/bill/{bill['id']}").json())
    schema_validator(doc, "bill.page").validate(api.get("/api/v1/bill").json())
    schema_validator(doc, "ActionResult.bill").validate(action(api, bill["id"], "validate").json())
    converted = action(api, bill["id"], "convert").json()
    schema_validator(doc, "ActionResult.bill").validate(converted)
    schema_validator(doc, "job").validate(api.get(converted["created"][0]["url"]).json())
    schema_validator(doc, "TransitionRefused").validate(action(api, bill["id"], "validate").json())
