"""Many records per request (app/engine/batch_api.py): POST /api/v1/{entity}/batch creates,
POST /api/v1/{entity}/actions/{name} with {"ids": [...]} runs a transition; all or nothing,
the one-record endpoints' rights, errors and answers; and the OpenAPI entries of both."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from openapi_spec_validator import validate as validate_openapi
from starlette.testclient import TestClient

from app.engine.openapi import openapi_document
from tests.engine.apiclient import add_user_with_token, api_client, client_for, error_of, make_app
from tests.engine.test_openapi import schema_validator
from tests.engine.test_workflow import TODAY
from tests.engine.workflow_config import LINE, make_workflow_runtime


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_workflow_runtime(make_runtime, tmp_path)


@pytest.fixture
def api(rt: Any) -> TestClient:
    return api_client(rt)


def as_user(rt: Any, login: str, groups: list[str]) -> TestClient:
    return client_for(make_app(rt), add_user_with_token(rt, login, groups))


def new_firm(api: TestClient) -> int:
    return int(api.post("/api/v1/firm", json={"name": "Dupont"}).json()["id"])


def bill(firm: int, title: str, lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    # numbers follow the bill's date (FA{yy}-…), given here: the app's clock is the real one
    return {"firm": firm, "date": TODAY.isoformat(), "title": title, "lines": [LINE] if lines is None else lines}


def new_bills(api: TestClient, *titles: str, empty: str = "") -> list[int]:
    firm = new_firm(api)
    created = []
    for title in titles:
        response = api.post("/api/v1/bill", json=bill(firm, title, [] if title == empty else None))
        assert response.status_code == 201, response.text
        created.append(int(response.json()["id"]))
    return created


def states(api: TestClient, ids: list[int]) -> list[tuple[str, str | None]]:
    return [(r["status"], r["number"]) for r in (api.get(f"/api/v1/bill/{i}").json() for i in ids)]


def count(api: TestClient, entity: str) -> int:
    return int(api.get(f"/api/v1/{entity}").json()["total"])


# --- POST /{entity}/batch ----------------------------------------------------------------------


def test_batch_creates_every_record_and_answers_them_as_get_does(api: TestClient) -> None:
    firm = new_firm(api)
    response = api.post("/api/v1/bill/batch", json={"records": [bill(firm, "Pose"), bill(firm, "Dépose", [LINE, LINE])]})
    assert response.status_code == 201, response.text
    records = response.json()["records"]
    assert [(r["title"], r["status"], r["total_gross"], len(r["lines"])) for r in records] == [
        ("Pose", "draft", "1.36", 1),
        ("Dépose", "draft", "2.73", 2),
    ]
    assert records == [api.get(f"/api/v1/bill/{r['id']}").json() for r in records]
    assert records[0]["allowed_actions"] == ["validate", "touch", "broken"] and records[0]["links"] == []


def test_batch_creation_is_all_or_nothing_and_names_the_record_at_fault(api: TestClient) -> None:
    firm = new_firm(api)
    bad_line = {**LINE, "quantity": "beaucoup"}
    rows = [bill(firm, "Pose"), bill(firm, "Dépose"), bill(firm, "Reprise", [LINE, bad_line])]
    response = api.post("/api/v1/bill/batch", json={"records": rows})
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["field"] == "records[2].lines[1].quantity", error
    assert count(api, "bill") == 0  # the two valid bills before it are not kept
    missing = api.post("/api/v1/bill/batch", json={"records": [bill(firm, "Pose"), {"title": "Sans société"}]})
    assert missing.status_code == 422 and error_of(missing)["field"] == "records[1].firm"
    assert count(api, "bill") == 0


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        (b"", 400, None, "corps JSON attendu"),
        (b"[1, 2]", 400, None, "objet JSON attendu"),
        (b'{"records": {"title": "x"}}', 422, "records", "« records » : liste des enregistrements attendue / 'records': a list of records is expected"),
        (b"{}", 422, "records", "« records » : liste des enregistrements attendue"),
        (b'{"records": []}', 422, "records", "liste vide"),
        (b'{"records": [{"title": "x"}, 3]}', 422, "records[1]", "« records[1] » : objet JSON attendu"),
        (b'{"records": [{"title": "x"}], "extra": 1}', 422, "extra", "« extra » inattendu"),
    ],
)
def test_batch_creation_refuses_bad_bodies(api: TestClient, body: bytes, status: int, field: str | None, message: str) -> None:
    response = api.post("/api/v1/bill/batch", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["field"] == field and message in error["message"], error
    assert count(api, "bill") == 0


def test_batch_creation_needs_the_create_right(rt: Any, api: TestClient) -> None:
    firm = new_firm(api)
    reader = as_user(rt, "rita", ["readonly"])
    response = reader.post("/api/v1/bill/batch", json={"records": [bill(firm, "Pose")]})
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert reader.post("/api/v1/bill/batch", content=b"pas du JSON").status_code == 403  # the right first
    assert count(api, "bill") == 0
    assert TestClient(make_app(rt)).post("/api/v1/bill/batch", json={"records": [bill(firm, "x")]}).status_code == 401
    assert api.get("/api/v1/bill/batch").status_code == 405
    assert api.post("/api/v1/nope/batch", json={"records": [{}]}).json()["error"]["code"] == "unknown_entity"
    assert api.post("/api/v1/bill_line/batch", json={"records": [{}]}).status_code == 404  # embedded


# --- POST /{entity}/actions/{name} -------------------------------------------------------------


def test_a_transition_on_many_records_answers_each_result_in_order(api: TestClient) -> None:
    first, second, third = new_bills(api, "Pose", "Dépose", "Reprise")
    response = api.post("/api/v1/bill/actions/validate", json={"ids": [third, first, second]})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "results": [
            {"id": record_id, "from": "draft", "to": "validated", "created": [], "warnings": []}
            for record_id in (third, first, second)
        ]
    }
    # numbered in the order given
    assert states(api, [third, first, second]) == [("validated", "FA26-0001"), ("validated", "FA26-0002"), ("validated", "FA26-0003")]


def test_a_conversion_on_many_records_answers_what_each_created(api: TestClient) -> None:
    ids = new_bills(api, "Pose", "Dépose")
    assert api.post("/api/v1/bill/actions/validate", json={"ids": ids}).status_code == 200
    results = api.post("/api/v1/bill/actions/convert", json={"ids": ids}).json()["results"]
    assert [(r["from"], r["to"], len(r["created"])) for r in results] == [("validated", "converted", 1)] * 2
    for record_id, result in zip(ids, results):
        [created] = result["created"]
        assert created["url"] == f"/api/v1/job/{created['id']}"
        assert api.get(created["url"]).json()["bill"] == record_id


def test_one_record_in_the_wrong_state_refuses_all_with_its_allowed_actions(api: TestClient) -> None:
    first, second, third = new_bills(api, "Pose", "Dépose", "Reprise")
    assert api.post(f"/api/v1/bill/{second}/actions/validate").status_code == 200
    response = api.post("/api/v1/bill/actions/validate", json={"ids": [first, second, third]})
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "transition_not_allowed" and error["allowed"] == ["convert"]  # those of the second bill
    assert "FA26-0001" in error["message"] and " / " in error["message"]  # the record at fault, by its number
    # nothing changed: the first bill, validated before the refusal, is a draft again, unnumbered
    assert states(api, [first, second, third]) == [("draft", None), ("validated", "FA26-0001"), ("draft", None)]
    assert api.post(f"/api/v1/bill/{first}/actions/validate").json()["record"]["number"] == "FA26-0002"  # no number spent


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("validate", 422, "condition_failed"),  # the third bill is empty
        ("broken", 422, "invalid"),  # an effect refuses a value on the first bill
        ("nope", 404, "unknown_transition"),
    ],
)
def test_any_refusal_changes_nothing(api: TestClient, name: str, status: int, code: str) -> None:
    ids = new_bills(api, "Pose", "Dépose", "Vide", empty="Vide")
    response = api.post(f"/api/v1/bill/actions/{name}", json={"ids": ids})
    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    assert states(api, ids) == [("draft", None)] * 3


def test_an_unknown_record_refuses_all(api: TestClient) -> None:
    ids = new_bills(api, "Pose", "Dépose")
    response = api.post("/api/v1/bill/actions/validate", json={"ids": [*ids, 99999]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert states(api, ids) == [("draft", None)] * 2


@pytest.mark.parametrize(
    ("groups", "name"),
    [
        (["clerk"], "validate"),  # no right to validate
        (["readonly"], "validate"),
        (["sales"], "cancel"),  # cancel: the manager group only, on top of the right
    ],
)
def test_a_transition_on_many_records_needs_the_right_and_the_groups(rt: Any, api: TestClient, groups: list[str], name: str) -> None:
    ids = new_bills(api, "Pose", "Dépose")
    user = as_user(rt, "other", groups)
    response = user.post(f"/api/v1/bill/actions/{name}", json={"ids": ids})
    assert response.status_code == 403, response.text
    assert error_of(response)["code"] == "forbidden"
    assert user.post(f"/api/v1/bill/actions/{name}", content=b"{").status_code == 403  # before reading the body
    assert states(api, ids) == [("draft", None)] * 2


def test_the_groups_of_a_transition_let_their_members_run_it_on_many(rt: Any, api: TestClient) -> None:
    ids = new_bills(api, "Pose", "Dépose")
    assert api.post("/api/v1/bill/actions/validate", json={"ids": ids}).status_code == 200
    boss = as_user(rt, "max", ["manager"])
    response = boss.post("/api/v1/bill/actions/cancel", json={"ids": ids})
    assert response.status_code == 200, response.text
    assert [r["to"] for r in response.json()["results"]] == ["cancelled", "cancelled"]


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        (b"", 400, None, "corps JSON attendu"),
        (b'"ids"', 400, None, "objet JSON attendu"),
        (b"{}", 422, "ids", "« ids » : liste d'identifiants attendue / 'ids': a list of ids is expected"),
        (b'{"ids": 3}', 422, "ids", "« ids » : liste d'identifiants attendue"),
        (b'{"ids": []}', 422, "ids", "« ids » : liste vide"),
        (b'{"ids": [1, "2"]}', 422, "ids[1]", "« ids[1] » : identifiant attendu (entier de 1 à 2147483647), reçu \"2\""),
        (b'{"ids": [1, 1.5]}', 422, "ids[1]", "reçu 1.5"),
        (b'{"ids": [true]}', 422, "ids[0]", "reçu true"),
        (b'{"ids": [0]}', 422, "ids[0]", "identifiant attendu"),
        (b'{"ids": [1, 2, 1]}', 422, "ids[2]", "« ids[2] » : identifiant 1 déjà donné"),
        (b'{"ids": [1], "lines": [2]}', 422, "lines", "« lines » inattendu"),
    ],
)
def test_a_transition_on_many_records_refuses_bad_bodies(api: TestClient, body: bytes, status: int, field: str | None, message: str) -> None:
    ids = new_bills(api, "Pose")
    response = api.post("/api/v1/bill/actions/validate", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["field"] == field and message in error["message"], error
    assert states(api, ids) == [("draft", None)]


def test_too_many_ids_is_413(api: TestClient) -> None:
    response = api.post("/api/v1/bill/actions/validate", json={"ids": list(range(1, 10_002))})
    assert response.status_code == 413 and error_of(response)["code"] == "batch_too_large"


def test_batch_paths_answer_like_the_others(rt: Any, api: TestClient) -> None:
    [first] = new_bills(api, "Pose")
    assert api.get("/api/v1/bill/actions/validate").status_code == 405
    assert api.post("/api/v1/nope/actions/validate", json={"ids": [1]}).json()["error"]["code"] == "unknown_entity"
    firm = api.get(f"/api/v1/bill/{first}").json()["firm"]
    assert api.post("/api/v1/firm/actions/validate", json={"ids": [firm]}).json()["error"]["code"] == "unknown_transition"
    assert TestClient(make_app(rt)).post("/api/v1/bill/actions/validate", json={"ids": [first]}).status_code == 401
    # the one-record endpoints are untouched
    assert api.post(f"/api/v1/bill/{first}/actions/validate").json()["record"]["status"] == "validated"


# --- OpenAPI -----------------------------------------------------------------------------------


def test_openapi_describes_both_endpoints_and_their_answers(rt: Any, api: TestClient) -> None:
    doc = openapi_document(rt.spec)
    validate_openapi(doc)
    create = doc["paths"]["/bill/batch"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["properties"]["records"]["items"] == {"$ref": "#/components/schemas/bill"}
    assert set(create["responses"]) >= {"201", "400", "401", "403", "413", "422"}
    assert "/bill_line/batch" not in doc["paths"]  # embedded: through the parent only
    for name in ("validate", "convert", "cancel"):
        post = doc["paths"][f"/bill/actions/{name}"]["post"]
        assert post["responses"]["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TransitionRefused"}
        assert set(post["responses"]) >= {"200", "400", "401", "403", "404", "409", "413", "422"}
    assert "/job/actions/convert" not in doc["paths"]  # no workflow

    ids = new_bills(api, "Pose", "Dépose")
    created = api.post("/api/v1/bill/batch", json={"records": [bill(new_firm(api), "Reprise")]})
    schema_validator(doc, "bill.batch").validate(created.json())
    schema_validator(doc, "BatchActionResult").validate(api.post("/api/v1/bill/actions/validate", json={"ids": ids}).json())
    schema_validator(doc, "BatchActionResult").validate(api.post("/api/v1/bill/actions/convert", json={"ids": ids}).json())
    schema_validator(doc, "TransitionRefused").validate(api.post("/api/v1/bill/actions/validate", json={"ids": ids}).json())
