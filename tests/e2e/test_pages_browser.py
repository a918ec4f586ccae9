"""Every page of the admin's menu opens in chromium without a browser error: each list, its
creation form, and the record page and edit form of its first row. A script error, a missing
resource (4xx/5xx) or a console error on any of them fails, naming the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_admin_browser import login

pytestmark = pytest.mark.e2e


def _hrefs(page: Any, selector: str) -> list[str]:
    return list(page.locator(selector).evaluate_all("links => links.map(a => a.href)"))


def test_every_menu_page_and_its_forms_open_without_a_browser_error(page: Any) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"{page.url}: console {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: script error {error}"))
    page.on("response", lambda response: problems.append(f"{page.url}: {response.status} {response.url}") if response.status >= 400 else None)
    login(page)
    menu = sorted(set(_hrefs(page, "a[href*='/admin/']")) - {h for h in _hrefs(page, "a[href*='/logout']")})
    lists = [h for h in menu if h.endswith("/list")]
    assert len(lists) >= 15, menu  # the shipped configuration's entities
    visited = 0
    for url in menu:
        page.goto(url)
        visited += 1
        if not url.endswith("/list"):
            continue
        for record in _hrefs(page, "tbody a[href*='/details/']")[:1]:
            page.goto(record)
            for edit in _hrefs(page, "a[href*='/edit/']")[:1]:
                page.goto(edit)
            visited += 1
        page.goto(url.removesuffix("/list") + "/create")
        visited += 1
    assert problems == [], "\n".join(problems)
    assert visited > 2 * len(lists)
