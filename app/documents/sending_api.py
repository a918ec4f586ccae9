"""GET / POST /api/v1/{entity}/{id}/mail: « Envoyer par e-mail » through the API.

GET answers the proposed mail: `{"to", "subject", "body", "pdf", "files", "transition",
"problem"}`. POST `{"to"?, "cc"?, "subject"?, "body"?, "template"?, "files"?}` sends it (the
proposed values for what is left out) and answers `{"sent": {...}, "record": {...}}`; the edit
right on the entity is needed. A refused mail answers 502 and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.documents.mail import MailError
from app.documents.sending import mail_preview, send_document
from app.engine.api import RecordApi, _path_id
from app.engine.followup_api import record_route
from app.engine.runtime import Runtime
from app.engine.store import Store
from app.web.errors import ApiError

PATH = "/api/v1/{entity}/{id}/mail"
FIELDS = ("to", "cc", "subject", "body", "template", "files")


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def mail_routes(rt: Runtime) -> list[Route]:
    api = RecordApi(rt)

    def read(store: Store, entity: str, raw_id: str) -> Response:
        record_id = _path_id(store, entity, raw_id, "read")
        preview = mail_preview(store, entity, record_id)
        return JSONResponse({
            "to": list(preview.to), "subject": preview.subject, "body": preview.body, "pdf": preview.pdf,
            "files": list(preview.files), "transition": preview.transition, "problem": preview.problem,
        })

    def write(store: Store, entity: str, raw_id: str, body: bytes | ApiError) -> Response:
        if isinstance(body, ApiError):
            raise body
        record_id = _path_id(store, entity, raw_id, "edit")
        store.require(entity, "edit")
        try:
            data: Any = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "bad_json", _m("JSON invalide", "invalid JSON")) from None
        if not isinstance(data, dict):
            raise ApiError(400, "bad_body", _m("le corps doit être un objet JSON", "the body must be a JSON object"))
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise ApiError(422, "unknown_field", _m(f"champ inconnu « {unknown[0]} » ({', '.join(FIELDS)})", f"unknown field '{unknown[0]}' ({', '.join(FIELDS)})"), field=unknown[0])
        try:
            sent = send_document(store, entity, record_id, **{k: data.get(k) for k in FIELDS if k != "files"}, files=data.get("files") or [])
        except MailError as exc:
            store.session.rollback()
            raise ApiError(502, "mail_refused", _m(f"le message n'a pas pu être envoyé : {exc}", f"the message could not be sent: {exc}")) from None
        store.session.flush()
        record = store.serialize(store.get(entity, record_id))
        return JSONResponse({
            "sent": {"to": list(sent.to), "cc": list(sent.cc), "message_id": sent.message_id, "attachments": list(sent.attachments),
                     "transition": sent.transition, "kind": sent.kind},
            "record": record,
        })

    return [record_route(api, PATH, read, write)]
