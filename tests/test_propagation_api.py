"""Seed 003's propagation table through the HTTP API with the shipped workflows.yaml: the quote's
status moves its opportunity (phase, next step, next-step date) and its account (prospect →
client), two hops from the invoices (invoice paid → quote paid → opportunity final invoice),
all in the transaction of the transition that started it; the automation rules of the shipped
schema (validity = date + 30 days, the account's sales rep, a next-step date by default)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.engine.permissions import SYSTEM
from app.engine.store import Store
from app.engine.workflow import LogEntry, log_entries
from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client, error_of

DAY = dt.date(2026, 11, 23)
LINE = {"description": "Site vitrine", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}  # 1 200,00 TTC


def _act(client: Any, entity: str, record_id: int, action: str) -> dict[str, Any]:
    done = client.post(f"/api/v1/{entity}/{record_id}/actions/{action}")
    assert done.status_code == 200, done.text
    return dict(done.json())


def _made(client: Any, entity: str, record_id: int, action: str) -> int:
    created = _act(client, entity, record_id, action)["created"]
    assert len(created) == 1, created
    return int(created[0]["id"])


def _get(client: Any, entity: str, record_id: int) -> dict[str, Any]:
    found = client.get(f"/api/v1/{entity}/{record_id}")
    assert found.status_code == 200, found.text
    return dict(found.json())


def _opportunity_and_quote(client: Any, **account: Any) -> tuple[int, int, int]:
    company = client.post("/api/v1/company", json={"legal_name": "Agence Cible SARL"}).json()["id"]
    made = client.post("/api/v1/account", json={"name": "Boulangerie Martin", **account})
    assert made.status_code == 201, made.text
    account_id = int(made.json()["id"])
    opportunity = client.post(
        "/api/v1/opportunity", json={"name": "Site vitrine", "company": company, "account": account_id}
    )
    assert opportunity.status_code == 201, opportunity.text
    opportunity_id = int(opportunity.json()["id"])
    quote = client.post(
        "/api/v1/quote",
        json={"company": company, "account": account_id, "opportunity": opportunity_id, "date": str(DAY), "lines": [LINE]},
    )
    assert quote.status_code == 201, quote.text
    return account_id, opportunity_id, int(quote.json()["id"])


def _log(rt: Any, entity: str, record_id: int) -> list[LogEntry]:
    """The record's log, read through the store (the API has no log route)."""
    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        return log_entries(store, store.entity(entity), record_id)


def _phase(client: Any, opportunity: int) -> tuple[str, str, str | None]:
    body = _get(client, "opportunity", opportunity)
    return body["phase"], body["next_step"], body["next_step_date"]


def _pay(client: Any, account: int, invoice: int) -> None:
    due = _get(client, "invoice", invoice)["amount_due"]
    payment = client.post(
        "/api/v1/payment", json={"account": account, "date": str(DAY), "amount": due, "invoice": invoice, "mode": "transfer"}
    )
    assert payment.status_code == 201, payment.text
    _act(client, "payment", int(payment.json()["id"]), "validate")


