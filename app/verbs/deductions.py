"""`deduct_prepaid`: deduct the records already billed in advance (deposit invoices) from the
record that bills the rest (the final invoice).

    compute:
      - deduct_prepaid:
          rows: deductions            # one child row per deducted record
          link: deposit_invoice       # row field pointing to the deducted record
          amount: amount              # row field: the amount deducted (incl. VAT)
          label: label                # row field: « Acompte AC2611-0001 »
          text: {fr: Acompte, en: Deposit}   # its first word (default: the entity's label)
          value: total_gross          # field of the deducted record giving that amount
          total: deposits_deducted    # field of this record: the sum
          match: [order, quote]       # a candidate shares one of these links with this record
          deduct: "kind == 'deposit' and status != 'cancelled'"
          applies: "kind == 'standard' and status != 'cancelled'"

Candidates are the other records of the same entity sharing a `match` link, in a locked state
(a draft deposit may still change, so it is never deducted) and for which `deduct` is true, and
not already held by another record: one that has a row pointing to the candidate, is locked and
for which `applies` is still true (a cancelled final invoice releases its deposits).

As a compute (every save) it rewrites the rows of an editable record, in candidate order, and
the total; a locked record is left alone, its deductions are part of what was validated. It
must come before `document_totals`, which subtracts the total as prepaid (EN 16931 BT-113: the
VAT of the final invoice stays on its full net, the deposit's VAT was declared on the deposit).
As an effect (in the validating transition) it writes nothing and refuses (422) when the rows
are no longer right: a deposit validated, or deducted by another invoice, since the last save.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import or_, select

from app.domain.money import ZERO
from app.engine.models import Record
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign, evaluate_on
from app.engine.workflow import machine_of, record_name
from app.spec.expressions import compile_expression
from app.spec.model import EntitySpec, Label


def is_locked(obj: Record) -> bool:
    machine = machine_of(obj)
    return machine is not None and machine.locked(getattr(obj, machine.status_column))


def expression_holds(ctx: VerbContext, source: str | None, obj: Record) -> bool:
    if not source:
        return True
    compiled = compile_expression(str(source))
    return bool(evaluate_on(ctx.store, ctx.entity, obj, compiled))


def _candidates(ctx: VerbContext, args: Mapping[str, Any], row_spec: EntitySpec, via: str) -> list[Record]:
    """The records to deduct now, oldest first."""
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    cls = store.rt.models.cls(entity.name)
    shared = []
    for name in args["match"]:
        column = entity.fields[name].column_name
        value = getattr(obj, column)
        if value is not None:
            shared.append(getattr(cls, column) == value)
    if not shared:
        return []
    query = select(cls).where(or_(*shared), cls.id != obj.id).order_by(cls.id)  # type: ignore[attr-defined]
    found = [c for c in store.session.scalars(query) if is_locked(c) and expression_holds(ctx, args["deduct"], c)]
    if not found:
        return []
    row_cls = store.rt.models.cls(row_spec.name)
    link_column = row_spec.fields[args["link"]].column_name
    via_column = row_spec.fields[via].column_name
    held_rows = select(row_cls).where(
        getattr(row_cls, link_column).in_([c.id for c in found]), getattr(row_cls, via_column) != obj.id
    )
    held: set[int] = set()
    for row in store.session.scalars(held_rows):
        holder = store.session.get(cls, getattr(row, via_column))
        if holder is not None and is_locked(holder) and expression_holds(ctx, args.get("applies"), holder):
            held.add(getattr(row, link_column))
    return [c for c in found if c.id not in held]


def deduct_prepaid(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    effect = ctx.transition is not None
    if not effect and is_locked(obj):
        return
    child = next(c for c in entity.children if c.name == args["rows"])
    row_spec = store.spec.entities[child.entity]
    link, amount = row_spec.fields[args["link"]], row_spec.fields[args["amount"]]
    if link.to != entity.name:  # the loader checks the type, not the target
        raise KeyError(f"deduct_prepaid: '{row_spec.name}.{link.name}' must link to '{entity.name}'")
    label = row_spec.fields.get(str(args.get("label") or ""))
    value_column = entity.fields[args["value"]].column_name
    total = entity.fields[args["total"]]
    wanted = _candidates(ctx, args, row_spec, child.via) if expression_holds(ctx, args.get("applies"), obj) else []
    desired = {c.id: Decimal(getattr(c, value_column) or ZERO) for c in wanted}
    rows = store.children(entity, obj)[child.name]
    if effect:
        current = {getattr(r, link.column_name): getattr(r, amount.column_name) for r in rows}
        if current != desired or len(rows) != len(desired):
            raise StoreError(
                422,
                "deductions_changed",
                f"Les acomptes à déduire de {record_name(obj)} ont changé depuis son dernier enregistrement : "
                f"enregistrez-la à nouveau pour les mettre à jour / the deposits to deduct changed since the "
                f"last save: save it again to update them",
                field=child.name,
            )
        return
    by_target = {getattr(r, link.column_name): r for r in rows}
    changed = bool(wanted)  # rows written: flushed here (their database errors named as theirs)
    for row in rows:
        if getattr(row, link.column_name) not in desired:
            store.session.delete(row)
            changed = True
    for candidate in wanted:
        row = by_target.get(candidate.id)
        if row is None:
            row = store.rt.models.cls(row_spec.name)()
            setattr(row, row_spec.fields[child.via].column_name, obj.id)
            setattr(row, link.column_name, candidate.id)
            row.created_by = row.updated_by = store.principal.login  # type: ignore[attr-defined]
            store.session.add(row)
        assign(row, amount.column_name, desired[candidate.id])
        if label is not None:
            # document data printed on a French invoice: French text and the record's title
            text = args.get("text")
            prefix = text.fr if isinstance(text, Label) and text.fr else entity.label.fr
            assign(row, label.column_name, f"{prefix} {candidate}"[: label.length or None])
    assign(obj, total.column_name, sum(desired.values(), ZERO))
    if changed:
        store.flush(row_spec)  # else the record's own change is flushed with the other computes
