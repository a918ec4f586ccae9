"""The agenda clicked through as staff would: the menu entry, month / week / day views, a slot
clicked in the day view, an event created from the quick form, seen on the agenda, then opened."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import PROJECT_ROOT
from tests.e2e.test_admin_browser import login

pytestmark = pytest.mark.e2e

SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "agenda-week.png"
DAY = "2026-12-07"  # a Monday


def test_agenda_views_quick_creation_and_opening(page: Any) -> None:
    login(page, "claire", "claire-pass-1")
    page.goto("/admin/")
    page.locator("[data-sqladmin-menu-category='Activités'] > a.dropdown-toggle").click()
    menu = page.locator("[data-sqladmin-menu-category='Activités'] .dropdown-menu a.nav-link")
    expect(menu.first).to_have_text("Agenda")
    menu.first.click()
    page.wait_for_url(re.compile(r".*/admin/agenda$"))
    # French month view by default, the user's own agenda selected
    expect(page.locator(".fc-dayGridMonth-view")).to_be_visible()
    expect(page.locator(".fc-toolbar-title")).to_contain_text(re.compile(r"\w+ \d{4}"))
    expect(page.locator("#agenda-user option:checked")).to_have_text("Claire Moreau (moi)")

    page.goto(f"/admin/agenda?date={DAY}")
    expect(page.locator(".fc-toolbar-title")).to_have_text("décembre 2026")
    page.get_by_role("button", name="Semaine", exact=True).click()
    expect(page.locator(".fc-timeGridWeek-view")).to_be_visible()
    expect(page.locator(".fc-col-header-cell").first).to_contain_text("lun.")
    page.get_by_role("button", name="Jour", exact=True).click()
    expect(page.locator(".fc-timeGridDay-view")).to_be_visible()
    expect(page.locator(".fc-toolbar-title")).to_have_text("7 décembre 2026")

    # a click on the 10:00 slot opens the quick form with that slot
    page.locator('td.fc-timegrid-slot-lane[data-time="10:00:00"]').click()
    dialog = page.locator("#agenda-quick")
    expect(dialog).to_be_visible()
    expect(page.locator("#quick-start")).to_have_value(f"{DAY}T10:00")
    expect(page.locator("#quick-end")).to_have_value(f"{DAY}T10:30")
    page.fill("#quick-title", "Visite chantier Martin")
    page.select_option("#quick-type", "visit_report")
    page.fill("#quick-end", f"{DAY}T11:30")
    page.click("#quick-save")
    expect(dialog).to_be_hidden()
    expect(page.locator("#agenda-message")).to_contain_text("Événement créé : Visite chantier Martin")

    event = page.locator(".fc-event", has_text="Visite chantier Martin")
    expect(event).to_have_count(1)
    expect(event).to_contain_text("10:00 - 11:30")
    # coloured by its type (picklists.yaml: visit_report is #ae3ec9)
    colour = event.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(174, 62, 201)", colour

    # a task from the same form, on its due date
    page.locator('td.fc-timegrid-slot-lane[data-time="14:00:00"]').click()
    page.click("label[for=quick-kind-task]")
    expect(page.locator("#quick-due")).to_have_value(DAY)
    page.fill("#quick-title", "Envoyer le devis Martin")
    page.click("#quick-save")
    expect(page.locator(".fc-event", has_text="Envoyer le devis Martin")).to_have_count(1)

    # back in the week and month views, both are there; then the event opens its record
    page.get_by_role("button", name="Semaine", exact=True).click()
    expect(page.locator(".fc-event", has_text="Visite chantier Martin")).to_have_count(1)
    expect(page.locator(".fc-event", has_text="Envoyer le devis Martin")).to_have_count(1)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.get_by_role("button", name="Mois", exact=True).click()
    expect(page.locator(".fc-dayGridMonth-view .fc-event", has_text="Visite chantier Martin")).to_have_count(1)
    page.locator(".fc-event", has_text="Visite chantier Martin").click()
    page.wait_for_url(re.compile(r".*/admin/event/details/\d+"))
    details = page.locator("dl.comptoir-details").first
    expect(details).to_contain_text("Visite chantier Martin")
    expect(details).to_contain_text("Compte rendu de visite")
    expect(details).to_contain_text(re.compile(r"Responsable\s+claire"))  # a user link shows the login


def test_agenda_user_selector_filters_the_calendar(page: Any) -> None:
    login(page)  # the admin
    page.goto(f"/admin/agenda?date={DAY}&view=timeGridWeek&user=all")
    expect(page.locator(".fc-timeGridWeek-view")).to_be_visible()
    page.locator('td.fc-timegrid-slot-lane[data-time="16:00:00"]').click()
    page.fill("#quick-title", "Réunion d'équipe Hugo")
    page.select_option("#quick-user", label="Hugo Lambert")
    page.click("#quick-save")
    expect(page.locator(".fc-event", has_text="Réunion d'équipe Hugo")).to_have_count(1)
    page.select_option("#agenda-user", label="Claire Moreau")
    expect(page.locator(".fc-event", has_text="Réunion d'équipe Hugo")).to_have_count(0)
    page.select_option("#agenda-user", label="Hugo Lambert")
    expect(page.locator(".fc-event", has_text="Réunion d'équipe Hugo")).to_have_count(1)


def test_statistics_page_counts_the_events_of_the_period(page: Any) -> None:
    login(page, "hugo", "hugo-pass-1")
    page.goto("/admin/agenda?date=2027-01-05&view=timeGridDay")
    for time, title, kind in (("09:00:00", "Appel Garage des Alpes", "call"), ("11:00:00", "Appel Fromagerie Blanc", "call"),
                              ("15:00:00", "Rendez-vous Pharmacie du Parc", "appointment")):
        page.locator(f'td.fc-timegrid-slot-lane[data-time="{time}"]').click()
        page.fill("#quick-title", title)
        page.select_option("#quick-type", kind)
        page.click("#quick-save")
        expect(page.locator(".fc-event", has_text=title)).to_have_count(1)
    page.get_by_role("link", name="Statistiques").click()
    page.fill("#stats-from", "2027-01-01")
    page.fill("#stats-to", "2027-01-31")
    page.select_option("#stats-user", label="Hugo Lambert")
    page.get_by_role("button", name="Afficher").click()
    rows = page.locator("#stats-by-type tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Rendez-vous client")
    expect(rows.nth(0)).to_contain_text("0 h 30")
    expect(rows.nth(1)).to_contain_text("Appel téléphonique")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text("2")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("1 h 00")
    expect(page.locator("#stats-total-count")).to_have_text("3")
    page.screenshot(path=str(PROJECT_ROOT / "test-artifacts" / "agenda-stats.png"), full_page=True)

    # the generated admin form of an event, from schema/event.yaml
    page.goto("/admin/event/create")
    for label in ("Objet", "Type d'événement", "Début", "Fin", "Journée entière", "Responsable", "Tiers", "Devis lié", "Autres participants"):
        expect(page.get_by_text(label, exact=True).first).to_be_visible()
    page.screenshot(path=str(PROJECT_ROOT / "test-artifacts" / "event-form.png"), full_page=True)
