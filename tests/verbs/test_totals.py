"""The `document_totals` compute: every line and header field it reads, through the Store."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from tests.engine.configs import write_config

PICKLISTS = """
line_kind:
  label: {fr: Types de ligne, en: Line kinds}
  values:
    - {code: item, label: {fr: Article, en: Item}}
    - {code: free, label: {fr: Texte libre, en: Free text}}
    - {code: comment, label: {fr: Commentaire, en: Comment}}
discount_mode:
  label: {fr: Remise, en: Discount}
  values:
    - {code: percent, label: {fr: Pourcentage, en: Percentage}}
    - {code: amount_net, label: {fr: Montant HT, en: Net amount}}
    - {code: amount_gross, label: {fr: Montant TTC, en: Gross amount}}
"""

ENTITIES = {
    "doc": """
        label: {fr: Document, en: Document}
        title: ref
        fields:
          ref: {type: string}
          shipping_cost: {type: money}
          shipping_vat_rate: {type: percent, default: "20"}
          discount_mode: {type: choice, picklist: discount_mode, default: "'percent'"}
          discount_value: {type: decimal, scale: 2}
          deposits_deducted: {type: money}
          total_net: {type: money, readonly: true}
          total_vat: {type: money, readonly: true}
          total_gross: {type: money, readonly: true}
          amount_due: {type: money, readonly: true}
          npr_vat: {type: money, readonly: true}
        list: {columns: [ref]}
        children:
          lines: {entity: doc_line, via: doc, order_by: position}
        compute:
          - document_totals: {lines: lines, fields: {npr_vat: npr_vat}}
    """,
    "doc_line": """
        label: {fr: Ligne, en: Line}
        title: description
        embedded: true
        fields:
          doc: {type: link, to: doc, required: true}
          position: {type: integer, default: "0"}
          kind: {type: choice, picklist: line_kind, default: "'item'"}
          description: {type: string}
          quantity: {type: decimal, scale: 4, default: "1"}
          unit_factor: {type: decimal, scale: 4, default: "1"}
          unit_price: {type: decimal, scale: 4}
          discount_percent: {type: percent, default: "0"}
          vat_rate: {type: percent, default: "20"}
          npr: {type: boolean, default: "false"}
          other_tax_label: {type: string}
          other_tax_percent: {type: percent}
          other_tax_unit_amount: {type: decimal, scale: 4}
          other_tax_vat_rate: {type: percent}
          previous_progress_percent: {type: percent, default: "0"}
          progress_percent: {type: percent, default: "100"}
          total_net: {type: money, readonly: true}
        list: {columns: [description]}
    """,
    # a document without the optional fields: only what exists is read and written
    "note": """
        label: {fr: Note, en: Note}
        title: ref
        fields:
          ref: {type: string}
          total_gross: {type: money, readonly: true}
        list: {columns: [ref]}
        children:
          lines: {entity: note_line, via: note}
        compute:
          - document_totals: {lines: lines}
    """,
    "note_line": """
        label: {fr: Ligne, en: Line}
        title: quantity
        embedded: true
        fields:
          note: {type: link, to: note, required: true}
          quantity: {type: decimal}
          unit_price: {type: decimal}
          vat_rate: {type: percent}
        list: {columns: [quantity]}
    """,
}


@pytest.fixture
def store(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    rt = make_runtime(write_config(tmp_path / "cfg", ENTITIES, picklists=PICKLISTS))
    with rt.session() as session:
        yield Store(rt, session, SYSTEM)
        session.rollback()


def totals(store: Store, lines: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    record = store.serialize(store.create("doc", {"lines": lines, **header}))
    names = ("total_net", "total_vat", "total_gross", "amount_due", "npr_vat")
    return {"lines": [line["total_net"] for line in record["lines"]], **{n: record[n] for n in names}}


def line(price: str, vat: str = "20", **extra: Any) -> dict[str, Any]:
    return {"unit_price": price, "vat_rate": vat, **extra}


@pytest.mark.parametrize(
    ("lines", "header", "expected"),
    [
        # the worked cases
        ([line("1.24", "10"), line("1.24", "10")], {}, (["1.24", "1.24"], "2.48", "0.25", "2.73", "2.73")),
        ([line("0.99", "5.5")] * 3, {}, (["0.99"] * 3, "2.97", "0.16", "3.13", "3.13")),
        ([line("12.45", "10")], {}, (["12.45"], "12.45", "1.25", "13.70", "13.70")),
        # quantity × unit factor (a monthly price sold per year), line discount
        ([line("10", quantity="2", unit_factor="12", discount_percent="10")], {}, (["216.00"], "216.00", "43.20", "259.20", "259.20")),
        # a comment line has no amount
        ([line("10"), {"kind": "comment", "description": "Nota", "unit_price": "99"}], {}, (["10.00", None], "10.00", "2.00", "12.00", "12.00")),
        # shipping: a charge at its own VAT rate
        ([line("100")], {"shipping_cost": "10", "shipping_vat_rate": "5.5"}, (["100.00"], "100.00", "20.55", "130.55", "130.55")),
        # global discount: percent, net amount, gross amount
        ([line("100")], {"discount_value": "10"}, (["100.00"], "100.00", "18.00", "108.00", "108.00")),
        ([line("100")], {"discount_mode": "amount_net", "discount_value": "20"}, (["100.00"], "100.00", "16.00", "96.00", "96.00")),
        ([line("100")], {"discount_mode": "amount_gross", "discount_value": "12"}, (["100.00"], "100.00", "18.00", "108.00", "108.00")),
        # deposits already invoiced are deducted from the amount due
        ([line("100")], {"deposits_deducted": "30"}, (["100.00"], "100.00", "20.00", "120.00", "90.00")),
        # an other tax (eco-contribution per unit) with its own VAT
        ([line("100", quantity="2", other_tax_unit_amount="0.5", other_tax_vat_rate="20")], {}, (["200.00"], "200.00", "40.20", "241.20", "241.20")),
        # progress: from 30 % to 80 % of the line
        ([line("100", previous_progress_percent="30", progress_percent="80")], {}, (["50.00"], "50.00", "10.00", "60.00", "60.00")),
    ],
)
def test_totals(store: Store, lines: list[dict[str, Any]], header: dict[str, Any], expected: tuple[Any, ...]) -> None:
    got = totals(store, lines, **header)
    assert (got["lines"], got["total_net"], got["total_vat"], got["total_gross"], got["amount_due"]) == expected


def test_npr_vat_is_shown_apart_and_mapped_by_fields(store: Store) -> None:
    got = totals(store, [line("100", "8.5", npr=True), line("100", "8.5")])
    assert (got["total_vat"], got["npr_vat"], got["total_gross"]) == ("8.50", "8.50", "208.50")


def test_totals_follow_updates(store: Store) -> None:
    doc = store.create("doc", {"lines": [line("10")]})
    store.update("doc", doc.id, {"lines": [], "shipping_cost": "5"})
    assert (doc.total_net, doc.total_gross) == (0, 6)


def test_only_existing_fields_are_read_and_written(store: Store) -> None:
    note = store.create("note", {"lines": [{"quantity": "3", "unit_price": "1.5", "vat_rate": "10"}]})
    assert str(note.total_gross) == "4.95"


def test_impossible_values_are_a_422_on_the_lines(store: Store) -> None:
    with pytest.raises(StoreError) as err:
        store.create("doc", {"lines": [line("1", other_tax_percent="5", other_tax_unit_amount="1")]})
    assert (err.value.status, err.value.field) == (422, "lines[0]")  # the line is named
    assert "pas les deux" in err.value.message
