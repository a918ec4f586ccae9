"""`refresh_lines` ("Synchroniser"): a draft's lines take again their catalogue item's current
values, then the document's computes (totals) run again.

    synchronise:
      from: [draft]
      effects:
        - refresh_lines:
            lines: lines
            link: product
            fields: {unit_price: sale_price, vat_rate: vat_rate, cost_price: cost_price}

A line without the link (free text, comment) is left alone; a catalogue value that is empty
leaves the line's value as it is. Values are checked against the line's own field (length,
bounds) as a user's input would be.
"""

from __future__ import annotations

from typing import Any, Mapping

from app.engine.fieldtypes import FieldError, parse_value
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign


def refresh_lines(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    store, entity = ctx.store, ctx.entity
    child = next(c for c in entity.children if c.name == args["lines"])
    line_spec = store.spec.entities[child.entity]
    link = line_spec.fields[args["link"]]
    item_cls = store.rt.models.cls(link.to or "")
    item_spec = store.spec.entities[link.to or ""]
    for index, row in enumerate(store.children(entity, ctx.record)[child.name]):
        item_id = getattr(row, link.column_name)
        item = store.session.get(item_cls, item_id) if item_id is not None else None
        if item is None:
            continue
        for ours_name, theirs_name in (args.get("fields") or {}).items():
            ours, theirs = line_spec.fields[ours_name], item_spec.fields[theirs_name]
            value = getattr(item, theirs.column_name)
            if value is None or value == "":
                continue
            try:
                value = parse_value(ours, value, store.spec)
            except FieldError as exc:
                raise StoreError(
                    422, "invalid", f"{ours.label.fr} (ligne {index + 1}, repris du catalogue) : {exc.message}",
                    field=f"{child.name}[{index}].{ours.name}",
                ) from None
            assign(row, ours.column_name, value)
    store.flush(entity)
    store.recompute(entity, ctx.record)
