"""`send_mail`: the accepted quote mailed to its sales rep once committed, nothing on rollback,
a missing address as a warning, and `comptoir check` naming a bad recipient link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from app.engine.permissions import SYSTEM
from app.engine.store import Store
from app.engine.workflow import run_transition
from app.spec.expressions import fixed_clock
from app.spec.loader import load_spec
from tests.conftest import add_user
from tests.smtp import Catcher

DAY = dt.date(2026, 12, 2)
LINE = {"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}


def _sent_quote(rt: Any, rep: int | None) -> int:
    with rt.session() as session, fixed_clock(DAY):
        store = Store(rt, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = store.create("account", {"name": "Dupont SARL", "type": "prospect"}).id
        quote = store.create("quote", {"company": company, "account": account, "date": DAY, "assigned_user": rep, "lines": [LINE]}).id
        run_transition(store, "quote", quote, "validate")
        session.commit()
        return int(quote)


def test_the_accepted_quote_is_mailed_to_its_rep_once_committed(runtime: Any, smtp: Catcher) -> None:
    rep = add_user(runtime, "alice", ["sales"], email="alice@berthier.fr")
    quote = _sent_quote(runtime, rep)
    with runtime.session() as session, fixed_clock(DAY):
        result = run_transition(Store(runtime, session, SYSTEM), "quote", quote, "accept")
        assert smtp.messages == []  # not before the commit
        session.rollback()
    assert smtp.messages == []  # a transaction rolled back sends nothing
    with runtime.session() as session, fixed_clock(DAY):
        result = run_transition(Store(runtime, session, SYSTEM), "quote", quote, "accept")
        session.commit()
    [(rcpts, message)] = smtp.parsed()
    number = result.record.number
    assert rcpts == ["alice@berthier.fr"] and str(message["Subject"]) == f"Devis {number} accepté par Dupont SARL"
    assert "a été accepté le 02/12/2026 (1 000,00 € HT)" in message.get_content()
    assert any("alice@berthier.fr" in m.fr for m in result.messages)


def test_no_address_is_a_warning_and_the_transition_goes_on(runtime: Any, smtp: Catcher) -> None:
    rep = add_user(runtime, "bruno", ["sales"])  # no e-mail
    quote = _sent_quote(runtime, rep)
    with runtime.session() as session, fixed_clock(DAY):
        result = run_transition(Store(runtime, session, SYSTEM), "quote", quote, "accept")
        session.commit()
    assert result.to_state == "accepted" and smtp.messages == []
    assert [w.fr for w in result.warnings] == ["Aucun destinataire avec une adresse e-mail : pas de mail envoyé"]


def test_a_bad_recipient_link_is_named_with_its_line(config_copy: Path) -> None:
    path = config_copy / "workflows.yaml"
    text = path.read_text(encoding="utf-8")
    old = "recipients: [assigned_user], when"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "recipients: [assigned_usr], when"), encoding="utf-8")
    line = next(i for i, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "assigned_usr" in row)
    _, errors = load_spec(config_copy)
    assert any(e.location.file == "workflows.yaml" and e.location.line == line and "assigned_usr" in e.message and "assigned_user" in e.message for e in errors), errors
