"""« Envoyer par e-mail » through the API (GET/POST /api/v1/{entity}/{id}/mail) and the admin
page: the proposed mail, the PDF and document-area files attached, caught by a real SMTP
server; the document marked sent and « document sent » in its follow-up log; refusals."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from app.engine.followup import entries
from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client
from tests.followup_helpers import invoice, parties
from tests.smtp import Catcher

DAY = dt.date(2026, 12, 1)


def _invoice(client: Any) -> tuple[int, dict[str, int]]:
    parts = parties(client, email="compta@dupont.fr", contact_email="claire.martin@dupont.fr")
    return invoice(client, parts, DAY, DAY + dt.timedelta(days=30)), parts


def test_the_proposed_mail_goes_with_the_pdf_and_a_file_and_marks_the_invoice_sent(runtime: Any, smtp: Catcher) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        invoice_id, _ = _invoice(client)
        number = client.get(f"/api/v1/invoice/{invoice_id}").json()["number"]
        uploaded = client.post(f"/api/v1/invoice/{invoice_id}/files", files={"file": ("conditions.pdf", b"%PDF-1.4\n%test\n", "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["items"][0]["id"]
        preview = client.get(f"/api/v1/invoice/{invoice_id}/mail").json()
        assert preview["to"] == ["claire.martin@dupont.fr"]  # the contact first
        assert number in preview["subject"] and preview["pdf"] is True and preview["transition"] == "send"
        assert [f["name"] for f in preview["files"]] == ["conditions.pdf"]
        done = client.post(f"/api/v1/invoice/{invoice_id}/mail", json={"cc": ["direction@dupont.fr"], "files": [file_id]})
        assert done.status_code == 200, done.text
        sent = done.json()["sent"]
    assert done.json()["record"]["status"] == "sent"
    [(rcpts, message)] = smtp.parsed()
    assert rcpts == ["claire.martin@dupont.fr", "direction@dupont.fr"] and str(message["Subject"]) == preview["subject"]
    names = [a.get_filename() for a in message.iter_attachments()]
    assert len(names) == 2 and number in str(names[0]) and names[1] == "conditions.pdf" and sent["attachments"] == names
    assert next(message.iter_attachments()).get_content().startswith(b"%PDF")
    with runtime.session() as session:
        [entry] = [e for e in entries(session, runtime.models.metadata, "invoice", invoice_id) if e.step == "sent"]
    assert entry.message_id == sent["message_id"] and "claire.martin@dupont.fr" in (entry.recipients or "")


def test_sending_again_once_sent_only_records_it(runtime: Any, smtp: Catcher) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        invoice_id, _ = _invoice(client)
        first = client.post(f"/api/v1/invoice/{invoice_id}/mail", json={"subject": "Votre facture", "body": "Bonjour,\nci-joint."})
        assert first.status_code == 200 and first.json()["sent"]["transition"] == "send"
        again = client.post(f"/api/v1/invoice/{invoice_id}/mail", json={"to": "autre@dupont.fr"})
        assert again.status_code == 200 and again.json()["sent"]["transition"] is None
    assert [rcpts for rcpts, _ in smtp.messages] == [["claire.martin@dupont.fr"], ["autre@dupont.fr"]]
    assert str(smtp.parsed()[0][1]["Subject"]) == "Votre facture"
    with runtime.session() as session:
        assert [e.step for e in entries(session, runtime.models.metadata, "invoice", invoice_id)].count("sent") == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"to": "pas-une-adresse"}, 422, "to"),
        ({"cc": ["a@b.fr", "x"]}, 422, "cc"),
        ({"files": [999]}, 422, "files"),
        ({"subject": " "}, 422, "subject"),
        ({"urgent": True}, 422, "urgent"),
        ({"template": "inconnu"}, 404, "template"),
    ],
)
def test_bad_input_is_named_and_nothing_is_sent(runtime: Any, smtp: Catcher, body: dict[str, Any], status: int, field: str) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        invoice_id, _ = _invoice(client)
        refused = client.post(f"/api/v1/invoice/{invoice_id}/mail", json=body)
    assert refused.status_code == status and refused.json()["error"]["field"] == field, refused.text
    assert smtp.messages == [] and client.get(f"/api/v1/invoice/{invoice_id}").json()["status"] == "validated"


def test_a_refused_mail_changes_nothing(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPTOIR_SMTP_URL", "smtp://127.0.0.1:1")
    client = api_client(runtime)
    with fixed_clock(DAY):
        invoice_id, _ = _invoice(client)
        refused = client.post(f"/api/v1/invoice/{invoice_id}/mail", json={})
    assert refused.status_code == 502 and refused.json()["error"]["code"] == "mail_refused"
    assert client.get(f"/api/v1/invoice/{invoice_id}").json()["status"] == "validated"
    with runtime.session() as session:
        assert [e.step for e in entries(session, runtime.models.metadata, "invoice", invoice_id) if e.step == "sent"] == []


def test_a_readonly_user_may_read_the_proposal_not_send(runtime: Any, smtp: Catcher) -> None:
    client = api_client(runtime)
    with fixed_clock(DAY):
        invoice_id, _ = _invoice(client)
    reader = api_client(runtime, login="lecteur", groups=["readonly"])
    assert reader.get(f"/api/v1/invoice/{invoice_id}/mail").status_code == 200
    assert reader.post(f"/api/v1/invoice/{invoice_id}/mail", json={}).status_code == 403
    assert smtp.messages == []


def test_an_entity_without_a_sent_step_is_not_mailed(runtime: Any) -> None:
    client = api_client(runtime)
    account = client.post("/api/v1/account", json={"name": "Dupont SARL", "type": "client"}).json()["id"]
    refused = client.post(f"/api/v1/account/{account}/mail", json={})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "no_mail"


def test_the_admin_page_proposes_the_mail_and_sends_it(runtime: Any, smtp: Catcher) -> None:
    from tests.engine.test_admin import csrf_of, logged_in

    client = api_client(runtime)
    with fixed_clock(DAY):
        invoice_id, _ = _invoice(client)
        admin = logged_in(runtime, "gerard")
        record = admin.get(f"/admin/invoice/details/{invoice_id}")
        assert f'href="http://testserver/admin/_mail/invoice/{invoice_id}"' in record.text and "Envoyer par e-mail" in record.text
        page = admin.get(f"/admin/_mail/invoice/{invoice_id}")
        assert page.status_code == 200 and 'value="claire.martin@dupont.fr"' in page.text
        subject = re.search(r'id="mail-subject" name="subject" value="([^"]+)"', page.text)
        assert subject is not None
        refused = admin.post(f"/admin/_mail/invoice/{invoice_id}", data={"to": "x@", "subject": "Facture", "body": "b", "csrf_token": csrf_of(page.text)})
        assert refused.status_code == 422 and "adresse e-mail invalide" in refused.text and smtp.messages == []
        sent = admin.post(
            f"/admin/_mail/invoice/{invoice_id}",
            data={"to": "claire.martin@dupont.fr", "cc": "", "subject": "Votre facture", "body": "Bonjour", "template": "invoice", "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        without_token = admin.post(f"/admin/_mail/invoice/{invoice_id}", data={"to": "a@b.fr", "subject": "s", "body": "b"})
        assert without_token.status_code == 403
    assert [str(m["Subject"]) for _, m in smtp.parsed()] == ["Votre facture"]
    assert client.get(f"/api/v1/invoice/{invoice_id}").json()["status"] == "sent"


@pytest.mark.parametrize(
    ("entity", "subject", "state"),
    [("quote", "Devis DE", "sent"), ("order", "Confirmation de votre commande CO", "validated"), ("delivery", "Bon de livraison BL", "validated")],
)
def test_quotes_orders_and_delivery_notes_are_mailed_with_their_pdf(runtime: Any, smtp: Catcher, entity: str, subject: str, state: str) -> None:
    client = api_client(runtime)
    parts = parties(client, email="compta@dupont.fr", contact_email="claire.martin@dupont.fr")
    with fixed_clock(DAY):
        created = client.post(f"/api/v1/{entity}", json={**parts, "date": str(DAY), "lines": [{"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}]})
        assert created.status_code == 201, created.text
        record_id = created.json()["id"]
        assert client.post(f"/api/v1/{entity}/{record_id}/actions/validate").status_code == 200
        preview = client.get(f"/api/v1/{entity}/{record_id}/mail").json()
        assert preview["subject"].startswith(subject) and preview["to"] == ["claire.martin@dupont.fr"] and preview["pdf"] is True
        done = client.post(f"/api/v1/{entity}/{record_id}/mail", json={})
        assert done.status_code == 200, done.text
    assert done.json()["record"]["status"] == state and done.json()["record"]["sent_on"] == str(DAY)
    [(_, message)] = smtp.parsed()
    [pdf] = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    with runtime.session() as session:
        [entry] = [e for e in entries(session, runtime.models.metadata, entity, record_id) if e.step == "sent"]
    assert entry.message_id == done.json()["sent"]["message_id"]
