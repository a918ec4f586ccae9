"""The "PDF" button of a record page in chromium: a quote made in the admin opens as a PDF
(the default template), and the template menu lists the others."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.e2e.test_admin_browser import login, pick_link, save

pytestmark = pytest.mark.e2e


def test_the_pdf_button_opens_the_document(page: Any) -> None:
    login(page)
    page.goto("/admin/quote/create")
    pick_link(page, "company", "Atelier", "Atelier Comptoir SAS")
    pick_link(page, "account", "Boulangerie", "Boulangerie Martin")
    page.locator("[data-add-child='lines']").click()
    row = page.locator(".comptoir-children[data-child='lines'] tbody tr").first
    row.locator("input[name='lines-0-description']").fill("Four à pain")
    row.locator("input[name='lines-0-unit_price']").fill("1 200")
    row.locator("input[name='lines-0-vat_rate']").fill("20")
    save(page)
    page.goto("/admin/quote/list")
    page.locator("tbody tr", has_text="Boulangerie Martin").first.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/quote/details/\d+"))
    button = page.locator(".comptoir-pdf a.btn")
    expect(button).to_have_text(re.compile("PDF"))
    assert button.get_attribute("data-template") == "quote"  # not a pro-forma: the quote template
    page.locator(".comptoir-pdf .dropdown-toggle").click()
    expect(page.locator(".comptoir-pdf .dropdown-item")).to_have_count(3)
    expect(page.locator(".comptoir-pdf .dropdown-item[data-template='training_quote']")).to_have_text("Devis formation")
    response = page.request.get(str(button.get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace("\u202f", " ")
    assert "Four à pain" in text and "SPECIMEN" in text and "1 440,00 €" in text
    # without a session: no PDF
    stranger = page.context.browser.new_context()
    assert stranger.request.get(str(button.get_attribute("href"))).status == 401
    stranger.close()
