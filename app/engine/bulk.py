"""Many rows of one table inserted by one statement, their values converted column by column.

Core's multi-row insert (`connection.execute(insert(table), rows)`) builds, for each row, the
dictionary of its bound parameters and then runs each value through its column type's
converter. Here the statement is compiled once per table, columns and dialect, the converters
are looked up once per column, and each row becomes the driver's parameters in one pass —
the same converters, so the same values reach the database — then the driver's executemany
runs it. Batches (create_many, run_transition_many, the audit log) insert through it.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

_Converter = Callable[[Any], Any] | None


class _Plan:
    """The compiled INSERT of some columns of a table, and how a row becomes its parameters."""

    __slots__ = ("sql", "keys", "names", "converters", "defaults", "positional")

    def __init__(self, table: Table, columns: tuple[str, ...], dialect: Dialect) -> None:
        compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
        binds = compiled.binds
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        # bind names in the statement's order (positional drivers) or any order (named ones)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ()) if self.positional else tuple(binds)
        self.keys = tuple(binds[name].key for name in self.names)  # the column key of each
        self.converters: tuple[_Converter, ...] = tuple(
            table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in self.keys
        )
        # the columns not given whose default Core adds to the statement: a value, or a
        # function called for each row, as Core calls it
        self.defaults: dict[str, Callable[[], Any]] = {}
        for key in self.keys:
            if key in columns:
                continue
            default = table.c[key].default
            if default is not None and default.is_scalar:
                self.defaults[key] = lambda value=default.arg: value
            elif default is not None and default.is_callable:
                self.defaults[key] = lambda arg=default.arg: arg(None)
            else:
                raise ValueError(f"{table.name}.{key}: give its value (its default is computed by the database)")

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        if self.defaults:
            defaults = self.defaults.items()
            rows = [{**row, **{key: make() for key, make in defaults}} for row in rows]
        steps = tuple(zip(self.keys, self.converters))
        if self.positional:
            return [tuple([convert(row[key]) if convert is not None else row[key] for key, convert in steps]) for row in rows]
        names = self.names
        return [
            dict(zip(names, [convert(row[key]) if convert is not None else row[key] for key, convert in steps]))
            for row in rows
        ]


# per table (forgotten with it: a dropped runtime's tables are freed), by columns and dialect
_PLANS: weakref.WeakKeyDictionary[Table, dict[tuple[tuple[str, ...], str, str], _Plan]] = weakref.WeakKeyDictionary()


def _plan(table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Plan:
    plans = _PLANS.get(table)
    if plans is None:
        plans = _PLANS[table] = {}
    key = (columns, dialect.name, dialect.paramstyle)
    plan = plans.get(key)
    if plan is None:
        plan = plans[key] = _Plan(table, columns, dialect)
    return plan


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (mappings holding at least `columns`, by column key) into `table` in the
    session's transaction; database refusals raise as from Core (IntegrityError…)."""
    if not rows:
        return
    connection = session.connection()
    plan = _plan(table, tuple(columns), connection.dialect)
    connection.exec_driver_sql(plan.sql, plan.parameters(rows))
