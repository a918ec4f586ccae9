"""A test client of the REST API holding a user's bearer token."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient


def add_user_with_token(
    rt: Any, login: str, groups: list[str], *, rights: list[dict[str, str]] | None = None, active: bool = True
) -> str:
    """Create a user (through the store, as the system) and return a fresh API token.

    No password: API tokens do not need one, and hashing it would slow every test down.
    """
    from app.engine.auth import issue_token
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        data: dict[str, Any] = {"login": login, "groups": groups, "active": active}
        if rights:
            data["rights"] = rights
        user = store.create("user", data)
        token = issue_token(rt, session, user)
        session.commit()
        return token


def make_app(rt: Any) -> Starlette:
    from app.web.app import create_app

    return create_app(runtime=rt, key="test")


def client_for(app: Starlette, token: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, base_url="http://testserver", headers=headers, raise_server_exceptions=True)


def api_client(rt: Any, login: str = "api-admin", groups: list[str] | None = None, **kw: Any) -> TestClient:
    token = add_user_with_token(rt, login, ["admin"] if groups is None else groups, **kw)
    return client_for(make_app(rt), token)


def error_of(response: Any) -> dict[str, Any]:
    """The error object of an envelope, checking its shape on the way."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert isinstance(body["error"]["message"], str) and " / " in body["error"]["message"], body
    return dict(body["error"])


def document_parties(client: Any) -> dict[str, int]:
    """A company and a client account, the two links every sales document needs."""
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client"}).json()["id"]
    return {"company": company, "account": account}


def run_action(client: Any, entity: str, record_id: int, action: str) -> dict[str, Any]:
    """POST a workflow action that must succeed; its JSON answer."""
    done = client.post(f"/api/v1/{entity}/{record_id}/actions/{action}")
    assert done.status_code == 200, done.text
    return dict(done.json())
