"""The list page's "Exporter en PDF" / "Exporter en zip" buttons (entities with PDF templates).

    POST /admin/_export/new/{entity}   form: csrf_token, ids=1,2,3, format=pdf|zip
    GET  /admin/_export/{job}          {"done", "total", "status", "message", "url"} (JSON)
    GET  /admin/_export/{job}/page     the progress bar, polling the JSON above
    GET  /admin/_export/{job}/file     the finished file

Up to SMALL documents, the file is answered at once. A larger selection runs in a background
thread (its own session, the user's rights) which writes its progress to
COMPTOIR_FILES_DIR/exports/<job>.json, so that any worker process can answer the polling; the
file lands next to it. Only the user who started a job sees it. The export itself is
app/documents/export.py.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from app.documents.export import check_selection, export_documents
from app.engine.admin.auth import authenticate, current_principal
from app.engine.permissions import Principal
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError

SMALL = 10  # up to this many documents: downloaded at once, no progress page
KEEP_SECONDS = 24 * 3600  # finished jobs' files are removed after a day
JOB = re.compile(r"[0-9a-f]{32}")
log = logging.getLogger("comptoir.exports")

Endpoint = Callable[[Request], Awaitable[Response]]


def exports_dir() -> Path:
    from app.engine.files import files_root

    return files_root() / "exports"


def _state_path(job: str) -> Path:
    return exports_dir() / f"{job}.json"


def write_state(job: str, state: dict[str, Any]) -> None:
    path = _state_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, path)  # readers never see half a file


def read_state(job: str) -> dict[str, Any] | None:
    if not JOB.fullmatch(job):
        return None
    try:
        state: dict[str, Any] = json.loads(_state_path(job).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state


def _sweep() -> None:
    """Remove the files of jobs older than KEEP_SECONDS."""
    folder = exports_dir()
    if not folder.is_dir():
        return
    limit = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass


def run_job(rt: Runtime, principal: Principal, job: str, entity: str, ids: list[int], fmt: str, template: str | None) -> None:
    """The export of a large selection, writing its progress (run in a background thread)."""
    state: dict[str, Any] = {"user": principal.user_id, "entity": entity, "status": "running", "done": 0, "total": len(ids), "message": ""}

    def progress(done: int, total: int) -> None:
        state.update(done=done, total=total)
        write_state(job, state)

    try:
        with rt.session() as session:
            content, filename, mime = export_documents(Store(rt, session, principal), entity, ids, fmt=fmt, template=template, progress=progress)
            session.commit()
        (exports_dir() / f"{job}.{fmt}").write_bytes(content)
        state.update(status="done", filename=filename, mime=mime, format=fmt, done=state["total"])
    except StoreError as exc:
        state.update(status="error", message=exc.message)
    except Exception:
        log.exception("export %s failed", job)
        state.update(status="error", message="Erreur interne, consignée dans le journal.")
    write_state(job, state)


def parse_ids(raw: str) -> list[int] | None:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in parts):
        return None
    return [int(p) for p in parts]


def _guard(rt: Runtime, work: Callable[[Request, Principal], Awaitable[Response]]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return PlainTextResponse("Connexion requise.", status_code=401)
        principal = current_principal(request)
        if principal is None:
            return PlainTextResponse("Connexion requise.", status_code=401)
        return await work(request, principal)

    return endpoint


def export_routes(admin: Any) -> list[Route]:
    rt: Runtime = admin.runtime

    async def start(request: Request, principal: Principal) -> Response:
        entity = request.path_params["entity"]
        if entity not in rt.spec.entities:
            return PlainTextResponse("Entité inconnue.", status_code=404)
        form = await request.form()
        ids = parse_ids(str(form.get("ids") or ""))
        fmt = str(form.get("format") or "pdf")
        template = str(form.get("template") or "") or None
        if ids is None:
            return PlainTextResponse("Sélection invalide : identifiants attendus.", status_code=422)
        if len(set(ids)) <= SMALL:

            def render() -> Response:
                with rt.session() as session:
                    try:
                        content, filename, mime = export_documents(Store(rt, session, principal), entity, ids, fmt=fmt, template=template)
                    except StoreError as exc:
                        return PlainTextResponse(exc.message, status_code=exc.status)
                    session.commit()
                return Response(content, media_type=mime, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

            response: Response = await anyio.to_thread.run_sync(render)
            return response

        def check() -> list[int] | Response:
            with rt.session() as session:
                try:
                    return check_selection(Store(rt, session, principal), entity, ids, fmt)
                except StoreError as exc:
                    return PlainTextResponse(exc.message, status_code=exc.status)

        checked = await anyio.to_thread.run_sync(check)  # rights and bad input answered at once
        if isinstance(checked, Response):
            return checked
        ids = checked
        job = secrets.token_hex(16)
        await anyio.to_thread.run_sync(_sweep)
        write_state(job, {"user": principal.user_id, "entity": entity, "status": "running", "done": 0, "total": len(ids), "message": ""})
        threading.Thread(target=run_job, args=(rt, principal, job, entity, ids, fmt, template), name=f"export-{job[:8]}", daemon=True).start()
        return RedirectResponse(str(request.url_for("admin:comptoir_export_page", job=job)), status_code=303)

    def mine(request: Request, principal: Principal) -> dict[str, Any] | None:
        state = read_state(request.path_params["job"])
        return state if state is not None and state.get("user") == principal.user_id else None

    async def status(request: Request, principal: Principal) -> Response:
        state = mine(request, principal)
        if state is None:
            return JSONResponse({"error": "export inconnu"}, status_code=404)
        url = str(request.url_for("admin:comptoir_export_file", job=request.path_params["job"])) if state["status"] == "done" else None
        return JSONResponse({k: state.get(k) for k in ("done", "total", "status", "message")} | {"url": url})

    async def page(request: Request, principal: Principal) -> Response:
        state = mine(request, principal)
        if state is None:
            return PlainTextResponse("Export inconnu ou expiré.", status_code=404)
        entity = rt.spec.entities.get(str(state.get("entity")))
        context = {
            "title": "Export de documents",
            "entity_label": entity.plural.fr if entity is not None else "",
            "state": state,
            "status_url": str(request.url_for("admin:comptoir_export_status", job=request.path_params["job"])),
        }
        response: Response = await admin.templates.TemplateResponse(request, "comptoir/export.html", context)
        return response

    async def download(request: Request, principal: Principal) -> Response:
        state = mine(request, principal)
        if state is None or state.get("status") != "done":
            return PlainTextResponse("Export inconnu, pas encore prêt ou expiré.", status_code=404)
        path = exports_dir() / f"{request.path_params['job']}.{state['format']}"
        if not path.is_file():
            return PlainTextResponse("Export expiré.", status_code=404)
        return FileResponse(path, media_type=state["mime"], filename=state["filename"])

    return [
        Route("/_export/new/{entity}", _guard(rt, start), methods=["POST"], name="comptoir_export_start"),
        Route("/_export/{job}", _guard(rt, status), methods=["GET"], name="comptoir_export_status"),
        Route("/_export/{job}/page", _guard(rt, page), methods=["GET"], name="comptoir_export_page"),
        Route("/_export/{job}/file", _guard(rt, download), methods=["GET"], name="comptoir_export_file"),
    ]
