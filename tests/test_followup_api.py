"""The follow-up of documents through the HTTP API: automatic entries (sent, payment received),
manual entries, the forecast of the next step (late once its date has passed), bad input and
rights; and the trainer's scenario — reminder 1 moved from 0 to 5 days and a reminder 3 added
in workflows.yaml only — followed by the forecasts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

import pytest

from app.spec.expressions import fixed_clock
from app.verbs.dunning_job import dunning_job
from tests.engine.apiclient import add_user_with_token, api_client, client_for, error_of, make_app
from tests.followup_helpers import invoice, log_step, parties, pay
from tests.web.test_dunning_screen import _login, _rows

D = dt.date


def _follow_up(client: Any, invoice_id: int, on: dt.date) -> dict[str, Any]:
    with fixed_clock(on):
        got = client.get(f"/api/v1/invoice/{invoice_id}/follow-up")
    assert got.status_code == 200, got.text
    return dict(got.json())


def test_sent_and_payment_entries_and_the_forecast(runtime: Any) -> None:
    client = api_client(runtime, "claire")
    parts = parties(client)
    invoice_id = invoice(client, parts, D(2026, 11, 2), D(2026, 12, 2), send=True)
    before = _follow_up(client, invoice_id, D(2026, 12, 2))
    assert [(e["step"], e["date"], e["kind"], e["user"], e["label"]["fr"]) for e in before["log"]] == [
        ("sent", "2026-11-02", "auto", "claire", "Envoi du document")]
    assert before["followed"] is True
    assert before["next"] == {"step": "reminder_1", "label": {"fr": "Relance 1", "en": "Reminder 1"}, "date": "2026-12-02",
                              "late": False, "due": True, "colour": "#f59f00"}
    assert _follow_up(client, invoice_id, D(2026, 12, 3))["next"]["late"] is True  # red once its date has passed
    assert _follow_up(client, invoice_id, D(2026, 12, 1))["next"]["due"] is False

    with fixed_clock(D(2026, 12, 5)):
        done = client.post(f"/api/v1/invoice/{invoice_id}/follow-up", json={"step": "reminder_1", "note": "Appel : règlement promis"})
    assert done.status_code == 201, done.text
    entry = done.json()["log"][-1]
    assert (entry["step"], entry["date"], entry["kind"], entry["note"], entry["user"]) == ("reminder_1", "2026-12-05", "manual", "Appel : règlement promis", "claire")
    assert done.json()["next"]["step"] == "reminder_2" and done.json()["next"]["date"] == "2026-12-20"

    pay(client, parts["account"], invoice_id, "400", D(2026, 12, 8))
    partial = _follow_up(client, invoice_id, D(2026, 12, 8))
    assert [e["step"] for e in partial["log"]] == ["sent", "reminder_1", "payment_received"]
    assert partial["followed"] is True and partial["next"]["step"] == "reminder_2"  # still 800 due
    pay(client, parts["account"], invoice_id, "800", D(2026, 12, 9))
    paid = _follow_up(client, invoice_id, D(2026, 12, 9))
    assert [(e["step"], e["date"]) for e in paid["log"]][-1] == ("payment_received", "2026-12-09")
    assert paid["followed"] is False and paid["next"] is None  # paid: no longer chased


def test_bad_input_rights_and_unknown_routes(runtime: Any) -> None:
    client = api_client(runtime)
    parts = parties(client)
    invoice_id = invoice(client, parts, D(2026, 11, 2), D(2026, 12, 2))
    url = f"/api/v1/invoice/{invoice_id}/follow-up"
    cases: list[tuple[Any, int, str, str | None, str]] = [
        ({"step": "reminder_9"}, 422, "invalid", "step", "étape inconnue 'reminder_9'"),
        ({"step": "reminder_1", "date": "02/12/2026"}, 422, "invalid", "date", "AAAA-MM-JJ"),
        ({"step": "reminder_1", "note": 12}, 422, "invalid", "note", "texte"),
        ({"step": "reminder_1", "who": "me"}, 422, "unknown_field", "who", "champ inconnu « who »"),
        (["reminder_1"], 400, "bad_body", None, "objet JSON"),
    ]
    for body, status, code, field, text in cases:
        answer = client.post(url, json=body)
        assert answer.status_code == status, (body, answer.text)
        error = error_of(answer)
        assert (error["code"], error["field"]) == (code, field) and text in error["message"], error
    bad_json = client.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and error_of(bad_json)["code"] == "bad_json"
    assert client.get(url).json()["log"] == []  # nothing was saved
    assert client.delete(url).status_code == 405
    assert client.get(f"/api/v1/invoice/999999/follow-up").status_code == 404
    account_answer = client.get(f"/api/v1/account/{parts['account']}/follow-up")
    assert account_answer.status_code == 404 and error_of(account_answer)["code"] == "no_follow_up"
    assert client_for(make_app(runtime), None).get(url).status_code == 401
    reader = client_for(make_app(runtime), add_user_with_token(runtime, "lecteur", ["readonly"]))
    assert reader.get(url).status_code == 200
    refused = reader.post(url, json={"step": "reminder_1"})
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"


def test_trainer_moves_reminder_1_and_adds_reminder_3(config_copy: Path, make_runtime: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = config_copy / "workflows.yaml"
    text = path.read_text(encoding="utf-8")
    old = "after: due_date, days: 0, template: reminder_1.txt"
    assert old in text
    text = text.replace(old, "after: due_date, days: 5, template: reminder_1.txt")
    anchor = "      formal_notice:\n"
    text = text.replace(anchor, '      reminder_3: {label: {fr: Relance 3, en: Reminder 3}, days: 10, template: reminder_2.txt, colour: "#e8590c"}\n' + anchor, 1)
    path.write_text(text, encoding="utf-8")
    rt = make_runtime(config_copy)
    client = api_client(rt)
    parts = parties(client)
    invoice_id = invoice(client, parts, D(2026, 11, 2), D(2026, 12, 2))
    assert _follow_up(client, invoice_id, D(2026, 12, 3))["next"]["date"] == "2026-12-07"  # due date + 5
    monkeypatch.delenv("COMPTOIR_SMTP_URL", raising=False)
    monkeypatch.setenv("COMPTOIR_OUTBOX_DIR", str(tmp_path / "outbox"))
    assert dunning_job(rt, D(2026, 12, 6), {})["sent"] == 0  # the job follows too
    assert dunning_job(rt, D(2026, 12, 7), {})["sent"] == 1
    assert [(e["step"], e["date"]) for e in _follow_up(client, invoice_id, D(2026, 12, 7))["log"]] == [("reminder_1", "2026-12-07")]
    log_step(client, invoice_id, "reminder_2", D(2026, 12, 22))
    third = _follow_up(client, invoice_id, D(2026, 12, 22))["next"]
    assert (third["step"], third["label"]["fr"], third["date"]) == ("reminder_3", "Relance 3", "2027-01-01")
    screen = _login(rt, "marie", ["accounting"])
    with fixed_clock(D(2026, 12, 22)):
        rows = _rows(screen.get("/admin/dunning").text)  # and the dunning screen
    assert rows[invoice_id]["step"] == "reminder_3"
    log_step(client, invoice_id, "reminder_3", D(2027, 1, 1))
    assert _follow_up(client, invoice_id, D(2027, 1, 1))["next"]["step"] == "formal_notice"
