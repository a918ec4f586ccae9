"""`fill_from`: fill a record's empty fields from the record one of its links points to.

    compute:
      - fill_from:
          link: account
          fields: {billing_address: address, billing_city: city, their_vat_number: vat_number}

On every save, each field named on the left that is empty receives the linked record's field
named on the right (when that one has a value); a field that has a value is left alone, so a
value typed by the user, or copied by a conversion, stays. A locked record (workflow state not
editable) is not filled, but for its `mutable` fields. The loader checked the names and that
the types agree (links to the same entity; a text field may take a string).
"""

from __future__ import annotations

from typing import Any, Mapping

from app.engine.fieldtypes import FieldError, parse_value
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign, column_value
from app.engine.workflow import machine_of


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def fill_from(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    link = entity.fields[args["link"]]
    target_id = getattr(obj, link.column_name)
    if target_id is None:
        return
    linked_spec = store.spec.entities[link.to or ""]
    linked = store.linked(store.rt.models.cls(linked_spec.name), target_id)
    if linked is None:
        return
    machine = machine_of(obj)
    locked = machine is not None and machine.locked(getattr(obj, machine.status_column))
    for ours_name, theirs_name in (args.get("fields") or {}).items():
        ours, theirs = entity.fields[ours_name], linked_spec.fields[theirs_name]
        if not _empty(column_value(obj, ours.column_name)):
            continue
        if locked and machine is not None and ours.column_name not in machine.mutable_columns:
            continue
        value = column_value(linked, theirs.column_name)
        if _empty(value):
            continue
        try:
            value = parse_value(ours, value, store.spec)  # our own length and bounds
        except FieldError as exc:
            raise StoreError(
                422,
                "invalid",
                f"{ours.label.fr} (repris de {link.label.fr.lower()} « {linked} ») : {exc.message}",
                field=ours.name,
            ) from None
        assign(obj, ours.column_name, value)
