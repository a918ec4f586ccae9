"""A document page in chromium: the key figures follow the lines as they are typed, without
saving, on the create and the edit page; frozen fields are locked once created."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PROJECT_ROOT
from tests.e2e.test_admin_browser import login, pick_link, save

pytestmark = pytest.mark.e2e

SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "invoice-figures.png"
EDIT_SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "invoice-edit-live.png"


def figure(page: Any, key: str) -> Any:
    return page.locator(f"#key-figures [data-figure='{key}'] .comptoir-figure-value")


def amount(text: str) -> re.Pattern[str]:
    """A French amount as shown, whatever the (narrow) no-break spaces: « 1 234,50 € »."""
    return re.compile("^" + re.escape(text).replace(r"\ ", r"\s") + "$")


def test_totals_follow_the_lines_while_typing_without_saving(page: Any) -> None:
    login(page)
    page.goto("/admin/invoice/create")
    pick_link(page, "company", "Atelier", "Atelier Comptoir SAS")
    pick_link(page, "account", "Boulangerie", "Boulangerie Martin")
    expect(figure(page, "total_gross")).to_have_text(amount("0,00 €"))
    page.locator("[data-add-child='lines']").click()
    row = page.locator(".comptoir-children[data-child='lines'] tbody tr").first
    row.locator("input[name='lines-0-description']").fill("Câble")
    row.locator("input[name='lines-0-unit_price']").fill("1,24")
    row.locator("input[name='lines-0-vat_rate']").fill("10")
    row.locator("input[name='lines-0-cost_price']").fill("0,80")
    # the blank quantity takes its default (1), as a save would
    expect(figure(page, "total_gross")).to_have_text(amount("1,36 €"))
    row.locator("input[name='lines-0-quantity']").fill("3")
    expect(figure(page, "total_net")).to_have_text(amount("3,72 €"))
    expect(figure(page, "total_gross")).to_have_text(amount("4,09 €"))
    expect(page.locator("#key-figures [data-figure='vat_10'] [data-detail='base']")).to_have_text(amount("3,72 €"))
    expect(figure(page, "margin")).to_have_text(amount("1,32 €"))  # 3.72 − 3 × 0.80
    expect(figure(page, "margin_rate")).to_have_text(amount("35,48 %"))
    save(page)
    page.wait_for_url(re.compile(r".*/admin/invoice/list.*"))

    page.goto("/admin/invoice/list")
    page.locator("tbody tr", has_text="Boulangerie Martin").first.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/invoice/details/\d+"))
    details_url = page.url
    expect(figure(page, "total_gross")).to_have_text(amount("4,09 €"))
    page.goto(details_url.replace("/details/", "/edit/"))
    # frozen once created: shown locked, not editable
    expect(page.locator("[data-frozen-for='account'] input")).to_be_disabled()
    expect(page.locator("[data-frozen-for='account'] input")).to_have_value("Boulangerie Martin")
    page.locator("input[name='lines-0-quantity']").fill("1000")
    expect(figure(page, "total_net")).to_have_text(amount("1 240,00 €"))
    expect(figure(page, "total_gross")).to_have_text(amount("1 364,00 €"))
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.locator("#key-figures").scroll_into_view_if_needed()
    page.screenshot(path=str(EDIT_SCREENSHOT))
    # nothing was saved: the details page still shows the stored totals
    page.goto(details_url)
    expect(figure(page, "total_gross")).to_have_text(amount("4,09 €"))
    page.set_viewport_size({"width": 1360, "height": 1100})
    page.screenshot(path=str(SCREENSHOT), full_page=True)
