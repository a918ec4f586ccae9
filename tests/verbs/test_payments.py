"""The engine side of payments on the shipped configuration: transitions run internally (as a
consequence) skip the user's rights but keep the state check, log and audit; `settle` sums
again from scratch whatever the stored amount says; the admin flashes a transition's warnings."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from typing import Any

import pytest
from sqlalchemy import update

from app.engine import audit
from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from app.engine.workflow import TransitionRefused, log_entries, run_transition
from app.spec.expressions import fixed_clock
from tests.engine.apiclient import add_user_with_token, api_client
from tests.engine.test_admin import csrf_of, logged_in

DAY = dt.date(2026, 11, 23)
LINE = {"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}


def _invoice(rt: Any, *, validate: bool = True, **account: Any) -> tuple[int, int]:
    """(account id, invoice id) of a new 1 200,00 € invoice, validated by the system."""
    with rt.session() as session, fixed_clock(DAY):
        store = Store(rt, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        client = store.create("account", {"name": "Dupont SARL", "type": "client", **account}).id
        invoice = store.create("invoice", {"company": company, "account": client, "date": str(DAY), "lines": [LINE]}).id
        if validate:
            run_transition(store, "invoice", invoice, "validate")
        session.commit()
        return int(client), int(invoice)


def _principal(rt: Any, login: str, groups: list[str]) -> Any:
    from app.engine.auth import principal_from_token

    token = add_user_with_token(rt, login, groups)
    with rt.session() as session:
        return principal_from_token(rt, session, token)


def test_internal_transition_skips_the_right_but_keeps_state_log_and_audit(runtime: Any) -> None:
    _, invoice = _invoice(runtime)
    _, draft = _invoice(runtime, validate=False)
    sales = _principal(runtime, "sam", ["sales"])
    with runtime.session() as session:
        store = Store(runtime, session, sales)
        with pytest.raises(StoreError) as refused:
            run_transition(store, "invoice", invoice, "abandon")
        assert refused.value.status == 403
    with runtime.session() as session:
        store = Store(runtime, session, sales)
        with pytest.raises(TransitionRefused):
            run_transition(store, "invoice", draft, "abandon", internal=True)  # not from a draft
    with runtime.session() as session, fixed_clock(DAY):
        store = Store(runtime, session, sales)
        result = run_transition(store, "invoice", invoice, "abandon", internal=True)
        assert (result.from_state, result.to_state) == ("validated", "abandoned")
        session.commit()
    with runtime.session() as session:
        store = Store(runtime, session, SYSTEM)
        entries = log_entries(store, store.entity("invoice"), invoice)
        assert [(e.transition, e.login) for e in entries] == [("validate", "system"), ("abandon", "sam")]
        assert store.get("invoice", invoice).status == "abandoned"
    report = audit.verify(runtime)
    assert report.ok and report.entries == 2, report.problems


def test_settle_sums_again_from_scratch(runtime: Any) -> None:
    account, invoice = _invoice(runtime)
    client = api_client(runtime)
    with fixed_clock(DAY):
        payment = client.post("/api/v1/payment", json={"account": account, "amount": "400", "invoice": invoice}).json()["id"]
        assert client.post(f"/api/v1/payment/{payment}/actions/validate").status_code == 200
    table = runtime.models.tables["invoice"]
    with runtime.engine.begin() as conn:  # behind the application's back: a drifted amount
        conn.execute(update(table).where(table.c.id == invoice).values(amount_paid=999, amount_remaining=201))
    done = client.post(f"/api/v1/invoice/{invoice}/actions/settle")
    assert done.status_code == 200, done.text
    record = done.json()["record"]
    assert (record["status"], record["amount_paid"], record["amount_remaining"]) == ("partially_paid", "400.00", "800.00")
    assert client.get(f"/api/v1/account/{account}").json()["outstanding"] == "800.00"


def test_admin_flashes_the_credit_limit_warning(runtime: Any) -> None:
    _, invoice = _invoice(runtime, validate=False, credit_limit="1000")
    browser = logged_in(runtime, "alice", ("admin",))
    page = browser.get(f"/admin/invoice/details/{invoice}").text
    with fixed_clock(DAY):
        response = browser.post(
            f"/admin/_action/invoice/{invoice}/validate", data={"csrf_token": csrf_of(page)}, follow_redirects=True
        )
    assert response.status_code == 200
    alerts = {
        category: html.unescape(text).strip()
        for category, text in re.findall(r'class="alert alert-(\w+) comptoir-flash"[^>]*>(.*?)</div>', response.text, re.S)
    }
    assert alerts["success"].startswith("« Valider » effectué")
    assert alerts["warning"].startswith("Encours autorisé de Dupont SARL dépassé")
    assert " / " not in alerts["warning"]  # French only in the admin


def test_concurrent_payments_on_one_invoice_never_overpay_it(runtime: Any) -> None:
    """Two payments of 700 on a 1 200 invoice at once, each in its own session: the invoice row
    is locked for update by the first, so the second sees 500 left and is refused."""
    account, invoice = _invoice(runtime)
    with runtime.session() as session:
        store = Store(runtime, session, SYSTEM)
        payments = [
            int(store.create("payment", {"account": account, "date": str(DAY), "amount": "700", "invoice": invoice}).id)
            for _ in range(2)
        ]
        session.commit()
    start = threading.Barrier(len(payments))
    outcomes: list[str] = []

    def record(payment: int) -> None:
        try:
            start.wait()
            with fixed_clock(DAY), runtime.session() as session:
                run_transition(Store(runtime, session, SYSTEM), "payment", payment, "validate")
                session.commit()
                outcomes.append("recorded")
        except StoreError as exc:
            outcomes.append(exc.code)
        except BaseException as exc:  # reported below
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=record, args=(p,)) for p in payments]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["overpayment", "recorded"]
    with runtime.session() as session:
        stored = Store(runtime, session, SYSTEM).get("invoice", invoice)
        assert (stored.status, stored.amount_paid, stored.amount_remaining) == ("partially_paid", 700, 500)
    assert audit.verify(runtime).ok


def test_payment_statuses_cannot_be_clicked_against_the_amounts(runtime: Any) -> None:
    _, invoice = _invoice(runtime)
    client = api_client(runtime)
    for action in ("mark_paid", "mark_partially_paid"):
        refused = client.post(f"/api/v1/invoice/{invoice}/actions/{action}")
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "condition_failed", refused.text
    allowed = client.get(f"/api/v1/invoice/{invoice}").json()["allowed_actions"]
    assert "mark_paid" not in allowed and "mark_partially_paid" not in allowed and "settle" in allowed
