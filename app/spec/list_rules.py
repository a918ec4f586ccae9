"""`list.colours` and `list.saved_filters` of an entity: row colour rules and shipped filters.

A colour rule's `when` is any expression of the language, evaluated on the row values the
list already loaded. A saved filter's `where` must run in SQL, so it is limited to a small
subset, translated here into a neutral condition tree (Cond) that the engine turns into SQL
(app/engine/conditions.py):

    field == / != / < / <= / > / >= value      value: a constant, today() ± days(n) / months(n), me()
    field in [...] / field not in [...]          constants only
    field is none / field is not none
    a and b / a or b / not a / field (a yes/no field)

Anything else is refused when the configuration is loaded, with its file and line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Union

from jinja2 import nodes

from app.spec.errors import SpecError
from app.spec.expressions import (
    EXPRESSION_NAMES,
    ExpressionError,
    compile_expression,
    parse_expression,
    uncalled_functions,
)
from app.spec.model import (
    SYSTEM_COLUMNS,
    EntitySpec,
    FieldSpec,
    Label,
    Location,
    Picklist,
)
from app.spec.suggest import did_you_mean, show
from app.spec.values import label_of, mapping, opt_label, opt_str, str_items
from app.spec.yamlpos import YamlDoc, YamlPath

COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# Names a list condition may use besides the entity's fields: me() is the current user's id.
LIST_NAMES: tuple[str, ...] = (*EXPRESSION_NAMES, "me")
SUBSET = "comparisons, and/or/not, in / not in, is none, today() ± days(n) or months(n), me()"
CODED_TYPES = ("choice", "status", "multichoice")

# -- the condition tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Today:
    days: int = 0
    months: int = 0


@dataclass(frozen=True)
class Me:
    pass


Value = Union[Const, Today, Me]


@dataclass(frozen=True)
class Compare:
    field: str
    op: str  # eq ne lt lteq gt gteq
    value: Value


@dataclass(frozen=True)
class InList:
    field: str
    values: tuple[Any, ...]
    negated: bool = False


@dataclass(frozen=True)
class IsNone:
    field: str
    negated: bool = False


@dataclass(frozen=True)
class Truth:
    field: str


@dataclass(frozen=True)
class And:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    item: Cond


Cond = Union[Compare, InList, IsNone, Truth, And, Or, Not]

# -- spec objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class ColourRule:
    when: str
    colour: str
    label: Label | None = None
    location: Location | None = None


@dataclass(frozen=True)
class SavedFilterSpec:
    """A shipped filter: `list.saved_filters.<name>` of an entity."""

    name: str
    label: Label
    where: str | None = None
    condition: Cond | None = None
    columns: tuple[str, ...] = ()
    sort: str | None = None
    location: Location | None = None


class ConditionError(ValueError):
    pass


_OP_TEXT = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">="}
_FLIP = {"eq": "eq", "ne": "ne", "lt": "gt", "lteq": "gteq", "gt": "lt", "gteq": "lteq"}


def _parse(source: str) -> nodes.Expr:
    try:
        return parse_expression(source)
    except ExpressionError as exc:
        raise ConditionError(str(exc)) from None


def parse_condition(source: str, fields: Callable[[str], bool]) -> Cond:
    """The condition tree of a `where`; `fields(name)` tells whether a name is a field."""
    return _Translator(source, fields).cond(_parse(source))


class _Translator:
    def __init__(self, source: str, is_field: Callable[[str], bool]) -> None:
        self.source = source
        self.is_field = is_field

    def refuse(self, what: str) -> ConditionError:
        return ConditionError(f"{what} cannot run in SQL in a 'where' (use {SUBSET})")

    def cond(self, node: nodes.Node) -> Cond:
        if isinstance(node, nodes.And):
            return And(tuple(self._flatten(node, nodes.And)))
        if isinstance(node, nodes.Or):
            return Or(tuple(self._flatten(node, nodes.Or)))
        if isinstance(node, nodes.Not):
            inner = node.node
            if isinstance(inner, nodes.Test) and inner.name == "none":
                return IsNone(self.field_of(inner.node), negated=True)
            return Not(self.cond(inner))
        if isinstance(node, nodes.Test):
            if node.name != "none" or node.args:
                raise self.refuse(f"the test 'is {node.name}'")
            return IsNone(self.field_of(node.node))
        if isinstance(node, nodes.Name):
            return Truth(self.field_of(node))
        if isinstance(node, nodes.Compare):
            return self.compare(node)
        raise self.refuse(f"'{_text(node)}'")

    def _flatten(self, node: nodes.Node, kind: type[nodes.BinExpr]) -> list[Cond]:
        if isinstance(node, kind):
            return [*self._flatten(node.left, kind), *self._flatten(node.right, kind)]
        return [self.cond(node)]

    def compare(self, node: nodes.Compare) -> Cond:
        parts: list[Cond] = []
        left = node.expr
        for operand in node.ops:
            parts.append(self.one(left, operand.op, operand.expr))
            left = operand.expr
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def one(self, left: nodes.Expr, op: str, right: nodes.Expr) -> Cond:
        if op in ("in", "notin"):
            name = self.field_of(left)
            if not isinstance(right, (nodes.List, nodes.Tuple)):
                raise self.refuse("'in' with something else than a list of constants")
            values = tuple(self.constant(item) for item in right.items)
            return InList(name, values, negated=op == "notin")
        if op not in _FLIP:
            raise self.refuse(f"the operator '{op}'")
        if self._names_field(left):
            name, value = self.field_of(left), self.value(right)
        elif self._names_field(right):
            name, value, op = self.field_of(right), self.value(left), _FLIP[op]
        else:
            raise self.refuse(f"'{_text(left)} {_OP_TEXT.get(op, op)} {_text(right)}' (a field alone is needed on one side)")
        if isinstance(value, Const) and value.value is None:
            if op not in ("eq", "ne"):
                raise ConditionError(f"'{name}' compared to none with '{op}': use 'is none' or 'is not none'")
            return IsNone(name, negated=op == "ne")
        return Compare(name, op, value)

    def _names_field(self, node: nodes.Node) -> bool:
        return isinstance(node, nodes.Name) and node.name not in LIST_NAMES

    def field_of(self, node: nodes.Node) -> str:
        if not isinstance(node, nodes.Name):
            raise self.refuse(f"'{_text(node)}' (a field is expected here)")
        if not self.is_field(node.name):
            raise ConditionError(f"unknown field '{node.name}'")
        return node.name

    def constant(self, node: nodes.Node) -> Any:
        if isinstance(node, nodes.Const):
            return node.value
        raise self.refuse(f"'{_text(node)}' in a list (only constants)")

    def value(self, node: nodes.Node) -> Value:
        if isinstance(node, nodes.Const):
            return Const(node.value)
        if isinstance(node, nodes.Neg) and isinstance(node.node, nodes.Const):
            return Const(-node.node.value)
        call = _call_name(node)
        if call == "me":
            return Me()
        if call == "today":
            return Today()
        if isinstance(node, (nodes.Add, nodes.Sub)) and _call_name(node.left) == "today":
            sign = 1 if isinstance(node, nodes.Add) else -1
            unit, count = self.offset(node.right)
            return Today(days=sign * count) if unit == "days" else Today(months=sign * count)
        raise self.refuse(f"'{_text(node)}'")

    def offset(self, node: nodes.Node) -> tuple[str, int]:
        if isinstance(node, nodes.Call) and _call_name(node) in ("days", "months") and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, nodes.Const) and isinstance(arg.value, int) and not isinstance(arg.value, bool):
                return str(_call_name(node)), arg.value
        raise self.refuse(f"'{_text(node)}' (after today() only days(n) or months(n) with a whole number)")


def _call_name(node: nodes.Node) -> str | None:
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and not node.kwargs:
        if node.node.name in ("me", "today") and node.args:
            return None
        return node.node.name
    return None


def _text(node: nodes.Node) -> str:
    """A short rendering of a node for messages."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name):
        return f"{node.node.name}(…)"
    if isinstance(node, nodes.Getattr):
        return f"{_text(node.node)}.{node.attr}"
    if isinstance(node, nodes.BinExpr):
        return f"{_text(node.left)} {node.operator} {_text(node.right)}"
    if isinstance(node, nodes.Filter):
        return f"{_text(node.node) if node.node is not None else '…'} | {node.name}"
    return type(node).__name__.lower()


