"""Business verbs: the Python behind names that YAML composes (computes, transition effects).

Each module here implements verbs declared in app/spec/verbs.py; this package registers them
with the engine's registry (app/engine/verbs.py), which imports it at start-up. Adding a verb is
one small module plus one line below.
"""

from __future__ import annotations

from app.engine.figures import register_figures
from app.engine.jobs import register_job
from app.engine.verbs import VerbFn, register
from app.spec.jobs import NEXT_STEP_REMINDERS, RUN_TRANSITION
from app.verbs import (
    automation,
    catalogue,
    client_figures,
    credit_notes,
    deductions,
    dunning_job,
    figures,
    fill,
    followup,
    jobs_reminders,
    jobs_transition,
    mailing,
    outstanding,
    payments,
    propagation,
    terms,
    totals,
    tracking,
)

BUSINESS_VERBS: dict[str, VerbFn] = {
    "document_totals": totals.document_totals,
    "fill_from": fill.fill_from,
    "refresh_lines": catalogue.refresh_lines,
    "check_payment_terms": terms.check_payment_terms,
    "due_date_from_terms": terms.due_date_from_terms,
    "track_lines": tracking.track_lines,
    "line_values": tracking.line_values,
    "deduct_prepaid": deductions.deduct_prepaid,
    "check_within_credited": credit_notes.check_within_credited,
    **payments.VERBS,
    **outstanding.VERBS,
    **propagation.VERBS,
    **mailing.VERBS,
    **automation.VERBS,
    **followup.VERBS,
}

for _name, _fn in BUSINESS_VERBS.items():
    register(_name, _fn)

# Key figures of records (admin panels, GET /api/v1/{entity}/{id}/figures): app/engine/figures.py.
register_figures(figures.document_figures)
register_figures(client_figures.client_figures)

# Scheduled job verbs (workflows.yaml `jobs:`, app/engine/jobs.py; docs/jobs.md).
register_job("run_transition", jobs_transition.run_transition_job, RUN_TRANSITION)
register_job("next_step_reminders", jobs_reminders.next_step_reminders, NEXT_STEP_REMINDERS)
register_job("dunning", dunning_job.dunning_job, dunning_job.DUNNING)
