"""The whole sales chain clicked through the admin as staff would: a quote of three lines,
accepted, turned into an order, delivered in part, invoiced from the delivery note, paid in two
payments; each document shows its status and its links to the others."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PROJECT_ROOT
from tests.e2e.test_admin_browser import login, pick_link, save
from tests.e2e.test_document_browser import amount, figure

pytestmark = pytest.mark.e2e

SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "sales-chain-invoice.png"
CLIENT = "Boulangerie Martin"
LINES = [  # description, quantity, unit price, VAT rate
    ("Chaudière à condensation", "1", "2 400,00", "10"),
    ("Robinet thermostatique", "4", "45,50", "20"),
    ("Main-d'œuvre de pose", "6", "55,00", "10"),
]


def act(page: Any, label: str) -> None:
    """Click a workflow button (its confirmation accepted) and wait for the page it leads to."""
    with page.expect_navigation():
        page.locator("form.comptoir-action button", has_text=label).first.click()
    expect(page.locator(".alert-success").first).to_be_visible()


def status(page: Any) -> Any:
    return page.locator("dl.comptoir-details dt", has_text=re.compile("^État$")).locator("xpath=following-sibling::dd[1]")


def linked(page: Any) -> Any:
    return page.locator("#linked-documents")


def open_first(page: Any, entity: str, text: str) -> None:
    page.goto(f"/admin/{entity}/list")
    page.locator("tbody tr", has_text=text).first.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(rf".*/admin/{entity}/details/\d+"))


def pay(page: Any, amount_text: str, invoice_number: str) -> None:
    page.goto("/admin/payment/create")
    pick_link(page, "account", "Boulangerie", CLIENT)
    page.fill("#amount", amount_text)
    pick_link(page, "invoice", invoice_number, invoice_number)
    save(page)
    page.goto("/admin/payment/list")
    page.locator("tbody tr", has_text=amount_text).first.locator("a[href*='/details/']").first.click()
    act(page, "Enregistrer le règlement")
    expect(status(page)).to_have_text("Enregistré")


def test_quote_to_paid_invoice_through_the_admin(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    login(page)

    # a quote of three lines
    page.goto("/admin/quote/create")
    pick_link(page, "company", "Atelier", "Atelier Comptoir SAS")
    pick_link(page, "account", "Boulangerie", CLIENT)
    page.fill("#title", "Remplacement de chaudière")
    for i, (description, quantity, price, vat) in enumerate(LINES):
        page.locator("[data-add-child='lines']").click()
        page.fill(f"input[name='lines-{i}-description']", description)
        page.fill(f"input[name='lines-{i}-quantity']", quantity)
        page.fill(f"input[name='lines-{i}-unit_price']", price)
        page.fill(f"input[name='lines-{i}-vat_rate']", vat)
    expect(figure(page, "total_gross")).to_have_text(amount("3 221,40 €"))  # live, before saving
    save(page)
    open_first(page, "quote", "Remplacement de chaudière")
    expect(status(page)).to_have_text("Brouillon")
    expect(figure(page, "total_net")).to_have_text(amount("2 912,00 €"))
    act(page, "Valider")
    expect(status(page)).to_have_text("Validé")
    act(page, "Accepté par le client")
    expect(status(page)).to_have_text("Accepté")
    quote_url = page.url

    # → order (the page of the new order opens), validated beyond the client's credit limit
    act(page, "Créer la commande")
    page.wait_for_url(re.compile(r".*/admin/order/details/\d+"))
    order_url = page.url
    expect(status(page)).to_have_text("Brouillon")
    expect(linked(page)).to_contain_text(re.compile(r"Créé depuis\s+Devis\s+DE\d{4}-\d{4}"))
    act(page, "Valider")
    expect(status(page)).to_have_text("Validée")
    expect(page.locator(".alert-warning").first).to_contain_text("encours")
    page.goto(quote_url)
    expect(status(page)).to_have_text("Commandé")
    expect(linked(page)).to_contain_text("CO")

    # → a delivery note for part of the order: two valves of four
    page.goto(order_url)
    act(page, "Créer un bon de livraison")
    page.wait_for_url(re.compile(r".*/admin/delivery/details/\d+"))
    delivery_url = page.url
    page.goto(delivery_url.replace("/details/", "/edit/"))
    page.fill("input[name='lines-1-quantity']", "2")
    save(page)
    page.goto(delivery_url)
    act(page, "Valider")
    expect(status(page)).to_have_text("Validé")
    page.goto(order_url)
    expect(status(page)).to_have_text(re.compile(r"^\s*En cours"))
    lines = page.locator(".comptoir-children[data-child='lines'] tbody tr")
    expect(lines.nth(1)).to_contain_text("Robinet thermostatique")
    expect(linked(page)).to_contain_text("BL")

    # → the invoice of what was delivered
    page.goto(delivery_url)
    act(page, "Créer la facture")
    page.wait_for_url(re.compile(r".*/admin/invoice/details/\d+"))
    invoice_url = page.url
    expect(linked(page)).to_contain_text("BL")
    # 2400 + 2 × 45.50 + 6 × 55 = 2821.00 net; VAT 273.00 at 10 % and 18.20 at 20 %
    expect(figure(page, "total_net")).to_have_text(amount("2 821,00 €"))
    expect(figure(page, "total_gross")).to_have_text(amount("3 112,20 €"))
    act(page, "Valider")
    expect(status(page)).to_have_text("Validée (à régler)")
    number = page.locator("h2.page-title").inner_text().strip()
    assert re.fullmatch(r"FA\d{4}-\d{4}", number), number
    page.goto(delivery_url)
    expect(status(page)).to_have_text("Facturé")
    expect(linked(page)).to_contain_text(number)

    # → paid in two payments
    pay(page, "1 000,00", number)
    page.goto(invoice_url)
    expect(status(page)).to_have_text("Partiellement réglée")
    pay(page, "2 112,20", number)
    page.goto(invoice_url)
    expect(status(page)).to_have_text("Soldée")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1360, "height": 1400})
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    # the order still waits for the rest of its delivery
    page.goto(order_url)
    expect(status(page)).to_have_text(re.compile(r"^\s*En cours"))
