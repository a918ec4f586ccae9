"""Job verb `run_transition`: run a transition on every record that qualifies on the job's day.

    jobs:
      quote_expiry:
        cron: "0 6 * * *"
        verb: run_transition
        args: {entity: quote, transition: mark_no_answer, where: "validity_date and validity_date < today()"}

Only records in a source state of the transition are read (in SQL); `where` (an expression on
the record, `today()` being the job's day) and the transition's own condition then choose.
Each record runs in a transaction of its own, as the scheduler: one refusal does not undo the
others, it is counted and named in the run's message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.engine.jobs import JOB_PRINCIPAL, JobFailed
from app.engine.store import Store, StoreError
from app.engine.verbs import record_values
from app.engine.workflow import condition_holds, machine_of, record_name, run_transition
from app.spec.expressions import compile_expression

if TYPE_CHECKING:
    from app.engine.runtime import Runtime

MAX_NAMED = 10  # failures named in the run's message


def run_transition_job(rt: Runtime, today: dt.date, args: Mapping[str, Any]) -> dict[str, int]:
    entity_name, name = str(args["entity"]), str(args["transition"])
    cls = rt.models.cls(entity_name)
    machine = machine_of(cls)
    if machine is None or name not in machine.spec.transitions:
        raise JobFailed(f"'{entity_name}' has no transition '{name}'")
    transition = machine.spec.transitions[name]
    table = rt.models.tables[entity_name]
    query = select(table.c.id).order_by(table.c.id)
    if "*" not in transition.sources:
        query = query.where(table.c[machine.status_column].in_(list(transition.sources)))
    where = compile_expression(str(args["where"])) if args.get("where") not in (None, "") else None
    with rt.engine.connect() as conn:
        ids = [int(i) for i in conn.execute(query).scalars()]
    counts = {"checked": len(ids), "changed": 0, "errors": 0}
    failures: list[str] = []
    for record_id in ids:
        with rt.session() as session:
            store = Store(rt, session, JOB_PRINCIPAL)
            obj = session.get(cls, record_id)
            if obj is None:
                continue
            try:
                if where is not None and not where.evaluate(record_values(store, machine.entity, obj, where.names)):
                    continue
                if not condition_holds(store, machine, transition, obj):
                    continue
                run_transition(store, entity_name, record_id, name)
                session.commit()
                counts["changed"] += 1
            except (StoreError, TypeError, ValueError) as exc:
                session.rollback()
                counts["errors"] += 1
                text = exc.message if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
                failures.append(f"{record_name(obj)} (id {record_id}) : {text}")
    if failures:
        more = f" (+{len(failures) - MAX_NAMED})" if len(failures) > MAX_NAMED else ""
        raise JobFailed("\n".join(failures[:MAX_NAMED]) + more, counts)
    return counts
