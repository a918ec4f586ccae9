"""Validating several invoices at once in chromium: tick three drafts on the invoice list, the
« Valider (3) » button asks the transition's confirmation, then the list comes back with the
outcome flashed and the three invoices validated, each with its definitive number."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_admin_browser import login
from tests.e2e.test_export_browser import LIST, _detail_ids, _make_invoice, _tick

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"FA\d{4}-\d{4}")


def _row(page: Any, record_id: int) -> Any:
    return page.locator("tbody tr", has=page.locator(f"a[href$='/invoice/details/{record_id}']"))


def test_ticked_draft_invoices_are_validated_together(page: Any) -> None:
    login(page)
    before = _detail_ids(page)
    for n in (1, 2, 3):
        _make_invoice(page, f"Validation groupée {n}")
    mine = _detail_ids(page) - before
    assert len(mine) == 3, mine

    _tick(page, mine)
    button = page.locator("#comptoir-bulk-validate")
    expect(button).to_have_text("Valider (3)")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    button.click()
    page.wait_for_url(re.compile(r".*/admin/invoice/list\?pageSize=100$"))
    assert len(questions) == 1
    assert questions[0].startswith("« Valider » sur la sélection : 3 factures.")
    assert "Valider cette facture ? Elle reçoit son numéro définitif" in questions[0]  # the transition's confirm text

    success = page.locator(".comptoir-flash.alert-success")
    expect(success).to_contain_text("« Valider » effectué sur 3 factures (")
    expect(success).to_contain_text("désormais « Validée (à régler) »")
    numbers = []
    for record_id in sorted(mine):
        row = _row(page, record_id)
        expect(row).to_contain_text("Validée (à régler)")
        found = NUMBER.search(row.inner_text())
        assert found, row.inner_text()
        numbers.append(found.group(0))
    assert len(set(numbers)) == 3
    assert all(number in success.inner_text() for number in numbers)  # the flash names them
    expect(page.locator("#comptoir-bulk-validate")).to_have_text("Valider (0)")


def test_a_refused_selection_changes_nothing(page: Any) -> None:
    login(page)
    before = _detail_ids(page)
    _make_invoice(page, "Validation groupée refusée")
    [draft] = _detail_ids(page) - before
    _tick(page, {draft})
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#comptoir-bulk-validate").click()
    page.wait_for_url(re.compile(r".*/admin/invoice/list\?pageSize=100$"))
    validated = NUMBER.search(_row(page, draft).inner_text())
    assert validated, _row(page, draft).inner_text()

    # the validated invoice ticked again with a new draft: refused as a whole, the draft stays one
    before = _detail_ids(page)
    _make_invoice(page, "Brouillon resté brouillon")
    [other] = _detail_ids(page) - before
    _tick(page, {other, draft})
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#comptoir-bulk-validate").click()
    page.wait_for_url(re.compile(r".*/admin/invoice/list\?pageSize=100$"))
    danger = page.locator(".comptoir-flash.alert-danger")
    expect(danger).to_contain_text("Rien n'a été modifié — ")
    expect(danger).to_contain_text(validated.group(0))  # the record at fault
    expect(_row(page, other)).to_contain_text("Brouillon")
    assert not NUMBER.search(_row(page, other).inner_text())
