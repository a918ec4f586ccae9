"""CSRF protection for every state-changing request under /admin.

The token lives in the (signed, HttpOnly, SameSite=strict) session; pages carry it as a hidden
`csrf_token` form field and as an `X-CSRF-Token` header on script requests (see
templates/sqladmin/base.html). Any POST/PUT/PATCH/DELETE without the right token is refused
with 403 before sqladmin sees it — including sqladmin's own create, edit, delete, import and
login endpoints.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from markupsafe import Markup, escape
from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

REFUSED = (
    "Requête refusée : jeton de sécurité (CSRF) absent ou invalide. "
    "Rechargez la page puis recommencez."
)
TOO_LARGE = "Requête refusée : le contenu envoyé est trop volumineux."


def csrf_token(conn: HTTPConnection) -> str:
    """The session's token, created on first use."""
    session = conn.session
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def rotate_token(conn: HTTPConnection) -> str:
    token = secrets.token_urlsafe(32)
    conn.session[SESSION_KEY] = token
    return token


def csrf_input(conn: HTTPConnection) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FORM_FIELD, escape(csrf_token(conn)))


def token_matches(expected: Any, given: Any) -> bool:
    if not isinstance(expected, str) or not isinstance(given, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _refusal(status: int, message: str) -> HTMLResponse:
    body = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Refusé</title></head>'
        f"<body><h1>{status}</h1><p>{escape(message)}</p>"
        '<p><a href="javascript:history.back()">Retour</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status)


class CSRFMiddleware:
    """Checks the token of unsafe requests; the body is buffered (up to `max_body`) and replayed."""

    def __init__(self, app: ASGIApp, *, max_body: int = 25 * 1024 * 1024) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        expected = scope["session"].get(SESSION_KEY) if "session" in scope else None
        if token_matches(expected, conn.headers.get(HEADER)):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(receive)
        if body is None:
            await _refusal(413, TOO_LARGE)(scope, receive, send)
            return
        given = await self._form_token(scope, body)
        if not token_matches(expected, given):
            await _refusal(403, REFUSED)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _form_token(self, scope: Scope, body: bytes) -> str | None:
        content_type = HTTPConnection(scope).headers.get("content-type", "")
        if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            return None
        request = Request(scope, _replay(body))
        try:
            form: FormData = await request.form()
        except Exception:  # a malformed body is refused like a missing token
            return None
        try:
            value = form.get(FORM_FIELD)
            return value if isinstance(value, str) else None
        finally:
            await form.close()


def _replay(body: bytes, then: Receive | None = None) -> Receive:
    """A `receive` giving the buffered body once, then waiting on the real one (disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
