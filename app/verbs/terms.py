"""Payment terms on records: `check_payment_terms` (a template's rows must total 100 %) and
`due_date_from_terms` (a document's due date from its terms), both computed by
app.domain.payment_terms.

    # schema/payment_terms.yaml
    compute:
      - check_payment_terms: {rows: rows}
    # workflows.yaml, invoice `validate`
    - due_date_from_terms: {field: due_date, terms: payment_terms, date: date, delivery_date: delivery_date}

A row is read from its fields `percent`, `base`, `days`, `end_of_month_mode`, `kind` and `mode`
(the shipped `payment_term_row`); a field the row entity lacks takes the domain's default.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Mapping

from app.domain.payment_terms import TermRow, schedule, validate_terms
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign
from app.spec.model import EntitySpec

_DEFAULTS: dict[str, Any] = {"base": "document_date", "days": 0, "end_of_month_mode": None, "kind": "balance", "mode": None}


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def term_rows(spec: EntitySpec, rows: list[Any]) -> list[TermRow]:
    """The domain rows of a template's child rows (in their stored order)."""
    result = []
    for row in rows:
        values = {}
        for name, default in (("percent", Decimal(0)), *_DEFAULTS.items()):
            field = spec.fields.get(name)
            value = getattr(row, field.column_name) if field is not None else None
            values[name] = default if value is None or value == "" else value
        values["days"] = int(values["days"])
        result.append(TermRow(**values))
    return result


def check_payment_terms(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, store = ctx.entity, ctx.store
    child = next(c for c in entity.children if c.name == args["rows"])
    rows = store.children(entity, ctx.record)[child.name]
    errors = validate_terms(term_rows(store.spec.entities[child.entity], rows))
    if errors:
        raise StoreError(
            422,
            "invalid_terms",
            _m(f"{child.label.fr} : {' ; '.join(errors)}", f"{child.label.en}: the instalments must be positive and total 100 %"),
            field=child.name,
        )


def terms_of(ctx: VerbContext, link_name: str) -> tuple[EntitySpec, list[TermRow]] | None:
    """The rows of the payment terms a document links to (None when it links to none)."""
    store, entity = ctx.store, ctx.entity
    link = entity.fields[link_name]
    target_id = getattr(ctx.record, link.column_name)
    if target_id is None:
        return None
    terms_spec = store.spec.entities[link.to or ""]
    terms = store.linked(store.rt.models.cls(terms_spec.name), target_id)
    if terms is None or not terms_spec.children:
        return None
    child = terms_spec.children[0]
    rows = store.children(terms_spec, terms)[child.name]
    return terms_spec, term_rows(store.spec.entities[child.entity], rows)


def due_date_from_terms(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj = ctx.entity, ctx.record
    target = entity.fields[args["field"]]
    if getattr(obj, target.column_name) is not None:
        return
    found = terms_of(ctx, args["terms"])
    if found is None:
        return
    terms_spec, rows = found
    date_field = entity.fields[args["date"]]
    day = getattr(obj, date_field.column_name)
    delivery_name = args.get("delivery_date")
    delivery = getattr(obj, entity.fields[delivery_name].column_name) if delivery_name else None
    if not isinstance(day, dt.date):
        return
    try:
        instalments = schedule(rows, document_date=day, delivery_date=delivery, total=Decimal("100.00"))
    except ValueError as exc:
        raise StoreError(
            422,
            "invalid_terms",
            _m(
                f"{entity.fields[args['terms']].label.fr} : {exc}",
                f"{entity.fields[args['terms']].label.en}: the due date cannot be computed ({terms_spec.label.en})",
            ),
            field=args["terms"],
        ) from None
    assign(obj, target.column_name, max(i.date for i in instalments))
