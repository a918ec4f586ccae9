"""Payments through the HTTP API with the shipped configuration: allocations move the invoices'
`amount_paid` and status (partially paid, paid, back to unpaid), overpayment and wrong
allocations are refused, credit notes settle the invoice they credit, the client's outstanding
is exact after each step, the credit limit warns or refuses, and the audit log still verifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pathlib import Path

from app.engine import audit
from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client, error_of

DAY = dt.date(2026, 11, 23)
LINE = {"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}  # 1 200,00 TTC


def _parties(client: Any, name: str = "Dupont SARL", **account: Any) -> dict[str, int]:
    company = client.post("/api/v1/company", json={"legal_name": "Berthier Services SAS"}).json()["id"]
    created = client.post("/api/v1/account", json={"name": name, "type": "client", **account})
    assert created.status_code == 201, created.text
    return {"company": company, "account": created.json()["id"]}


def _act(client: Any, entity: str, record_id: int, action: str) -> dict[str, Any]:
    done = client.post(f"/api/v1/{entity}/{record_id}/actions/{action}")
    assert done.status_code == 200, done.text
    return dict(done.json())


def _invoice(client: Any, parties: dict[str, int], *, validate: bool = True, lines: list[Any] | None = None) -> int:
    created = client.post("/api/v1/invoice", json={**parties, "kind": "standard", "date": str(DAY), "lines": lines or [LINE]})
    assert created.status_code == 201, created.text
    invoice_id = int(created.json()["id"])
    if validate:
        _act(client, "invoice", invoice_id, "validate")
    return invoice_id


def _payment(client: Any, account: int, amount: str, **data: Any) -> int:
    created = client.post("/api/v1/payment", json={"account": account, "date": str(DAY), "amount": amount, **data})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _state(client: Any, invoice_id: int) -> tuple[str, str, str]:
    body = client.get(f"/api/v1/invoice/{invoice_id}").json()
    return body["status"], body["amount_paid"], body["amount_remaining"]


def _outstanding(client: Any, account: int) -> str:
    return str(client.get(f"/api/v1/account/{account}").json()["outstanding"])


def test_partial_then_rest_pays_the_invoice_and_cancel_makes_it_due_again(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    account = parties["account"]
    with fixed_clock(DAY):
        invoice = _invoice(client, parties)
        assert _state(client, invoice) == ("validated", "0.00", "1200.00")
        assert _outstanding(client, account) == "1200.00"
        first = _payment(client, account, "500", invoice=invoice, mode="cheque")
        recorded = _act(client, "payment", first, "validate")
        assert recorded["record"]["status"] == "validated" and recorded["warnings"] == []
        # the single-invoice payment allocated its whole amount to the invoice
        assert [(a["invoice"], a["amount"]) for a in recorded["record"]["allocations"]] == [(invoice, "500.00")]
        assert _state(client, invoice) == ("partially_paid", "500.00", "700.00")
        assert _outstanding(client, account) == "700.00"
        second = _payment(client, account, "700", invoice=invoice, mode="transfer")
        _act(client, "payment", second, "validate")
        assert _state(client, invoice) == ("paid", "1200.00", "0.00")
        assert client.get(f"/api/v1/invoice/{invoice}").json()["paid_on"] == str(DAY)
        assert _outstanding(client, account) == "0.00"
        _act(client, "payment", first, "cancel")
        assert _state(client, invoice) == ("partially_paid", "700.00", "500.00")
        assert client.get(f"/api/v1/invoice/{invoice}").json()["paid_on"] is None
        assert _outstanding(client, account) == "500.00"
        _act(client, "payment", second, "cancel")
        assert _state(client, invoice) == ("validated", "0.00", "1200.00")
        assert _outstanding(client, account) == "1200.00"
    report = audit.verify(runtime)
    assert report.ok, report.problems
    # invoice validated; 2 payments recorded and cancelled; invoice partially paid, paid,
    # partially paid, unpaid: each audited
    assert report.entries == 9


def test_one_payment_on_two_invoices_keeps_the_rest_as_a_credit(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    account = parties["account"]
    with fixed_clock(DAY):
        one, two = _invoice(client, parties), _invoice(client, parties)
        assert _outstanding(client, account) == "2400.00"
        payment = _payment(
            client, account, "2000", mode="transfer",
            allocations=[{"invoice": one, "amount": "1200"}, {"invoice": two, "amount": "300"}],
        )
        record = _act(client, "payment", payment, "validate")["record"]
        assert record["unallocated"] == "500.00"
        assert _state(client, one) == ("paid", "1200.00", "0.00")
        assert _state(client, two) == ("partially_paid", "300.00", "900.00")
        # 900 still due on the second invoice, minus 500 received but not allocated
        assert _outstanding(client, account) == "400.00"
        _act(client, "payment", payment, "cancel")
        assert _state(client, one) == ("validated", "0.00", "1200.00")
        assert _state(client, two) == ("validated", "0.00", "1200.00")
        assert _outstanding(client, account) == "2400.00"
    assert audit.verify(runtime).ok


def test_overpayment_wrong_client_draft_and_over_allocation_are_refused(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    account = parties["account"]
    other = _parties(client, "Martin SAS")
    with fixed_clock(DAY):
        invoice = _invoice(client, parties)
        number = client.get(f"/api/v1/invoice/{invoice}").json()["number"]
        draft = _invoice(client, parties, validate=False)
        theirs = _invoice(client, other)
        cases = [
            (_payment(client, account, "1300", invoice=invoice), "overpayment", [number, "1 300,00 €", "1 200,00 €", "trop-perçu"]),
            (_payment(client, account, "100", invoice=theirs), "other_client", ["autre client", "100,00 €"]),
            (_payment(client, account, "100", invoice=draft), "not_payable", [f"facture n° {draft}", "Brouillon"]),
            (
                _payment(client, account, "100", allocations=[{"invoice": invoice, "amount": "150"}]),
                "over_allocated", ["150,00 €", "100,00 €"],
            ),
        ]
        for payment, code, words in cases:
            refused = client.post(f"/api/v1/payment/{payment}/actions/validate")
            assert refused.status_code == 422, refused.text
            error = error_of(refused)
            assert error["code"] == code
            assert all(w in error["message"] for w in words), error["message"]
            assert error["message"].index(words[0]) < error["message"].index(" / ")  # French first
            assert client.get(f"/api/v1/payment/{payment}").json()["status"] == "draft"
        # nothing moved: the refusals rolled everything back
        assert _state(client, invoice) == ("validated", "0.00", "1200.00")
        assert _outstanding(client, account) == "1200.00"
        # a payment after a partial one may not exceed what remains
        _act(client, "payment", _payment(client, account, "1000", invoice=invoice), "validate")
        too_much = client.post(f"/api/v1/payment/{_payment(client, account, '300', invoice=invoice)}/actions/validate")
        assert too_much.status_code == 422 and "200,00 €" in error_of(too_much)["message"]


def test_credit_note_is_not_paid_by_payments_and_settles_its_invoice(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    account = parties["account"]
    with fixed_clock(DAY):
        invoice = _invoice(client, parties)
        _act(client, "payment", _payment(client, account, "500", invoice=invoice), "validate")
        note = _act(client, "invoice", invoice, "create_credit_note")["created"][0]["id"]
        _act(client, "invoice", note, "validate")
        # 700 still due on the invoice, 1 200 of credit not applied yet
        assert _outstanding(client, account) == "-500.00"
        refused = client.post(f"/api/v1/payment/{_payment(client, account, '10', invoice=note)}/actions/validate")
        assert refused.status_code == 422 and error_of(refused)["code"] == "not_payable"
        applied = _act(client, "invoice", note, "apply_credit_note")
        assert len(applied["warnings"]) == 1 and "500,00 €" in applied["warnings"][0]
        assert _state(client, invoice) == ("paid", "1200.00", "0.00")
        # the credit note gave 700 of its 1 200: partly consumed, the rest a credit of the client
        assert _state(client, note) == ("partially_paid", "700.00", "500.00")
        assert _outstanding(client, account) == "-500.00"
        again = client.post(f"/api/v1/invoice/{note}/actions/apply_credit_note")
        assert again.status_code == 422 and error_of(again)["code"] == "nothing_to_apply"
    report = audit.verify(runtime)
    assert report.ok, report.problems


def test_credit_note_of_the_whole_invoice_is_consumed(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    with fixed_clock(DAY):
        invoice = _invoice(client, parties)
        note = _act(client, "invoice", invoice, "create_credit_note")["created"][0]["id"]
        _act(client, "invoice", note, "validate")
        applied = _act(client, "invoice", note, "apply_credit_note")
        assert applied["warnings"] == [] and applied["record"]["status"] == "paid"
        assert _state(client, invoice) == ("paid", "1200.00", "0.00")
        assert _state(client, note) == ("paid", "1200.00", "0.00")
        assert _outstanding(client, parties["account"]) == "0.00"
    assert audit.verify(runtime).ok


def test_credit_limit_warns_on_validation(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client, credit_limit="2000")
    with fixed_clock(DAY):
        first = _invoice(client, parties, validate=False)
        assert _act(client, "invoice", first, "validate")["warnings"] == []
        second = _invoice(client, parties, validate=False)
        done = _act(client, "invoice", second, "validate")
        assert done["record"]["status"] == "validated"
        [warning] = done["warnings"]
        assert warning.startswith("Encours autorisé de Dupont SARL dépassé")
        assert all(w in warning for w in ("1 200,00 €", "2 400,00 €", "2 000,00 €")), warning
        order = client.post("/api/v1/order", json={**parties, "lines": [LINE]}).json()["id"]
        assert len(_act(client, "order", order, "validate")["warnings"]) == 1


def test_credit_limit_with_block_refuses_the_validation(make_runtime: Any, config_copy: Path) -> None:
    workflows = config_copy / "workflows.yaml"
    text = workflows.read_text(encoding="utf-8")
    assert text.count("outstanding: outstanding, block: false") == 2  # order and invoice
    workflows.write_text(text.replace("outstanding: outstanding, block: false", "outstanding: outstanding, block: true"), encoding="utf-8")
    client = api_client(make_runtime(config_copy))
    parties = _parties(client, credit_limit="2000")
    with fixed_clock(DAY):
        _invoice(client, parties)
        second = _invoice(client, parties, validate=False)
        refused = client.post(f"/api/v1/invoice/{second}/actions/validate")
        assert refused.status_code == 422, refused.text
        error = error_of(refused)
        assert error["code"] == "credit_limit" and error["field"] == "account"
        assert error["message"].startswith("Encours autorisé de Dupont SARL dépassé")
        body = client.get(f"/api/v1/invoice/{second}").json()
        assert (body["status"], body["number"]) == ("draft", None)  # no number used up
        order = client.post("/api/v1/order", json={**parties, "lines": [LINE]}).json()["id"]
        assert client.post(f"/api/v1/order/{order}/actions/validate").status_code == 422
        # a payment brings the outstanding down: the invoice now validates
        _act(client, "payment", _payment(client, parties["account"], "1200"), "validate")
        assert _outstanding(client, parties["account"]) == "0.00"
        assert _act(client, "invoice", second, "validate")["warnings"] == []


def test_paid_on_is_the_day_of_the_payment_that_paid_in_full_not_the_day_it_was_entered(runtime: Any) -> None:
    client = api_client(runtime)
    parties = _parties(client)
    account = parties["account"]
    with fixed_clock(DAY):
        invoice = _invoice(client, parties)
        early = _payment(client, account, "500", invoice=invoice, date=str(DAY - dt.timedelta(days=9)))
        _act(client, "payment", early, "validate")
        assert client.get(f"/api/v1/invoice/{invoice}").json()["paid_on"] is None  # partly paid
        rest = _payment(client, account, "700", invoice=invoice, date=str(DAY - dt.timedelta(days=3)))
        _act(client, "payment", rest, "validate")
        assert _state(client, invoice) == ("paid", "1200.00", "0.00")
        assert client.get(f"/api/v1/invoice/{invoice}").json()["paid_on"] == str(DAY - dt.timedelta(days=3))
        _act(client, "payment", rest, "cancel")
        assert client.get(f"/api/v1/invoice/{invoice}").json()["paid_on"] is None
