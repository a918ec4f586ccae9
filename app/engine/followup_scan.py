"""The follow-up scan: each followed record's next step and its date, computed in SQL.

One query per entity, generic over its `follow_up:` (workflows.yaml): the log's last step of
the sequence per record (a GROUP BY over comptoir_follow_up, LEFT JOINed), then CASE expressions map its
position to the next step and to that step's date (`days` after the previous step, or after a
date field of the record). The `follows` expression is translated to a WHERE clause; no Python
loop runs over the rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jinja2 import nodes
from sqlalchemy import Date, and_, case, false, func, literal, not_, or_, select, true, type_coerce
from sqlalchemy.sql import ColumnElement, Select

from app.engine.followup import log_table
from app.engine.runtime import Runtime
from app.spec.followup import PREVIOUS, FollowUpSpec, StepSpec, parse_sql_expression
from app.spec.model import EntitySpec

BAND_NOT_DUE, BAND_DUE_SOON, BAND_OVERDUE = "not_due", "due_soon", "overdue"


class ScanError(ValueError):
    """An expression the scan cannot translate (the loader reports these first)."""


# --- expressions to SQL ---------------------------------------------------------------------------


def where_clause(entity: EntitySpec, table: Any, source: str) -> ColumnElement[bool]:
    return _sql(parse_sql_expression(source), entity, table)


def _column(entity: EntitySpec, table: Any, name: str) -> Any:
    f = entity.fields.get(name)
    if f is None:
        raise ScanError(f"unknown field '{name}' of '{entity.name}'")
    return table.c[f.column_name]


def _sql(node: nodes.Node, entity: EntitySpec, table: Any) -> Any:
    if isinstance(node, nodes.And):
        return and_(_sql(node.left, entity, table), _sql(node.right, entity, table))
    if isinstance(node, nodes.Or):
        return or_(_sql(node.left, entity, table), _sql(node.right, entity, table))
    if isinstance(node, nodes.Not):
        return not_(_sql(node.node, entity, table))
    if isinstance(node, nodes.Const) and isinstance(node.value, bool):
        return true() if node.value else false()
    if isinstance(node, nodes.Name):
        if node.name in ("true", "false"):
            return true() if node.name == "true" else false()
        f = entity.fields.get(node.name)
        column = _column(entity, table, node.name)
        return column.is_(True) if f is not None and f.type == "boolean" else column.isnot(None)
    if isinstance(node, nodes.Compare) and len(node.ops) == 1 and isinstance(node.expr, nodes.Name):
        column = _column(entity, table, node.expr.name)
        op, value = node.ops[0].op, node.ops[0].expr.as_const()
        if op == "in":
            return column.in_(list(value))
        if op == "notin":
            return column.not_in(list(value))
        if value is None:
            return column.is_(None) if op == "eq" else column.isnot(None)
        return {
            "eq": lambda: column == value, "ne": lambda: or_(column != value, column.is_(None)),
            "lt": lambda: column < value, "gt": lambda: column > value,
            "lteq": lambda: column <= value, "gteq": lambda: column >= value,
        }[op]()
    raise ScanError("only comparisons of a field with constants, and, or, not are translated to SQL")


def add_days(rt: Runtime, column: Any, days: int) -> Any:
    """`column + days` as a date, on SQLite (ISO text) and PostgreSQL (date + integer)."""
    if rt.engine.dialect.name == "sqlite":
        return func.date(column, f"{days:+d} days")
    return column + literal(days)


# --- the scan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """A followed record: its next step (None once the sequence is done) and when."""

    record_id: int
    step: StepSpec | None
    date: dt.date | None
    last_step: StepSpec | None
    last_date: dt.date | None
    due_date: dt.date | None
    amount: Decimal | None
    band: str | None  # not_due / due_soon / overdue (None without a due date)
    title: Any = None
    client_id: int | None = None
    client: Any = None

    def is_due(self, today: dt.date) -> bool:
        return self.date is not None and self.date <= today

    def is_late(self, today: dt.date) -> bool:
        """Red: its date has passed."""
        return self.date is not None and self.date < today


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    return dt.date.fromisoformat(str(value)[:10])


def scan_select(
    rt: Runtime, follow_up: FollowUpSpec, today: dt.date, *, record_id: int | None = None,
    due_from: dt.date | None = None, due_to: dt.date | None = None, only_due: bool = False,
    display: bool = False, ordered: bool = True,
) -> Select[Any]:
    """The SELECT of the scan (rows: id, next_idx, next_on, last_idx, last_on, due, amount,
    band, and with `display` the title and client columns), by due date unless not `ordered`."""
    entity = rt.spec.entities[follow_up.entity]
    table = rt.models.tables[entity.name]
    log = log_table(rt.models.metadata)
    sequence = follow_up.sequence
    codes = [s.code for s in sequence]
    # the log summed up per record first (the position of its last step of the sequence, 0:
    # none yet, and the day of that step), then one LEFT JOIN of that summary: no GROUP BY
    # over the records themselves
    position = case({code: i + 1 for i, code in enumerate(codes)}, value=log.c.step, else_=0) if codes else literal(0)
    steps = (
        select(log.c.record_id.label("record_id"), func.max(position).label("last_idx"), func.max(log.c.on).label("last_on"))
        .where(log.c.entity == entity.name, log.c.step.in_(codes or ["-"]))
        .group_by(log.c.record_id)
    )
    if record_id is not None:
        steps = steps.where(log.c.record_id == record_id)
    summary = steps.subquery("steps")
    last_idx = func.coalesce(summary.c.last_idx, 0).label("last_idx")
    last_on = summary.c.last_on.label("last_on")
    bases = {s.after for s in sequence if s.after != PREVIOUS}
    due_col = _column(entity, table, follow_up.due_date) if follow_up.due_date else literal(None, Date)
    columns: list[Any] = [
        table.c.id.label("id"), last_idx, last_on, due_col.label("due"),
        (_column(entity, table, follow_up.amount) if follow_up.amount else literal(None)).label("amount"),
        *(_column(entity, table, name).label(f"base_{name}") for name in sorted(bases)),
    ]
    source: Any = table.outerjoin(summary, summary.c.record_id == table.c.id)
    if display:
        columns.append(_column(entity, table, entity.title).label("title") if entity.title in entity.fields else table.c.id.label("title"))
        client_field = entity.fields.get(follow_up.client or "")
        if client_field is not None and client_field.to in rt.models.tables:
            client_spec = rt.spec.entities[client_field.to]
            client_table = rt.models.tables[client_spec.name].alias("client")
            client_title = client_table.c[client_spec.fields[client_spec.title].column_name] if client_spec.title in client_spec.fields else client_table.c.id
            source = source.outerjoin(client_table, client_table.c.id == table.c[client_field.column_name])
            columns += [table.c[client_field.column_name].label("client_id"), client_title.label("client")]
    inner = select(*columns).select_from(source).where(where_clause(entity, table, follow_up.follows))
    if record_id is not None:
        inner = inner.where(table.c.id == record_id)
    if follow_up.due_date:
        if due_from is not None:
            inner = inner.where(due_col >= due_from)
        if due_to is not None:
            inner = inner.where(due_col <= due_to)
    sq = inner.subquery("followed")
    whens = []
    for i, step in enumerate(sequence):  # the next step is the one after the last done
        base = sq.c.last_on if step.after == PREVIOUS else sq.c[f"base_{step.after}"]
        whens.append((sq.c.last_idx == i, add_days(rt, base, step.days)))
    next_on = type_coerce(case(*whens, else_=None), Date) if whens else literal(None, Date)
    band = (
        case(
            (sq.c.due.is_(None), None),
            (sq.c.due < today, BAND_OVERDUE),
            (sq.c.due <= today + dt.timedelta(days=follow_up.warn_days), BAND_DUE_SOON),
            else_=BAND_NOT_DUE,
        )
        if follow_up.due_date else literal(None)
    )
    extra = [sq.c.title, sq.c.client_id, sq.c.client] if display and "client" in sq.c else ([sq.c.title] if display else [])
    query = select(sq.c.id, (sq.c.last_idx + 1).label("next_idx"), next_on.label("next_on"), sq.c.last_idx, sq.c.last_on, sq.c.due, sq.c.amount, band.label("band"), *extra)
    if only_due:
        query = query.where(next_on <= today)
    if not ordered:
        return query
    return query.order_by(sq.c.due, sq.c.id) if follow_up.due_date else query.order_by(sq.c.id)


def scan(
    rt: Runtime, session: Any, follow_up: FollowUpSpec, today: dt.date, *, record_id: int | None = None,
    due_from: dt.date | None = None, due_to: dt.date | None = None, only_due: bool = False,
    display: bool = False, limit: int | None = None,
) -> list[Forecast]:
    query = scan_select(rt, follow_up, today, record_id=record_id, due_from=due_from, due_to=due_to, only_due=only_due, display=display)
    if limit is not None:
        query = query.limit(limit)
    sequence = follow_up.sequence
    entity = rt.spec.entities[follow_up.entity]
    amount_field = entity.fields.get(follow_up.amount or "")
    result: list[Forecast] = []
    for row in session.execute(query).mappings():
        index = int(row["next_idx"])
        last_idx = int(row["last_idx"] or 0)
        amount = row["amount"]
        result.append(Forecast(
            record_id=int(row["id"]),
            step=sequence[index - 1] if 0 < index <= len(sequence) else None,
            date=_as_date(row["next_on"]) if 0 < index <= len(sequence) else None,
            last_step=sequence[last_idx - 1] if 0 < last_idx <= len(sequence) else None,
            last_date=_as_date(row["last_on"]),
            due_date=_as_date(row["due"]),
            amount=amount if amount is None or isinstance(amount, Decimal) or amount_field is None else Decimal(str(amount)),
            band=row["band"],
            title=row.get("title"),
            client_id=row.get("client_id"),
            client=row.get("client"),
        ))
    return result


def forecast(rt: Runtime, session: Any, follow_up: FollowUpSpec, record_id: int, today: dt.date) -> Forecast | None:
    """The record's forecast; None when the record is not followed (its `follows` is false)."""
    found = scan(rt, session, follow_up, today, record_id=record_id)
    return found[0] if found else None


def count_followed(rt: Runtime, session: Any, follow_up: FollowUpSpec) -> int:
    """SELECT count(*) of the followed records (the bench's baseline)."""
    entity = rt.spec.entities[follow_up.entity]
    table = rt.models.tables[entity.name]
    query = select(func.count()).select_from(table).where(where_clause(entity, table, follow_up.follows))
    return int(session.execute(query).scalar_one())
