"""The API applies the admin's rights: groups.yaml, then per-user grants and denials."""

from __future__ import annotations

import itertools
from typing import Any, Callable

import pytest
from starlette.testclient import TestClient

from app.engine.permissions import SYSTEM
from app.engine.store import Store
from app.spec.model import BASE_ACTIONS
from tests.engine.apiclient import add_user_with_token, client_for, error_of, make_app

GROUPS = ("admin", "sales", "accounting", "readonly")

# A valid new record per entity; each call makes distinct values (unique fields).
_counter = itertools.count(1)
PAYLOADS: dict[str, Callable[[], dict[str, Any]]] = {
    "account": lambda: {"name": f"Tiers {next(_counter)}"},
    "product": lambda: {"name": f"Produit {next(_counter)}"},
    "product_category": lambda: {"name": f"Famille {next(_counter)}"},
    "company": lambda: {"legal_name": f"Société {next(_counter)}"},
    "user": lambda: {"login": f"user{next(_counter)}", "groups": ["readonly"]},
}


def make_record(rt: Any, entity: str) -> int:
    with rt.session() as session:
        obj = Store(rt, session, SYSTEM).create(entity, PAYLOADS[entity]())
        session.commit()
        return int(obj.id)


def attempt(client: TestClient, rt: Any, entity: str, action: str) -> int:
    """The status of one action on one entity, on a record made for it."""
    if action == "create":
        return client.post(f"/api/v1/{entity}", json=PAYLOADS[entity]()).status_code
    if action == "read":
        record_id = make_record(rt, entity)
        listing = client.get(f"/api/v1/{entity}").status_code
        single = client.get(f"/api/v1/{entity}/{record_id}").status_code
        assert listing == single, (entity, listing, single)
        return listing
    record_id = make_record(rt, entity)
    if action == "edit":
        return client.patch(f"/api/v1/{entity}/{record_id}", json={}).status_code
    return client.delete(f"/api/v1/{entity}/{record_id}").status_code


EXPECTED_SUCCESS = {"read": 200, "create": 201, "edit": 200, "delete": 204}


def test_groups_are_the_shipped_ones(runtime: Any) -> None:
    assert set(GROUPS) <= set(runtime.spec.groups)
    for entity in PAYLOADS:
        assert entity in runtime.spec.entities


@pytest.mark.parametrize("group", GROUPS)
def test_permission_matrix_follows_groups_yaml(runtime: Any, group: str) -> None:
    client = client_for(make_app(runtime), add_user_with_token(runtime, f"member-{group}", [group]))
    spec_group = runtime.spec.groups[group]
    seen: dict[tuple[str, str], int] = {}
    for entity, action in itertools.product(PAYLOADS, BASE_ACTIONS):
        status = attempt(client, runtime, entity, action)
        seen[(entity, action)] = status
        expected = EXPECTED_SUCCESS[action] if spec_group.allows(entity, action) else 403
        assert status == expected, (group, entity, action, status)
    # the matrix is not trivial: every group is refused something or allowed everything
    if group != "admin":
        assert 403 in seen.values(), seen
    else:
        assert 403 not in seen.values(), seen


def test_forbidden_is_an_envelope_and_writes_nothing(runtime: Any) -> None:
    client = client_for(make_app(runtime), add_user_with_token(runtime, "reader", ["readonly"]))
    response = client.post("/api/v1/account", json={"name": "Interdit"})
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden" and "reader" in error["message"]
    assert client.get("/api/v1/account").json()["total"] == 0


def test_per_user_grant_and_deny_through_the_rights_children(runtime: Any) -> None:
    app = make_app(runtime)
    admin = client_for(app, add_user_with_token(runtime, "boss", ["admin"]))
    # readonly may not create products; sales may edit accounts (groups.yaml)
    assert not runtime.spec.groups["readonly"].allows("product", "create")
    assert runtime.spec.groups["sales"].allows("account", "edit")

    granted = admin.post(
        "/api/v1/user",
        json={
            "login": "granted",
            "groups": ["readonly"],
            "rights": [{"entity": "product", "action": "create", "effect": "grant"}],
        },
    )
    assert granted.status_code == 201, granted.text
    rights = granted.json()["rights"]
    assert [(r["entity"], r["action"], r["effect"]) for r in rights] == [("product", "create", "grant")]
    denied = admin.post(
        "/api/v1/user",
        json={"login": "denied", "groups": ["sales"], "rights": [{"entity": "account", "action": "edit", "effect": "deny"}]},
    )
    assert denied.status_code == 201, denied.text

    def token_of(user_id: int) -> str:
        from app.engine.auth import issue_token

        with runtime.session() as session:
            user = session.get(runtime.models.cls("user"), user_id)
            token = issue_token(runtime, session, user)
            session.commit()
            return token

    as_granted = client_for(app, token_of(granted.json()["id"]))
    as_denied = client_for(app, token_of(denied.json()["id"]))
    assert as_granted.post("/api/v1/product", json={"name": "Accordé"}).status_code == 201
    assert as_granted.post("/api/v1/product_category", json={"name": "Non"}).status_code == 403
    assert as_granted.post("/api/v1/account", json={"name": "Non"}).status_code == 403

    account_id = make_record(runtime, "account")
    assert as_denied.get(f"/api/v1/account/{account_id}").status_code == 200
    refused = as_denied.patch(f"/api/v1/account/{account_id}", json={"name": "Changé"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert as_denied.post("/api/v1/account", json={"name": "Permis"}).status_code == 201

    # rights apply from the next request: lifting the denial lets the edit through
    user_url = f"/api/v1/user/{denied.json()['id']}"
    assert admin.patch(user_url, json={"rights": []}).status_code == 200
    assert as_denied.patch(f"/api/v1/account/{account_id}", json={"name": "Changé"}).status_code == 200


def test_bad_ids_do_not_reveal_anything_without_the_right(runtime: Any) -> None:
    client = client_for(make_app(runtime), add_user_with_token(runtime, "nobody", []))
    for method, path in (("GET", "/api/v1/account/abc"), ("GET", "/api/v1/account/1"), ("DELETE", "/api/v1/account/x")):
        response = client.request(method, path)
        assert response.status_code == 403, (method, path)
