"""Key figures of documents: totals, VAT per rate and margin, registered with the engine's
figure registry (app/engine/figures.py).

A document is any entity with a `document_totals` compute; its figures are computed from its
lines by the very code that keeps its stored totals right (app.verbs.totals →
app.domain.totals), so the panel, the live preview and the saved amounts always agree. The
margin (app.domain.margin) is shown when at least one line has a `cost_price`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.domain.margin import CostLine, compute_margin
from app.domain.totals import DocumentTotals, VatBreakdown
from app.engine.figures import Column, Figure, FigureGroup, FigureSubject
from app.spec.model import EntitySpec, Label
from app.spec.workflow_model import ComputeSpec
from app.verbs.totals import document_totals_of

VERB = "document_totals"
COST_FIELD = "cost_price"


def totals_compute(entity: EntitySpec) -> ComputeSpec | None:
    """The entity's `document_totals` compute: what makes it a document."""
    return next((c for c in entity.computes if c.verb == VERB), None)


def _rate_text(rate: Decimal) -> str:
    return format(rate, "f").replace(".", ",")


def _vat_row(row: VatBreakdown) -> Figure:
    npr = " NPR" if row.npr else ""
    key = f"vat_{format(row.vat_rate, 'f')}{'_npr' if row.npr else ''}"
    label = Label(f"TVA {_rate_text(row.vat_rate)} %{npr}", f"VAT {format(row.vat_rate, 'f')} %{npr}")
    return Figure(key, label, row.vat, details={"rate": row.vat_rate, "base": row.base})


def _totals_group(totals: DocumentTotals) -> FigureGroup:
    figures = [Figure("total_net", Label("Total HT", "Total excl. VAT"), totals.total_net)]
    if totals.charges_total:
        figures.append(Figure("charges", Label("Frais et taxes annexes HT", "Charges excl. VAT"), totals.charges_total))
    if totals.allowances_total:
        figures.append(Figure("allowances", Label("Remise globale HT", "Global discount excl. VAT"), -totals.allowances_total))
    figures.append(Figure("total_vat", Label("Total TVA", "Total VAT"), totals.total_vat))
    if totals.npr_vat:
        figures.append(Figure("npr_vat", Label("TVA non perçue récupérable", "VAT not collected (NPR)"), totals.npr_vat))
    figures.append(Figure("total_gross", Label("Total TTC", "Total incl. VAT"), totals.total_gross, emphasis=not totals.prepaid))
    if totals.prepaid:
        figures.append(Figure("deposits_deducted", Label("Acomptes déduits", "Deposits deducted"), -totals.prepaid))
        figures.append(Figure("amount_due", Label("Net à payer", "Amount due"), totals.amount_due, emphasis=True))
    return FigureGroup("totals", Label("Totaux", "Totals"), tuple(figures))


def _vat_group(totals: DocumentTotals) -> FigureGroup:
    columns = (
        Column("rate", Label("Taux", "Rate"), "percent"),
        Column("base", Label("Base HT", "Base excl. VAT")),
    )
    return FigureGroup("vat", Label("TVA par taux", "VAT by rate"), tuple(_vat_row(r) for r in totals.vat_breakdown), columns, Label("TVA", "VAT"))


def _cost(line_spec: EntitySpec, row: Any) -> Decimal | None:
    field = line_spec.fields.get(COST_FIELD)
    value = getattr(row, field.column_name, None) if field is not None else None
    return None if value is None else Decimal(value)


def _margin_group(line_spec: EntitySpec, rows: list[Any], totals: DocumentTotals) -> FigureGroup | None:
    lines = [
        CostLine(line.quantity, _cost(line_spec, row))
        for row, line in zip(rows, totals.lines)
        if line.kind == "item"
    ]
    margin = compute_margin(totals.total_net, lines)
    if not margin.costed_lines:
        return None
    return FigureGroup(
        "margin",
        Label("Marge", "Margin"),
        (
            Figure("cost", Label("Coût de revient HT", "Cost excl. VAT"), margin.cost),
            Figure("margin", Label("Marge HT", "Margin excl. VAT"), margin.amount, emphasis=True),
            Figure("margin_rate", Label("Taux de marge", "Margin rate"), margin.rate, kind="percent"),
        ),
    )


def document_figures(subject: FigureSubject) -> list[FigureGroup] | None:
    """Totals, VAT per rate and margin of a document; None for any other entity."""
    compute = totals_compute(subject.entity)
    if compute is None:
        return None
    store, entity = subject.store, subject.entity
    child = next((c for c in entity.children if c.name == compute.args.get("lines")), None)
    if child is None:
        return None
    line_spec = store.spec.entities[child.entity]
    rows = subject.rows(child.name)
    try:
        totals = document_totals_of(entity, line_spec, subject.record, rows, compute.args.get("percent"))
    except ValueError as exc:  # a value the Store would refuse on save (a discount over 100 %…)
        text = Figure("error", Label("Calcul impossible", "Cannot compute"), str(exc), kind="text")
        return [FigureGroup("totals", Label("Totaux", "Totals"), (text,))]
    groups = [_totals_group(totals), _vat_group(totals)]
    margin = _margin_group(line_spec, rows, totals)
    if margin is not None:
        groups.append(margin)
    return groups
