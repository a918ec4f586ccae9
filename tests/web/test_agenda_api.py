"""The agenda's JSON endpoints through the real app with an admin session: the feed (events in
a range, the user filter with participants, tasks on their due date), quick creation (CSRF,
rights, bad input) and the statistics by event type (exact counts and minutes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.engine.permissions import SYSTEM
from app.engine.store import Store
from tests.conftest import add_user

PASSWORD = "secret-pass-1"


def session_client(rt: Any, login: str) -> tuple[TestClient, str]:
    """A client logged in to the admin as `login`, with the page's CSRF token."""
    from app.web.app import create_app

    client = TestClient(create_app(runtime=rt, key="test-key"), base_url="http://testserver")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").text)
    assert token
    done = client.post("/admin/login", data={"username": login, "password": PASSWORD, "csrf_token": token.group(1)}, follow_redirects=False)
    assert done.status_code == 302, done.text
    page = client.get("/admin/")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    return client, csrf.group(1)


def create(rt: Any, entity: str, data: dict[str, Any]) -> int:
    with rt.session() as session:
        obj = Store(rt, session, SYSTEM).create(entity, data)
        session.commit()
        return int(obj.id)


@pytest.fixture
def agenda(runtime: Any) -> dict[str, Any]:
    """Two sales users and a week of December 2026 (Monday 7 to Sunday 13)."""
    claire = add_user(runtime, "claire", ["sales"], full_name="Claire Moreau")
    hugo = create(runtime, "user", {"login": "hugo", "groups": ["sales"], "full_name": "Hugo Lambert"})  # never logs in
    account = create(runtime, "account", {"name": "Boulangerie Martin", "type": "client"})
    ev = {
        # before the week, ends exactly at its start: not in it
        "before": create(runtime, "event", {"title": "Avant", "type": "call", "start": "2026-12-06T16:00", "end": "2026-12-07T00:00", "assigned_user": claire}),
        # overlaps the start of the week
        "overnight": create(runtime, "event", {"title": "Nuit", "type": "meeting", "start": "2026-12-06T23:00", "end": "2026-12-07T01:00", "assigned_user": hugo}),
        "visit": create(runtime, "event", {"title": "Visite Martin", "type": "visit_report", "start": "2026-12-08T10:00", "end": "2026-12-08T11:30", "assigned_user": claire, "account": account}),
        # Hugo's, with Claire as a participant
        "shared": create(runtime, "event", {"title": "Réunion commune", "type": "meeting", "start": "2026-12-09T14:00", "end": "2026-12-09T16:00", "assigned_user": hugo, "participants": [{"user": claire}]}),
        # no end: one hour
        "call": create(runtime, "event", {"title": "Appel Martin", "type": "call", "start": "2026-12-10T09:00", "assigned_user": hugo}),
        "fair": create(runtime, "event", {"title": "Salon", "type": "training", "start": "2026-12-11T00:00", "all_day": True, "assigned_user": claire}),
        "cancelled": create(runtime, "event", {"title": "Annulé", "type": "call", "status": "cancelled", "start": "2026-12-12T09:00", "end": "2026-12-12T09:30", "assigned_user": claire}),
        # the next Monday: outside [7, 14)
        "after": create(runtime, "event", {"title": "Après", "type": "call", "start": "2026-12-14T00:00", "end": "2026-12-14T01:00", "assigned_user": claire}),
    }
    tasks = {
        "first": create(runtime, "task", {"title": "Relancer le devis", "due_date": "2026-12-07", "assigned_user": claire}),
        "last": create(runtime, "task", {"title": "Envoyer la facture", "due_date": "2026-12-13", "assigned_user": hugo, "done": True}),
        "out": create(runtime, "task", {"title": "Plus tard", "due_date": "2026-12-14", "assigned_user": claire}),
    }
    return {"claire": claire, "hugo": hugo, "account": account, "events": ev, "tasks": tasks}


WEEK = "start=2026-12-07T00:00:00Z&end=2026-12-14T00:00:00Z"


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in items]


