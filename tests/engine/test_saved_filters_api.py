"""Saved filters through the API: `GET /api/v1/{entity}?filter=NAME`, shipped ones (YAML, run in
SQL) and users' own (private or public), with the exact records each one answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.testclient import TestClient

from app.engine import saved_filters
from tests.engine.apiclient import add_user_with_token, client_for, document_parties, error_of, make_app, run_action

LINE = [{"description": "Audit", "quantity": "1", "unit_price": "100", "vat_rate": "20"}]


def _user_id(rt: Any, login: str) -> int:
    with rt.session() as session:
        users = rt.models.tables["user"]
        return int(session.execute(users.select().where(users.c.login == login)).one().id)


def _clients(rt: Any) -> tuple[TestClient, TestClient, int, int]:
    app = make_app(rt)
    alice = client_for(app, add_user_with_token(rt, "alice", ["admin"]))
    bob = client_for(app, add_user_with_token(rt, "bob", ["sales"]))
    return alice, bob, _user_id(rt, "alice"), _user_id(rt, "bob")


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def _opportunity(client: TestClient, parties: dict[str, int], name: str, user: int | None, next_step: dt.date, *actions: str) -> int:
    body = {"name": name, "company": parties["company"], "account": parties["account"], "next_step_date": next_step.isoformat()}
    if user is not None:
        body["assigned_user"] = user
    created = client.post("/api/v1/opportunity", json=body)
    assert created.status_code == 201, created.text
    for action in actions:
        run_action(client, "opportunity", created.json()["id"], action)
    return int(created.json()["id"])


def test_my_open_opportunities_are_mine_and_open_sorted_by_next_step(runtime: Any) -> None:
    alice, bob, alice_id, bob_id = _clients(runtime)
    parties = document_parties(alice)
    today = dt.date.today()
    _opportunity(alice, parties, "Site vitrine", alice_id, today + dt.timedelta(days=9))
    _opportunity(alice, parties, "Refonte logo", alice_id, today + dt.timedelta(days=2), "send_offer")
    _opportunity(alice, parties, "Plaquette", alice_id, today, "wait")
    _opportunity(alice, parties, "Gagnée", alice_id, today, "win")
    _opportunity(alice, parties, "Perdue", alice_id, today, "lose")
    _opportunity(alice, parties, "Soldée", alice_id, today, "win", "invoice_final")
    _opportunity(alice, parties, "Chez Bob", bob_id, today)
    _opportunity(alice, parties, "Sans commercial", None, today)

    assert _names(alice.get("/api/v1/opportunity?filter=my_open")) == ["Plaquette", "Refonte logo", "Site vitrine"]
    assert _names(bob.get("/api/v1/opportunity?filter=my_open")) == ["Chez Bob"]
    # the shipped filter combines with the usual query parameters, and its sort gives way to `sort`
    assert _names(alice.get("/api/v1/opportunity?filter=my_open&phase=waiting")) == ["Plaquette"]
    assert _names(alice.get("/api/v1/opportunity?filter=my_open&sort=-next_step_date")) == ["Site vitrine", "Refonte logo", "Plaquette"]
    everyone = _names(alice.get("/api/v1/opportunity?filter=open"))
    assert sorted(everyone) == ["Chez Bob", "Plaquette", "Refonte logo", "Sans commercial", "Site vitrine"]


def _quote(client: TestClient, parties: dict[str, int], title: str, validity: dt.date, *actions: str) -> int:
    body = {"company": parties["company"], "account": parties["account"], "title": title, "validity_date": validity.isoformat(), "lines": LINE}
    created = client.post("/api/v1/quote", json=body)
    assert created.status_code == 201, created.text
    for action in actions:
        run_action(client, "quote", created.json()["id"], action)
    return int(created.json()["id"])


def test_quotes_expiring_within_seven_days(runtime: Any) -> None:
    alice, _, _, _ = _clients(runtime)
    parties = document_parties(alice)
    today = dt.date.today()
    day = dt.timedelta(days=1)
    _quote(alice, parties, "Aujourd'hui", today, "validate", "send")
    _quote(alice, parties, "Dans 7 jours", today + 7 * day, "validate")
    _quote(alice, parties, "Dans 3 jours", today + 3 * day, "validate", "send", "mark_postponed")
    _quote(alice, parties, "Dans 8 jours", today + 8 * day, "validate")
    _quote(alice, parties, "Hier", today - day, "validate", "send")
    _quote(alice, parties, "Brouillon", today + 2 * day)
    _quote(alice, parties, "Accepté", today + 2 * day, "validate", "accept")
    found = alice.get("/api/v1/quote?filter=expiring_7_days")
    assert found.status_code == 200, found.text
    assert [q["title"] for q in found.json()["items"]] == ["Aujourd'hui", "Dans 3 jours", "Dans 7 jours"]
    assert found.json()["total"] == 3


def test_unknown_filter_is_a_400_naming_the_known_ones(runtime: Any) -> None:
    alice, _, _, _ = _clients(runtime)
    response = alice.get("/api/v1/opportunity?filter=mes_affaires")
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "filter" and "mes_affaires" in error["message"] and "my_open" in error["message"]


def test_user_filters_by_name_private_and_public(runtime: Any) -> None:
    alice, bob, alice_id, bob_id = _clients(runtime)
    parties = document_parties(alice)
    today = dt.date.today()
    _opportunity(alice, parties, "Attente A", alice_id, today, "wait")
    _opportunity(alice, parties, "Attente B", bob_id, today, "wait")
    _opportunity(alice, parties, "Offre", bob_id, today, "send_offer")
    with runtime.session() as session:
        entity = runtime.spec.entities["opportunity"]
        saved_filters.save(
            runtime, session, entity, alice_id, name="En attente", public=False, conditions=[("phase", "waiting")], columns=None, sort="-name"
        )
        saved_filters.save(
            runtime, session, entity, alice_id, name="Mes attentes", public=True,
            conditions=[("filter", "my_open"), ("search", "Attente"), ("page", "3")], columns=["name"], sort=None,
        )
        session.commit()
    assert _names(alice.get("/api/v1/opportunity", params={"filter": "En attente"})) == ["Attente B", "Attente A"]
    # private: bob does not see it
    assert error_of(bob.get("/api/v1/opportunity", params={"filter": "En attente"}))["field"] == "filter"
    # public, built on the shipped "my_open": me() is whoever asks
    assert _names(alice.get("/api/v1/opportunity", params={"filter": "Mes attentes"})) == ["Attente A"]
    assert _names(bob.get("/api/v1/opportunity", params={"filter": "Mes attentes"})) == ["Attente B"]


def test_saving_checks_name_columns_and_sort(runtime: Any) -> None:
    _, _, alice_id, _ = _clients(runtime)
    entity = runtime.spec.entities["opportunity"]
    cases = [
        ({"name": "  "}, "name", "Donnez un nom"),
        ({"name": "x" * 101}, "name", "trop long"),
        ({"name": "my_open"}, "name", "filtre fourni"),
        ({"name": "Cols", "columns": ["name", "nope"]}, "columns", "nope"),
        ({"name": "Tri", "sort": "-nope"}, "sort", "-nope"),
    ]
    with runtime.session() as session:
        for given, field, message in cases:
            args: dict[str, Any] = {"name": "", "public": False, "conditions": [], "columns": None, "sort": None, **given}
            try:
                saved_filters.save(runtime, session, entity, alice_id, **args)
            except saved_filters.SavedFilterError as exc:
                assert exc.field == field and message in exc.message, (given, exc.message)
            else:
                raise AssertionError(f"{given} was accepted")
        first = saved_filters.save(runtime, session, entity, alice_id, name="  Mes   colonnes ", public=False,
                                   conditions=[("page", "2"), ("phase", "waiting")], columns=["name", "created_at", "name"], sort="-created_at")
        again = saved_filters.save(runtime, session, entity, alice_id, name="Mes colonnes", public=True, conditions=[], columns=None, sort=None)
        session.commit()
        assert first == again  # same name: replaced
        (saved,) = saved_filters.visible(runtime, session, "opportunity", alice_id)
        assert (saved.name, saved.public, saved.conditions, saved.columns, saved.sort) == ("Mes colonnes", True, (), None, None)
        first = saved_filters.save(runtime, session, entity, alice_id, name="Mes colonnes", public=False,
                                   conditions=[("page", "2"), ("phase", "waiting")], columns=["name", "created_at", "name"], sort="-created_at")
        session.commit()
        (saved,) = saved_filters.visible(runtime, session, "opportunity", alice_id)
        assert (saved.conditions, saved.columns, saved.sort) == ((("phase", "waiting"),), ("name", "created_at"), "-created_at")
        assert saved_filters.visible(runtime, session, "opportunity", None) == []
