"""The liaison book through the REST API: an entry is numbered, open until closed (the
`liaison_entry` workflow of workflows.yaml), closing dates it, reopening clears the date, and
the groups' rights apply."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.engine.apiclient import add_user_with_token, api_client, client_for, error_of, make_app, run_action

ENTRY = {"kind": "call", "service": "technical", "classification": "intervention", "subject": "Fuite au sous-sol"}


def test_an_entry_is_open_until_closed_and_can_be_reopened(runtime: Any) -> None:
    client = api_client(runtime)
    account = client.post("/api/v1/account", json={"name": "Copropriété Les Tilleuls", "type": "client"}).json()["id"]
    made = client.post("/api/v1/liaison_entry", json={**ENTRY, "account": account, "caller": "M. Perret"})
    assert made.status_code == 201, made.text
    entry = made.json()
    assert entry["status"] == "open" and re.fullmatch(r"CL\d{4}-0001", entry["number"])
    assert entry["received_at"][:10] == dt.date.today().isoformat()  # default now()
    assert entry["closed_on"] is None
    assert set(entry["allowed_actions"]) == {"close"}
    listed = client.get("/api/v1/liaison_entry", params={"status": "open", "account": account}).json()
    assert [r["id"] for r in listed["items"]] == [entry["id"]]

    closed = run_action(client, "liaison_entry", entry["id"], "close")["record"]
    assert closed["status"] == "closed" and closed["closed_on"] == dt.date.today().isoformat()
    assert set(closed["allowed_actions"]) == {"reopen"}
    again = client.post(f"/api/v1/liaison_entry/{entry['id']}/actions/close")
    assert again.status_code == 409 and again.json()["error"]["allowed"] == ["reopen"]
    reopened = run_action(client, "liaison_entry", entry["id"], "reopen")["record"]
    assert reopened["status"] == "open" and reopened["closed_on"] is None


def test_bad_entries_are_refused_naming_the_field(runtime: Any) -> None:
    client = api_client(runtime)
    cases = [
        ({k: v for k, v in ENTRY.items() if k != "subject"}, "subject"),
        ({**ENTRY, "service": "cuisine"}, "service"),
        ({**ENTRY, "status": "closed"}, "status"),  # only the actions move it
    ]
    for body, field in cases:
        got = client.post("/api/v1/liaison_entry", json=body)
        assert got.status_code == 422, (body, got.text)
        assert error_of(got)["field"] == field
    assert client.get("/api/v1/liaison_entry").json()["total"] == 0


def test_rights_on_activities_follow_groups_yaml(runtime: Any) -> None:
    reader = client_for(make_app(runtime), add_user_with_token(runtime, "reader", ["readonly"]))
    sales = client_for(make_app(runtime), add_user_with_token(runtime, "seller", ["sales"]))
    assert reader.post("/api/v1/liaison_entry", json=ENTRY).status_code == 403
    assert reader.post("/api/v1/event", json={"title": "X", "start": "2026-12-07T09:00"}).status_code == 403
    entry = sales.post("/api/v1/liaison_entry", json=ENTRY)
    assert entry.status_code == 201, entry.text
    assert reader.get(f"/api/v1/liaison_entry/{entry.json()['id']}").status_code == 200
    assert reader.post(f"/api/v1/liaison_entry/{entry.json()['id']}/actions/close").status_code == 403
    assert sales.post(f"/api/v1/liaison_entry/{entry.json()['id']}/actions/close").status_code == 200
    event = sales.post(
        "/api/v1/event",
        json={"title": "Visite", "type": "visit_report", "start": "2026-12-07T09:00", "participants": [{"user": 1}]},
    )
    assert event.status_code == 201, event.text
    assert event.json()["status"] == "planned" and event.json()["all_day"] is False
    assert [p["user"] for p in event.json()["participants"]] == [1]
