"""Staff click through the real admin in chromium: accounts, contacts, search, filters, errors."""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ADMIN_LOGIN, ADMIN_PASSWORD, PROJECT_ROOT

pytestmark = pytest.mark.e2e

# The README's picture is rewritten only on request (COMPTOIR_UPDATE_SCREENSHOTS=1), so that a
# test run leaves the working tree clean; every run still keeps a copy in test-artifacts/.
SCREENSHOT = PROJECT_ROOT / "docs" / "admin-accounts.png"
ARTIFACT = PROJECT_ROOT / "test-artifacts" / "admin-accounts.png"


def login(page: Any, user: str = ADMIN_LOGIN, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/admin/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def pick_link(page: Any, field: str, term: str, text: str) -> None:
    """Choose a link target in a select2 search box, as a user does."""
    page.locator(f"select[name='{field}'] + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(term)
    page.locator(".select2-results__option", has_text=text).first.click()


def save(page: Any) -> None:
    page.locator("input[type=submit][value='Enregistrer']").click()
    page.wait_for_load_state("domcontentloaded")


def error_for(page: Any, name: str) -> str:
    return str(page.locator(f"[data-error-for='{name}']").inner_text())


def test_wrong_password_is_refused_in_french(page: Any) -> None:
    login_page = page.goto("/admin/login")
    assert login_page is not None and login_page.status == 200
    page.fill("#username", ADMIN_LOGIN)
    page.fill("#password", "pas-le-bon")
    page.click("button[type=submit]")
    assert page.locator("#login-error").inner_text() == "Identifiant ou mot de passe incorrect."


def test_account_with_contact_search_filter_edit_and_french_errors(page: Any) -> None:
    login(page)
    assert "Tableau de bord" in page.content()

    # Create an account with an address row added inline.
    page.goto("/admin/account/list")
    page.click("#action-create")
    page.fill("#name", "Zinguerie Dupuis")
    page.select_option("#type", "client")
    page.fill("#city", "Bourgoin-Jallieu")
    page.fill("#credit_limit", "12 500,00")
    page.click("[data-add-child='addresses']")
    row = page.locator("[data-child='addresses'] tbody tr").last
    row.locator("[data-column='label'] input").fill("Siège")
    row.locator("[data-column='city'] input").fill("Bourgoin-Jallieu")
    save(page)
    assert re.search(r"/admin/account/list", page.url), page.url

    # Its contact, linked through the searchable account box.
    page.goto("/admin/contact/create")
    pick_link(page, "account", "Zingu", "Zinguerie Dupuis")
    page.fill("#first_name", "Léa")
    page.fill("#last_name", "Dupuis")
    page.fill("#email", "lea@zinguerie.fr")
    save(page)
    assert "/admin/contact/list" in page.url
    assert page.locator("td", has_text="Zinguerie Dupuis").count() == 1

    # Search, then filter.
    page.goto("/admin/account/list")
    page.fill("#search-input", "zinguerie")
    page.press("#search-input", "Enter")
    page.wait_for_url("**search=zinguerie**")
    assert page.locator("tbody tr").count() == 1
    page.goto("/admin/account/list")
    page.locator("[data-filter='type'] a", has_text="Prospect").click()
    page.wait_for_url("**type=prospect**")
    levels = page.locator("tbody tr td .badge").all_inner_texts()
    assert levels and set(levels) == {"Prospect"}

    # Edit: a bad SIRET and a bad IBAN are refused in French next to their fields.
    page.goto("/admin/account/list?search=Zinguerie")
    page.locator("a[href*='/admin/account/edit/']").first.click()
    page.wait_for_url("**/admin/account/edit/**")
    assert page.locator("[data-child='addresses'] tbody tr").count() == 1
    page.fill("#siret", "12345678901234")
    page.fill("#iban", "FR76 0000 1111")
    save(page)
    assert error_for(page, "siret") == "SIRET invalide : « 12345678901234 » (la clé de contrôle est fausse)"
    assert error_for(page, "iban").startswith("IBAN invalide : « FR76 0000 1111 »")
    assert page.input_value("#credit_limit") == "12500,00"

    page.fill("#siret", "73282932000074")
    page.fill("#iban", "FR76 3000 6000 0112 3456 7890 189")
    page.fill("#notes", "Client depuis 2019.")
    save(page)
    assert "/admin/account/list" in page.url
    page.goto("/admin/account/list?search=Zinguerie")
    page.locator("a[href*='/admin/account/details/']").first.click()
    details = page.locator(".page-body").inner_text()
    assert "FR76 3000 6000 0112 3456 7890 189" in details and "Client depuis 2019." in details
    assert "12\u202f500,00\u00a0€" in details and "Siège" in details


def test_delete_from_the_list_sends_the_csrf_header(page: Any) -> None:
    login(page)
    page.goto("/admin/product-category/create")
    page.fill("#name", "Catégorie éphémère")
    save(page)
    page.goto("/admin/product-category/list")
    row = page.locator("tbody tr", has_text="Catégorie éphémère")
    row.locator("[data-bs-target='#modal-delete']").click()
    expect(page.locator("#modal-delete-text")).to_contain_text("Supprimer définitivement Famille d'articles n° ")
    page.locator("#modal-delete-button").click()
    expect(page.locator("tbody tr", has_text="Catégorie éphémère")).to_have_count(0)
    expect(page.locator("tbody")).to_contain_text("Services")


def test_account_list_screenshot_for_the_readme(page: Any) -> None:
    login(page)
    page.set_viewport_size({"width": 1360, "height": 860})
    page.goto("/admin/account/list")
    page.locator("[data-sqladmin-menu-category='Tiers'] > a").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("tbody tr").count() >= 20
    assert "Raison sociale" in page.content() and "Filtres" in page.content()
    ARTIFACT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACT))
    if os.environ.get("COMPTOIR_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(ARTIFACT, SCREENSHOT)
