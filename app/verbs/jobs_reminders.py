"""Job verb `next_step_reminders`: mail each assigned user the records whose next step is due.

    jobs:
      next_step_reminders:
        cron: "0 7 * * mon-fri"
        verb: next_step_reminders
        args: {entity: opportunity, date_field: next_step_date, user_field: assigned_user,
               step_field: next_step, where: "phase not in ['won', 'lost', 'final_invoiced']"}

The records whose date is the job's day or earlier are read in SQL (with a user), `where`
chooses among them; each user gets one mail (app/documents/mail.py: SMTP or the outbox)
listing theirs, the overdue first. A user without an e-mail is counted, not mailed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.documents.mail import MailError, new_message, send
from app.engine.jobs import JOB_PRINCIPAL, JobFailed
from app.engine.store import Store
from app.engine.verbs import evaluate_on
from app.spec.builtin import USER_ENTITY
from app.spec.expressions import compile_expression
from app.spec.model import EntitySpec, Label
from app.spec.values import label_of

if TYPE_CHECKING:
    from app.engine.models import Record
    from app.engine.runtime import Runtime

DEFAULT_SUBJECT = Label("Vos prochaines étapes à traiter", "Your next steps due")


def _step(rt: Runtime, entity: EntitySpec, obj: Record, step_field: str | None) -> str:
    if not step_field:
        return ""
    f = entity.fields[step_field]
    value = getattr(obj, f.column_name)
    picklist = rt.spec.picklists.get(f.picklist or "")
    found = picklist.value(str(value)) if picklist is not None and value is not None else None
    return found.label.fr if found is not None else ("" if value is None else str(value))


def _line(rt: Runtime, entity: EntitySpec, obj: Record, day: dt.date, today: dt.date, step_field: str | None) -> str:
    step = _step(rt, entity, obj, step_field)
    late = (today - day).days
    when = f"prévue le {day:%d/%m/%Y}" + (f", en retard de {late} jour(s)" if late > 0 else ", aujourd'hui")
    return f"- {entity.label.fr} « {obj} »" + (f" : {step}" if step else "") + f" — {when}"


def next_step_reminders(rt: Runtime, today: dt.date, args: Mapping[str, Any]) -> dict[str, int]:
    entity = rt.spec.entities[str(args["entity"])]
    date_field = entity.fields[str(args["date_field"])]
    user_field = entity.fields[str(args["user_field"])]
    step_field = str(args["step_field"]) if args.get("step_field") else None
    where = compile_expression(str(args["where"])) if args.get("where") not in (None, "") else None
    subject = label_of(args.get("subject"), "") if args.get("subject") else DEFAULT_SUBJECT
    cls = rt.models.cls(entity.name)
    table = rt.models.tables[entity.name]
    date_col, user_col = table.c[date_field.column_name], table.c[user_field.column_name]
    limit = dt.datetime.combine(today, dt.time.max) if date_field.type == "datetime" else today
    by_user: dict[int, list[str]] = {}
    records = 0
    with rt.session() as session:
        store = Store(rt, session, JOB_PRINCIPAL)
        query = select(cls).where(date_col.is_not(None), date_col <= limit, user_col.is_not(None)).order_by(date_col, table.c.id)
        for obj in session.scalars(query):
            if where is not None and not evaluate_on(store, entity, obj, where):
                continue
            day = getattr(obj, date_field.column_name)
            day = day.date() if isinstance(day, dt.datetime) else day
            by_user.setdefault(int(getattr(obj, user_field.column_name)), []).append(_line(rt, entity, obj, day, today, step_field))
            records += 1
        users = {int(u.id): u for u in session.scalars(select(rt.models.cls(USER_ENTITY)).where(rt.models.tables[USER_ENTITY].c.id.in_(list(by_user))))}
    counts = {"records": records, "mails": 0, "users_without_email": 0, "errors": 0}
    failures: list[str] = []
    for user_id, lines in by_user.items():
        user = users.get(user_id)
        address = getattr(user, "email", None) if user is not None else None
        if not address:
            counts["users_without_email"] += 1
            continue
        name = getattr(user, "full_name", None) or getattr(user, "login", "")
        text = (
            f"Bonjour {name},\n\n"
            f"{len(lines)} prochaine(s) étape(s) à traiter au {today:%d/%m/%Y} ({entity.plural.fr.lower()}) :\n\n"
            + "\n".join(lines)
            + "\n\n-- \nComptoir (rappel automatique / automatic reminder)\n"
        )
        try:
            send(new_message(to=[address], subject=f"{subject.fr} ({len(lines)}) / {subject.en}", text=text))
            counts["mails"] += 1
        except MailError as exc:
            counts["errors"] += 1
            failures.append(f"{address} : {exc}")
    if failures:
        raise JobFailed("\n".join(failures), counts)
    return counts
