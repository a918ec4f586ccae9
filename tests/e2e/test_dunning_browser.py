"""The dunning screen in chromium, as accounting staff use it every week: rows blue / orange /
red by due date, overdue rows ticked, the next action per invoice, a dry run showing exactly
what would be sent, then sending — the mails caught by a local SMTP server (aiosmtpd) that
the live server (a subprocess) reaches through COMPTOIR_SMTP_URL — and the step in the
invoice's follow-up panel. Its own server and data (dates relative to the real today)."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from typing import Any, Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser_page, running_server
from tests.e2e.helpers import PROJECT_ROOT
from tests.smtp import Catcher, smtp_server

pytestmark = pytest.mark.e2e

LOGIN, PASSWORD = "compta", "compta-pass-1"
LINE = {"description": "Maintenance annuelle", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}
SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "dunning-screen.png"


def _seed(rt: Any, today: dt.date) -> dict[str, str]:
    """Four invoices (due 40 and 10 days ago, in 3 days, in 25 days); the first had reminder 1."""
    from app.engine.followup import record_step
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store
    from app.engine.workflow import run_transition

    numbers: dict[str, str] = {}
    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        store.create("user", {"login": LOGIN, "full_name": "Nadia Compta", "groups": ["accounting"], "password": PASSWORD})
        company = store.create("company", {"legal_name": "Atelier Comptoir SAS", "city": "Lyon"})
        client = store.create("account", {"name": "Boulangerie Martin", "type": "client", "email": "compta@boulangerie-martin.fr"})
        contact = store.create("contact", {"account": client.id, "last_name": "Martin", "first_name": "Paul", "email": "paul@boulangerie-martin.fr"})
        for name, age, due in (("late", 70, -40), ("overdue", 40, -10), ("soon", 27, 3), ("later", 5, 25)):
            invoice = store.create("invoice", {
                "company": company.id, "account": client.id, "contact": contact.id if name == "overdue" else None,
                "kind": "standard", "date": str(today - dt.timedelta(days=age)), "due_date": str(today + dt.timedelta(days=due)), "lines": [LINE],
            })
            session.flush()
            run_transition(store, "invoice", invoice.id, "validate")
            numbers[name] = str(invoice.number)
            numbers[f"{name}_id"] = str(invoice.id)
        record_step(session, rt.models.metadata, entity="invoice", record_id=int(numbers["late_id"]), step="reminder_1",
                    on=today - dt.timedelta(days=40), kind="auto", login="dunning-job")
        session.commit()
    return numbers


@pytest.fixture(scope="module")
def dunning_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Catcher, dict[str, str]]]:
    from app.web.app import load_runtime

    work = tmp_path_factory.mktemp("dunning-e2e")
    database_url = f"sqlite:///{work / 'e2e.db'}"
    rt = load_runtime(PROJECT_ROOT, database_url)
    numbers = _seed(rt, dt.date.today())
    rt.engine.dispose()
    with smtp_server() as catcher:
        env = {
            "COMPTOIR_DATABASE_URL": database_url, "COMPTOIR_CONFIG_DIR": str(PROJECT_ROOT),
            "COMPTOIR_SECRET_KEY": "e2e-secret-key", "COMPTOIR_SMTP_URL": catcher.url,
            "COMPTOIR_MAIL_FROM": "facturation@atelier-comptoir.fr", "COMPTOIR_FILES_DIR": str(work / "files"),
        }
        with running_server(work, env) as base:
            yield base, catcher, numbers


@pytest.fixture
def dunning_page(browser: Any, dunning_server: tuple[str, Catcher, dict[str, str]], request: pytest.FixtureRequest) -> Iterator[Any]:
    with browser_page(browser, dunning_server[0], request) as page:
        yield page


def _row(page: Any, number: str) -> Any:
    return page.locator("tr.dunning-row", has_text=number)


def test_dunning_screen_colours_dry_run_and_send(dunning_page: Any, dunning_server: tuple[str, Catcher, dict[str, str]]) -> None:
    page, (_, catcher, numbers) = dunning_page, dunning_server
    page.goto("/admin/login")
    page.fill("#username", LOGIN)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.get_by_role("link", name="Relances").first.click()
    page.wait_for_url("**/admin/dunning")

    expected = {  # band, colour, ticked, next action
        "late": ("overdue", "rgb(214, 57, 57)", True, "Relance 2"),
        "overdue": ("overdue", "rgb(214, 57, 57)", True, "Relance 1"),
        "soon": ("due_soon", "rgb(245, 159, 0)", False, "Relance 1"),
        "later": ("not_due", "rgb(32, 107, 196)", False, "Relance 1"),
    }
    for name, (band, colour, ticked, action) in expected.items():
        row = _row(page, numbers[name])
        expect(row).to_have_attribute("data-band", band)
        assert row.evaluate("tr => getComputedStyle(tr).borderLeftColor") == colour
        assert row.locator("input.dunning-check").is_checked() is ticked
        expect(row.locator("td.dunning-next")).to_contain_text(action)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    _row(page, numbers["late"]).locator("input.dunning-check").uncheck()  # only the one overdue by 10 days
    page.click("#dunning-dry-run")
    preview = page.locator(".dunning-mail")
    expect(preview).to_have_count(1)
    expect(preview.locator(".dunning-to")).to_have_text("paul@boulangerie-martin.fr")  # the contact first
    expect(preview.locator(".dunning-subject")).to_have_text(re.compile(rf"^Relance — facture {numbers['overdue']} échue le "))
    expect(preview.locator(".dunning-pdf")).to_contain_text("Pièce jointe : le PDF")
    expect(preview.locator(".dunning-body")).not_to_contain_text("n'est pas jointe")
    shown = preview.locator(".dunning-subject").inner_text()
    assert catcher.messages == []  # a dry run sends nothing
    assert _row(page, numbers["late"]).locator("input.dunning-check").is_checked() is False  # the choice is kept

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#dunning-send")
    expect(page.locator(".dunning-result")).to_contain_text(f"{numbers['overdue']} : Relance 1 envoyée à paul@boulangerie-martin.fr.")
    assert len(catcher.messages) == 1
    rcpts, content = catcher.messages[0]
    sent = email.message_from_bytes(content, policy=policy.default)
    assert rcpts == ["paul@boulangerie-martin.fr"] and str(sent["From"]) == "facturation@atelier-comptoir.fr"
    [pdf] = list(sent.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and numbers["overdue"] in str(pdf.get_filename())
    assert str(sent["Subject"]) == shown  # exactly what the dry run showed
    expect(_row(page, numbers["overdue"]).locator("td.dunning-next")).to_contain_text("Relance 2")

    _row(page, numbers["overdue"]).locator("a").first.click()
    page.wait_for_url(re.compile(r".*/admin/invoice/details/\d+"))
    expect(page.locator("#follow-up-log tr[data-step='reminder_1']")).to_contain_text(LOGIN)
    expect(page.locator("#follow-up-next")).to_contain_text("Relance 2")

