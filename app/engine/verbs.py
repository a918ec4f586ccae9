"""Verb implementations, registered by name: the effects of transitions and the computes of
entities. app/spec/verbs.py declares what YAML may write (names and arguments, checked by
`comptoir check`); this registry holds the Python that runs them.

The generic verbs live here (`set`, `assign_number`, `log`, `copy_to`); business verbs live in
app/verbs/ and are loaded at start-up (`load_plugins`), as Datasette loads its default plugins.
A verb is a function `(ctx: VerbContext, args: Mapping) -> None`; it runs inside the caller's
transaction and raises StoreError to refuse (everything is then rolled back).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from app.domain.numbering import default_reset, format_number, reset_key
from app.engine.fieldtypes import FieldError, parse_value
from app.spec.expressions import UNKNOWN, CompiledExpression, compile_expression
from app.spec.expressions import today as clock_today
from app.spec.model import SYSTEM_COLUMNS, EntitySpec, FieldSpec, Label

if TYPE_CHECKING:
    from app.engine.models import Record
    from app.engine.store import Store
    from app.spec.workflow_model import TransitionSpec, WorkflowSpec

# Modules whose import registers business verbs (each calls `register`).
PLUGIN_MODULES: tuple[str, ...] = ("app.verbs",)


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


@dataclass
class VerbContext:
    """What a verb works on: the store (session, principal), the record and, for an effect,
    the running transition. Verbs add log messages and the records they create."""

    store: Store
    entity: EntitySpec
    record: Record
    transition: TransitionSpec | None = None
    workflow: WorkflowSpec | None = None
    messages: list[Label] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)
    # what the caller passed with the transition, e.g. the API body `{"lines": [3, 5]}`
    # (source rows that copy_to copies instead of all of them)
    params: Mapping[str, Any] = field(default_factory=dict)
    warnings: list[Label] = field(default_factory=list)  # returned to the user with the result
    # run after the transition has moved the record to its target state, logged and audited
    consequences: list[Callable[[], None]] = field(default_factory=list)

    def then(self, consequence: Callable[[], None]) -> None:
        """Run `consequence` once the record is in its new state (outside a transition: now)."""
        if self.transition is None:
            consequence()
        else:
            self.consequences.append(consequence)

    def then_once(self, key: Any, consequence: Callable[[], None]) -> None:
        """Like `then`, for a consequence that only brings something up to date (a record's
        computes run again): during a batch of transitions it runs once, at the batch's end,
        however many records ask for it (see Store.recompute_pending)."""
        from app.engine.store import Batch

        batch = Batch.of(self.store.session) if self.transition is not None else None
        if batch is not None:
            batch.once.setdefault(key, consequence)
        else:
            self.then(consequence)

    def values(self, names: frozenset[str] | None = None) -> dict[str, Any]:
        """The record as an expression sees it (see `record_values`)."""
        return record_values(self.store, self.entity, self.record, names)


VerbFn = Callable[[VerbContext, Mapping[str, Any]], None]

_REGISTRY: dict[str, VerbFn] = {}


def register(name: str, fn: VerbFn) -> VerbFn:
    """Register the implementation of a declared verb (a second, different one is an error)."""
    current = _REGISTRY.get(name)
    if current is not None and current is not fn:
        raise ValueError(f"verb '{name}' is implemented twice ({current.__module__}, {fn.__module__})")
    _REGISTRY[name] = fn
    return fn


def verb(name: str) -> Callable[[VerbFn], VerbFn]:
    def decorate(fn: VerbFn) -> VerbFn:
        return register(name, fn)

    return decorate


def implementation(name: str) -> VerbFn:
    fn = _REGISTRY.get(name)
    if fn is None:
        raise KeyError(f"verb '{name}' has no implementation (app/engine/verbs.py or app/verbs/)")
    return fn


def implemented() -> frozenset[str]:
    return frozenset(_REGISTRY)


def load_plugins() -> None:
    """Import the business verb modules once; importing registers their verbs."""
    for module in PLUGIN_MODULES:
        importlib.import_module(module)


# --- record values for expressions -----------------------------------------------------------


def record_values(
    store: Store, entity: EntitySpec, obj: Record, names: frozenset[str] | None = None
) -> dict[str, Any]:
    """Field values by field name (a link is the target's id), system columns, `user`, and the
    child collections as lists of dicts — those only when `names` asks for them."""
    if names is None:
        values: dict[str, Any] = {f.name: getattr(obj, f.column_name) for f in entity.fields.values() if f.type != "password"}
        for name in SYSTEM_COLUMNS:
            values[name] = getattr(obj, name, None)
        wanted: list[Any] = list(entity.children)
    else:  # only what the expression reads
        columns, wanted = _reads(store, entity, names)
        values = {name: column_value(obj, column) for name, column in columns}
    if wanted:
        rows = store.children(entity, obj)
        for child in wanted:
            spec = store.spec.entities[child.entity]
            values[child.name] = [
                {f.name: getattr(r, f.column_name) for f in spec.fields.values() if f.type != "password"}
                for r in rows[child.name]
            ]
    values["user"] = store.principal
    return values


_UNLOADED = object()


def _reads(store: Store, entity: EntitySpec, names: frozenset[str]) -> tuple[list[tuple[str, str]], list[Any]]:
    """What an expression reading `names` reads of a record of `entity`: (name, column) of
    its fields and system columns, and the collections; worked out once per runtime."""
    key = ("expression_reads", entity.name, names)
    known = store.rt.memo.get(key)
    if known is None:
        columns = []
        for name in sorted(names):
            found = entity.fields.get(name)
            if found is not None and found.type != "password":
                columns.append((name, found.column_name))
            elif name in SYSTEM_COLUMNS:
                columns.append((name, name))
        known = store.rt.memo[key] = (columns, [c for c in entity.children if c.name in names])
    return known


def column_value(obj: Any, column: str) -> Any:
    """A record's column: read from its dictionary when loaded (no attribute machinery on a
    hot path), else through the attribute, which loads it."""
    value = obj.__dict__.get(column, _UNLOADED)
    return getattr(obj, column) if value is _UNLOADED else value


def evaluate(ctx: VerbContext, source: str) -> Any:
    return evaluate_on(ctx.store, ctx.entity, ctx.record, compile_expression(str(source)))


def evaluate_on(store: Store, entity: EntitySpec, obj: Record, compiled: CompiledExpression) -> Any:
    """`compiled.evaluate(record_values(store, entity, obj, compiled.names))`; when the value
    is known for the record's values of what it reads (`known`: one `when` runs on every record
    of a batch, mostly on the same few values), those values are read without building the
    expression's context."""
    columns = _known_columns(store, entity, compiled)
    if columns is not None:
        stored = obj.__dict__
        values = []
        for column in columns:
            value = None
            if column is not None:
                value = stored.get(column, _UNLOADED)
                if value is _UNLOADED:
                    value = getattr(obj, column)
            values.append(value)
        found = compiled.known(values)
        if found is not UNKNOWN:
            return found
    return compiled.evaluate(record_values(store, entity, obj, compiled.names))


