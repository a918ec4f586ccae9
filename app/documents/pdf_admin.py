"""The admin's "PDF" button: GET /admin/_pdf/{entity}/{pk}[?template=NAME] with the session.

`pdf_links` gives the record page its buttons (the default template first, then the others);
the endpoint renders in a worker thread (never in the event loop) through the Store, so the
user's read right applies, and answers a plain-text error page on bad input.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.documents.pdf import document_pdf, pick_template
from app.engine.admin.auth import authenticate, current_principal
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError
from app.spec.model import EntitySpec

ROUTE_NAME = "comptoir_pdf"


def pdf_links(request: Request, store: Store, entity: EntitySpec, obj: Any) -> list[dict[str, Any]]:
    """[{label, url, default}] for each template of the entity; [] when it has none."""
    from app.engine.verbs import record_values

    if entity.pdf is None:
        return []
    default = pick_template(entity, record_values(store, entity, obj), None)
    base = str(request.url_for(f"admin:{ROUTE_NAME}", entity=entity.name, pk=obj.id))
    links = [{"label": t.label.fr, "url": f"{base}?template={t.name}", "default": t.name == default.name, "name": t.name} for t in entity.pdf.templates.values()]
    return sorted(links, key=lambda link: not link["default"])


def pdf_endpoint(rt: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return PlainTextResponse("Connexion requise.", status_code=401)
        principal = current_principal(request)
        if principal is None:
            return PlainTextResponse("Connexion requise.", status_code=401)
        entity = request.path_params["entity"]
        template = request.query_params.get("template") or None

        def render() -> Response:
            with rt.session() as session:
                try:
                    result = document_pdf(Store(rt, session, principal), entity, request.path_params["pk"], template)
                except StoreError as exc:
                    return PlainTextResponse(exc.message, status_code=exc.status)
            headers = {"Content-Disposition": f'inline; filename="{result.filename}"'}
            return Response(result.content, media_type="application/pdf", headers=headers)

        if entity not in rt.spec.entities:
            return PlainTextResponse("Entité inconnue.", status_code=404)
        response: Response = await anyio.to_thread.run_sync(render)
        return response

    return endpoint