def test_feed_gives_exactly_the_events_and_tasks_of_the_range(runtime: Any, agenda: dict[str, Any]) -> None:
    client, _ = session_client(runtime, "claire")
    got = client.get(f"/admin/agenda/feed?{WEEK}&user=all")
    assert got.status_code == 200, got.text
    ev, tk = agenda["events"], agenda["tasks"]
    expected_events = [f"event-{ev[k]}" for k in ("overnight", "visit", "shared", "call", "fair", "cancelled")]
    assert ids(got.json()) == expected_events + [f"task-{tk['first']}", f"task-{tk['last']}"]
    by_id = {i["id"]: i for i in got.json()}
    visit = by_id[f"event-{ev['visit']}"]
    assert visit["start"] == "2026-12-08T10:00:00" and visit["end"] == "2026-12-08T11:30:00"
    assert visit["allDay"] is False and visit["url"] == f"/admin/event/details/{ev['visit']}"
    assert visit["backgroundColor"] == "#ae3ec9"  # the visit_report colour of picklists.yaml
    assert visit["extendedProps"]["type_label"] == "Compte rendu de visite"
    assert visit["extendedProps"]["account"] == "Boulangerie Martin"
    assert visit["extendedProps"]["user"] == "Claire Moreau"
    call = by_id[f"event-{ev['call']}"]
    assert call["end"] == "2026-12-10T10:00:00"  # no end: one hour
    fair = by_id[f"event-{ev['fair']}"]
    assert (fair["allDay"], fair["start"], fair["end"]) == (True, "2026-12-11", "2026-12-12")
    assert "agenda-status-cancelled" in by_id[f"event-{ev['cancelled']}"]["classNames"]
    first, last = by_id[f"task-{tk['first']}"], by_id[f"task-{tk['last']}"]
    assert (first["start"], first["allDay"], first["title"]) == ("2026-12-07", True, "☐ Relancer le devis")
    assert (last["start"], last["title"]) == ("2026-12-13", "✓ Envoyer la facture")
    assert first["url"] == f"/admin/task/details/{tk['first']}"


@pytest.mark.parametrize(
    "who, events, tasks",
    [
        # Claire: her own events and the one she takes part in; her tasks
        ("claire", ["visit", "shared", "fair", "cancelled"], ["first"]),
        ("hugo", ["overnight", "shared", "call"], ["last"]),
    ],
)
def test_feed_user_filter(runtime: Any, agenda: dict[str, Any], who: str, events: list[str], tasks: list[str]) -> None:
    client, _ = session_client(runtime, "claire")
    got = client.get(f"/admin/agenda/feed?{WEEK}&user={agenda[who]}")
    assert got.status_code == 200, got.text
    assert ids(got.json()) == [f"event-{agenda['events'][k]}" for k in events] + [f"task-{agenda['tasks'][k]}" for k in tasks]
    # "me" is the logged-in user
    if who == "claire":
        assert ids(client.get(f"/admin/agenda/feed?{WEEK}&user=me").json()) == ids(got.json())


def test_feed_of_one_day_and_kinds(runtime: Any, agenda: dict[str, Any]) -> None:
    client, _ = session_client(runtime, "claire")
    day = client.get("/admin/agenda/feed?start=2026-12-13&end=2026-12-14").json()
    assert ids(day) == [f"task-{agenda['tasks']['last']}"]
    only_events = client.get(f"/admin/agenda/feed?{WEEK}&kinds=event").json()
    assert all(i["extendedProps"]["kind"] == "event" for i in only_events) and len(only_events) == 6