def _known_columns(store: Store, entity: EntitySpec, compiled: CompiledExpression) -> tuple[str | None, ...] | None:
    """The column giving each name of `compiled.ordered_names` as `record_values` gives it
    (None: a name it does not give, e.g. a function's); None when a name is one that `known`
    never takes (the user, a collection). Worked out once per runtime."""
    key = ("known_columns", entity.name, compiled.names)
    if key not in store.rt.memo:
        collections = {c.name for c in entity.children}
        columns: list[str | None] = []
        for name in compiled.ordered_names:
            field = entity.fields.get(name)
            if field is not None:
                columns.append(None if field.type == "password" else field.column_name)
            elif name in SYSTEM_COLUMNS:
                columns.append(name)
            elif name == "user" or name in collections:
                store.rt.memo[key] = None
                break
            else:
                columns.append(None)
        else:
            store.rt.memo[key] = tuple(columns)
    return store.rt.memo[key]  # type: ignore[no-any-return]


def _field(ctx: VerbContext, name: str, entity: EntitySpec | None = None) -> FieldSpec:
    spec = entity or ctx.entity
    found = spec.fields.get(name)
    if found is None:  # the loader checks this; a hand-built spec may not have
        raise KeyError(f"unknown field '{name}' of '{spec.name}'")
    return found


def assign(obj: Any, column: str, value: Any) -> None:
    """Set an attribute only when it changes (a locked record's flush then sees no change).
    A record never written yet (`create_many` computes its totals before the INSERT) has no
    history to keep: its dictionary is what gets inserted, written straight."""
    current = getattr(obj, column)
    if current != value or (value is None) != (current is None):
        state = getattr(obj, "_sa_instance_state", None)
        if state is not None and state.key is None:  # transient or pending: never inserted
            obj.__dict__[column] = value
        else:
            setattr(obj, column, value)


# --- generic verbs ------------------------------------------------------------------------------


@verb("set")
def set_field(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    from app.engine.store import StoreError

    target = _field(ctx, args["field"])
    raw = evaluate(ctx, args["value"])
    try:
        value = parse_value(target, raw, ctx.store.spec)
    except FieldError as exc:
        raise StoreError(422, "invalid", f"{target.label.fr} : {exc.message}", field=target.name) from None
    assign(ctx.record, target.column_name, value)


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


@verb("assign_number")
def assign_number(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    """The definitive number, from the counter `<entity>.<field>:<series>:<pattern>:<period>`
    (period: the year, the month or `all`, after `reset`) locked for update in this transaction (the row without period keeps the series' last date).
    A record that has its number keeps it."""
    from app.engine.store import StoreError

    target = _field(ctx, args["field"])
    obj = ctx.record
    if getattr(obj, target.column_name, None):
        return
    date_name = args.get("date_field")
    if date_name:
        date_field = _field(ctx, date_name)
        day = _day(getattr(obj, date_field.column_name))
        if day is None:
            raise StoreError(
                422,
                "required",
                _m(
                    f"« {date_field.label.fr} » est obligatoire pour donner le numéro",
                    f"'{date_field.label.en}' is required to give the number",
                ),
                field=date_field.name,
            )
    else:
        date_field, day = None, clock_today()
    series_name = args.get("series")
    series = "-"
    if series_name:
        series_id = getattr(obj, _field(ctx, series_name).column_name)
        series = str(series_id) if series_id is not None else "-"
    # one series per pattern too: FA…, AV…, AC… numbers of one field count apart
    series_key = f"{ctx.entity.name}.{target.name}:{series}:{args['pattern']}"
    if date_field is not None:
        ctx.store.check_series_date(series_key, day, date_field, ctx.entity)
    reset = str(args.get("reset") or default_reset(args["pattern"]))
    number = ctx.store.next_counter(f"{series_key}:{reset_key(reset, day)}")
    setattr(obj, target.column_name, format_number(args["pattern"], day, number))


def as_label(value: Any) -> Label:
    if isinstance(value, Label):
        return value
    if isinstance(value, Mapping):
        fr, en = value.get("fr"), value.get("en")
        return Label(str(fr if fr is not None else en), str(en if en is not None else fr))
    return Label(str(value), str(value))


@verb("log")
def log_message(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    ctx.messages.append(as_label(args["message"]))


@verb("copy_to")
def copy_to(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    from app.engine.links import copy_record

    copy_record(ctx, args)
