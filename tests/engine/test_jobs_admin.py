"""The read-only admin page of the scheduled jobs (/admin/jobs), linked in the menu."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from app.engine.jobs import run_job
from app.engine.scheduler import acquire_lease
from tests.engine.test_admin import logged_in


@pytest.fixture(autouse=True)
def paris(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPTOIR_TIMEZONE", "Europe/Paris")


def test_the_jobs_page_lists_jobs_and_runs(runtime: Any) -> None:
    run_job(runtime, runtime.spec.jobs["quote_expiry"], dt.date(2026, 11, 30))
    run_job(runtime, runtime.spec.jobs["next_step_reminders"], dt.date(2026, 12, 1))
    acquire_lease(runtime, "vm:1234:abcdef", dt.timedelta(minutes=5))
    client = logged_in(runtime)
    home = client.get("/admin/")
    assert 'href="http://testserver/admin/jobs"' in home.text and "Tâches planifiées" in home.text  # in the menu
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    jobs = re.findall(r'<tr data-job="([a-z_]+)">', page.text)
    assert jobs == ["quote_expiry", "next_step_reminders", "dunning"]
    assert "<code>0 6 * * *</code>" in page.text and "run_transition" in page.text
    runs = re.findall(r'<tr data-run="(\d+)">\s*<td>\d+</td>\s*<td>([a-z_]+)</td>\s*<td>([\d/]+)</td>\s*<td>(\w+)</td>', page.text)
    assert [r[1:] for r in runs] == [("next_step_reminders", "01/12/2026", "manuelle"), ("quote_expiry", "30/11/2026", "manuelle")]
    assert "checked : 0, changed : 0, errors : 0" in page.text
    assert "Planificateur actif : processus vm:1234:abcdef" in page.text
    only = client.get("/admin/jobs?job=quote_expiry")
    assert re.findall(r'<tr data-run="\d+">\s*<td>\d+</td>\s*<td>([a-z_]+)</td>', only.text) == ["quote_expiry"]


def test_the_jobs_page_needs_a_read_everything_right(runtime: Any) -> None:
    from app.engine.jobs_admin import RIGHT_ENTITY

    assert RIGHT_ENTITY not in runtime.spec.entities
    client = logged_in(runtime, "bob", ("sales",))  # sales read everything: "*": [read]
    assert client.get("/admin/jobs").status_code == 200
    other = logged_in(runtime, "eve", ("sales",), rights=[{"entity": "*", "action": "read", "effect": "deny"}])
    denied = other.get("/admin/jobs", follow_redirects=False)
    assert denied.status_code == 403
    anonymous = logged_in(runtime, "zoe", ("admin",))
    anonymous.cookies.clear()
    assert anonymous.get("/admin/jobs", follow_redirects=False).status_code == 302  # to the login page
