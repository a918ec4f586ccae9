"""Key figures of documents through the HTTP API (GET /api/v1/{entity}/{id}/figures), and
PATCH accepting read-only and frozen values sent back unchanged."""

from __future__ import annotations

from typing import Any

from tests.engine.apiclient import add_user_with_token, api_client, client_for, error_of, make_app

CABLE = {"description": "Câble", "quantity": "1", "unit_price": "1.24", "vat_rate": "10"}


def _parties(client: Any) -> dict[str, int]:
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client"}).json()["id"]
    return {"company": company, "account": account}


def _create(client: Any, entity: str, data: dict[str, Any]) -> dict[str, Any]:
    created = client.post(f"/api/v1/{entity}", json=data)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _groups(client: Any, entity: str, record_id: int) -> dict[str, dict[str, Any]]:
    answer = client.get(f"/api/v1/{entity}/{record_id}/figures")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["entity"], body["id"]) == (entity, record_id)
    return {g["key"]: g for g in body["groups"]}


def _values(group: dict[str, Any]) -> dict[str, Any]:
    return {f["key"]: f["value"] for f in group["figures"]}


def test_invoice_figures_are_exact_and_strings(runtime: Any) -> None:
    client = api_client(runtime)
    invoice = _create(client, "invoice", {**_parties(client), "kind": "standard", "lines": [CABLE, CABLE]})
    groups = _groups(client, "invoice", invoice["id"])
    assert list(groups) == ["totals", "vat", "client"]  # no cost price: no margin
    assert _values(groups["totals"]) == {"total_net": "2.48", "total_vat": "0.25", "total_gross": "2.73"}
    assert groups["totals"]["label"] == {"fr": "Totaux", "en": "Totals"}
    (row,) = groups["vat"]["figures"]
    assert (row["key"], row["value"], row["details"]) == ("vat_10", "0.25", {"rate": "10", "base": "2.48"})
    assert row["label"]["fr"] == "TVA 10 %"
    # the very amounts the record stores
    assert (invoice["total_net"], invoice["total_vat"], invoice["total_gross"]) == ("2.48", "0.25", "2.73")


def test_margin_of_lines_with_a_cost_price(runtime: Any) -> None:
    client = api_client(runtime)
    lines = [
        {"description": "Pose", "quantity": "2", "unit_price": "10", "vat_rate": "20", "cost_price": "6.50"},
        {"description": "Forfait", "quantity": "1", "unit_price": "5", "vat_rate": "20"},  # no cost price
        {"kind": "comment", "description": "Livraison comprise"},
        {"description": "Abonnement", "quantity": "1", "unit_factor": "12", "unit_price": "1.25", "vat_rate": "5.5", "cost_price": "0.40"},
    ]
    quote = _create(client, "quote", {**_parties(client), "lines": lines, "shipping_cost": "10", "shipping_vat_rate": "20"})
    groups = _groups(client, "quote", quote["id"])
    # net 20 + 5 + 15 = 40.00; cost 2 × 6.50 + 12 × 0.40 = 17.80; margin 22.20 = 55.50 %
    assert _values(groups["margin"]) == {"cost": "17.80", "margin": "22.20", "margin_rate": "55.50"}
    assert {f["key"]: f["kind"] for f in groups["margin"]["figures"]}["margin_rate"] == "percent"
    # shipping: a charge at its own rate; VAT per rate on base = lines + charges
    assert _values(groups["totals"]) == {
        "total_net": "40.00", "charges": "10.00", "total_vat": "7.83", "total_gross": "57.83",
    }
    rates = {f["key"]: f["details"] for f in groups["vat"]["figures"]}
    assert rates == {"vat_20": {"base": "35.00", "rate": "20"}, "vat_5.5": {"base": "15.00", "rate": "5.5"}}
    assert quote["total_gross"] == "57.83"


