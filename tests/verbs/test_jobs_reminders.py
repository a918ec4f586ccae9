"""The shipped `next_step_reminders` job: one mail per assigned user listing their opportunities
whose next step is due (today or overdue), caught by a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import email
import socket
from email import policy
from typing import Any, Iterator

import pytest
from aiosmtpd.controller import Controller

from app.engine.jobs import run_job
from app.engine.permissions import SYSTEM
from app.engine.store import Store
from tests.conftest import add_user

DAY = dt.date(2026, 12, 2)


class Catcher:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Catcher]:
    catcher = Catcher()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("COMPTOIR_SMTP_URL", f"smtp://127.0.0.1:{port}")
    try:
        yield catcher
    finally:
        controller.stop()


def _opportunities(rt: Any, users: dict[str, int]) -> None:
    rows = [
        # name, user, next step date, phase transition, next step
        ("Cuisine Martin", "alice", DAY, None, "call_back"),
        ("Toiture Leroy", "alice", DAY - dt.timedelta(days=3), None, "estimate"),
        ("Salle de bain Petit", "alice", DAY + dt.timedelta(days=1), None, "call_back"),  # not yet
        ("Véranda Roux", "alice", DAY - dt.timedelta(days=1), "lose", "call_back"),  # lost: no reminder
        ("Isolation Moreau", "bruno", DAY - dt.timedelta(days=10), None, "awaiting_reply"),
        ("Clôture Garnier", "chloe", DAY, None, "call_back"),  # chloé has no e-mail
        ("Parquet Fabre", None, DAY, None, "call_back"),  # nobody assigned
    ]
    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = store.create("account", {"name": "Dupont SARL", "type": "prospect"}).id
        from app.engine.workflow import run_transition

        for name, user, day, transition, step in rows:
            values: dict[str, Any] = {"name": name, "company": company, "account": account, "next_step_date": day.isoformat()}
            if user is not None:
                values["assigned_user"] = users[user]
            record = store.create("opportunity", values)
            if transition:
                run_transition(store, "opportunity", record.id, transition)
            store.update("opportunity", record.id, {"next_step": step})
        session.commit()


def test_each_user_gets_one_mail_with_their_due_next_steps(runtime: Any, smtp: Catcher) -> None:
    users = {
        "alice": add_user(runtime, "alice", ["sales"], email="alice@berthier.fr", full_name="Alice Bernard"),
        "bruno": add_user(runtime, "bruno", ["sales"], email="bruno@berthier.fr"),
        "chloe": add_user(runtime, "chloe", ["sales"]),
    }
    _opportunities(runtime, users)
    result = run_job(runtime, runtime.spec.jobs["next_step_reminders"], DAY)
    assert result.ok, result.message
    assert result.counts == {"records": 4, "mails": 2, "users_without_email": 1, "errors": 0}
    by_rcpt = {tuple(rcpts): message for rcpts, message in smtp.messages}
    assert set(by_rcpt) == {("alice@berthier.fr",), ("bruno@berthier.fr",)}
    alice = by_rcpt[("alice@berthier.fr",)]
    assert alice["Subject"].startswith("Vos prochaines étapes à traiter (2)")
    body = alice.get_body(("plain",)).get_content()
    assert body.startswith("Bonjour Alice Bernard,")
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert listed == [
        "- Affaire « Toiture Leroy » : Chiffrage — prévue le 29/11/2026, en retard de 3 jour(s)",
        "- Affaire « Cuisine Martin » : À rappeler — prévue le 02/12/2026, aujourd'hui",
    ]
    bruno = by_rcpt[("bruno@berthier.fr",)].get_body(("plain",)).get_content()
    assert "Isolation Moreau" in bruno and "en retard de 10 jour(s)" in bruno and "Cuisine" not in bruno


def test_an_unreachable_smtp_server_is_a_logged_error(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens there
    monkeypatch.setenv("COMPTOIR_SMTP_URL", f"smtp://127.0.0.1:{port}")
    users = {"alice": add_user(runtime, "alice", ["sales"], email="alice@berthier.fr"), "bruno": 0, "chloe": 0}
    with runtime.session() as session:
        store = Store(runtime, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = store.create("account", {"name": "Dupont SARL", "type": "prospect"}).id
        store.create("opportunity", {"name": "Cuisine Martin", "company": company, "account": account,
                                     "next_step_date": DAY.isoformat(), "assigned_user": users["alice"], "next_step": "call_back"})
        session.commit()
    result = run_job(runtime, runtime.spec.jobs["next_step_reminders"], DAY)
    assert result.result == "error"
    assert result.counts == {"records": 1, "mails": 0, "users_without_email": 0, "errors": 1}
    assert result.message.startswith("alice@berthier.fr : SMTP 127.0.0.1:")
