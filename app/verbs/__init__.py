"""Business verbs: the Python behind names that YAML composes (computes, transition effects).

Each module here implements verbs declared in app/spec/verbs.py; this package registers them
with the engine's registry (app/engine/verbs.py), which imports it at start-up. Adding a verb is
one small module plus one line below.
"""

from __future__ import annotations

from app.engine.verbs import VerbFn, register
from app.verbs import fill, outstanding, payments, totals

BUSINESS_VERBS: dict[str, VerbFn] = {
    "document_totals": totals.document_totals,
    "fill_from": fill.fill_from,
    **payments.VERBS,
    **outstanding.VERBS,
}

for _name, _fn in BUSINESS_VERBS.items():
    register(_name, _fn)