def test_the_quote_moves_its_opportunity_and_account_along_seed_003s_table(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        account, opportunity, quote = _opportunity_and_quote(client)
        assert _get(client, "account", account)["type"] == "prospect"
        # a new opportunity: needs analysis, next step « chiffrage » due in a week (automation rule)
        assert _phase(client, opportunity) == ("needs_analysis", "estimate", str(DAY + dt.timedelta(days=7)))
        _act(client, "quote", quote, "validate")
        assert _phase(client, opportunity)[0] == "needs_analysis"  # validating is not sending

        sent = _act(client, "quote", quote, "send")
        assert sent["record"]["status"] == "sent"
        assert _phase(client, opportunity) == ("offer_sent", "call_back", str(DAY + dt.timedelta(days=7)))
        assert Decimal(_get(client, "opportunity", opportunity)["probability"]) == 40
        assert _get(client, "account", account)["type"] == "prospect"  # sending does not make a client

    later = DAY + dt.timedelta(days=5)
    with fixed_clock(later):
        _act(client, "quote", quote, "accept")
        assert _phase(client, opportunity) == ("won", "deposit_invoice", str(later + dt.timedelta(days=2)))
        assert _get(client, "account", account)["type"] == "client"
        # the opportunity's log tells that the quote moved it
        assert [(e.transition, e.to_state) for e in _log(runtime, "opportunity", opportunity)] == [
            ("send_offer", "offer_sent"),
            ("win", "won"),
        ]

        # deposit invoice sent → opportunity « facture d'acompte », next step the final invoice
        deposit = _made(client, "quote", quote, "create_deposit")
        _act(client, "invoice", deposit, "validate")
        _act(client, "invoice", deposit, "send")
        assert _phase(client, opportunity)[:2] == ("deposit_invoiced", "final_invoice")
        _pay(client, account, deposit)
        # the deposit is paid but the quote is not invoiced in full: nothing moves
        assert _get(client, "quote", quote)["status"] == "accepted"
        assert _phase(client, opportunity)[0] == "deposit_invoiced"

        final = _made(client, "quote", quote, "convert_to_invoice")
        _act(client, "invoice", final, "validate")
        assert _get(client, "quote", quote)["status"] == "invoiced"
        assert _phase(client, opportunity)[0] == "deposit_invoiced"
        _pay(client, account, final)  # the last invoice paid: quote paid in full → opportunity final
        assert _get(client, "invoice", final)["status"] == "paid"
        assert _get(client, "quote", quote)["status"] == "paid"
        assert _phase(client, opportunity) == ("final_invoiced", "none", None)


def test_a_quote_invoiced_once_goes_paid_and_final_when_its_invoice_is_paid(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        account, opportunity, quote = _opportunity_and_quote(client)
        for action in ("validate", "send", "accept"):
            _act(client, "quote", quote, action)
        invoice = _made(client, "quote", quote, "convert_to_invoice")
        _act(client, "invoice", invoice, "validate")
        assert _phase(client, opportunity)[0] == "won"
        _pay(client, account, invoice)
        assert _get(client, "quote", quote)["status"] == "paid"
        assert _phase(client, opportunity) == ("final_invoiced", "none", None)


def test_an_opportunity_already_there_or_elsewhere_is_left_alone(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        account, opportunity, quote = _opportunity_and_quote(client)
        # lost before the quote is sent: `send_offer` does not start from « perdue » — skipped
        _act(client, "opportunity", opportunity, "lose")
        _act(client, "quote", quote, "validate")
        assert _act(client, "quote", quote, "send")["record"]["status"] == "sent"
        assert _phase(client, opportunity) == ("lost", "none", None)
        # a quote without opportunity: nothing to move, the account still becomes a client
        second = client.post("/api/v1/quote", json={**_parties_of(client, quote), "date": str(DAY), "lines": [LINE]})
        assert second.status_code == 201, second.text
        for action in ("validate", "send", "accept"):
            _act(client, "quote", int(second.json()["id"]), action)
        assert _get(client, "account", account)["type"] == "client"
        assert _phase(client, opportunity)[0] == "lost"


def test_a_second_quote_sent_keeps_the_phase_and_renews_the_next_step_date(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        account, opportunity, quote = _opportunity_and_quote(client)
        for action in ("validate", "send"):
            _act(client, "quote", quote, action)
        second = client.post(
            "/api/v1/quote", json={**_parties_of(client, quote), "opportunity": opportunity, "date": str(DAY), "lines": [LINE]}
        ).json()["id"]
    later = DAY + dt.timedelta(days=3)
    with fixed_clock(later):
        for action in ("validate", "send"):
            _act(client, "quote", second, action)
        # already « offre envoyée »: the transition is not run again, the date is renewed
        assert _phase(client, opportunity) == ("offer_sent", "call_back", str(later + dt.timedelta(days=7)))
        assert [e.transition for e in _log(runtime, "opportunity", opportunity)] == ["send_offer"]


def _parties_of(client: Any, quote: int) -> dict[str, int]:
    body = _get(client, "quote", quote)
    return {"company": body["company"], "account": body["account"]}


def test_automation_rules_of_the_shipped_schema(runtime: Any) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        rep = client.post("/api/v1/user", json={"login": "claire", "groups": ["sales"]})
        assert rep.status_code == 201, rep.text
        rep_id = int(rep.json()["id"])
        company = client.post("/api/v1/company", json={"legal_name": "Agence Cible SARL"}).json()["id"]
        account = client.post("/api/v1/account", json={"name": "Fromagerie Roux", "assigned_user": rep_id}).json()["id"]
        opportunity = client.post("/api/v1/opportunity", json={"name": "Refonte", "company": company, "account": account}).json()
        assert opportunity["assigned_user"] == rep_id  # the account's sales rep
        dated = client.post(
            "/api/v1/quote", json={"company": company, "account": account, "date": "2026-10-01", "lines": [LINE]}
        ).json()
        assert dated["validity_date"] == "2026-10-31"  # date + 30 days, not today + 30
        assert dated["assigned_user"] == rep_id
        typed = client.post(
            "/api/v1/quote",
            json={"company": company, "account": account, "date": "2026-10-01", "validity_date": "2026-12-15", "lines": [LINE]},
        ).json()
        assert typed["validity_date"] == "2026-12-15"  # a typed value stays
        cleared = client.patch(f"/api/v1/quote/{typed['id']}", json={"validity_date": None, "date": "2026-11-02"})
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["validity_date"] == "2026-12-02"  # emptied: computed again
        # the opportunity's sales rep comes before the account's
        other = client.post("/api/v1/user", json={"login": "hugo", "groups": ["sales"]}).json()["id"]
        own = client.post(
            "/api/v1/opportunity", json={"name": "Vitrine", "company": company, "account": account, "assigned_user": other}
        ).json()
        assert own["assigned_user"] == other
        quoted = client.post(
            "/api/v1/quote", json={"company": company, "account": account, "opportunity": own["id"], "date": str(DAY), "lines": [LINE]}
        ).json()
        assert quoted["assigned_user"] == other
        # the next step closed by hand: no default date for it
        closed = client.post(
            "/api/v1/opportunity", json={"name": "Veille", "company": company, "account": account, "next_step": "none"}
        ).json()
        assert closed["next_step_date"] is None


def test_a_failing_propagation_rolls_the_whole_transition_back(config_copy: Path, make_runtime: Any) -> None:
    workflows = config_copy / "workflows.yaml"
    text = workflows.read_text(encoding="utf-8")
    old = '            set: {next_step_date: "today() + days(2)"}\n'
    assert text.count(old) == 1
    # a value the opportunity's picklist refuses: the acceptance must not stay half done
    workflows.write_text(text.replace(old, '            set: {next_step_date: "today() + days(2)", next_step: "\'bogus\'"}\n'), encoding="utf-8")
    rt = make_runtime(config_copy)
    client = api_client(rt)
    with fixed_clock(DAY):
        account, opportunity, quote = _opportunity_and_quote(client)
        for action in ("validate", "send"):
            _act(client, "quote", quote, action)
        refused = client.post(f"/api/v1/quote/{quote}/actions/accept")
        assert refused.status_code == 422, refused.text
        error = error_of(refused)
        assert error["field"] == "next_step" and "bogus" in error["message"], error
        # nothing of it stayed: neither the quote, nor the opportunity's transition, nor the account
        assert _get(client, "quote", quote)["status"] == "sent"
        assert _phase(client, opportunity)[0] == "offer_sent"
        assert _get(client, "account", account)["type"] == "prospect"
        assert [e.transition for e in _log(rt, "quote", quote)] == ["validate", "send"]
        assert [e.transition for e in _log(rt, "opportunity", opportunity)] == ["send_offer"]


def test_strict_refuses_the_transition_when_the_linked_one_is_not_allowed(config_copy: Path, make_runtime: Any) -> None:
    workflows = config_copy / "workflows.yaml"
    text = workflows.read_text(encoding="utf-8")
    old = "            transition: send_offer  # offre envoyée, next step « à rappeler »\n"
    assert text.count(old) == 1
    workflows.write_text(text.replace(old, old + "            strict: true\n"), encoding="utf-8")
    client = api_client(make_runtime(config_copy))
    with fixed_clock(DAY):
        _, opportunity, quote = _opportunity_and_quote(client)
        _act(client, "opportunity", opportunity, "lose")
        _act(client, "quote", quote, "validate")
        refused = client.post(f"/api/v1/quote/{quote}/actions/send")
        assert refused.status_code == 409, refused.text
        error = error_of(refused)
        assert error["code"] == "propagation_refused" and "Perdue" in error["message"], error
        assert _get(client, "quote", quote)["status"] == "validated"
        assert _get(client, "quote", quote)["sent_on"] is None
