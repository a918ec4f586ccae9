"""Line-by-line tracking: a document's lines carried over to the lines they were copied from.

    # workflows.yaml, delivery `validate`
    - track_lines:
        lines: lines                       # our lines
        source: order_line                 # our line's link to its source line
        add: {qty_delivered: quantity}     # source field += expression on our line
        at_most: {qty_delivered: quantity} # source field <= expression on the source line
        complete: "kind == 'comment' or (qty_delivered >= quantity and qty_invoiced >= quantity)"
        then: close                        # run on the source document once all its lines are complete

`subtract` undoes an `add` (a cancelled delivery note gives its quantities back); `raise_to`
sets a cumulative value that never decreases (the progress billed by situation invoices).
A value above its `at_most` limit, or a `raise_to` below the current value, is refused (422,
naming the line, its document and both figures); everything is then rolled back. The source
lines are read under a row lock, so concurrent validations add up instead of overwriting.
After the changes the source documents' computes run again (their computed line fields follow),
then `then` runs as a consequence (app.engine.workflow.run_consequence) on each source document
whose lines all satisfy `complete`, when its state and condition allow it.

`line_values` is the compute keeping such figures visible: `{lines: lines, fields:
{qty_remaining: "quantity - qty_delivered"}}` writes each line's field from an expression on it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import select

from app.engine.fieldtypes import FieldError, parse_value
from app.engine.models import Record
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign, evaluate_on
from app.engine.workflow import condition_holds, machine_of, record_name, run_consequence
from app.spec.expressions import compile_expression
from app.spec.model import ChildSpec, EntitySpec, FieldSpec, Label

_OPS = ("add", "subtract", "raise_to")


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _on(ctx: VerbContext, entity: EntitySpec, obj: Record, source: str) -> Any:
    compiled = compile_expression(str(source))
    return evaluate_on(ctx.store, entity, obj, compiled)


def _number(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _show(value: Decimal) -> str:
    """12.0000 → 12, 2.5000 → 2.5 (never an exponent)."""
    return f"{value.normalize():f}"


def _document_of(ctx: VerbContext, line: EntitySpec) -> tuple[EntitySpec, ChildSpec] | None:
    for entity in ctx.store.spec.entities.values():
        for child in entity.children:
            if child.entity == line.name:
                return entity, child
    return None


def _describe(ctx: VerbContext, line: EntitySpec, obj: Record) -> tuple[str, str]:
    """« ligne « Pose » de commande client CO2611-0001 » in French and English."""
    found = _document_of(ctx, line)
    title = str(getattr(obj, line.fields[line.title].column_name, "") or "") if line.title in line.fields else ""
    title = title or f"n° {obj.id}"
    if found is None:
        return f"ligne « {title} »", f"line '{title}'"
    document, child = found
    parent = ctx.store.session.get(ctx.store.rt.models.cls(document.name), getattr(obj, line.fields[child.via].column_name))
    name_fr = record_name(parent) if parent is not None else document.label.fr.lower()
    name_en = f"{document.label.en.lower()} {parent}" if parent is not None else document.label.en.lower()
    return f"ligne « {title} » de {name_fr}", f"line '{title}' of {name_en}"


def _locked_source(ctx: VerbContext, cls: type, source_id: int) -> Record | None:
    """The source line read again under a row lock (pending changes are flushed first)."""
    query = select(cls).where(cls.id == source_id).with_for_update().execution_options(populate_existing=True)  # type: ignore[attr-defined]
    found = ctx.store.session.scalars(query).one_or_none()
    return found if isinstance(found, Record) else None


def _refuse_limit(ctx: VerbContext, line: EntitySpec, obj: Record, field: FieldSpec, value: Decimal, limit: Decimal) -> StoreError:
    where_fr, where_en = _describe(ctx, line, obj)
    return StoreError(
        422,
        "limit_exceeded",
        _m(
            f"{where_fr} : « {field.label.fr} » passerait à {_show(value)}, au-delà de {_show(limit)}",
            f"{where_en}: '{field.label.en}' would become {_show(value)}, more than {_show(limit)}",
        ),
        field=field.name,
    )


def _refuse_decrease(ctx: VerbContext, line: EntitySpec, obj: Record, field: FieldSpec, current: Decimal, value: Decimal) -> StoreError:
    where_fr, where_en = _describe(ctx, line, obj)
    return StoreError(
        422,
        "decreasing",
        _m(
            f"{where_fr} : « {field.label.fr} » ne peut pas diminuer ({_show(current)} déjà, {_show(value)} demandé)",
            f"{where_en}: '{field.label.en}' cannot decrease ({_show(current)} already, {_show(value)} asked)",
        ),
        field=field.name,
    )


def _apply(ctx: VerbContext, args: Mapping[str, Any], ours: EntitySpec, row: Record, theirs: EntitySpec, source: Record) -> None:
    for op in _OPS:
        for name, text in (args.get(op) or {}).items():
            field = theirs.fields[name]
            current = _number(getattr(source, field.column_name))
            amount = _number(_on(ctx, ours, row, text))
            if op == "add":
                value = current + amount
            elif op == "subtract":
                value = current - amount
            else:
                if amount < current:
                    raise _refuse_decrease(ctx, theirs, source, field, current, amount)
                value = amount
            assign(source, field.column_name, value)


def _check_limits(ctx: VerbContext, args: Mapping[str, Any], theirs: EntitySpec, source: Record) -> None:
    for name, text in (args.get("at_most") or {}).items():
        field = theirs.fields[name]
        value, limit = _number(getattr(source, field.column_name)), _number(_on(ctx, theirs, source, text))
        if value > limit:
            raise _refuse_limit(ctx, theirs, source, field, value, limit)
        try:
            assign(source, field.column_name, parse_value(field, value, ctx.store.spec))  # scale and bounds
        except FieldError as exc:
            where_fr, where_en = _describe(ctx, theirs, source)
            raise StoreError(422, "invalid", f"{where_fr} : {field.label.fr} : {exc.message} / {where_en}", field=name) from None


def track_lines(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    store, spec = ctx.store, ctx.store.spec
    child = next(c for c in ctx.entity.children if c.name == args["lines"])
    ours = spec.entities[child.entity]
    link = ours.fields[args["source"]]
    theirs = spec.entities[link.to or ""]
    cls = store.rt.models.cls(theirs.name)
    touched: dict[int, Record] = {}
    was_complete: dict[int, bool] = {}  # before this change, for `reopen`
    for row in store.children(ctx.entity, ctx.record)[child.name]:
        source_id = getattr(row, link.column_name)
        if source_id is None:
            continue  # a line added by hand: nothing to carry over
        source = touched.get(source_id) or _locked_source(ctx, cls, source_id)
        if source is None:
            continue  # the source line was deleted (its document back to draft and edited)
        if source_id not in touched and args.get("complete"):
            was_complete[source_id] = bool(_on(ctx, theirs, source, args["complete"]))
        touched[source_id] = source
        _apply(ctx, args, ours, row, theirs, source)
    if not touched:
        return  # no line comes from a source line (an invoice typed by hand)
    for source in touched.values():
        _check_limits(ctx, args, theirs, source)
        source.updated_by = store.principal.login  # type: ignore[attr-defined]
    store.flush(theirs)
    _follow_documents(ctx, args, theirs, touched.values(), was_complete)


def _follow_documents(
    ctx: VerbContext, args: Mapping[str, Any], theirs: EntitySpec, sources: Any, was_complete: Mapping[int, bool]
) -> None:
    """Recompute the source documents, then run `then` on those whose lines are all complete,
    or `reopen` on those whose lines were all complete before and no longer are."""
    found = _document_of(ctx, theirs)
    if found is None:
        return
    document, child = found
    store = ctx.store
    via = theirs.fields[child.via].column_name
    parent_ids = list(dict.fromkeys(getattr(s, via) for s in sources))
    document_cls = store.rt.models.cls(document.name)
    for parent_id in parent_ids:
        parent = store.session.get(document_cls, parent_id)
        if parent is None:
            continue
        store.recompute(document, parent)  # its computed line fields (e.g. quantity left) follow
        complete = args.get("complete")
        if not complete or not (args.get("then") or args.get("reopen")):
            continue
        rows = store.children(document, parent)[child.name]
        now = all(_on(ctx, theirs, r, complete) for r in rows)
        before = all(was_complete[r.id] if r.id in was_complete else _on(ctx, theirs, r, complete) for r in rows)
        if now and args.get("then"):
            _consequence(ctx, document, parent, args["then"])
        elif before and not now and args.get("reopen"):
            _consequence(ctx, document, parent, args["reopen"])  # e.g. a credit note: there is something to invoice again


def _consequence(ctx: VerbContext, document: EntitySpec, parent: Record, name: str) -> None:
    """Run the transition `name` of the source document when its state and condition allow it."""
    store = ctx.store
    machine = machine_of(parent)
    transition = machine.spec.transitions.get(name) if machine is not None else None
    if machine is None or transition is None:
        return
    state = getattr(parent, machine.status_column)
    if "*" not in transition.sources and state not in transition.sources:
        return  # already closed, cancelled…
    if condition_holds(store, machine, transition, parent):
        result = run_consequence(store, document.name, parent.id, name)
        ctx.messages.append(Label(
            f"{record_name(result.record).capitalize()} : {transition.label.fr}",
            f"{document.label.en} {result.record}: {transition.label.en}",
        ))


def line_values(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    """Compute: each line's fields from expressions on the line (e.g. the quantity left)."""
    store = ctx.store
    child = next(c for c in ctx.entity.children if c.name == args["lines"])
    line = store.spec.entities[child.entity]
    for row in store.children(ctx.entity, ctx.record)[child.name]:
        for name, text in (args.get("fields") or {}).items():
            field = line.fields[name]
            try:
                value = parse_value(field, _on(ctx, line, row, text), store.spec)
            except FieldError as exc:
                raise StoreError(422, "invalid", f"{field.label.fr} : {exc.message}", field=f"{child.name}.{name}") from None
            assign(row, field.column_name, value)
