"""`check_within_credited`: a correcting record (credit note) never takes more than the record it
corrects.

    effects:   # of the validating transition, for credit notes only
      - check_within_credited:
          link: credited_invoice      # the corrected record
          amount: total_gross         # compared on both records
          counts: "status != 'cancelled'"   # which other locked credit notes count
          lines: lines                # optional, per line:
          line_link: credited_line    #   the line each line corrects (set by copy_to line_link)
          quantity: quantity          #   compared on both lines
          when: "kind == 'credit_note'"

The other records of this entity pointing to the same corrected record through `link`, in a
locked state and for which `counts` is true, are the ones already made. Refuses (422) when
their `amount` plus this record's exceeds the corrected record's, or when, for one corrected
line, the quantities of its correcting lines (those made plus this record's) exceed its own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import select

from app.domain.money import ZERO
from app.engine.models import Record
from app.engine.store import StoreError
from app.engine.verbs import VerbContext
from app.engine.workflow import record_name
from app.spec.model import EntitySpec
from app.verbs.deductions import expression_holds, is_locked


def _decimal(obj: Any, column: str) -> Decimal:
    value = getattr(obj, column)
    return ZERO if value is None else Decimal(value)


def _counted(ctx: VerbContext, args: Mapping[str, Any], column: str, credited_id: int) -> list[Record]:
    """The correcting records already made (locked, `counts` true), this one excepted."""
    cls = ctx.store.rt.models.cls(ctx.entity.name)
    query = select(cls).where(getattr(cls, column) == credited_id, cls.id != ctx.record.id)  # type: ignore[attr-defined]
    return [o for o in ctx.store.session.scalars(query) if is_locked(o) and expression_holds(ctx, args.get("counts"), o)]


def check_within_credited(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    link = entity.fields[args["link"]]
    credited_id = getattr(obj, link.column_name)
    if credited_id is None:
        return
    credited_spec = store.spec.entities[link.to or ""]
    credited = store.session.get(store.rt.models.cls(credited_spec.name), credited_id)
    if credited is None:
        return
    ours = entity.fields[args["amount"]]
    theirs = credited_spec.fields[args["amount"]]
    made = _counted(ctx, args, link.column_name, credited_id)
    already = sum((_decimal(o, ours.column_name) for o in made), ZERO)
    this, limit = _decimal(obj, ours.column_name), _decimal(credited, theirs.column_name)
    if already + this > limit:
        name = record_name(credited)
        raise StoreError(
            422,
            "credit_exceeds_credited",
            f"{ours.label.fr} : {this} en plus de {already} déjà crédités dépasse {limit}, montant de {name}"
            f" / {ours.label.en}: {this} on top of {already} already credited exceeds {limit}, the amount of {name}",
            field=ours.name,
        )
    if args.get("lines") and args.get("line_link") and args.get("quantity"):
        _check_lines(ctx, args, [obj, *made], credited_spec)


def _check_lines(ctx: VerbContext, args: Mapping[str, Any], records: list[Record], credited_spec: EntitySpec) -> None:
    """Per corrected line: the quantities of its correcting lines, this record's included."""
    store, entity = ctx.store, ctx.entity
    child = next(c for c in entity.children if c.name == args["lines"])
    row_spec = store.spec.entities[child.entity]
    line_link = row_spec.fields[args["line_link"]]
    quantity = row_spec.fields[args["quantity"]]
    target_spec = store.spec.entities[line_link.to or ""]
    target_quantity = target_spec.fields[args["quantity"]]
    taken: dict[int, Decimal] = {}
    ours: list[int] = []
    for index, record in enumerate(records):
        for row in store.children(entity, record)[child.name]:
            target_id = getattr(row, line_link.column_name)
            if target_id is None:
                continue
            taken[target_id] = taken.get(target_id, ZERO) + _decimal(row, quantity.column_name)
            if index == 0 and target_id not in ours:
                ours.append(target_id)
    for target_id in ours:
        line = store.session.get(store.rt.models.cls(target_spec.name), target_id)
        if line is None:
            continue
        limit = _decimal(line, target_quantity.column_name)
        if taken[target_id] > limit:
            title = str(line) or f"n° {line.id}"
            raise StoreError(
                422,
                "credit_exceeds_credited",
                f"{quantity.label.fr} : {taken[target_id].normalize():f} créditée(s) au total sur la ligne « {title} »"
                f" de {credited_spec.label.fr.lower()}, qui n'en compte que {limit.normalize():f}"
                f" / {quantity.label.en}: {taken[target_id].normalize():f} credited in all on line '{title}',"
                f" which has only {limit.normalize():f}",
                field=f"{child.name}.{quantity.name}",
            )
