"""Mail: SMTP against a real local server (aiosmtpd), else .eml files in the outbox."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any

import pytest

from app.documents.mail import Attachment, MailError, SmtpSettings, new_message, send
from tests.smtp import Catcher


def _message() -> Any:
    return new_message(
        to=["compta@dupont.fr"],
        cc=["direction@dupont.fr"],
        subject="Facture FA2612-0001",
        text="Bonjour,\nveuillez trouver notre facture.",
        sender="facturation@berthier.fr",
        attachments=[Attachment("FA2612-0001.pdf", b"%PDF-1.7 test", "application/pdf")],
    )


def test_smtp_delivers_to_every_recipient_with_attachment(smtp: Catcher) -> None:
    catcher = smtp
    delivery = send(_message(), smtp_url=catcher.url)
    assert delivery.kind == "smtp" and delivery.recipients == ("compta@dupont.fr", "direction@dupont.fr")
    [(rcpts, content)] = catcher.messages
    assert rcpts == ["compta@dupont.fr", "direction@dupont.fr"]
    parsed = email.message_from_bytes(content, policy=policy.default)
    assert parsed["Subject"] == "Facture FA2612-0001"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "FA2612-0001.pdf" and attachment.get_content() == b"%PDF-1.7 test"


def test_without_smtp_url_the_message_is_an_eml_in_the_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPTOIR_SMTP_URL", raising=False)
    monkeypatch.setenv("COMPTOIR_OUTBOX_DIR", str(tmp_path / "outbox"))
    delivery = send(_message())
    assert delivery.kind == "outbox" and delivery.path is not None and delivery.path.parent == tmp_path / "outbox"
    parsed = email.message_from_bytes(delivery.path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "compta@dupont.fr" and "veuillez trouver" in parsed.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://mail.example.fr", "scheme"), ("smtp://", "no host"), ("smtp://h:notaport", "Port")],
)
def test_bad_smtp_url_is_named(url: str, message: str) -> None:
    with pytest.raises(MailError, match=message):
        SmtpSettings.from_url(url)


def test_settings_from_url() -> None:
    s = SmtpSettings.from_url("smtps://user%40x:p%40ss@mail.example.fr")
    assert (s.host, s.port, s.username, s.password, s.tls, s.starttls) == ("mail.example.fr", 465, "user@x", "p@ss", True, False)
    assert SmtpSettings.from_url("smtp://mail.example.fr:587?starttls=1").starttls


def test_unreachable_server_is_a_mail_error() -> None:
    with pytest.raises(MailError, match="SMTP 127.0.0.1:1"):
        send(_message(), smtp_url="smtp://127.0.0.1:1")


def test_no_recipient_is_refused() -> None:
    with pytest.raises(MailError, match="no recipient"):
        new_message(to=[" "], subject="x", text="y")
