"""The list page's multi-document export in chromium: tick three invoices, "Exporter en PDF"
downloads one PDF of their pages, "Exporter en zip" a zip of the three PDFs; eleven ticked
invoices go through the progress page, whose bar fills and then offers the download."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.helpers import PROJECT_ROOT
from tests.e2e.test_admin_browser import login, pick_link, save

pytestmark = pytest.mark.e2e

LIST = "/admin/invoice/list?pageSize=100"


def _detail_ids(page: Any) -> set[int]:
    page.goto(LIST)
    hrefs = page.locator("tbody tr a[href*='/invoice/details/']").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return {int(m.group(1)) for h in hrefs if (m := re.search(r"/details/(\d+)", h))}


def _make_invoice(page: Any, description: str) -> None:
    page.goto("/admin/invoice/create")
    pick_link(page, "company", "Atelier", "Atelier Comptoir SAS")
    pick_link(page, "account", "Boulangerie", "Boulangerie Martin")
    page.locator("[data-add-child='lines']").click()
    row = page.locator(".comptoir-children[data-child='lines'] tbody tr").first
    row.locator("input[name='lines-0-description']").fill(description)
    row.locator("input[name='lines-0-unit_price']").fill("100")
    row.locator("input[name='lines-0-vat_rate']").fill("20")
    save(page)
    page.wait_for_url(re.compile(r".*/admin/invoice/list.*"))


def _tick(page: Any, ids: set[int]) -> None:
    page.goto(LIST)
    for record_id in sorted(ids):
        row = page.locator("tbody tr", has=page.locator(f"a[href$='/invoice/details/{record_id}']"))
        row.locator("input.select-box").check()


def test_ticked_invoices_export_as_one_pdf_and_as_a_zip(page: Any, tmp_path: Path) -> None:
    login(page)
    before = _detail_ids(page)
    descriptions = [f"Export navigateur {n}" for n in (1, 2, 3)]
    for description in descriptions:
        _make_invoice(page, description)
    mine = _detail_ids(page) - before
    assert len(mine) == 3, mine

    _tick(page, mine)
    expect(page.locator("#comptoir-export-pdf")).to_have_text(re.compile("Exporter en PDF"))
    with page.expect_download() as info:
        page.locator("#comptoir-export-pdf").click()
    download = info.value
    assert download.suggested_filename == "Facture-3-documents.pdf"
    pdf = Path(download.path()).read_bytes()
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 3
    assert [sum(d in text for d in descriptions) for text in pages] == [1, 1, 1]  # one invoice per page
    assert {d for d in descriptions for text in pages if d in text} == set(descriptions)

    _tick(page, mine)
    with page.expect_download() as info:
        page.locator("#comptoir-export-zip").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert len(archive.namelist()) == 3 and all(n.endswith(".pdf") for n in archive.namelist())


def _invoices_in_database(database_url: str, descriptions: list[str]) -> None:
    """Draft invoices of one line each, written straight into the live server's database (the
    form that makes them is the previous test's): one transaction, where eleven trips through
    the form took half a minute."""
    from sqlalchemy import select

    from app.engine.permissions import SYSTEM
    from app.engine.store import Store
    from app.web.app import load_runtime

    rt = load_runtime(PROJECT_ROOT, database_url)
    company, account = rt.models.cls("company"), rt.models.cls("account")
    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        parties = {
            "company": session.scalars(select(company.id).where(company.legal_name == "Atelier Comptoir SAS")).one(),
            "account": session.scalars(select(account.id).where(account.name == "Boulangerie Martin")).one(),
        }
        for description in descriptions:
            store.create("invoice", {**parties, "lines": [{"description": description, "unit_price": "100", "vat_rate": "20"}]})
        session.commit()
    rt.engine.dispose()


def test_a_large_selection_shows_a_progress_bar_then_the_download(page: Any, live_database: str) -> None:
    login(page)
    before = _detail_ids(page)
    descriptions = [f"Lot export n{n:02d}" for n in range(1, 12)]
    _invoices_in_database(live_database, descriptions)
    mine = _detail_ids(page) - before
    assert len(mine) == 11, mine
    _tick(page, mine)
    page.locator("#comptoir-export-pdf").click()
    page.wait_for_url(re.compile(r".*/admin/_export/[0-9a-f]{32}/page"))
    expect(page.locator("#comptoir-export-total")).to_have_text("11")
    link = page.locator("#comptoir-export-download")
    expect(link).to_be_visible(timeout=240_000)
    expect(page.locator("#comptoir-export-bar")).to_have_attribute("aria-valuenow", "11")
    expect(page.locator("#comptoir-export-text")).to_have_text("Export prêt : 11 documents.")
    with page.expect_download() as info:
        link.click()
    assert info.value.suggested_filename == "Facture-11-documents.pdf"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(Path(info.value.path()).read_bytes())).pages]
    assert len(pages) == 11
    assert [sum(d in text for d in descriptions) for text in pages] == [1] * 11
    assert {d for d in descriptions for text in pages if d in text} == set(descriptions)


def test_export_without_a_ticked_row_warns_and_stays(page: Any) -> None:
    login(page)
    page.goto(LIST)
    messages: list[str] = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.locator("#comptoir-export-pdf").click()
    page.wait_for_timeout(300)
    assert messages == ["Cochez d'abord les documents à exporter."]
    assert "/admin/invoice/list" in page.url
