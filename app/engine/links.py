"""Documents made from one another (conversions), and the links kept between them both ways.

`copy_record` is the `copy_to` verb: it creates the new record through the Store (so defaults,
numbering, required fields and computes apply), copying the fields of the same name and type,
the `fields` expressions and the child rows of the `children` mapping, sets its link back to
the source, and records two rows in `comptoir_link`: source → new ("child") and new → source
("parent"). Both documents then list each other (API `links`, admin panel).

Line options, for line-by-line tracking: `line_link` names the field of each new line pointing
to its source line; `line_fields` gives expressions on the source line (e.g. the quantity
left to deliver); `lines_when` skips the source lines for which it is false — and when it
skips them all the conversion is refused (nothing left to deliver or invoice); `keep_lines`
names the lines copied whatever is left (comment lines), which alone do not make a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from sqlalchemy import delete, insert, or_, select

from app.engine.fieldtypes import FieldError, parse_value
from app.spec.model import AppSpec, EntitySpec, FieldSpec

if TYPE_CHECKING:
    from app.engine.store import Store
    from app.engine.verbs import VerbContext

CHILD = "child"  # the linked record was made from this one
PARENT = "parent"  # this record was made from the linked one


@dataclass(frozen=True)
class Link:
    entity: str
    id: int
    kind: str
    transition: str | None


def add_link(store: Store, source: tuple[str, int], target: tuple[str, int], transition: str | None) -> None:
    table = store.rt.models.links
    rows = [
        {"source_entity": source[0], "source_id": source[1], "target_entity": target[0], "target_id": target[1], "kind": CHILD},
        {"source_entity": target[0], "source_id": target[1], "target_entity": source[0], "target_id": source[1], "kind": PARENT},
    ]
    store.session.execute(insert(table), [{**r, "transition": transition} for r in rows])


def links_of(store: Store, entity: str, ids: Iterable[int]) -> dict[int, list[Link]]:
    """The links of several records of one entity, in creation order."""
    wanted = list(dict.fromkeys(ids))
    result: dict[int, list[Link]] = {i: [] for i in wanted}
    if not wanted:
        return result
    table = store.rt.models.links
    query = (
        select(table.c.source_id, table.c.target_entity, table.c.target_id, table.c.kind, table.c.transition)
        .where(table.c.source_entity == entity, table.c.source_id.in_(wanted))
        .order_by(table.c.id)
    )
    for source_id, target_entity, target_id, kind, transition in store.session.execute(query):
        result[source_id].append(Link(target_entity, target_id, kind, transition))
    return result


def remove_links(store: Store, entity: str, record_id: int) -> None:
    """Forget a deleted record's links, both ways."""
    table = store.rt.models.links
    store.session.execute(
        delete(table).where(
            or_(
                (table.c.source_entity == entity) & (table.c.source_id == record_id),
                (table.c.target_entity == entity) & (table.c.target_id == record_id),
            )
        )
    )


def linkable(spec: AppSpec) -> set[str]:
    """Entities whose records may have links: those with a workflow and the targets of copy_to."""
    names = set(spec.workflows)
    for workflow in spec.workflows.values():
        for transition in workflow.transitions.values():
            names.update(str(e.args.get("entity")) for e in transition.effects if e.verb == "copy_to")
    return {n for n in names if n in spec.entities}


def describe(store: Store, links: Mapping[int, list[Link]]) -> dict[int, list[dict[str, Any]]]:
    """Links of several records as the API gives them, with each target's title when this user
    may read it (one query per linked entity)."""
    titles: dict[tuple[str, int], str] = {}
    by_entity: dict[str, set[int]] = {}
    for link in (link for found in links.values() for link in found):
        by_entity.setdefault(link.entity, set()).add(link.id)
    for name, ids in by_entity.items():
        if name not in store.spec.entities or not store.principal.can(store.spec, name, "read"):
            continue
        cls = store.rt.models.cls(name)
        for obj in store.session.scalars(select(cls).where(cls.id.in_(ids))):  # type: ignore[attr-defined]
            titles[(name, obj.id)] = str(obj)
    return {
        record_id: [
            {
                "entity": link.entity,
                "id": link.id,
                "kind": link.kind,
                "transition": link.transition,
                "title": titles.get((link.entity, link.id)),
            }
            for link in found
        ]
        for record_id, found in links.items()
    }


# --- copy_to -------------------------------------------------------------------------------------


def _number_fields(spec: AppSpec, entity: EntitySpec) -> set[str]:
    """Fields given by numbering or by an assign_number effect: never copied."""
    names = {n.field for n in entity.numbering}
    workflow = spec.workflows.get(entity.name)
    if workflow is not None:
        for transition in workflow.transitions.values():
            names.update(str(e.args.get("field")) for e in transition.effects if e.verb == "assign_number")
    return names


def _copyable(ours: FieldSpec, theirs: FieldSpec, spec: AppSpec, value: Any) -> bool:
    if theirs.readonly or theirs.type in ("status", "password") or ours.type in ("status", "password"):
        return False
    if ours.type != theirs.type or ours.to != theirs.to:
        return False
    if theirs.type in ("choice", "multichoice") and ours.picklist != theirs.picklist:
        codes = spec.picklists[theirs.picklist or ""].codes() if theirs.picklist in spec.picklists else []
        values = value if isinstance(value, list) else [value]
        return all(v in codes for v in values if v is not None)
    return True


