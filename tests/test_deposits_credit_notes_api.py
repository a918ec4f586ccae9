"""Deposits deducted on the final invoice (`deduct_prepaid`) and credit notes (selected lines,
`check_within_credited`), through the HTTP API with the shipped configuration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client

DAY = dt.date(2026, 11, 23)
LINE = {"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}


def _parties(client: Any) -> dict[str, int]:
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client"}).json()["id"]
    return {"company": company, "account": account}


def _act(client: Any, entity: str, record_id: int, action: str, body: Any = None) -> dict[str, Any]:
    done = client.post(f"/api/v1/{entity}/{record_id}/actions/{action}", json=body)
    assert done.status_code == 200, done.text
    return dict(done.json())


def _made(client: Any, entity: str, record_id: int, action: str, body: Any = None) -> dict[str, Any]:
    created = _act(client, entity, record_id, action, body)["created"]
    return dict(client.get(created[0]["url"]).json())


def _order(client: Any, parties: dict[str, int], lines: list[dict[str, str]], **data: Any) -> int:
    order = client.post("/api/v1/order", json={**parties, "lines": lines, **data})
    assert order.status_code == 201, order.text
    _act(client, "order", order.json()["id"], "validate")
    return int(order.json()["id"])


def _deposit(client: Any, entity: str, record_id: int, *, validate: bool = True) -> dict[str, Any]:
    deposit = _made(client, entity, record_id, "create_deposit")
    if validate:
        deposit = _act(client, "invoice", deposit["id"], "validate")["record"]
    return deposit


def test_validated_deposits_are_deducted_on_the_final_invoice(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        order_id = _order(client, parties, [LINE], deposit_percent="30")
        first = _deposit(client, "order", order_id)
        assert (first["number"], first["total_gross"]) == ("AC2611-0001", "360.00")
        final = _made(client, "order", order_id, "convert_to_invoice")
        assert (final["kind"], final["total_net"], final["total_vat"]) == ("standard", "1000.00", "200.00")
        assert (final["total_gross"], final["deposits_deducted"], final["amount_due"]) == ("1200.00", "360.00", "840.00")
        assert [(d["deposit_invoice"], d["label"], d["amount"]) for d in final["deductions"]] == [
            (first["id"], "Acompte AC2611-0001", "360.00")
        ]
        # a second validated deposit (10 %) and a draft one: the draft may still change, not deducted
        second = _made(client, "order", order_id, "create_deposit")
        patched = client.patch(f"/api/v1/invoice/{second['id']}", json={"deposit_percent": "10"})
        assert patched.status_code == 200, patched.text
        assert patched.json()["total_gross"] == "120.00"
        _act(client, "invoice", second["id"], "validate")
        draft = _deposit(client, "order", order_id, validate=False)
        assert draft["status"] == "draft"
        resaved = client.patch(f"/api/v1/invoice/{final['id']}", json={"title": "Solde"})
        assert resaved.status_code == 200, resaved.text
        body = resaved.json()
        assert [d["deposit_invoice"] for d in body["deductions"]] == [first["id"], second["id"]]
        assert (body["total_gross"], body["deposits_deducted"], body["amount_due"]) == ("1200.00", "480.00", "720.00")
        validated = _act(client, "invoice", final["id"], "validate")["record"]
    assert (validated["number"], validated["amount_due"]) == ("FA2611-0001", "720.00")
    # once validated the final invoice holds its deposits: another final invoice does not deduct them
    # (the order is fully invoiced: converting it again is refused, nothing is left to invoice)
    again = client.post(f"/api/v1/order/{order_id}/actions/convert_to_invoice")
    assert again.status_code == 422 and again.json()["error"]["code"] == "nothing_left"
    with fixed_clock(DAY):
        made = client.post("/api/v1/invoice", json={**parties, "order": order_id, "lines": [LINE]})
    assert made.status_code == 201, made.text
    other = made.json()
    assert (other["deductions"], other["deposits_deducted"], other["amount_due"]) == ([], "0.00", "1200.00")


def test_a_deposit_of_the_quote_is_deducted_on_the_invoice_of_its_order(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        quote = client.post("/api/v1/quote", json={**parties, "deposit_percent": "30", "lines": [LINE]}).json()
        for action in ("validate", "send", "accept"):
            _act(client, "quote", quote["id"], action)
        deposit = _deposit(client, "quote", quote["id"])
        order = _made(client, "quote", quote["id"], "convert_to_order")
        _act(client, "order", order["id"], "validate")
        final = _made(client, "order", order["id"], "convert_to_invoice")
    assert final["quote"] == quote["id"] and final["order"] == order["id"]
    assert [d["deposit_invoice"] for d in final["deductions"]] == [deposit["id"]]
    assert final["amount_due"] == "840.00"


def test_validating_refuses_deductions_grown_stale_since_the_last_save(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        order_id = _order(client, parties, [LINE])
        pending = _deposit(client, "order", order_id, validate=False)
        final = _made(client, "order", order_id, "convert_to_invoice")
        assert final["deductions"] == []
        _act(client, "invoice", pending["id"], "validate")  # validated after the final was saved
        refused = client.post(f"/api/v1/invoice/{final['id']}/actions/validate")
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "deductions_changed"
        assert client.get(f"/api/v1/invoice/{final['id']}").json()["number"] is None  # rolled back
        client.patch(f"/api/v1/invoice/{final['id']}", json={})
        validated = _act(client, "invoice", final["id"], "validate")["record"]
    assert validated["amount_due"] == "840.00"


# --- credit notes ------------------------------------------------------------------------------

LINES = [
    {"description": "Pose", "quantity": "2", "unit_price": "100", "vat_rate": "20", "position": "1"},
    {"description": "Fourniture", "quantity": "3", "unit_price": "50", "vat_rate": "5.5", "position": "2"},
    {"description": "Déplacement", "quantity": "1", "unit_price": "40", "vat_rate": "20", "position": "3"},
]


def _validated_invoice(client: Any, parties: dict[str, int]) -> dict[str, Any]:
    created = client.post("/api/v1/invoice", json={**parties, "kind": "standard", "date": DAY.isoformat(), "lines": LINES})
    assert created.status_code == 201, created.text
    return _act(client, "invoice", created.json()["id"], "validate")["record"]


def test_a_credit_note_of_selected_lines_through_the_api(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        invoice = _validated_invoice(client, parties)
        assert invoice["total_gross"] == "446.25"  # 240.00 + 158.25 + 48.00
        lines = {line["description"]: line["id"] for line in invoice["lines"]}
        credit = _made(client, "invoice", invoice["id"], "create_credit_note", {"lines": [lines["Fourniture"]]})
        assert (credit["kind"], credit["credited_invoice"]) == ("credit_note", invoice["id"])
        assert [(line["description"], line["credited_line"]) for line in credit["lines"]] == [("Fourniture", lines["Fourniture"])]
        assert (credit["total_net"], credit["total_vat"], credit["total_gross"]) == ("150.00", "8.25", "158.25")
        validated = _act(client, "invoice", credit["id"], "validate")["record"]
        assert validated["number"] == "AV2611-0001"
        # the other two lines may still be credited: 240.00 + 48.00 + 158.25 = the invoice
        rest = _made(client, "invoice", invoice["id"], "create_credit_note", {"lines": [lines["Pose"], lines["Déplacement"]]})
        assert rest["total_gross"] == "288.00"
        assert _act(client, "invoice", rest["id"], "validate")["record"]["number"] == "AV2611-0002"


def test_an_unknown_line_id_is_refused_and_nothing_is_created(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        invoice = _validated_invoice(client, parties)
        other = _validated_invoice(client, parties)
        foreign = other["lines"][0]["id"]  # a line of another invoice
        refused = client.post(f"/api/v1/invoice/{invoice['id']}/actions/create_credit_note", json={"lines": [foreign]})
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("unknown_row", "lines")
        assert str(foreign) in error["message"]
        for body in ({"lines": []}, {"lines": ["x"]}, {"rows": [1]}):
            bad = client.post(f"/api/v1/invoice/{invoice['id']}/actions/create_credit_note", json=body)
            assert bad.status_code == 422, bad.text
    kinds = [i["kind"] for i in client.get("/api/v1/invoice").json()["items"]]
    assert kinds == ["standard", "standard"]


def test_credit_notes_above_the_invoice_are_refused(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        invoice = _validated_invoice(client, parties)
        full = _made(client, "invoice", invoice["id"], "create_credit_note")
        _act(client, "invoice", full["id"], "validate")
        again = _made(client, "invoice", invoice["id"], "create_credit_note", {"lines": [invoice["lines"][2]["id"]]})
        refused = client.post(f"/api/v1/invoice/{again['id']}/actions/validate")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["field"]) == ("credit_exceeds_credited", "total_gross")
        for part in (invoice["number"], "48.00", "446.25"):
            assert part in error["message"]
        assert client.get(f"/api/v1/invoice/{again['id']}").json()["number"] is None


def test_a_credit_note_line_may_not_credit_more_than_its_line(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        invoice = _validated_invoice(client, parties)
        pose = invoice["lines"][0]
        credit = _made(client, "invoice", invoice["id"], "create_credit_note", {"lines": [pose["id"]]})
        row = credit["lines"][0]
        # cheaper but more of them: the amount stays below the invoice's, the quantity does not
        patched = client.patch(
            f"/api/v1/invoice/{credit['id']}", json={"lines": [{"id": row["id"], "quantity": "3", "unit_price": "10"}]}
        )
        assert patched.status_code == 200, patched.text
        refused = client.post(f"/api/v1/invoice/{credit['id']}/actions/validate")
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "credit_exceeds_credited" and "Pose" in error["message"]
        client.patch(f"/api/v1/invoice/{credit['id']}", json={"lines": [{"id": row["id"], "quantity": "1", "unit_price": "100"}]})
        assert _act(client, "invoice", credit["id"], "validate")["record"]["total_gross"] == "120.00"
        # one more Pose credited is fine (2 in all), a second more is not
        second = _made(client, "invoice", invoice["id"], "create_credit_note", {"lines": [pose["id"]]})
        client.patch(f"/api/v1/invoice/{second['id']}", json={"lines": [{"id": second["lines"][0]["id"], "quantity": "1"}]})
        _act(client, "invoice", second["id"], "validate")
        third = _made(client, "invoice", invoice["id"], "create_credit_note", {"lines": [pose["id"]]})
        client.patch(f"/api/v1/invoice/{third['id']}", json={"lines": [{"id": third["lines"][0]["id"], "quantity": "0.5"}]})
        assert client.post(f"/api/v1/invoice/{third['id']}/actions/validate").status_code == 422


def test_the_admin_shows_the_deductions_read_only(runtime: Any) -> None:
    from tests.engine.test_admin import logged_in

    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        order_id = _order(client, parties, [LINE], deposit_percent="30")
        _deposit(client, "order", order_id)
        final = _made(client, "order", order_id, "convert_to_invoice")
    admin = logged_in(runtime, "ada", ("admin",))
    details = admin.get(f"/admin/invoice/details/{final['id']}")
    assert details.status_code == 200 and "Acompte AC2611-0001" in details.text
    edit = admin.get(f"/admin/invoice/edit/{final['id']}").text
    # the lines are edited inline; the deductions, written by the compute, are only shown
    assert 'name="lines-present"' in edit and 'name="deductions-present"' not in edit
    assert "Acompte AC2611-0001" in edit and "Acomptes déduits" in edit


def test_the_openapi_document_gives_the_optional_body_of_conversions(runtime: Any) -> None:
    client = api_client(runtime)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    body = paths["/invoice/{id}/actions/create_credit_note"]["post"]["requestBody"]
    assert body["required"] is False
    assert list(body["content"]["application/json"]["schema"]["properties"]) == ["lines"]
    assert "requestBody" not in paths["/invoice/{id}/actions/validate"]["post"]


def test_a_deposit_of_a_fixed_amount_bills_it_over_the_lines_and_is_deducted(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    lines = [LINE, {"description": "Fournitures", "quantity": "3", "unit_price": "33.33", "vat_rate": "10"}]
    with fixed_clock(DAY):
        order_id = _order(client, parties, lines, deposit_amount="300")
        deposit = _deposit(client, "order", order_id, validate=False)
        assert (deposit["kind"], deposit["deposit_percent"], deposit["deposit_amount"]) == ("deposit", None, "300.00")
        # 300 shared as 1000 : 99.99 → 272.73 at 20 % (VAT 54.55) and 27.27 at 10 % (VAT 2.73)
        assert [line["total_net"] for line in deposit["lines"]] == ["272.73", "27.27"]
        assert (deposit["total_net"], deposit["total_vat"], deposit["total_gross"]) == ("300.00", "57.28", "357.28")
        # a percentage as well is refused, naming both fields; the stored draft is unchanged
        both = client.patch(f"/api/v1/invoice/{deposit['id']}", json={"deposit_percent": "10"})
        assert both.status_code == 422 and "pourcentage ou un montant" in both.json()["error"]["message"]
        assert client.get(f"/api/v1/invoice/{deposit['id']}").json()["total_gross"] == "357.28"
        too_much = client.patch(f"/api/v1/invoice/{deposit['id']}", json={"deposit_amount": "1100.00"})
        assert too_much.status_code == 422 and "dépasse le total HT des lignes (1099.99)" in too_much.json()["error"]["message"]
        _act(client, "invoice", deposit["id"], "validate")
        final = _made(client, "order", order_id, "convert_to_invoice")
        assert (final["total_gross"], final["deposits_deducted"]) == ("1309.99", "357.28")
        assert final["amount_due"] == "952.71"