@pytest.mark.parametrize(
    "query, field",
    [
        ("start=2026-12-07", "end"),
        ("start=demain&end=2026-12-14", "start"),
        ("start=2026-12-14&end=2026-12-07", "end"),
        ("start=2026-01-01&end=2027-06-01", "end"),
        ("start=2026-12-07&end=2026-12-14&user=personne", "user"),
    ],
)
def test_feed_bad_parameters_are_a_400_naming_the_field(runtime: Any, agenda: dict[str, Any], query: str, field: str) -> None:
    client, _ = session_client(runtime, "claire")
    got = client.get(f"/admin/agenda/feed?{query}")
    assert got.status_code == 400
    error = got.json()["error"]
    assert error["field"] == field and " / " in error["message"]


def test_feed_needs_a_session(runtime: Any, agenda: dict[str, Any]) -> None:
    from app.web.app import create_app

    anonymous = TestClient(create_app(runtime=runtime, key="test-key"), base_url="http://testserver")
    got = anonymous.get(f"/admin/agenda/feed?{WEEK}", follow_redirects=False)
    assert got.status_code in (302, 303) and "/admin/login" in got.headers["location"]


def test_quick_creation_of_an_event_and_a_task(runtime: Any, agenda: dict[str, Any]) -> None:
    client, csrf = session_client(runtime, "claire")
    made = client.post(
        "/admin/agenda/quick",
        json={"kind": "event", "title": "Rendez-vous Dupont", "type": "appointment", "start": "2026-12-15T09:00", "end": "2026-12-15T10:00"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    event_id = made.json()["id"]
    assert made.json()["url"] == f"/admin/event/details/{event_id}"
    feed = client.get("/admin/agenda/feed?start=2026-12-15&end=2026-12-16&user=me").json()
    assert ids(feed) == [f"event-{event_id}"]
    assert feed[0]["extendedProps"]["user_id"] == agenda["claire"]  # the creator by default
    task = client.post(
        "/admin/agenda/quick",
        json={"kind": "task", "title": "Préparer la visite", "due_date": "2026-12-15", "assigned_user": agenda["hugo"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert task.status_code == 201, task.text
    hugo = client.get(f"/admin/agenda/feed?start=2026-12-15&end=2026-12-16&user={agenda['hugo']}").json()
    assert ids(hugo) == [f"task-{task.json()['id']}"]


@pytest.mark.parametrize(
    "login, body, status, code, field",
    [
        ("claire", {"kind": "event", "type": "call", "start": "2026-12-15T09:00"}, 422, "required", "title"),
        ("claire", {"kind": "event", "title": "X", "type": "concert", "start": "2026-12-15T09:00"}, 422, None, "type"),
        ("claire", {"kind": "event", "title": "X", "start": "2026-12-15T10:00", "end": "2026-12-15T09:00"}, 422, "invalid", "end"),
        ("claire", {"kind": "meeting", "title": "X"}, 422, "invalid", "kind"),
        ("reader", {"kind": "event", "title": "X", "start": "2026-12-15T09:00"}, 403, "forbidden", None),
    ],
)
def test_quick_creation_refusals(
    runtime: Any, agenda: dict[str, Any], login: str, body: dict[str, Any], status: int, code: str | None, field: str | None
) -> None:
    if login == "reader":
        add_user(runtime, "reader", ["readonly"])
    client, csrf = session_client(runtime, login)
    got = client.post("/admin/agenda/quick", json=body, headers={"X-CSRF-Token": csrf})
    assert got.status_code == status, got.text
    error = got.json()["error"]
    assert error["field"] == field
    if code:
        assert error["code"] == code
    with runtime.session() as session:
        assert Store(runtime, session, SYSTEM).list("event").total == len(agenda["events"])  # nothing saved


def test_quick_creation_needs_the_csrf_token(runtime: Any, agenda: dict[str, Any]) -> None:
    client, _ = session_client(runtime, "claire")
    got = client.post("/admin/agenda/quick", json={"kind": "event", "title": "X", "start": "2026-12-15T09:00"})
    assert got.status_code == 403


def test_statistics_by_type_and_user(runtime: Any, agenda: dict[str, Any]) -> None:
    client, _ = session_client(runtime, "claire")
    got = client.get("/admin/agenda/stats.json?from=2026-12-07&to=2026-12-13")
    assert got.status_code == 200, got.text
    stats = got.json()
    # started in the period, not cancelled: visit (90 min), shared (120), call (60, no end),
    # fair (all day: no duration); "overnight" and "before" started on the 6th
    assert stats["by_type"] == [
        {"type": "meeting", "label": "Réunion", "count": 1, "minutes": 120},
        {"type": "call", "label": "Appel téléphonique", "count": 1, "minutes": 60},
        {"type": "visit_report", "label": "Compte rendu de visite", "count": 1, "minutes": 90},
        {"type": "training", "label": "Formation", "count": 1, "minutes": 0},
    ]
    assert stats["total"] == {"count": 4, "minutes": 270}
    assert stats["by_user"] == [
        {"user_id": agenda["claire"], "user": "Claire Moreau", "type": "visit_report", "label": "Compte rendu de visite", "count": 1, "minutes": 90},
        {"user_id": agenda["claire"], "user": "Claire Moreau", "type": "training", "label": "Formation", "count": 1, "minutes": 0},
        {"user_id": agenda["hugo"], "user": "Hugo Lambert", "type": "meeting", "label": "Réunion", "count": 1, "minutes": 120},
        {"user_id": agenda["hugo"], "user": "Hugo Lambert", "type": "call", "label": "Appel téléphonique", "count": 1, "minutes": 60},
    ]
    wider = client.get(f"/admin/agenda/stats.json?from=2026-12-06&to=2026-12-14&user={agenda['claire']}").json()
    # Claire's own: before (call 480 min), visit, fair, after (call 60); cancelled left out
    assert wider["by_type"] == [
        {"type": "call", "label": "Appel téléphonique", "count": 2, "minutes": 540},
        {"type": "visit_report", "label": "Compte rendu de visite", "count": 1, "minutes": 90},
        {"type": "training", "label": "Formation", "count": 1, "minutes": 0},
    ]
    assert wider["total"] == {"count": 4, "minutes": 630}


def test_statistics_page_and_bad_period(runtime: Any, agenda: dict[str, Any]) -> None:
    client, _ = session_client(runtime, "claire")
    page = client.get("/admin/agenda/stats?from=2026-12-07&to=2026-12-13")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-type="([a-z_]+)">.*?<td class="text-end">(\d+)</td><td class="text-end">([^<]+)</td>', page.text, re.S)
    assert rows == [("meeting", "1", "2 h 00"), ("call", "1", "1 h 00"), ("visit_report", "1", "1 h 30"), ("training", "1", "0 h 00")]
    assert 'id="stats-total-count">4<' in page.text
    bad = client.get("/admin/agenda/stats.json?from=2026-12-13&to=2026-12-07")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "to"
    wrong = client.get("/admin/agenda/stats?from=13/12/2026")
    assert wrong.status_code == 400 and "date invalide" in wrong.text


def test_agenda_page_is_in_the_menu_and_french(runtime: Any, agenda: dict[str, Any]) -> None:
    client, _ = session_client(runtime, "claire")
    page = client.get("/admin/agenda")
    assert page.status_code == 200
    assert 'href="http://testserver/admin/agenda"' in page.text
    assert "vendor/fullcalendar/index.global.min.js" in page.text and "fr.global.min.js" in page.text
    assert ">Claire Moreau (moi)</option>" in page.text
    script = client.get("/admin/agenda/_static/vendor/fullcalendar/index.global.min.js")
    assert script.status_code == 200 and "FullCalendar" in script.text


def test_demo_activities_are_on_the_agenda(runtime: Any) -> None:
    import datetime as dt

    from app.cli import load_demo_data
    from app.demo_activities import EVENTS, LIAISON, TASKS

    today = dt.date(2025, 3, 14)
    load_demo_data(runtime, today=today)
    add_user(runtime, "claire", ["sales"], full_name="Claire Moreau")
    client, _ = session_client(runtime, "claire")
    start, end = today - dt.timedelta(days=3), today + dt.timedelta(days=4)  # [11 March, 18 March)
    feed = client.get(f"/admin/agenda/feed?start={start}&end={end}&user=all").json()
    kinds = [i["extendedProps"]["kind"] for i in feed]
    assert kinds.count("event") == sum(1 for e in EVENTS if -3 <= e.day < 4)
    assert kinds.count("task") == sum(1 for t in TASKS if -3 <= t.day < 4)
    assert {i["start"][:10] for i in feed} <= {str(start + dt.timedelta(days=n)) for n in range(7)}
    stats = client.get(f"/admin/agenda/stats.json?from={today - dt.timedelta(days=30)}&to={today + dt.timedelta(days=30)}").json()
    assert stats["total"]["count"] == sum(1 for e in EVENTS if e.status != "cancelled")
    assert stats["total"]["minutes"] == sum(e.minutes for e in EVENTS if e.status != "cancelled" and e.start)
    with runtime.session() as session:
        entries = Store(runtime, session, SYSTEM).list("liaison_entry")
        assert entries.total == len(LIAISON)


@pytest.mark.parametrize(
    "query, view, date",
    [
        ("", "dayGridMonth", None),
        ("?view=timeGridWeek&date=2026-12-07", "timeGridWeek", "2026-12-07"),
        ("?view=<script>&date=demain", "dayGridMonth", None),
    ],
)
def test_agenda_page_configuration(runtime: Any, agenda: dict[str, Any], query: str, view: str, date: str | None) -> None:
    import html
    import json

    client, _ = session_client(runtime, "claire")
    page = client.get(f"/admin/agenda{query}").text
    found = re.search(r'data-config="([^"]+)"', page)
    assert found
    config = json.loads(html.unescape(found.group(1)))
    assert (config["initialView"], config["initialDate"]) == (view, date)
    assert config["me"] == agenda["claire"] and config["canCreateEvent"] and config["canCreateTask"]
    assert config["feed"].endswith("/admin/agenda/feed") and config["create"].endswith("/admin/agenda/quick")


def test_readonly_users_see_the_agenda_without_creating(runtime: Any, agenda: dict[str, Any]) -> None:
    import html
    import json

    add_user(runtime, "reader", ["readonly"])
    client, _ = session_client(runtime, "reader")
    page = client.get("/admin/agenda")
    assert page.status_code == 200
    found = re.search(r'data-config="([^"]+)"', page.text)
    assert found
    config = json.loads(html.unescape(found.group(1)))
    assert not config["canCreateEvent"] and not config["canCreateTask"]
    assert len(client.get(f"/admin/agenda/feed?{WEEK}&user=all").json()) == 8


def test_users_who_may_not_read_events_nor_tasks_have_no_agenda(runtime: Any, agenda: dict[str, Any]) -> None:
    denied = [{"entity": e, "action": "read", "effect": "deny"} for e in ("event", "task")]
    add_user(runtime, "outsider", ["readonly"], rights=denied)
    client, _ = session_client(runtime, "outsider")
    assert 'href="http://testserver/admin/agenda"' not in client.get("/admin/").text  # no menu entry
    for url in ("/admin/agenda", f"/admin/agenda/feed?{WEEK}", "/admin/agenda/stats.json"):
        assert client.get(url).status_code == 403, url


def test_tasks_only_users_get_tasks_and_no_statistics(runtime: Any, agenda: dict[str, Any]) -> None:
    add_user(runtime, "tasker", ["readonly"], rights=[{"entity": "event", "action": "read", "effect": "deny"}])
    client, _ = session_client(runtime, "tasker")
    assert client.get("/admin/agenda").status_code == 200
    feed = client.get(f"/admin/agenda/feed?{WEEK}&user=all").json()
    assert ids(feed) == [f"task-{agenda['tasks']['first']}", f"task-{agenda['tasks']['last']}"]
    assert client.get("/admin/agenda/stats.json").status_code == 403
    assert client.get("/admin/agenda/stats").status_code == 403