def condition_fields(cond: Cond) -> list[tuple[str, Any]]:
    """(field, constant) pairs of a tree, for checking codes against picklists."""
    if isinstance(cond, Compare):
        return [(cond.field, cond.value.value)] if isinstance(cond.value, Const) else []
    if isinstance(cond, InList):
        return [(cond.field, v) for v in cond.values]
    if isinstance(cond, (And, Or)):
        return [pair for item in cond.items for pair in condition_fields(item)]
    if isinstance(cond, Not):
        return condition_fields(cond.item)
    return []


# -- building from the YAML (called from entities.py) -------------------------------------

ErrorSink = Callable[[Location, str], None]


def _known(fields: Mapping[str, FieldSpec]) -> list[str]:
    return [*fields, *SYSTEM_COLUMNS]


def _check_names(source: str, fields: Mapping[str, FieldSpec], loc: Location, error: ErrorSink) -> bool:
    try:
        names = compile_expression(source).names
    except ExpressionError as exc:
        error(loc, str(exc))
        return False
    known = _known(fields)
    ok = True
    for name in sorted(names - set(LIST_NAMES) - set(known)):
        error(loc, f"unknown field '{name}' in expression{did_you_mean(name, [*known, *LIST_NAMES])}")
        ok = False
    for func in sorted(uncalled_functions(source)):
        error(loc, f"'{func}' is a function: write '{func}()'" if func in ("today", "now") else f"'{func}' is a function: write '{func}(n)'")
        ok = False
    return ok


