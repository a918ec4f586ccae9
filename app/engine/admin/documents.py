"""The "Documents" panel of every record page: the record's files by folder (name, size, date,
who), download links, an upload form (folder choice, several files, POST with the CSRF token)
and a delete button per file, asked for confirmation. Rights are the record's (read to see,
edit to upload and delete), through app/engine/record_files.py like the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import anyio.to_thread
from sqladmin.flash import flash
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from app.engine import record_files
from app.engine.admin.auth import authenticate, current_principal
from app.engine.admin.errors import french
from app.engine.admin.formatting import date as format_date
from app.engine.admin.formatting import number
from app.engine.files import FILE_TYPES, GENERATED, FileRow, MIME_TYPES, allowed_labels, too_large
from app.engine.models import Record
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError

UPLOAD_ROUTE = "comptoir_documents_upload"
DOWNLOAD_ROUTE = "comptoir_documents_download"
DELETE_ROUTE = "comptoir_documents_delete"
MAX_FILES = 20
FETCH_HEADER = "x-comptoir-fetch"  # the panel's script: answer where to go instead of a redirect


@dataclass(frozen=True)
class DocumentLine:
    id: int
    folder: str
    name: str
    size: str
    at: str
    who: str
    generated: bool
    image: bool  # shown as a thumbnail
    url: str
    delete_url: str | None  # None: this user may not delete it (rights, or generated and locked)


@dataclass
class DocumentsPanel:
    files: list[DocumentLine]
    folders: list[str]  # configured ones, then the record's others
    default_folder: str
    upload_url: str | None  # None: no right to upload
    limit: str  # « 20 Mo par fichier ; PDF, PNG, ... »
    accept: str  # the <input type=file accept> list
    by_folder: dict[str, list[DocumentLine]] = field(default_factory=dict)


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{number(round(size / 1024, 1))} Ko"
    return f"{number(round(size / (1024 * 1024), 1))} Mo"


def documents_panel(store: Store, request: Request, obj: Record) -> DocumentsPanel:
    """Template context of the panel (the caller has read the record: the read right holds)."""
    rt, entity = store.rt, obj.__entity__
    spec = rt.spec.files
    can_edit = store.principal.can(rt.spec, entity.name, "edit")
    is_locked = record_files.locked(obj)
    rows = record_files.files_of(store, entity.name, obj.id)

    def url(name: str, **params: Any) -> str:
        return str(request.url_for(f"admin:{name}", entity=entity.name, pk=obj.id, **params))

    lines = [
        DocumentLine(
            id=row.id,
            folder=row.folder,
            name=row.original_name,
            size=size_text(row.size),
            at=format_date(row.uploaded_at),
            who=row.uploaded_by or "",
            generated=row.source == GENERATED,
            image=row.mime_type.startswith("image/"),
            url=url(DOWNLOAD_ROUTE, file_id=row.id),
            delete_url=url(DELETE_ROUTE, file_id=row.id) if can_edit and not (row.source == GENERATED and is_locked) else None,
        )
        for row in rows
    ]
    folders = list(spec.folders) + sorted({r.folder for r in rows} - set(spec.folders))
    panel = DocumentsPanel(
        files=lines,
        folders=folders,
        default_folder=spec.default_folder,
        upload_url=url(UPLOAD_ROUTE) if can_edit else None,
        limit=f"{round(spec.max_megabytes, 2):g}".replace(".", ",") + f" Mo au plus par fichier ; types acceptés : {allowed_labels(spec)}",
        accept=",".join(sorted({e for t in spec.allowed for e in FILE_TYPES[t]} | {MIME_TYPES[t] for t in spec.allowed})),
    )
    order = {name: i for i, name in enumerate(folders)}
    for line in sorted(lines, key=lambda ln: order[ln.folder]):  # the configured folders' order first
        panel.by_folder.setdefault(line.folder, []).append(line)
    return panel


def document_routes(rt: Runtime, identities: dict[str, str]) -> list[BaseRoute]:
    return [
        Route("/_documents/{entity}/{pk:int}/upload", upload_endpoint(rt, identities), methods=["POST"], name=UPLOAD_ROUTE),
        Route("/_documents/{entity}/{pk:int}/{file_id:int}", download_endpoint(rt), methods=["GET", "HEAD"], name=DOWNLOAD_ROUTE),
        Route(
            "/_documents/{entity}/{pk:int}/{file_id:int}/delete", delete_endpoint(rt, identities), methods=["POST"], name=DELETE_ROUTE
        ),
    ]


def _back(request: Request, identities: dict[str, str]) -> str:
    identity = identities.get(request.path_params["entity"])
    if identity is None:
        return "/admin/"
    return str(request.url_for("admin:details", identity=identity, pk=request.path_params["pk"])) + "#documents"


def _go(request: Request, url: str) -> Response:
    """303 to `url`; for the panel's script, 200 with the address (a followed redirect would
    read the page, and its flashed message, before the browser goes there)."""
    if request.headers.get(FETCH_HEADER):
        return JSONResponse({"location": url})
    return RedirectResponse(url, status_code=303)


def _in_store(rt: Runtime, request: Request, work: Callable[[Store], Any]) -> Callable[[], Any]:
    principal = current_principal(request)

    def run() -> Any:
        if principal is None:
            raise StoreError(401, "unauthorized", "Connexion requise.")
        with rt.session() as session:
            result = work(Store(rt, session, principal))
            session.commit()
            return result

    return run


def upload_endpoint(rt: Runtime, identities: dict[str, str]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return RedirectResponse(str(request.url_for("admin:login")), status_code=303)
        entity, pk = request.path_params["entity"], request.path_params["pk"]
        spec = rt.spec.files
        back = _back(request, identities)
        try:
            form = await request.form(max_files=MAX_FILES)
        except Exception:
            flash(request, f"Envoi refusé : {MAX_FILES} fichiers au plus à la fois.", "danger")
            return _go(request, back)
        try:
            incoming: list[record_files.Incoming] = []
            for part in form.getlist("files"):
                if not isinstance(part, UploadFile) or not part.filename:
                    continue
                content = await part.read(spec.max_bytes + 1)
                if len(content) > spec.max_bytes:
                    raise too_large(spec, part.filename)
                incoming.append(record_files.Incoming(part.filename, content))
            folder = form.get("new_folder") or form.get("folder")
            rows: list[FileRow] = await anyio.to_thread.run_sync(
                _in_store(rt, request, lambda store: record_files.upload(store, entity, pk, incoming, str(folder or "")))
            )
        except StoreError as exc:  # FileRefused included
            message = "Choisissez au moins un fichier à envoyer." if exc.code == "no_file" else french(exc.message)
            flash(request, f"Envoi refusé : {message}", "danger")
            return _go(request, back)
        finally:
            await form.close()
        names = ", ".join(f"« {r.original_name} »" for r in rows)
        flash(request, f"{len(rows)} fichier(s) ajouté(s) dans « {rows[0].folder} » : {names}.", "success")
        return _go(request, back)

    return endpoint


def download_endpoint(rt: Runtime) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return PlainTextResponse("Connexion requise.", status_code=401)
        entity, pk, file_id = request.path_params["entity"], request.path_params["pk"], request.path_params["file_id"]
        try:
            row, path = await anyio.to_thread.run_sync(
                _in_store(rt, request, lambda store: record_files.download(store, entity, pk, file_id))
            )
        except StoreError as exc:
            return PlainTextResponse(french(exc.message), status_code=exc.status)
        return FileResponse(
            path,
            media_type=row.mime_type,
            filename=row.original_name,
            content_disposition_type="inline" if row.inline else "attachment",
            headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
        )

    return endpoint


def delete_endpoint(rt: Runtime, identities: dict[str, str]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return RedirectResponse(str(request.url_for("admin:login")), status_code=303)
        entity, pk, file_id = request.path_params["entity"], request.path_params["pk"], request.path_params["file_id"]
        back = _back(request, identities)
        try:
            row: FileRow = await anyio.to_thread.run_sync(
                _in_store(rt, request, lambda store: record_files.delete(store, entity, pk, file_id))
            )
        except StoreError as exc:
            flash(request, french(exc.message), "danger")
            return RedirectResponse(back, status_code=303)
        flash(request, f"Fichier « {row.original_name} » supprimé.", "success")
        return RedirectResponse(back, status_code=303)

    return endpoint
