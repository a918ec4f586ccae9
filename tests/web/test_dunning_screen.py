"""The dunning screen /admin/dunning through the real admin (session login, CSRF): colour
bands, overdue rows pre-selected, the computed next step, the due-date range, the dry run
(exactly what would be sent, nothing sent), sending (mails caught by aiosmtpd, steps logged),
per-user templates, rights; and the follow-up panel of the invoice page."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from typing import Any

import lxml.html
from starlette.testclient import TestClient

from app.engine.followup import entries
from app.spec.expressions import fixed_clock
from tests.conftest import add_user
from tests.engine.apiclient import api_client, make_app
from tests.followup_helpers import invoice, log_step, parties
from tests.smtp import Catcher

TODAY = dt.date(2026, 12, 10)
D = dt.date
PASSWORD = "secret-pass-1"


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def _login(rt: Any, user: str, groups: list[str]) -> TestClient:
    add_user(rt, user, groups)
    client = TestClient(make_app(rt))
    token = _csrf(client.get("/admin/login").text)
    done = client.post("/admin/login", data={"username": user, "password": PASSWORD, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 302, done.text
    return client


def _scenario(rt: Any) -> dict[str, int]:
    client = api_client(rt)
    parts = parties(client)
    ids = {
        "notice": invoice(client, parts, D(2026, 9, 1), D(2026, 10, 1)),
        "second": invoice(client, parts, D(2026, 10, 1), D(2026, 11, 1)),
        "overdue": invoice(client, parts, D(2026, 11, 1), D(2026, 12, 1)),
        "soon": invoice(client, parts, D(2026, 11, 15), D(2026, 12, 15)),
        "later": invoice(client, parts, D(2026, 11, 20), D(2026, 12, 20)),
    }
    log_step(client, ids["notice"], "reminder_1", D(2026, 10, 1))
    log_step(client, ids["notice"], "reminder_2", D(2026, 10, 16))
    log_step(client, ids["second"], "reminder_1", D(2026, 11, 3))
    return ids


def _find(element: Any, selector: str) -> list[Any]:
    """Elements under `element` matching `tag.class`, `.class` or `#id` (XPath: no cssselect)."""
    if selector.startswith("#"):
        return list(element.xpath(f".//*[@id='{selector[1:]}']"))
    tag, _, classes = selector.partition(".")
    test = " and ".join(f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')" for c in classes.split(".") if c)
    return list(element.xpath(f".//{tag or '*'}" + (f"[{test}]" if test else "")))  # `tbody/tr`: a path


def _rows(page: str) -> dict[int, dict[str, Any]]:
    tree = lxml.html.fromstring(page)
    rows = {}
    for tr in _find(tree, "tr.dunning-row"):
        box = _find(tr, "input.dunning-check")[0]
        rows[int(tr.get("data-id"))] = {
            "band": tr.get("data-band"), "colour": tr.get("data-colour"), "checked": box.get("checked") is not None,
            "step": _find(tr, "td.dunning-next")[0].get("data-step"),
        }
    return rows


def _previews(page: str) -> list[dict[str, str]]:
    tree = lxml.html.fromstring(page)
    return [
        {
            "id": item.get("data-id"), "step": item.get("data-step"),
            "to": _find(item, ".dunning-to")[0].text_content(), "subject": _find(item, ".dunning-subject")[0].text_content(),
            "body": _find(item, ".dunning-body")[0].text_content(),
        }
        for item in _find(tree, ".dunning-mail")
    ]


def _texts(page: str, css: str) -> list[str]:
    return [e.text_content().strip() for e in _find(lxml.html.fromstring(page), css)]


def test_bands_preselection_dry_run_and_send(runtime: Any, smtp: Catcher) -> None:
    ids = _scenario(runtime)
    client = _login(runtime, "marie", ["accounting"])
    with fixed_clock(TODAY):
        home = client.get("/admin/")
        assert [a.get("href") for a in _find(lxml.html.fromstring(home.text), "a") if a.text_content().strip() == "Relances"] == ["http://testserver/admin/dunning"]
        page = client.get("/admin/dunning")
        assert page.status_code == 200
        rows = _rows(page.text)
        assert rows == {
            ids["notice"]: {"band": "overdue", "colour": "#d63939", "checked": True, "step": "formal_notice"},
            ids["second"]: {"band": "overdue", "colour": "#d63939", "checked": True, "step": "reminder_2"},
            ids["overdue"]: {"band": "overdue", "colour": "#d63939", "checked": True, "step": "reminder_1"},
            ids["soon"]: {"band": "due_soon", "colour": "#f59f00", "checked": False, "step": "reminder_1"},
            ids["later"]: {"band": "not_due", "colour": "#206bc4", "checked": False, "step": "reminder_1"},
        }
        ranged = client.get("/admin/dunning", params={"due_from": "2026-12-01", "due_to": "2026-12-31"})
        assert sorted(_rows(ranged.text)) == sorted([ids["overdue"], ids["soon"], ids["later"]])
        bad = client.get("/admin/dunning", params={"due_from": "01/12/2026"})
        assert bad.status_code == 200 and _texts(bad.text, ".dunning-error") == ["Date invalide « 01/12/2026 » : attendu AAAA-MM-JJ."]

        token = _csrf(page.text)
        selected = [str(ids["notice"]), str(ids["overdue"])]
        dry = client.post("/admin/dunning", data={"csrf_token": token, "action": "dry_run", "ids": selected})
        assert dry.status_code == 200 and smtp.messages == []
        previews = _previews(dry.text)
        assert [(p["id"], p["step"], p["to"]) for p in previews] == [
            (str(ids["notice"]), "formal_notice", "compta@dupont.fr"), (str(ids["overdue"]), "reminder_1", "compta@dupont.fr")]
        assert previews[0]["subject"].startswith("Mise en demeure — facture FA")
        # 1 200,00 € due since 01/10/2026: 70 days at 12.15 % = 27.96 €, and the 40 € indemnity
        assert "sur 70 jours : 27,96 €" in previews[0]["body"] and "recouvrement : 40,00 €" in previews[0]["body"]
        # the invoice's PDF goes with each mail (rendered when sent, not for the dry run)
        assert "n'est pas jointe" not in previews[1]["body"] and dry.text.count("Pièce jointe : le PDF de") == 2
        assert {k: v["checked"] for k, v in _rows(dry.text).items()} == {i: str(i) in selected for i in ids.values()}
        with runtime.session() as session:
            assert len(entries(session, runtime.models.metadata, "invoice", ids["overdue"])) == 0

        refused = client.post("/admin/dunning", data={"action": "send", "ids": selected})
        assert refused.status_code == 403 and smtp.messages == []

        sent = client.post("/admin/dunning", data={"csrf_token": token, "action": "send", "ids": selected})
        assert sent.status_code == 200
    assert [r for r, _ in smtp.messages] == [["compta@dupont.fr"], ["compta@dupont.fr"]]
    subjects = [str(email.message_from_bytes(c, policy=policy.default)["Subject"]) for _, c in smtp.messages]
    assert subjects == [previews[0]["subject"], previews[1]["subject"]]  # exactly what the dry run showed
    assert len(_texts(sent.text, ".dunning-result.alert-success")) == 2
    after = _rows(sent.text)
    assert (after[ids["notice"]]["step"], after[ids["overdue"]]["step"]) == ("", "reminder_2")
    with runtime.session() as session:
        [entry] = entries(session, runtime.models.metadata, "invoice", ids["overdue"])
    assert (entry.step, entry.on, entry.kind, entry.login, entry.recipients) == ("reminder_1", TODAY, "manual", "marie", ("compta@dupont.fr",))
    assert entry.message_id and entry.message_id in smtp.messages[1][1].decode()


def test_own_templates_rights_and_the_record_panel(runtime: Any, smtp: Catcher) -> None:
    ids = _scenario(runtime)
    marie = _login(runtime, "marie", ["accounting"])
    bob = _login(runtime, "bob", ["accounting"])
    reader = _login(runtime, "lea", ["readonly"])
    with fixed_clock(TODAY):
        page = marie.get("/admin/dunning")
        token = _csrf(page.text)
        broken = marie.post("/admin/dunning", data={"csrf_token": token, "action": "save_template", "step": "reminder_2", "subject": "x", "body": "{{ document.number "})
        assert _texts(broken.text, ".dunning-error")[0].startswith("Modèle non enregistré")
        saved = marie.post("/admin/dunning", data={
            "csrf_token": token, "action": "save_template", "step": "reminder_2",
            "subject": "Petit rappel {{ document.number }}", "body": "Bonjour, merci de régler {{ document.amount_remaining | money }}.\n",
        })
        assert _texts(saved.text, ".dunning-result") == ["Modèle « Relance 2 » enregistré."]
        mine = _previews(marie.post("/admin/dunning", data={"csrf_token": token, "action": "dry_run", "ids": [str(ids["second"])]}).text)
        number = api_client(runtime, "x").get(f"/api/v1/invoice/{ids['second']}").json()["number"]
        assert [(p["subject"], p["body"]) for p in mine] == [(f"Petit rappel {number}", "Bonjour, merci de régler 1 200,00 €.\n")]
        bob_token = _csrf(bob.get("/admin/dunning").text)
        theirs = _previews(bob.post("/admin/dunning", data={"csrf_token": bob_token, "action": "dry_run", "ids": [str(ids["second"])]}).text)
        assert [p["subject"] for p in theirs] == [f"Deuxième relance — facture {number} impayée"]

        read_page = reader.get("/admin/dunning")
        assert read_page.status_code == 200 and "dunning-send" not in read_page.text
        refused = reader.post("/admin/dunning", data={"csrf_token": _csrf(read_page.text), "action": "send", "ids": [str(ids["overdue"])]})
        assert _texts(refused.text, ".dunning-error") == ["Droit « edit » sur « invoice » refusé à lea."]
        assert smtp.messages == []

        details = marie.get(f"/admin/invoice/details/{ids['second']}")
        panel = _find(lxml.html.fromstring(details.text), "#follow-up")[0]
        assert "Relance 2" in _find(panel, "#follow-up-next")[0].text_content()
        assert _find(panel, ".follow-up-late")[0].get("data-date") == "2026-11-18"  # red: its date has passed
        form = _find(panel, "#follow-up-form")[0]
        posted = marie.post(form.get("action"), data={"csrf_token": _csrf(details.text), "step": "reminder_2", "note": "Appel, promesse de virement"}, follow_redirects=False)
        assert posted.status_code == 303
        again = lxml.html.fromstring(marie.get(f"/admin/invoice/details/{ids['second']}").text)
        assert [tr.get("data-step") for tr in _find(_find(again, "#follow-up-log")[0], "tbody/tr")] == ["reminder_1", "reminder_2"]
        assert "Mise en demeure" in _find(again, "#follow-up-next")[0].text_content()