def _same_named(
    spec: AppSpec, source: EntitySpec, target: EntitySpec, obj: Any, skip: set[str]
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, theirs in target.fields.items():
        ours = source.fields.get(name)
        if ours is None or name in skip:
            continue
        value = getattr(obj, ours.column_name)
        if value is not None and _copyable(ours, theirs, spec, value):
            data[name] = value
    return data


def _line_values(ctx: VerbContext, line: EntitySpec, row: Any, source_text: str) -> Any:
    """An expression of `line_fields` / `lines_when` evaluated on one source line."""
    from app.engine.verbs import evaluate_on
    from app.spec.expressions import compile_expression

    compiled = compile_expression(str(source_text))
    return evaluate_on(ctx.store, line, row, compiled)


def _line_forced(ctx: VerbContext, args: Mapping[str, Any], line: EntitySpec, theirs: EntitySpec, row: Any) -> dict[str, Any]:
    """System values of one copied line: its link to the source line (`line_link`) and the
    `line_fields` expressions (read-only fields such as a previous progress are allowed)."""
    from app.engine.store import StoreError

    forced: dict[str, Any] = {}
    if args.get("line_link"):
        forced[args["line_link"]] = row.id
    for name, source_text in (args.get("line_fields") or {}).items():
        field = theirs.fields[name]
        try:
            forced[name] = parse_value(field, _line_values(ctx, line, row, source_text), ctx.store.spec)
        except FieldError as exc:
            raise StoreError(422, "invalid", f"{field.label.fr} : {exc.message}", field=name) from None
    return forced


def copy_record(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    from app.engine.store import StoreError
    from app.engine.verbs import evaluate

    store, spec, source = ctx.store, ctx.store.spec, ctx.entity
    target = spec.entities[args["entity"]]
    link_name = args["link"]
    skip = _number_fields(spec, target) | _number_fields(spec, source) | {link_name}
    data = _same_named(spec, source, target, ctx.record, skip)
    forced: dict[str, Any] = {link_name: ctx.record.id}
    for name, source_text in (args.get("fields") or {}).items():
        field = target.fields[name]
        try:
            forced[name] = parse_value(field, evaluate(ctx, source_text), spec)
        except FieldError as exc:
            raise StoreError(422, "invalid", f"{field.label.fr} : {exc.message}", field=name) from None
        data.pop(name, None)
    rows = store.children(source, ctx.record)
    forced_rows: dict[str, list[Mapping[str, Any]]] = {}
    lines_when, keep_lines = args.get("lines_when"), args.get("keep_lines")
    counted = 0  # lines copied for what is left on them (not kept along as `keep_lines`)
    for theirs, ours in (args.get("children") or {}).items():
        their_child = next(c for c in target.children if c.name == theirs)
        our_child = next(c for c in source.children if c.name == ours)
        their_spec, our_spec = spec.entities[their_child.entity], spec.entities[our_child.entity]
        child_skip = {their_child.via} | _number_fields(spec, their_spec)
        data[theirs], forced_rows[theirs] = [], []
        for row in _selected(ctx, ours, our_spec, rows[ours], ctx.params.get(ours)):
            kept = bool(keep_lines) and bool(_line_values(ctx, our_spec, row, keep_lines))
            if not kept and lines_when and not _line_values(ctx, our_spec, row, lines_when):
                continue  # e.g. nothing left to deliver on this line
            counted += not kept
            line_forced = _line_forced(ctx, args, our_spec, their_spec, row)
            copied = _same_named(spec, our_spec, their_spec, row, child_skip | set(line_forced))
            data[theirs].append(copied)
            forced_rows[theirs].append(line_forced)
    if lines_when and not counted:
        raise StoreError(
            422,
            "nothing_left",
            f"{source.label.fr} {ctx.record} : aucune ligne à reprendre (tout est déjà fait) / "
            f"{source.label.en} {ctx.record}: no line left to copy (everything is done already)",
        )
    created = store.create(target.name, data, system_values=forced, child_system_values=forced_rows)
    add_link(store, (source.name, ctx.record.id), (target.name, created.id), ctx.transition.name if ctx.transition else None)
    ctx.created.append((target.name, created.id))


def _selected(ctx: VerbContext, collection: str, row_spec: EntitySpec, rows: list[Any], wanted: Any) -> list[Any]:
    """The source rows to copy: all of them, or those whose ids the caller selected (params)."""
    if wanted is None:
        return rows
    from app.engine.store import StoreError
    from app.engine.workflow import record_name

    by_id = {row.id: row for row in rows}
    unknown = ", ".join(str(i) for i in wanted if i not in by_id)
    if unknown:
        name = record_name(ctx.record)
        raise StoreError(
            422,
            "unknown_row",
            f"{row_spec.label.fr} n° {unknown} : pas dans « {collection} » de {name}"
            f" / {row_spec.label.en} {unknown} is not in '{collection}' of {name}",
            field=collection,
        )
    return [by_id[i] for i in wanted]

