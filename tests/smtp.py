"""A real local SMTP server (aiosmtpd) catching what the application sends."""

from __future__ import annotations

import email
import socket
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from typing import Any, Iterator

from aiosmtpd.controller import Controller


class Catcher:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.url = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def parsed(self) -> list[tuple[list[str], EmailMessage]]:
        return [(rcpts, email.message_from_bytes(content, policy=policy.default)) for rcpts, content in self.messages]  # type: ignore[misc]


@contextmanager
def smtp_server() -> Iterator[Catcher]:
    catcher = Catcher()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    catcher.url = f"smtp://127.0.0.1:{port}"
    try:
        yield catcher
    finally:
        controller.stop()
