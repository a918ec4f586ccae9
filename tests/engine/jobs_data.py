"""Records for the scheduled jobs' tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.engine.permissions import SYSTEM
from app.engine.store import Store
from app.engine.workflow import run_transition
from app.spec.expressions import fixed_clock


def make_quotes(rt: Any) -> dict[str, int]:
    """Quotes of 1 Nov 2026: three sent (valid until 10, 12 and 20 Nov), one accepted (valid
    until 10 Nov), one draft (until 5 Nov), one postponed (until 10 Nov)."""
    ids: dict[str, int] = {}
    with rt.session() as session, fixed_clock(dt.date(2026, 11, 1)):
        store = Store(rt, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = store.create("account", {"name": "Dupont SARL", "type": "client"}).id
        line = {"description": "Pose", "quantity": "1", "unit_price": "100", "vat_rate": "20"}
        plan = {
            "sent_10": ("2026-11-10", ["validate", "send"]),
            "sent_12": ("2026-11-12", ["validate", "send"]),
            "sent_20": ("2026-11-20", ["validate", "send"]),
            "accepted_10": ("2026-11-10", ["validate", "send", "accept"]),
            "draft_05": ("2026-11-05", []),
            "postponed_10": ("2026-11-10", ["validate", "send", "mark_postponed"]),
        }
        for key, (valid_until, steps) in plan.items():
            quote = store.create("quote", {"company": company, "account": account, "validity_date": valid_until, "lines": [line]})
            for step in steps:
                run_transition(store, "quote", quote.id, step)
            ids[key] = int(quote.id)
        session.commit()
    return ids
