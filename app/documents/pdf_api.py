"""HTTP answers for GET /api/v1/{entity}/{id}/pdf[?template=NAME|?format=ubl] and /ubl.

Called by app/engine/api.py inside its worker thread and session (never in the event loop),
so permissions and errors are the API's; bad input is a 4xx with the JSON error envelope.
"""

from __future__ import annotations

from typing import Mapping

from starlette.responses import Response

from app.documents.pdf import document_pdf
from app.engine.store import Store, StoreError

FORMATS = ("pdf", "ubl")


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def document_response(store: Store, entity: str, record_id: int, query: Mapping[str, str]) -> Response:
    unknown = sorted(set(query) - {"template", "format"})
    if unknown:
        raise StoreError(400, "bad_parameter", _m(f"paramètre inconnu « {unknown[0]} » (template, format)", f"unknown parameter '{unknown[0]}' (template, format)"), field=unknown[0])
    kind = query.get("format", "pdf")
    if kind not in FORMATS:
        raise StoreError(400, "bad_parameter", _m(f"format inconnu « {kind} » (pdf, ubl)", f"unknown format '{kind}' (pdf, ubl)"), field="format")
    if kind == "ubl":
        return ubl_response(store, entity, record_id, {})
    template = query.get("template") or None
    result = document_pdf(store, entity, record_id, template)
    headers = {
        "Content-Disposition": f'inline; filename="{result.filename}"',
        "X-Comptoir-Stored": "yes" if result.stored else "no",
    }
    return Response(result.content, media_type="application/pdf", headers=headers)


def ubl_response(store: Store, entity: str, record_id: int, query: Mapping[str, str]) -> Response:
    from app.documents.ubl import document_ubl

    if query:
        name = sorted(query)[0]
        raise StoreError(400, "bad_parameter", _m(f"paramètre inconnu « {name} »", f"unknown parameter '{name}'"), field=name)
    xml, filename = document_ubl(store, entity, record_id)
    return Response(xml, media_type="application/xml", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
