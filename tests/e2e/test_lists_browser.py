"""Browser test of list colours and saved filters: opportunities coloured as seed 003 does
(waiting greyed, overdue next step red), the shipped "Mes affaires ouvertes", a filter saved
public by one user and chosen by another, then deleted by its author."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest

from tests.e2e.conftest import ARTIFACTS, browser_page, running_server
from tests.e2e.helpers import ADMIN_LOGIN, ADMIN_PASSWORD, PROJECT_ROOT, seed

TODAY = dt.date.today()
SCREENSHOT = ARTIFACTS / "lists-colours.png"
OPPORTUNITIES = [
    # name, assigned login, next step date (days from today), transitions
    ("Site vitrine Favre", ADMIN_LOGIN, 9, ()),
    ("Relance Bellevue", ADMIN_LOGIN, -2, ("send_offer",)),
    ("Plaquette Lambert", ADMIN_LOGIN, -5, ("wait",)),
    ("Logo Morel", ADMIN_LOGIN, -5, ("win",)),
    ("Carte Robin", "claire", 1, ()),
]


def _seed_opportunities(rt: Any) -> None:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store
    from app.engine.workflow import run_transition

    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        users = {u.login: u.id for u in store.list("user", page_size=100).rows}
        company = store.list("company").rows[0].id
        account = store.list("account").rows[0].id
        for name, login, days, transitions in OPPORTUNITIES:
            record = store.create(
                "opportunity",
                {"name": name, "company": company, "account": account, "assigned_user": users[login],
                 "next_step_date": TODAY + dt.timedelta(days=days)},
            )
            for transition in transitions:
                run_transition(store, "opportunity", record.id, transition)
        session.commit()


@pytest.fixture(scope="module")
def lists_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from app.web.app import load_runtime

    work = tmp_path_factory.mktemp("e2e-lists")
    database_url = f"sqlite:///{work / 'e2e.db'}"
    rt = load_runtime(PROJECT_ROOT, database_url)
    seed(rt)
    _seed_opportunities(rt)
    rt.engine.dispose()
    env = {"COMPTOIR_DATABASE_URL": database_url, "COMPTOIR_CONFIG_DIR": str(PROJECT_ROOT),
           "COMPTOIR_SECRET_KEY": "e2e-secret-key", "COMPTOIR_FILES_DIR": str(work / "files")}
    with running_server(work, env) as base:
        yield base


@pytest.fixture
def lists_page(browser: Any, lists_server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    with browser_page(browser, lists_server, request) as page:
        yield page


def login(page: Any, user: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto("/admin/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


def row(page: Any, name: str) -> Any:
    return page.locator("tbody tr", has_text=name)


def names(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("tbody tr td:nth-child(3)").all_inner_texts()]


def choose(page: Any, label: str) -> None:
    page.click("#saved-filters-toggle")
    page.locator(".comptoir-saved-filters .dropdown-menu a", has_text=label).first.click()
    page.wait_for_load_state("networkidle")


def test_colours_and_saved_filters_in_the_browser(lists_page: Any) -> None:
    page = lists_page
    login(page, ADMIN_LOGIN, ADMIN_PASSWORD)
    page.goto("/admin/opportunity/list")
    grey = row(page, "Plaquette Lambert").locator("td").nth(3)
    red = row(page, "Relance Bellevue").locator("td").nth(3)
    plain = row(page, "Site vitrine Favre").locator("td").nth(3)
    background = "el => getComputedStyle(el).backgroundColor"
    assert plain.evaluate(background) in ("rgba(0, 0, 0, 0)", "transparent")
    assert grey.evaluate(background) != plain.evaluate(background)
    assert red.evaluate(background) not in (plain.evaluate(background), grey.evaluate(background))
    border = row(page, "Relance Bellevue").locator("td").first.evaluate("el => getComputedStyle(el).boxShadow")
    assert "rgb(214, 57, 57)" in border  # #d63939 as the left border
    assert page.locator(".comptoir-colour-legend").inner_text().split("\n") == ["En attente", "Étape suivante en retard"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    choose(page, "Mes affaires ouvertes")
    assert names(page) == ["Plaquette Lambert", "Relance Bellevue", "Site vitrine Favre"]
    assert "Commercial" not in page.locator("thead").inner_text()

    # the sidebar filter "En attente", saved public with three columns
    page.goto("/admin/opportunity/list")
    page.locator('.comptoir-filter[data-filter="phase"] a', has_text="En attente").click()
    page.wait_for_url("**phase=waiting**")
    page.click("text=Enregistrer ce filtre")
    page.fill("#save-filter-name", "Affaires en attente")
    for column in ("Client ou prospect", "Contact", "Étape suivante", "Date de l'étape suivante", "Échéance", "Montant estimé HT"):
        page.locator("#save-filter label", has_text=column).first.locator("input").uncheck()
    page.check("#save-filter input[name=public]")
    page.click("#save-filter-submit")
    page.wait_for_url("**saved=**")
    assert [h.strip() for h in page.locator("thead th").all_inner_texts()][2:] == ["Intitulé", "Phase de vente", "Commercial"]
    assert names(page) == ["Plaquette Lambert"]
    assert "Affaires en attente" in page.locator("#saved-filters-toggle").inner_text()

    # another user sees it among the public ones, without a delete button
    login(page, "claire", "claire-pass-1")
    page.goto("/admin/opportunity/list")
    page.click("#saved-filters-toggle")
    public = page.locator('[data-saved-filter="public"]')
    assert public.count() == 1 and "Affaires en attente" in public.inner_text() and "(admin)" in public.inner_text()
    assert page.locator(".comptoir-saved-filters form").count() == 0
    public.click()
    page.wait_for_url("**saved=**")
    assert names(page) == ["Plaquette Lambert"]
    choose(page, "Mes affaires ouvertes")
    assert names(page) == ["Carte Robin"]

    # its author deletes it
    login(page, ADMIN_LOGIN, ADMIN_PASSWORD)
    page.goto("/admin/opportunity/list")
    page.click("#saved-filters-toggle")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".comptoir-saved-filters form button[title='Supprimer ce filtre']").click()
    page.wait_for_load_state("networkidle")
    page.click("#saved-filters-toggle")
    assert page.locator('[data-saved-filter="mine"]').count() == 0
