"""Sending mail: real SMTP when COMPTOIR_SMTP_URL is set, else an .eml file in the outbox.

    COMPTOIR_SMTP_URL=smtp://user:password@mail.example.fr:587?starttls=1
    COMPTOIR_SMTP_URL=smtps://user:password@mail.example.fr        (TLS from the start, port 465)
    COMPTOIR_OUTBOX_DIR=./outbox                                   (default, when no SMTP URL)
    COMPTOIR_MAIL_FROM=facturation@example.fr                      (default sender)

Every caller builds its message with `new_message` and hands it to `send`, which answers where
it went; nothing else in the application talks to SMTP.
"""

from __future__ import annotations

import mimetypes
import os
import re
import smtplib
import ssl
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_SENDER = "comptoir@localhost"


class MailError(Exception):
    """The mail could not be sent (bad settings, refused by the server)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = ""

    @property
    def maintype_subtype(self) -> tuple[str, str]:
        guessed = self.mime_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        main, _, sub = guessed.partition("/")
        return main, sub


@dataclass(frozen=True)
class Delivery:
    """Where a message went: `smtp` (with the server) or `outbox` (with the file)."""

    kind: str
    recipients: tuple[str, ...]
    message_id: str
    path: Path | None = None
    server: str = ""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str
    tls: bool  # TLS from the start (smtps)
    starttls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise MailError(f"COMPTOIR_SMTP_URL '{url}': the scheme must be smtp:// or smtps://")
        if not parts.hostname:
            raise MailError(f"COMPTOIR_SMTP_URL '{url}': no host")
        query = parse_qs(parts.query)
        tls = parts.scheme == "smtps"
        try:
            port = parts.port or (465 if tls else 25)
        except ValueError as exc:
            raise MailError(f"COMPTOIR_SMTP_URL '{url}': {exc}") from exc
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            tls=tls,
            starttls=query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"),
        )


def default_sender() -> str:
    return os.environ.get("COMPTOIR_MAIL_FROM") or DEFAULT_SENDER


def outbox_dir() -> Path:
    return Path(os.environ.get("COMPTOIR_OUTBOX_DIR") or "outbox")


def new_message(
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    sender: str | None = None,
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    attachments: Iterable[Attachment] = (),
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A ready-to-send message: plain text (and HTML when given), attachments."""
    if not [a for a in to if a.strip()]:
        raise MailError("no recipient")
    message = EmailMessage()
    message["From"] = sender or default_sender()
    message["To"] = ", ".join(a.strip() for a in to if a.strip())
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="comptoir")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, subtype = attachment.maintype_subtype
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


def _recipients(message: EmailMessage) -> tuple[str, ...]:
    found: list[str] = []
    for header in ("To", "Cc", "Bcc"):
        for value in message.get_all(header, []):
            found.extend(a.strip() for a in str(value).split(",") if a.strip())
    return tuple(found)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:60].strip("_") or "message"


def send(message: EmailMessage, *, smtp_url: str | None = None, outbox: Path | None = None) -> Delivery:
    """Send through COMPTOIR_SMTP_URL (or `smtp_url`), else write an .eml into the outbox."""
    recipients = _recipients(message)
    if not recipients:
        raise MailError("no recipient")
    message_id = str(message["Message-ID"] or make_msgid(domain="comptoir"))
    url = smtp_url if smtp_url is not None else os.environ.get("COMPTOIR_SMTP_URL", "")
    if url:
        settings = SmtpSettings.from_url(url)
        try:
            if settings.tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=30, context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(settings.host, settings.port, timeout=30)
            with client:
                if settings.starttls:
                    client.starttls(context=ssl.create_default_context())
                if settings.username:
                    client.login(settings.username, settings.password)
                client.send_message(message, to_addrs=list(recipients))
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"SMTP {settings.host}:{settings.port}: {exc}") from exc
        return Delivery("smtp", recipients, message_id, server=f"{settings.host}:{settings.port}")
    folder = outbox or outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_safe(str(message['Subject'] or ''))}-{uuid.uuid4().hex[:12]}.eml"
    path.write_bytes(message.as_bytes())
    return Delivery("outbox", recipients, message_id, path=path)
