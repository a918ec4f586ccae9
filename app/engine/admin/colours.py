"""Row colours of the admin lists (`list.colours`): the first rule whose `when` is true wins.

The expressions are compiled once per view and evaluated on the values of the rows the page
already loaded (the record's own columns): no query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.spec.expressions import CompiledExpression, compile_expression
from app.spec.list_rules import ColourRule
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
            self.rules.append(_Compiled(f"c{i}", rule, expression, columns))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def legend(self) -> list[LegendEntry]:
        return [LegendEntry(c.key, c.rule.colour, c.rule.label.fr) for c in self.rules if c.rule.label is not None]

    def of(self, row: Any, user_id: int | None) -> LegendEntry | None:
        """The colour of one row, or None; a rule that cannot be evaluated (an empty date
        compared with today()) does not match, as in SQL."""
        for compiled in self.rules:
            values = {name: getattr(row, attribute, None) for name, attribute in compiled.columns}
            values["me"] = lambda: user_id
            try:
                matched = compiled.expression.evaluate(values)
            except Exception:  # noqa: BLE001 - a comparison with an empty value: no colour
                matched = False
            if matched:
                label = compiled.rule.label.fr if compiled.rule.label is not None else ""
                return LegendEntry(compiled.key, compiled.rule.colour, label)
        return None
