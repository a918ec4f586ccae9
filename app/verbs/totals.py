"""`document_totals`: a document's amounts from its lines, computed by app.domain.totals.

    compute:
      - document_totals: {lines: lines}

Reads, when the entity has them, on each line: `quantity` (× `unit_factor`), `unit_price`,
`discount_percent`, `vat_rate`, `npr`, `kind` (`comment` lines count for nothing), the other
tax (`other_tax_percent` or `other_tax_unit_amount`, `other_tax_vat_rate`, `other_tax_label`)
and progress (`previous_progress_percent` → `progress_percent`); on the document:
`shipping_cost` / `shipping_vat_rate`, the global discount (`discount_mode`: percent,
amount_net, amount_gross; `discount_value`) and `deposits_deducted` (prepaid).
Writes each line's `total_net` and the document's `total_net`, `total_vat`, `total_gross`,
`amount_due` — only the fields that exist; `fields` maps other total names to fields.

`percent: deposit_percent` names a percent field of the document: when it has a value p, each
line bills 0 → p % of its amount (a deposit invoice), rounded per line as progress is, so the
totals are exact to the cent. Shipping and an amount discount are not scaled.
`amount: deposit_amount` names a money field: when it has a value, the lines bill together
exactly that net amount, each its share in proportion to its net (largest remainder), so the
VAT follows each line's rate; a document with both a percent and an amount is refused.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any, Mapping

from app.domain.money import HUNDRED, ZERO
from app.domain.totals import Charge, DocumentTotals, GlobalDiscount, Line, OtherTax, compute_totals, fixed_share_lines
from app.engine.store import StoreError
from app.engine.verbs import VerbContext, assign
from app.spec.model import EntitySpec

TOTALS: tuple[str, ...] = ("total_net", "total_vat", "total_gross", "amount_due")
SHIPPING = "Frais de port"


def _get(spec: EntitySpec, obj: Any, name: str, default: Any = None) -> Any:
    return _value(obj, obj.__dict__, spec.columns, name, default)


def _decimal(spec: EntitySpec, obj: Any, name: str, default: Decimal) -> Decimal:
    value = _get(spec, obj, name, default)
    return value if isinstance(value, Decimal) else Decimal(value)


_UNLOADED = object()
ONE = Decimal(1)


def _value(row: Any, stored: Mapping[str, Any], columns: Mapping[str, str], name: str, default: Any = None) -> Any:
    """`_get` with the row's dictionary and its entity's columns at hand (one call a value:
    this runs for every value of every line of every document computed)."""
    column = columns.get(name)
    if column is None:
        return default
    value = stored.get(column, _UNLOADED)
    if value is _UNLOADED:  # not loaded: the attribute loads it
        value = getattr(row, column)
    return default if value is None else value


def _number(value: Any) -> Decimal:
    return value if type(value) is Decimal else Decimal(value)


def line_of(spec: EntitySpec, row: Any) -> Line:
    columns, stored = spec.columns, row.__dict__
    vat_rate = _number(_value(row, stored, columns, "vat_rate", ZERO))
    taxes: tuple[OtherTax, ...] = ()
    percent = _value(row, stored, columns, "other_tax_percent")
    unit_amount = _value(row, stored, columns, "other_tax_unit_amount")
    if percent or unit_amount:
        taxes = (
            OtherTax(
                vat_rate=_number(_value(row, stored, columns, "other_tax_vat_rate", vat_rate)),
                percent=Decimal(percent) if percent else None,
                unit_amount=Decimal(unit_amount) if unit_amount else None,  # both: refused
                label=str(_value(row, stored, columns, "other_tax_label", "")),
            ),
        )
    progress_from, progress_to = ZERO, HUNDRED
    if "progress_percent" in columns:
        progress_from = _number(_value(row, stored, columns, "previous_progress_percent", ZERO))
        progress_to = _number(_value(row, stored, columns, "progress_percent", HUNDRED))
    return Line(
        _number(_value(row, stored, columns, "quantity", ZERO)) * _number(_value(row, stored, columns, "unit_factor", ONE)),
        _number(_value(row, stored, columns, "unit_price", ZERO)),
        vat_rate,
        _number(_value(row, stored, columns, "discount_percent", ZERO)),
        bool(_value(row, stored, columns, "npr", False)),
        "comment" if _value(row, stored, columns, "kind") == "comment" else "item",
        taxes,
        progress_from,
        progress_to,
    )


def _discount(spec: EntitySpec, obj: Any) -> GlobalDiscount | None:
    value = _get(spec, obj, "discount_value")
    if not value:
        return None
    mode = _get(spec, obj, "discount_mode", "percent")
    if mode == "percent":
        return GlobalDiscount(percent=Decimal(value))
    return GlobalDiscount(amount=Decimal(value), basis="gross" if mode == "amount_gross" else "net")


def billed_share(line: Line, percent: Decimal | None) -> Line:
    """The line billing 0 → `percent` % of its amount (a deposit), or the line as it is."""
    if percent is None or line.kind == "comment":
        return line
    return replace(line, progress_from=ZERO, progress_to=percent)


def document_totals_of(
    entity: EntitySpec,
    line_spec: EntitySpec,
    obj: Any,
    rows: list[Any],
    percent_field: str | None = None,
    amount_field: str | None = None,
    lines: list[Line] | None = None,
) -> DocumentTotals:
    """The totals of a document and its rows (`lines`: the rows as Line, when already built)."""
    percent = _get(entity, obj, percent_field) if percent_field else None
    fixed = _get(entity, obj, amount_field) if amount_field else None
    share = None if percent is None else Decimal(percent)
    charges = []
    shipping = _get(entity, obj, "shipping_cost")
    if shipping:
        charges.append(Charge(Decimal(shipping), _decimal(entity, obj, "shipping_vat_rate", ZERO), SHIPPING))
    if lines is None:
        lines = [line_of(line_spec, row) for row in rows]
    if fixed is not None:
        if share is not None:
            raise ValueError(
                f"« {entity.fields[percent_field or ''].label.fr} » et « {entity.fields[amount_field or ''].label.fr} » "
                "sont tous deux remplis : l'acompte est un pourcentage ou un montant, videz l'un des deux"
            )
        lines = fixed_share_lines(lines, Decimal(fixed))
    return compute_totals(
        [billed_share(line, share) for line in lines],
        charges=charges,
        discount=_discount(entity, obj),
        prepaid=_decimal(entity, obj, "deposits_deducted", ZERO),
    )


def document_totals(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    entity, obj, store = ctx.entity, ctx.record, ctx.store
    child = next(c for c in entity.children if c.name == args["lines"])
    line_spec = store.spec.entities[child.entity]
    rows: list[Any] = store.children(entity, obj)[child.name]
    lines: list[Line] = []
    for index, row in enumerate(rows):  # a wrong line is named (e.g. a progress that decreases)
        try:
            lines.append(line_of(line_spec, row))
        except ValueError as exc:
            title = getattr(row, line_spec.fields[line_spec.title].column_name, None) if line_spec.title in line_spec.fields else None
            name = f"{index + 1} « {title} »" if title else str(index + 1)
            raise StoreError(
                422, "invalid", f"Ligne {name} : {exc} / line {name}: {exc}", field=f"{child.name}[{index}]"
            ) from None
    try:
        totals = document_totals_of(entity, line_spec, obj, rows, args.get("percent"), args.get("amount"), lines)
    except ValueError as exc:
        raise StoreError(
            422, "invalid", f"Calcul des totaux impossible : {exc} / totals cannot be computed: {exc}", field=child.name
        ) from None
    line_net = line_spec.fields.get("total_net")
    if line_net is not None:
        for row, line in zip(rows, totals.lines):
            assign(row, line_net.column_name, None if line.kind == "comment" else line.net)
    names = {**{t: t for t in TOTALS}, **dict(args.get("fields") or {})}
    for total, field_name in names.items():
        field = entity.fields.get(field_name)
        if field is not None and hasattr(totals, total):
            assign(obj, field.column_name, getattr(totals, total))