def build_colours(doc: YamlDoc, raw: Any, fields: Mapping[str, FieldSpec], error: ErrorSink) -> tuple[ColourRule, ...]:
    rules: list[ColourRule] = []
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        data = mapping(item)
        when, colour = opt_str(data.get("when")), opt_str(data.get("colour"))
        path: YamlPath = ("list", "colours", i)
        if when is None or colour is None:
            continue  # the schema check reported it
        if not COLOUR_RE.match(colour):
            continue  # the schema check reported it
        _check_names(when, fields, doc.at((*path, "when")), error)
        rules.append(ColourRule(when, colour.lower(), opt_label(data.get("label")), doc.at(path)))
    return tuple(rules)


def build_saved_filters(
    doc: YamlDoc,
    raw: Any,
    fields: Mapping[str, FieldSpec],
    error: ErrorSink,
    check_ref: Callable[[YamlPath, str, str], None],
) -> tuple[SavedFilterSpec, ...]:
    result: list[SavedFilterSpec] = []
    known = set(_known(fields)) - {n for n, f in fields.items() if f.type == "password"}
    for name, item in mapping(raw).items():
        data = mapping(item)
        path: YamlPath = ("list", "saved_filters", name)
        where = opt_str(data.get("where"))
        condition: Cond | None = None
        if where is not None:
            loc = doc.at((*path, "where"))
            if _check_names(where, fields, loc, error):
                try:
                    condition = parse_condition(where, known.__contains__)
                except ConditionError as exc:
                    error(loc, f"{exc} — in {show(where)}")
        columns = str_items(data.get("columns"))
        for j, ref in columns:
            check_ref((*path, "columns", j), ref, f"'list.saved_filters.{name}.columns'")
        sort = opt_str(data.get("sort"))
        if sort is not None:
            check_ref((*path, "sort"), sort, f"'list.saved_filters.{name}.sort'")
        result.append(
            SavedFilterSpec(
                name=name,
                label=label_of(data.get("label"), name),
                where=where,
                condition=condition,
                columns=tuple(ref for _, ref in columns),
                sort=sort,
                location=doc.key_at(path),
            )
        )
    return tuple(result)


# -- checks needing the picklists (status states come from workflows.yaml) ----------------


def check_codes(
    entities: Mapping[str, EntitySpec], docs: Mapping[str, YamlDoc], picklists: Mapping[str, Picklist] | None
) -> list[SpecError]:
    """Quoted codes compared with a choice or status field must be codes of its picklist."""
    if picklists is None:
        return []
    errors: list[SpecError] = []
    for name, entity in entities.items():
        doc = docs.get(name)
        if doc is None:
            continue
        checked: list[tuple[Location, Cond]] = [
            (doc.at(("list", "saved_filters", saved.name, "where")), saved.condition)
            for saved in entity.list.saved_filters
            if saved.condition is not None
        ]
        known = set(_known(entity.fields))
        for i, rule in enumerate(entity.list.colours):
            try:  # a colour rule may be any expression; its codes are checked when it is a simple one
                checked.append((doc.at(("list", "colours", i, "when")), parse_condition(rule.when, known.__contains__)))
            except (ConditionError, ExpressionError):
                continue
        for loc, condition in checked:
            for field_name, value in condition_fields(condition):
                field = entity.fields.get(field_name)
                if field is not None and field.type in ("date", "datetime") and not _iso_or_none(value, field.type):
                    errors.append(SpecError(loc, f"'{field_name}' is a {field.type}: compare it with today() ± days(n) or an ISO date such as '2024-01-31', not {show(value)}"))
                    continue
                if field is None or field.type not in CODED_TYPES or not isinstance(value, str):
                    continue
                picklist = picklists.get(field.picklist or "")
                if picklist is None or not picklist.codes():
                    continue
                codes = picklist.codes()
                if value not in codes:
                    hint = did_you_mean(value, codes) or f" (codes: {', '.join(codes)})"
                    errors.append(SpecError(loc, f"'{value}' is not a code of '{field_name}'{hint}"))
    return errors


def _iso_or_none(value: Any, kind: str) -> bool:
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    try:
        (dt.date.fromisoformat if kind == "date" else dt.datetime.fromisoformat)(value)
    except ValueError:
        return False
    return True
