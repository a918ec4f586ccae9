"""`deduct_prepaid` and `check_within_credited`: `comptoir check` errors for their arguments (file:line
in the shipped configuration, copied and broken), and a property of credit notes through the
Store: a full credit note takes exactly its invoice's amounts, VAT rate by rate."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from app.engine.workflow import run_transition
from app.spec.expressions import fixed_clock
from app.spec.loader import load_spec
from app.verbs.totals import document_totals_of

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    root = tmp_path / "cfg"
    for folder in ("schema", "templates"):  # templates: the mail and PDF templates the YAML names
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    for name in ("workflows.yaml", "picklists.yaml", "groups.yaml", "files.yaml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return root


def _line_of(root: Path, file: str, text: str) -> int:
    lines = (root / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("schema/invoice.yaml", "      link: deposit_invoice\n", "      link: deposit_invoce\n",
         "unknown field 'deposit_invoce' of 'invoice_deduction' in 'deduct_prepaid.link' — did you mean 'deposit_invoice'?"),
        ("schema/invoice.yaml", "      link: deposit_invoice\n", "      link: label\n",
         "'invoice_deduction.label' is a string field; 'deduct_prepaid.link' needs a link field"),
        ("schema/invoice.yaml", "      match: [order, quote]\n", "      match: [order, quot]\n",
         "unknown field 'quot' of 'invoice' in 'deduct_prepaid.match' — did you mean 'quote'?"),
        ("schema/invoice.yaml", "      rows: deductions\n", "      rows: deduction\n",
         "unknown child collection 'deduction' of 'invoice' in 'deduct_prepaid.rows'"),
        ("schema/invoice.yaml", "      total: deposits_deducted\n", "      total: deposits_deducted\n      totl: deposits_deducted\n",
         "unknown argument 'totl' of 'deduct_prepaid'"),
        ("workflows.yaml", "line_link: credited_line, quantity: quantity,", "line_link: credited_lin, quantity: quantity,",
         "unknown field 'credited_lin' of 'invoice_line' in 'check_within_credited.line_link'"),
        ("workflows.yaml", "            line_link: credited_line  #", "            line_link: quote_line  #",
         "'invoice_line.quote_line' links to 'quote_line', not to 'invoice_line'"),
    ],
)
def test_bad_arguments_are_reported_with_file_and_line(tmp_path: Path, file: str, old: str, new: str, expected: str) -> None:
    root = _broken_copy(tmp_path, file, old, new)
    spec, errors = load_spec(root)
    assert spec is None
    found = [(e.location.file, e.location.line, e.message) for e in errors]
    assert len(found) == 1, found
    assert (found[0][0], found[0][1]) == (file, _line_of(root, file, new.strip().splitlines()[-1].strip())), found
    assert expected in found[0][2]


# --- a full credit note takes exactly its invoice --------------------------------------------

RATES = st.sampled_from(["20", "10", "5.5", "2.1", "0"])
LINES = st.lists(
    st.fixed_dictionaries(
        {
            "quantity": st.decimals(min_value=Decimal("0.5"), max_value=Decimal("500"), places=2).map(str),
            "unit_price": st.decimals(min_value=Decimal("0.1"), max_value=Decimal("2000"), places=4).map(str),
            "discount_percent": st.sampled_from(["0", "5", "12.5", "33"]),
            "vat_rate": RATES,
        }
    ),
    min_size=1,
    max_size=6,
)


def _totals(store: Store, invoice: Any) -> tuple[Any, ...]:
    entity = store.spec.entities["invoice"]
    rows = store.children(entity, invoice)["lines"]
    totals = document_totals_of(entity, store.spec.entities["invoice_line"], invoice, rows, "deposit_percent")
    breakdown = tuple((r.vat_rate, r.base, r.vat) for r in totals.vat_breakdown)
    return invoice.total_net, invoice.total_vat, invoice.total_gross, breakdown


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES, shipping=st.sampled_from([None, "15"]))
def test_a_full_credit_note_takes_exactly_its_invoice(runtime: Any, lines: list[dict[str, str]], shipping: str | None) -> None:
    with runtime.session() as session, fixed_clock(dt.date(2026, 11, 23)):
        store = Store(runtime, session, SYSTEM)
        company = store.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = store.create("account", {"name": "Dupont SARL", "type": "client"}).id
        invoice = store.create(
            "invoice",
            {"company": company, "account": account, "date": "2026-11-23", "shipping_cost": shipping,
             "lines": [{**line, "description": f"Ligne {i}"} for i, line in enumerate(lines)]},
        )
        run_transition(store, "invoice", invoice.id, "validate")
        made = run_transition(store, "invoice", invoice.id, "create_credit_note").created
        credit = store.get("invoice", made[0][1])
        assert credit.kind == "credit_note" and credit.credited_invoice_id == invoice.id
        assert _totals(store, credit) == _totals(store, invoice)
        originals = [row.id for row in store.children(store.spec.entities["invoice"], invoice)["lines"]]
        copies = store.children(store.spec.entities["invoice"], credit)["lines"]
        assert [row.credited_line_id for row in copies] == originals
        run_transition(store, "invoice", credit.id, "validate")  # exactly the invoice: allowed
        second = run_transition(store, "invoice", invoice.id, "create_credit_note").created[0][1]
        with pytest.raises(StoreError) as refused:  # one cent more than the invoice: refused
            run_transition(store, "invoice", second, "validate")
        assert refused.value.code == "credit_exceeds_credited"
