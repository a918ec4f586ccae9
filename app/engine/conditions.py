"""A list condition (app/spec/list_rules.py) as a SQL WHERE clause on an entity's table.

Used by shipped saved filters, in the admin list and in the API (`?filter=NAME`): the rows
are filtered by the database, never loaded to be tested in Python.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import String, and_, cast, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from app.spec.expressions import add_months, today
from app.spec.list_rules import And, Compare, Cond, Const, InList, IsNone, Me, Not, Or, Today, Truth, Value
from app.spec.model import EntitySpec, FieldSpec

_OPS = {
    "eq": lambda c, v: c == v,
    "ne": lambda c, v: c != v,
    "lt": lambda c, v: c < v,
    "lteq": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "gteq": lambda c, v: c >= v,
}


def condition_clause(table: Any, entity: EntitySpec, cond: Cond, user_id: int | None) -> ColumnElement[bool]:
    """The WHERE clause of `cond`; `me()` is `user_id` (no user: me() matches nothing)."""
    return _Sql(table, entity, user_id).clause(cond)


class _Sql:
    def __init__(self, table: Any, entity: EntitySpec, user_id: int | None) -> None:
        self.table = table
        self.entity = entity
        self.user_id = user_id

    def column(self, name: str) -> Any:
        field = self.entity.fields.get(name)
        return self.table.c[field.column_name if field is not None else name]

    def clause(self, cond: Cond) -> ColumnElement[bool]:
        if isinstance(cond, And):
            return and_(*(self.clause(c) for c in cond.items))
        if isinstance(cond, Or):
            return or_(*(self.clause(c) for c in cond.items))
        if isinstance(cond, Not):
            return not_(self.clause(cond.item))
        if isinstance(cond, IsNone):
            column = self.column(cond.field)
            return column.is_not(None) if cond.negated else column.is_(None)
        if isinstance(cond, Truth):
            return self.column(cond.field).is_(True)
        if isinstance(cond, InList):
            return self.in_list(cond)
        return self.compare(cond)

    def in_list(self, cond: InList) -> ColumnElement[bool]:
        column, field = self.column(cond.field), self.entity.fields.get(cond.field)
        if field is not None and field.type == "multichoice":
            # a JSON list: one of the codes is in it
            any_of = or_(*(cast(column, String).like(f'%"{v}"%') for v in cond.values)) if cond.values else false()
            return not_(any_of) if cond.negated else any_of
        values = [self.constant(field, v) for v in cond.values]
        if not values:
            return true() if cond.negated else false()
        # SQL's NOT IN is unknown on NULL; "status not in [...]" of the language is true for an empty value
        return or_(column.is_(None), column.not_in(values)) if cond.negated else column.in_(values)

    def compare(self, cond: Compare) -> ColumnElement[bool]:
        column, field = self.column(cond.field), self.entity.fields.get(cond.field)
        if isinstance(cond.value, Me) and self.user_id is None:
            return false()
        value = self.value(field, cond.value)
        clause: ColumnElement[bool] = _OPS[cond.op](column, value)
        if cond.op == "ne":  # as in the expressions: an empty value differs from any value
            clause = or_(column.is_(None), clause)
        return clause

    def value(self, field: FieldSpec | None, value: Value) -> Any:
        if isinstance(value, Me):
            return self.user_id
        if isinstance(value, Today):
            day = today() + dt.timedelta(days=value.days)
            day = add_months(day, value.months) if value.months else day
            if field is not None and field.type == "datetime":
                return dt.datetime(day.year, day.month, day.day)
            return day
        return self.constant(field, value.value if isinstance(value, Const) else value)

    def constant(self, field: FieldSpec | None, raw: Any) -> Any:
        kind = field.type if field is not None else ""
        if isinstance(raw, float):
            raw = Decimal(str(raw))
        if kind == "date" and isinstance(raw, str):
            return dt.date.fromisoformat(raw)
        if kind == "datetime" and isinstance(raw, str):
            return dt.datetime.fromisoformat(raw)
        return raw
