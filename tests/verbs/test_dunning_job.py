"""The daily dunning job run day by day over 120 days of a small scenario: the exact sequence
of steps per document, each mail caught by a local SMTP server (aiosmtpd) with the right
template and recipient, nothing sent twice — also when the job runs twice a day and after a
restart — and `send: mark` steps only recorded."""

from __future__ import annotations

import datetime as dt
import email
import os
import subprocess
import sys
from email import policy
from typing import Any

from sqlalchemy import text

from app.engine.followup import entries
from app.engine.jobs import run_job
from app.engine.runtime import build_runtime
from app.spec.expressions import fixed_clock
from tests.conftest import PROJECT_ROOT
from tests.engine.apiclient import api_client
from tests.followup_helpers import LINE, action, invoice, parties, pay
from tests.smtp import Catcher

START = dt.date(2026, 9, 1)
D = dt.date


def _quote(client: Any, parts: dict[str, int], on: dt.date) -> int:
    with fixed_clock(on):
        created = client.post("/api/v1/quote", json={"company": parts["company"], "account": parts["account"], "date": str(on), "lines": [LINE]})
        assert created.status_code == 201, created.text
        quote_id = int(created.json()["id"])
        action(client, "quote", quote_id, "validate")
        action(client, "quote", quote_id, "send")
    return quote_id


def _steps(rt: Any, entity: str, record_id: int) -> list[tuple[str, dt.date, str]]:
    with rt.session() as session:
        return [(e.step, e.on, ",".join(e.recipients)) for e in entries(session, rt.models.metadata, entity, record_id)]


