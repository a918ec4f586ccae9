"""The liaison book in the generated admin: a call logged from the form (numbered, open),
then closed with its workflow button, as the receptionist and the technician would."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_admin_browser import login, pick_link, save
from tests.e2e.test_sales_chain_browser import act, status

pytestmark = pytest.mark.e2e


def test_log_a_call_then_close_it(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, "claire", "claire-pass-1")
    page.goto("/admin/liaison-entry/create")
    pick_link(page, "account", "Garage", "Garage des Alpes")
    page.fill("#caller", "M. Girard, atelier")
    page.select_option("#service", "technical")
    page.select_option("#classification", "intervention")
    page.fill("#subject", "Chaudière de l'atelier en panne")
    save(page)
    page.wait_for_url(re.compile(r".*/admin/liaison-entry/list"))
    row = page.locator("tbody tr", has_text="Chaudière de l'atelier en panne")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("À traiter")
    expect(row).to_contain_text(re.compile(r"CL\d{4}-\d{4}"))
    row.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/liaison-entry/details/\d+"))
    expect(status(page)).to_have_text("À traiter")
    act(page, "Clôturer")
    expect(status(page)).to_have_text("Clôturé")
    expect(page.locator("form.comptoir-action button", has_text="Rouvrir")).to_have_count(1)
