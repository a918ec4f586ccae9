"""Expressions of the YAML language: Jinja2 expressions compiled in a sandbox.

One language for defaults, conditions and computed values, e.g. `today() + days(30)`.
Names always available: `today()`, `now()`, `days(n)`, `months(n)` and `user` (the current
user, given by the caller); the caller adds the record's own field values.

The clock is overridable for tests and for `comptoir jobs run --today`:

    with fixed_clock(date(2024, 1, 31)):
        evaluate("today() + months(1)")   # date(2024, 2, 29)
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from jinja2 import TemplateError, TemplateSyntaxError, Undefined, nodes
from jinja2.environment import TemplateExpression
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Functions every expression may call; they win over field names of the same name.
EXPRESSION_FUNCTIONS: tuple[str, ...] = ("today", "now", "days", "months")
# Every name an expression may use besides the record's own fields.
EXPRESSION_NAMES: tuple[str, ...] = (*EXPRESSION_FUNCTIONS, "user", "none", "true", "false")

_D = TypeVar("_D", date, datetime)

# None: the real clock; otherwise the moment today()/now() answer.
_clock: ContextVar[datetime | None] = ContextVar("comptoir_clock", default=None)


class ExpressionError(ValueError):
    """An expression that does not compile; the message is Jinja's, made readable."""


def now() -> datetime:
    """The current local time (naive), or the fixed moment set by `fixed_clock`."""
    fixed = _clock.get()
    return fixed if fixed is not None else datetime.now()


def today() -> date:
    return now().date()


@contextmanager
def fixed_clock(at: date | datetime) -> Iterator[None]:
    """Make today()/now() answer `at` (a date means midnight) inside the block."""
    moment = at if isinstance(at, datetime) else datetime(at.year, at.month, at.day)
    token = _clock.set(moment)
    try:
        yield
    finally:
        _clock.reset(token)


def _whole(n: int | float | Decimal, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, float, Decimal)):
        raise ValueError(f"{what}() expects a number, got {n!r}")
    if n != int(n):
        raise ValueError(f"{what}() expects a whole number, got {n}")
    return int(n)


def days(n: int | float | Decimal) -> timedelta:
    if isinstance(n, bool) or not isinstance(n, (int, float, Decimal)):
        raise ValueError(f"days() expects a number, got {n!r}")
    return timedelta(days=int(n) if n == int(n) else float(n))


