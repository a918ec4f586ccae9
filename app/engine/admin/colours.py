"""Row colours of the admin lists (`list.colours`): the first rule whose `when` is true wins.

The expressions are compiled once per view and evaluated on the values of the rows the page
already loaded (the record's own columns): no query per row. A rule within the condition
subset of saved filters (comparisons, in, and/or/not, today() ± days(n), me()) is evaluated
by a small tree walker, a few microseconds a row; any other expression by Jinja.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.spec.expressions import CompiledExpression, add_months, compile_expression, today
from app.spec.list_rules import (
    And,
    ColourRule,
    Cond,
    ConditionError,
    Const,
    InList,
    IsNone,
    Me,
    Not,
    Or,
    Today,
    Truth,
    parse_condition,
)
from app.spec.model import SYSTEM_COLUMNS, EntitySpec


@dataclass(frozen=True)
class LegendEntry:
    key: str  # "c1", "c2"…: the rule's place, used as the row's data-colour
    colour: str
    label: str


@dataclass(frozen=True)
class _Compiled:
    key: str
    rule: ColourRule
    expression: CompiledExpression
    columns: tuple[tuple[str, str], ...]  # (name in the expression, record attribute)
    condition: Cond | None  # the rule as a condition tree, when it is one


class RowColours:
    def __init__(self, entity: EntitySpec) -> None:
        self.rules: list[_Compiled] = []
        for i, rule in enumerate(entity.list.colours, start=1):
            expression = compile_expression(rule.when)
            columns = tuple(
                (name, entity.fields[name].column_name if name in entity.fields else name)
                for name in sorted(expression.names)
                if name in entity.fields or name in SYSTEM_COLUMNS
            )
            known = {*entity.fields, *SYSTEM_COLUMNS}
            try:
                condition: Cond | None = parse_condition(rule.when, known.__contains__)
            except ConditionError:
                condition = None
            self.rules.append(_Compiled(f"c{i}", rule, expression, columns, condition))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def legend(self) -> list[LegendEntry]:
        return [LegendEntry(c.key, c.rule.colour, c.rule.label.fr) for c in self.rules if c.rule.label is not None]

    def of(self, row: Any, user_id: int | None) -> LegendEntry | None:
        """The colour of one row, or None; a rule that cannot be evaluated (an empty date
        compared with today()) does not match, as in SQL."""
        day = today()
        for compiled in self.rules:
            values = {name: getattr(row, attribute, None) for name, attribute in compiled.columns}
            try:
                if compiled.condition is not None:
                    matched = _holds(compiled.condition, values, day, user_id)
                else:
                    values["me"] = lambda: user_id
                    matched = bool(compiled.expression.evaluate(values))
            except Exception:  # noqa: BLE001 - a comparison with an empty value: no colour
                matched = False
            if matched:
                label = compiled.rule.label.fr if compiled.rule.label is not None else ""
                return LegendEntry(compiled.key, compiled.rule.colour, label)
        return None


def _value(value: Const | Today | Me, day: Any, user_id: int | None) -> Any:
    if isinstance(value, Me):
        return user_id
    if isinstance(value, Today):
        moved = day + dt.timedelta(days=value.days)
        return add_months(moved, value.months) if value.months else moved
    return value.value


_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "lteq": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gteq": lambda a, b: a >= b,
}


def _holds(cond: Cond, values: dict[str, Any], day: Any, user_id: int | None) -> bool:
    """The condition on one row's values, with the expressions' meaning (Python's comparisons)."""
    if isinstance(cond, And):
        return all(_holds(c, values, day, user_id) for c in cond.items)
    if isinstance(cond, Or):
        return any(_holds(c, values, day, user_id) for c in cond.items)
    if isinstance(cond, Not):
        return not _holds(cond.item, values, day, user_id)
    if isinstance(cond, IsNone):
        return (values.get(cond.field) is None) != cond.negated
    if isinstance(cond, Truth):
        return bool(values.get(cond.field))
    if isinstance(cond, InList):
        return (values.get(cond.field) in cond.values) != cond.negated
    value = values.get(cond.field)
    other = _value(cond.value, day, user_id)
    if isinstance(value, dt.datetime) and isinstance(other, dt.date) and not isinstance(other, dt.datetime):
        other = dt.datetime(other.year, other.month, other.day)
    return bool(_COMPARE[cond.op](value, other))
