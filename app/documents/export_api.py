"""POST /api/v1/{entity}/export {"ids": [...], "format": "pdf"|"zip", "template": optional}:
the selection as one PDF or a zip (app/documents/export.py). Called by app/engine/api.py in its
worker thread and session, so rights and the JSON error envelope are the API's."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from app.documents.export import export_documents
from app.engine.store import Store, StoreError

KEYS = ("ids", "format", "template")


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def export_response(store: Store, entity: str, body: dict[str, Any]) -> Response:
    store.require(store.entity(entity).name, "read")
    unknown = sorted(set(body) - set(KEYS))
    if unknown:
        raise StoreError(422, "unknown_field", _m(f"clé inconnue « {unknown[0]} » (ids, format, template)", f"unknown key '{unknown[0]}' (ids, format, template)"), field=unknown[0])
    if "ids" not in body:
        raise StoreError(422, "required", _m("« ids » est obligatoire", "'ids' is required"), field="ids")
    fmt = body.get("format", "pdf")
    template = body.get("template")
    if not isinstance(fmt, str):
        raise StoreError(422, "invalid", _m("« format » : pdf ou zip", "'format': pdf or zip"), field="format")
    if template is not None and not isinstance(template, str):
        raise StoreError(422, "invalid", _m("« template » : nom de modèle attendu", "'template': a template name is expected"), field="template")
    content, filename, mime = export_documents(store, entity, body["ids"], fmt=fmt, template=template or None)
    return Response(content, media_type=mime, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