def add_months(day: _D, count: int) -> _D:
    """Move `day` by `count` calendar months, clamping to the month's end (Jan 31 + 1 → Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + count
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


@dataclass(frozen=True)
class Months:
    """A number of calendar months, added to or subtracted from dates: `date + months(1)`."""

    count: int

    def __add__(self, other: object) -> Any:
        if isinstance(other, Months):
            return Months(self.count + other.count)
        if isinstance(other, date):
            return add_months(other, self.count)
        return NotImplemented

    def __radd__(self, other: object) -> Any:
        return self.__add__(other)

    def __rsub__(self, other: object) -> Any:
        if isinstance(other, date):
            return add_months(other, -self.count)
        return NotImplemented

    def __sub__(self, other: object) -> Any:
        if isinstance(other, Months):
            return Months(self.count - other.count)
        return NotImplemented

    def __neg__(self) -> Months:
        return Months(-self.count)

    def __mul__(self, other: object) -> Any:
        if isinstance(other, int) and not isinstance(other, bool):
            return Months(self.count * other)
        return NotImplemented

    __rmul__ = __mul__


def months(n: int | float | Decimal) -> Months:
    return Months(_whole(n, "months"))


_FUNCTIONS: dict[str, Any] = {"today": today, "now": now, "days": days, "months": months}

_env = ImmutableSandboxedEnvironment()
_GLOBALS: dict[str, Any] = dict(_env.globals)


def parse_expression(source: str) -> nodes.Expr:
    """Parse one expression (not a template), as Jinja's own compile_expression does; an
    ExpressionError says what is wrong. Also the parser of the translators to SQL (saved
    filters, follow-up scan)."""
    try:
        parser = Parser(_env, source, state="variable")
        expr = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("unexpected text after the expression", parser.stream.current.lineno)
    except TemplateSyntaxError as exc:
        message = (exc.message or "syntax error").replace("template", "expression")
        raise ExpressionError(f"invalid expression {source!r}: {message}") from None
    expr.set_environment(_env)
    return expr


def _walk(expr: nodes.Node) -> Iterator[nodes.Node]:
    """The node and all its descendants (Node.find_all skips the node itself)."""
    yield expr
    yield from expr.find_all(nodes.Node)


def _names(expr: nodes.Node) -> set[str]:
    return {n.name for n in _walk(expr) if isinstance(n, nodes.Name) and n.ctx == "load"}


def undeclared_names(source: str) -> set[str]:
    """Names an expression reads (Jinja literals none/true/false are not names)."""
    return _names(parse_expression(source))


def uncalled_functions(source: str) -> set[str]:
    """Built-in functions used without parentheses, e.g. `today` instead of `today()`."""
    expr = parse_expression(source)
    called = {id(c.node) for c in _walk(expr) if isinstance(c, nodes.Call)}
    return {
        n.name
        for n in _walk(expr)
        if isinstance(n, nodes.Name) and n.name in EXPRESSION_FUNCTIONS and id(n) not in called
    }


def literal_value(source: str) -> tuple[bool, Any]:
    """(True, value) when the expression is a constant such as `'prospect'` or `30`."""
    expr = parse_expression(source)
    if isinstance(expr, (nodes.Const, nodes.List, nodes.Tuple)):
        try:
            return True, expr.as_const()
        except nodes.Impossible:
            return False, None
    return False, None


_VARIABLE = object()  # an expression that reads something: evaluated each time
UNKNOWN = object()  # CompiledExpression.known: not known without evaluating


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    names: frozenset[str]
    _template: TemplateExpression
    _constant: Any = _VARIABLE  # the value of an expression made of literals only (`0`, `'draft'`)
    # the last values by what the expression read: one expression runs on every record of a
    # batch, mostly on the same few values (`kind == 'standard'`); not with today() or now()
    _memo: dict[tuple[Any, ...], Any] | None = None
    _ordered_names: tuple[str, ...] = ()

    def evaluate(self, context: Mapping[str, Any] | None = None) -> Any:
        """Value of the expression; `context` gives `user` and the record's field values."""
        if self._constant is not _VARIABLE:
            return self._constant
        memo = self._memo
        if memo is None:
            return self._evaluate(context)
        key = _memo_key(self._ordered_names, context or {})
        if key is None:
            return self._evaluate(context)
        found = memo.get(key, _VARIABLE)
        if found is not _VARIABLE:
            return found
        result = self._evaluate(context)
        if isinstance(result, _IMMUTABLE):
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[key] = result
        return result

    @property
    def ordered_names(self) -> tuple[str, ...]:
        """The names it reads, in the order `known` takes their values."""
        return self._ordered_names

    def known(self, values: Sequence[Any]) -> Any:
        """Its value when each name of `ordered_names` has the value at the same place of
        `values`, if it is known without evaluating it (a literal, or met lately); else
        UNKNOWN. What `evaluate` finds before evaluating, without a context to build."""
        if self._constant is not _VARIABLE:
            return self._constant
        memo = self._memo
        if memo is None:
            return UNKNOWN
        key = _key_of(values)
        return UNKNOWN if key is None else memo.get(key, UNKNOWN)

    def _evaluate(self, context: Mapping[str, Any] | None) -> Any:
        template = getattr(self._template, "_template", None)
        if template is None:  # not the Jinja this was written for: its public call
            values: dict[str, Any] = dict(context or {})
            values.update(_FUNCTIONS)
            return self._template(**values)
        # What TemplateExpression.__call__ does, without its two copies of the variables:
        # one dict with the environment's globals, the record's values, then the functions.
        variables = dict(_GLOBALS)
        if context:
            variables.update(context)
        variables.update(_FUNCTIONS)
        frame = template.new_context(variables, shared=True)
        for _ in template.root_render_func(frame):
            pass
        result = frame.vars["result"]
        return None if isinstance(result, Undefined) else result


_IMMUTABLE = (str, int, float, bool, Decimal, date, type(None))
_MEMO_SIZE = 256
_CLOCK = frozenset({"today", "now"})  # functions whose value changes by itself


def _memo_key(names: tuple[str, ...], context: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What the expression reads, as a key (see `_key_of`)."""
    return _key_of([context.get(name) for name in names])


def _key_of(values: Sequence[Any]) -> tuple[Any, ...] | None:
    """Values read as a key: each value with its type, a decimal as written (1 and 1.0, equal,
    do not print alike); None when a value is not a plain scalar."""
    key: list[Any] = []
    for value in values:
        kind = type(value)
        if kind is Decimal:
            key.append((kind, str(value)))
        elif kind in _SCALARS:
            key.append((kind, value))
        else:
            return None
    return tuple(key)


_SCALARS = frozenset({str, int, float, bool, date, datetime, type(None)})


@lru_cache(maxsize=2048)
def compile_expression(source: str) -> CompiledExpression:
    """Compile once; raises ExpressionError with Jinja's message when it does not compile."""
    node = parse_expression(source)
    names = frozenset(_names(node))
    try:
        template = _env.compile_expression(source, undefined_to_none=True)
    except TemplateError as exc:  # e.g. an unknown filter, found when compiling
        raise ExpressionError(f"invalid expression {source!r}: {exc.message}") from None
    constant: Any = _VARIABLE
    if isinstance(node, nodes.Const) and isinstance(node.value, _IMMUTABLE):
        constant = template()  # a literal: its value, once (a default evaluated per new record)
    memo = {} if constant is _VARIABLE and not names & _CLOCK else None
    return CompiledExpression(source, names, template, constant, memo, tuple(sorted(names)))


def evaluate(expression: str | CompiledExpression, context: Mapping[str, Any] | None = None) -> Any:
    compiled = compile_expression(expression) if isinstance(expression, str) else expression
    return compiled.evaluate(context)
