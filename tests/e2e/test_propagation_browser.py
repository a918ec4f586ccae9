"""Seed 003's propagation clicked through the admin: an opportunity of a prospect, its quote
made from it, sent — the opportunity shows « Offre envoyée », next step « À rappeler » — then
accepted — « Gagnée », « Facture d'acompte », and the prospect is a client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_admin_browser import login, pick_link, save
from tests.e2e.test_sales_chain_browser import act, status

pytestmark = pytest.mark.e2e

PROSPECT = "Café de la Gare"  # a prospect of the seeded data (tests/e2e/helpers.py)


def detail(page: Any, label: str) -> Any:
    return page.locator("dl.comptoir-details dt", has_text=re.compile(f"^{re.escape(label)}$")).locator("xpath=following-sibling::dd[1]")


def test_the_quote_moves_its_opportunity_and_account_in_the_admin(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    login(page)
    page.goto("/admin/opportunity/create")
    page.fill("#name", "Terrasse couverte")
    pick_link(page, "company", "Atelier", "Atelier Comptoir SAS")
    pick_link(page, "account", "Café", PROSPECT)
    save(page)
    page.goto("/admin/opportunity/list")
    page.locator("tbody tr", has_text="Terrasse couverte").first.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/opportunity/details/\d+"))
    opportunity_url = page.url
    expect(detail(page, "Phase de vente")).to_contain_text("Analyse du besoin")

    with page.expect_navigation():
        page.locator("form.comptoir-action button", has_text="Créer un devis").first.click()
    page.wait_for_url(re.compile(r".*/admin/quote/details/\d+"))
    quote_url = page.url
    page.goto(quote_url.replace("/details/", "/edit/"))
    page.locator("[data-add-child='lines']").click()
    page.fill("input[name='lines-0-description']", "Structure et toile")
    page.fill("input[name='lines-0-quantity']", "1")
    page.fill("input[name='lines-0-unit_price']", "4 800,00")
    page.fill("input[name='lines-0-vat_rate']", "20")
    save(page)
    page.goto(quote_url)
    act(page, "Valider")
    act(page, "Marquer envoyé")
    expect(status(page)).to_have_text("Envoyé")

    page.goto(opportunity_url)
    expect(detail(page, "Phase de vente")).to_contain_text("Offre envoyée")
    expect(detail(page, "Étape suivante")).to_contain_text("À rappeler")

    page.goto(quote_url)
    act(page, "Accepté par le client")
    page.goto(opportunity_url)
    expect(detail(page, "Phase de vente")).to_contain_text("Gagnée")
    expect(detail(page, "Étape suivante")).to_contain_text("Facture d'acompte")
    page.goto("/admin/account/list?search=Caf%C3%A9%20de%20la%20Gare")
    expect(page.locator("tbody tr", has_text=PROSPECT).first).to_contain_text("Client")
