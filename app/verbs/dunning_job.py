"""The daily dunning job: every due follow-up step is sent (or only marked) and recorded.

    dunning_job(rt, today, {"entity": "invoice"})   # entity: optional, default every follow-up

Per the entity's `follow_up.send`: `auto` mails the step with its template and records it
(message id and recipients in the log); `mark` — or a step without a template — only records
it, for staff to send from the dunning screen. Idempotent: one step per record per day at
most, each record in its own transaction, and a step already in the log is never recorded
(nor sent) again, also after a restart. Returns the counts: sent, marked, failed, records.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Mapping

from app.documents.mail import MailError
from app.spec.jobs import JobArg, JobVerb
from app.engine.followup import follow_up_of, followed_entities, has_step, record_step
from app.engine.followup_mail import compose, deliver
from app.engine.followup_scan import scan
from app.engine.runtime import Runtime

log = logging.getLogger("comptoir.dunning")
JOB_LOGIN = "dunning-job"


DUNNING = JobVerb(
    "dunning",
    "Each follow-up step due on the job's day: mailed with its template and recorded (`send: auto` "
    "of the entity's follow_up), or only recorded for staff to send from the dunning screen (`mark`).",
    (
        JobArg("entity", "entity", required=False, help="Only this entity's follow-up (default: every followed entity)."),
        JobArg("send", "text", required=False, help="`auto` or `mark`: overrides the follow_up `send` switch."),
    ),
)


def dunning_job(rt: Runtime, today: dt.date, args: Mapping[str, Any]) -> dict[str, int]:
    counts = {"records": 0, "sent": 0, "marked": 0, "failed": 0}
    wanted = args.get("entity")
    specs = [f for f in [follow_up_of(rt.spec, str(wanted))] if f is not None] if wanted else followed_entities(rt.spec)
    if wanted and not specs:
        raise ValueError(f"'{wanted}' has no follow_up: in workflows.yaml")
    mode_override = args.get("send")
    for follow_up in specs:
        with rt.session() as session:
            due = [f for f in scan(rt, session, follow_up, today, only_due=True) if f.step is not None]
        for forecast in due:
            step = forecast.step
            if step is None:  # filtered above
                continue
            if forecast.last_date is not None and forecast.last_date >= today:
                continue  # a step was done today already: the next one waits for tomorrow
            counts["records"] += 1
            with rt.session() as session:
                if has_step(session, rt.models.metadata, follow_up.entity, forecast.record_id, step.code):
                    continue
                mode = str(mode_override or follow_up.send)
                if mode == "auto" and step.template:
                    out = compose(rt, session, follow_up, forecast.record_id, step, today, None)
                    try:
                        deliver(rt, session, out, today, login=JOB_LOGIN, kind="auto")
                    except MailError as exc:
                        session.rollback()
                        counts["failed"] += 1
                        log.warning("%s %s: step %s not sent: %s", follow_up.entity, forecast.record_id, step.code, exc)
                        continue
                    counts["sent"] += 1
                else:
                    record_step(
                        session, rt.models.metadata, entity=follow_up.entity, record_id=forecast.record_id,
                        step=step.code, on=today, kind="auto", login=JOB_LOGIN, note="à envoyer / to send",
                    )
                    counts["marked"] += 1
                session.commit()
    return counts