def test_120_days_of_dunning(runtime: Any, smtp: Catcher) -> None:
    client = api_client(runtime)
    dupont = parties(client)
    durand = parties(client, email="factures@durand.fr", contact_email="claire.martin@durand.fr")
    silent = parties(client, email=None)
    ids: dict[str, int] = {}
    totals: dict[str, int] = {"sent": 0, "marked": 0, "failed": 0}
    restarted: list[Any] = []
    try:
        _run_days(client, runtime, dupont, durand, silent, ids, totals, restarted)
    finally:
        for other in restarted:
            other.engine.dispose()
    assert len(restarted) == 1
    _check(runtime, client, ids, totals, smtp)  # the same database
    with runtime.engine.connect() as conn:  # every run is in the jobs' run log
        logged = conn.execute(text("SELECT count(*) FROM comptoir_job_run WHERE job = 'dunning' AND result = 'ok'")).scalar()
    assert logged == 123
    # the last day once more through the command itself: nothing is sent twice
    before = len(smtp.messages)
    env = {**os.environ, "COMPTOIR_DATABASE_URL": runtime.engine.url.render_as_string(hide_password=False), "COMPTOIR_CONFIG_DIR": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-m", "app.cli", "jobs", "run", "dunning", "--today", "2026-12-29"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "dunning (2026-12-29) : ok" in done.stdout and "sent=0" in done.stdout and len(smtp.messages) == before


def _run_days(client: Any, runtime: Any, dupont: dict[str, int], durand: dict[str, int], silent: dict[str, int],
              ids: dict[str, int], totals: dict[str, int], restarted: list[Any]) -> None:
    rt = runtime
    for offset in range(120):
        day = START + dt.timedelta(days=offset)
        with fixed_clock(day):  # the day's office work, then the night's job
            if day == D(2026, 9, 1):
                ids["a"] = invoice(client, dupont, day, D(2026, 10, 1), send=True)
            if day == D(2026, 9, 5):
                ids["quote"] = _quote(client, dupont, day)
            if day == D(2026, 9, 10):
                ids["b"] = invoice(client, dupont, day, D(2026, 10, 10))
                ids["silent"] = invoice(client, silent, day, D(2026, 10, 10))
            if day == D(2026, 10, 1):
                ids["c"] = invoice(client, durand, day, D(2026, 10, 31))
            if day == D(2026, 10, 20):
                pay(client, dupont["account"], ids["b"], "1200", day)
            if day == D(2026, 11, 20):
                pay(client, durand["account"], ids["c"], "200", day)
            if day == D(2026, 11, 1):  # a restart: a new runtime on the same database
                rt = build_runtime(runtime.spec, runtime.engine.url.render_as_string(hide_password=False))
                restarted.append(rt)
            runs = 2 if day in (D(2026, 10, 1), D(2026, 10, 16), D(2026, 11, 1)) else 1  # twice: nothing more
            for _ in range(runs):  # as `comptoir jobs run dunning --today DAY` runs it, logged
                result = run_job(rt, rt.spec.jobs["dunning"], day)
                assert result.ok, result.message
                for key in totals:
                    totals[key] += result.counts[key]


def _check(rt: Any, client: Any, ids: dict[str, int], totals: dict[str, int], smtp: Catcher) -> None:
    b, c = "compta@dupont.fr", "claire.martin@durand.fr"
    assert _steps(rt, "invoice", ids["a"]) == [
        ("sent", D(2026, 9, 1), ""),
        ("reminder_1", D(2026, 10, 1), b),
        ("reminder_2", D(2026, 10, 16), b),
        ("formal_notice", D(2026, 10, 31), b),
    ]
    assert _steps(rt, "invoice", ids["b"]) == [("reminder_1", D(2026, 10, 10), b), ("payment_received", D(2026, 10, 20), "")]
    assert _steps(rt, "invoice", ids["c"]) == [  # the contact's address first
        ("reminder_1", D(2026, 10, 31), c),
        ("reminder_2", D(2026, 11, 15), c),
        ("payment_received", D(2026, 11, 20), ""),
        ("formal_notice", D(2026, 11, 30), c),
    ]
    assert _steps(rt, "invoice", ids["silent"]) == []  # no address: never recorded, counted as failed
    assert [(s, on) for s, on, _ in _steps(rt, "quote", ids["quote"])] == [  # send: mark — recorded, no mail
        ("sent", D(2026, 9, 5)), ("call_back", D(2026, 9, 12)), ("second_call", D(2026, 9, 19))]
    mails = [(rcpts, email.message_from_bytes(content, policy=policy.default)) for rcpts, content in smtp.messages]
    sequence = [(rcpts[0], str(m["Subject"])) for rcpts, m in mails]
    number = {k: client.get(f"/api/v1/invoice/{ids[k]}").json()["number"] for k in ("a", "b", "c")}
    assert sequence == [
        (b, f"Relance — facture {number['a']} échue le 01/10/2026"),
        (b, f"Relance — facture {number['b']} échue le 10/10/2026"),
        (b, f"Deuxième relance — facture {number['a']} impayée"),
        (b, f"Mise en demeure — facture {number['a']}"),
        (c, f"Relance — facture {number['c']} échue le 31/10/2026"),
        (c, f"Deuxième relance — facture {number['c']} impayée"),
        (c, f"Mise en demeure — facture {number['c']}"),
    ]
    notice = next(m for _, m in mails if str(m["Subject"]) == f"Mise en demeure — facture {number['c']}")
    body = notice.get_body(("plain",)).get_content()
    [pdf] = list(notice.iter_attachments())  # the validated invoice's stored PDF
    assert pdf.get_content_type() == "application/pdf" and number["c"] in str(pdf.get_filename())
    assert pdf.get_content().startswith(b"%PDF")
    # 1 000,00 € still due after 200 paid, 30 days late at 12.15 %: 9.99 €; plus the 40 € indemnity
    assert "reste impayée : 1 000,00 €" in body and "sur 30 jours : 9,99 €" in body and "recouvrement : 40,00 €" in body
    assert "Total réclamé : 1 049,99 €" in body and "n'est pas jointe" not in body
    assert totals["sent"] == 7 and totals["marked"] == 2 and totals["failed"] > 0
    invoice_c = client.get(f"/api/v1/invoice/{ids['c']}").json()
    assert (invoice_c["amount_remaining"], invoice_c["total_gross"]) == ("1000.00", "1200.00")  # never modified