def test_figures_of_other_entities_rights_and_errors(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    assert _groups(client, "account", parties["account"]) == {}  # not a document: no figures
    quote = _create(client, "quote", {**parties, "lines": [CABLE]})
    missing = client.get("/api/v1/quote/999/figures")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert client.post(f"/api/v1/quote/{quote['id']}/figures").status_code == 405
    assert client_for(make_app(runtime), None).get(f"/api/v1/quote/{quote['id']}/figures").status_code == 401
    reader = client_for(make_app(runtime), add_user_with_token(runtime, "rita", ["readonly"]))
    assert _values(_groups(reader, "quote", quote["id"])["totals"])["total_gross"] == "1.36"
    denied = client_for(
        make_app(runtime),
        add_user_with_token(runtime, "dan", ["readonly"], rights=[{"entity": "quote", "action": "read", "effect": "deny"}]),
    )
    assert denied.get(f"/api/v1/quote/{quote['id']}/figures").status_code == 403


def test_patch_accepts_a_record_sent_back_as_read(runtime: Any) -> None:
    client = api_client(runtime)
    quote = _create(client, "quote", {**_parties(client), "lines": [CABLE, CABLE]})
    read = client.get(f"/api/v1/quote/{quote['id']}").json()
    assert read["total_net"] == "2.48" and "links" in read and "allowed_actions" in read
    # everything as read (read-only totals, frozen company/account/currency) but the status,
    # which only actions move (refused even unchanged)
    sent = {**{k: v for k, v in read.items() if k != "status"}, "title": "Câblage atelier"}
    assert client.patch(f"/api/v1/quote/{quote['id']}", json={**sent, "status": "draft"}).status_code == 422
    saved = client.patch(f"/api/v1/quote/{quote['id']}", json=sent)
    assert saved.status_code == 200, saved.text
    after = saved.json()
    assert after["title"] == "Câblage atelier" and after["version"] == read["version"] + 1
    assert (after["total_net"], after["status"], after["account"]) == ("2.48", "draft", read["account"])
    assert [line["id"] for line in after["lines"]] == [line["id"] for line in read["lines"]]


def test_patch_still_refuses_changed_readonly_and_frozen_values(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    other = client.post("/api/v1/account", json={"name": "Martin SA", "type": "client"}).json()["id"]
    quote = _create(client, "quote", {**parties, "lines": [CABLE]})
    url = f"/api/v1/quote/{quote['id']}"
    cases = [
        ({"total_net": "9.99"}, "readonly", "total_net"),
        ({"total_net": None}, "readonly", "total_net"),  # emptying a computed total is a change too
        ({"status": "accepted"}, "use_actions", "status"),
        ({"account": other}, "frozen", "account"),
        ({"currency": "usd"}, "frozen", "currency"),
        ({"lines": [{**quote["lines"][0], "total_net": "5.00"}]}, "readonly", "lines[0].total_net"),
    ]
    for body, code, field in cases:
        refused = client.patch(url, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert (error_of(refused)["code"], error_of(refused)["field"]) == (code, field), body
    # unchanged values of the same fields pass, one by one, and change nothing
    for body in ({"total_net": "1.240"}, {"number": None}, {"account": parties["account"]}, {"currency": "eur"},
                 {"lines": quote["lines"]}):
        assert client.patch(url, json=body).status_code == 200, body
    final = client.get(url).json()
    assert (final["total_net"], final["account"], final["currency"], final["status"]) == ("1.24", parties["account"], "eur", "draft")


def test_creation_still_refuses_readonly_values(runtime: Any) -> None:
    client = api_client(runtime)
    refused = client.post("/api/v1/quote", json={**_parties(client), "total_net": "2.48", "lines": [CABLE]})
    assert refused.status_code == 422 and (error_of(refused)["code"], error_of(refused)["field"]) == ("readonly", "total_net")


def test_figures_answer_validates_against_the_openapi_document(runtime: Any) -> None:
    from tests.engine.test_openapi import schema_validator

    client = api_client(runtime)
    doc = client.get("/api/v1/openapi.json").json()
    path = doc["paths"]["/invoice/{id}/figures"]["get"]
    assert path["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Figures"}
    lines = [{**CABLE, "cost_price": "0.80"}]
    invoice = _create(client, "invoice", {**_parties(client), "kind": "standard", "lines": lines})
    answer = client.get(f"/api/v1/invoice/{invoice['id']}/figures").json()
    validator = schema_validator(doc, "Figures")
    validator.validate(answer)
    assert {g["key"] for g in answer["groups"]} == {"totals", "vat", "margin", "client"}
    broken = {**answer, "groups": [{**answer["groups"][0], "figures": [{**answer["groups"][0]["figures"][0], "value": 2.48}]}]}
    assert not validator.is_valid(broken)  # amounts are strings, never floats


def test_a_validated_invoice_sent_back_as_read_is_accepted_and_unchanged(runtime: Any) -> None:
    import datetime as dt

    from app.spec.expressions import fixed_clock

    client = api_client(runtime)
    invoice = _create(client, "invoice", {**_parties(client), "kind": "standard", "date": "2026-11-23", "lines": [CABLE]})
    with fixed_clock(dt.date(2026, 11, 23)):
        assert client.post(f"/api/v1/invoice/{invoice['id']}/actions/validate").status_code == 200
    read = {k: v for k, v in client.get(f"/api/v1/invoice/{invoice['id']}").json().items() if k != "status"}
    assert read["number"] == "FA2611-0001"
    same = client.patch(f"/api/v1/invoice/{invoice['id']}", json=read)
    assert same.status_code == 200, same.text
    assert {k: v for k, v in same.json().items() if k not in ("updated_at", "status")} == {k: v for k, v in read.items() if k != "updated_at"}
    assert same.json()["status"] == "validated"
    # but the lock still holds for a real change, and a read-only number cannot be rewritten
    assert client.patch(f"/api/v1/invoice/{invoice['id']}", json={**read, "title": "autre"}).status_code == 409
    renumbered = client.patch(f"/api/v1/invoice/{invoice['id']}", json={**read, "number": "FA2611-0099"})
    assert renumbered.status_code == 422 and error_of(renumbered)["field"] == "number"


def test_documents_show_their_clients_outstanding_and_credit_limit(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    assert client.patch(f"/api/v1/account/{parties['account']}", json={"credit_limit": "2.00"}).status_code == 200
    invoice = _create(client, "invoice", {**parties, "kind": "standard", "lines": [CABLE, CABLE]})
    figures = _values(_groups(client, "invoice", invoice["id"])["client"])
    assert figures == {"outstanding": "0.00", "credit_limit": "2.00", "credit_available": "2.00"}
    validated = client.post(f"/api/v1/invoice/{invoice['id']}/actions/validate")
    assert validated.status_code == 200 and validated.json()["warnings"], validated.text  # 2.73 > 2.00
    group = _groups(client, "invoice", invoice["id"])["client"]
    assert group["label"]["fr"] == "Client : Dupont SARL"
    assert _values(group) == {"outstanding": "2.73", "credit_limit": "2.00", "credit_available": "-0.73"}
