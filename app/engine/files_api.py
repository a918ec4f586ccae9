"""The document area in the REST API (app/engine/files.py):

- GET  /api/v1/{entity}/{id}/files — the record's files (`{"items": [...]}`);
- POST /api/v1/{entity}/{id}/files — multipart upload: one or more `file` parts, optional
  `folder`; answers 201 with the stored files;
- GET  /api/v1/{entity}/{id}/files/{file_id} — the bytes (PDF and images inline, the rest as
  an attachment), with the original name;
- DELETE /api/v1/{entity}/{id}/files/{file_id} — 204.
Same bearer tokens, rights and error envelope as the rest of the API.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.engine import record_files
from app.engine.auth import principal_from_token
from app.engine.files import FileRefused, too_large
from app.web.errors import error_response

if TYPE_CHECKING:
    from app.engine.api import RecordApi

MAX_FILES = 20  # per request
FORM_OVERHEAD = 1024 * 1024
FIELD = "file"


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def file_routes(api: RecordApi) -> list[BaseRoute]:
    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return [
        Route("/{entity}/{id}/files", partial(collection, api), methods=every),
        Route("/{entity}/{id}/files/{file_id}", partial(item, api), methods=every),
    ]


async def collection(api: RecordApi, request: Request) -> Response:
    entity, raw_id = request.path_params["entity"], request.path_params["id"]
    if request.method in ("GET", "HEAD"):
        return await api._run(
            request,
            entity,
            lambda store: JSONResponse({"items": [f.json() for f in record_files.files_of(store, entity, raw_id)]}),
        )
    if request.method != "POST":
        return _not_allowed(request, "GET, POST")
    if not await _may_upload(api, request, entity):  # the usual 401, 403 or 404, before reading the body
        return await api._run(request, entity, lambda store: _refused(store, entity, raw_id))
    try:
        incoming, folder = await _read_upload(api, request)
    except FileRefused as exc:
        return error_response(exc.status, exc.code, exc.message, exc.field)

    def work(store: record_files.Store) -> Response:
        rows = record_files.upload(store, entity, raw_id, incoming, folder)
        return JSONResponse({"items": [r.json() for r in rows]}, status_code=201)

    return await api._run(request, entity, work)


async def item(api: RecordApi, request: Request) -> Response:
    entity, raw_id, file_id = request.path_params["entity"], request.path_params["id"], request.path_params["file_id"]
    if request.method in ("GET", "HEAD"):

        def send(store: record_files.Store) -> Response:
            row, path = record_files.download(store, entity, raw_id, file_id)
            return FileResponse(
                path,
                media_type=row.mime_type,
                filename=row.original_name,
                content_disposition_type="inline" if row.inline else "attachment",
                headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
            )

        return await api._run(request, entity, send)
    if request.method == "DELETE":

        def remove(store: record_files.Store) -> Response:
            record_files.delete(store, entity, raw_id, file_id)
            return Response(status_code=204)

        return await api._run(request, entity, remove)
    return _not_allowed(request, "GET, DELETE")


async def _may_upload(api: RecordApi, request: Request, entity: str) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False

    def check() -> bool:
        with api.rt.session() as session:
            principal = principal_from_token(api.rt, session, token.strip())
            return principal is not None and principal.can(api.rt.spec, entity, "edit")

    return await run_in_threadpool(check)


def _refused(store: record_files.Store, entity: str, raw_id: str) -> Response:
    record_files.record_of(store, entity, raw_id, "edit")  # raises the refusal
    return Response(status_code=500)  # not reached: _may_upload said no


async def _read_upload(api: RecordApi, request: Request) -> tuple[list[record_files.Incoming], str | None]:
    spec = api.rt.spec.files
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > spec.max_bytes * MAX_FILES + FORM_OVERHEAD:
        raise too_large(spec)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise FileRefused(
            415,
            "multipart_expected",
            _m("envoi multipart/form-data attendu (champ « file »)", "a multipart/form-data body is expected ('file' field)"),
        )
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=20)
    except Exception as exc:  # malformed multipart, too many parts
        detail = str(getattr(exc, "detail", exc))[:200]
        raise FileRefused(400, "bad_request", _m(f"envoi illisible : {detail}", f"unreadable upload: {detail}")) from None
    try:
        incoming: list[record_files.Incoming] = []
        for part in form.getlist(FIELD):
            if not isinstance(part, UploadFile):
                raise FileRefused(422, "invalid", _m("« file » doit être un fichier", "'file' must be a file"))
            content = await part.read(spec.max_bytes + 1)
            if len(content) > spec.max_bytes:
                raise too_large(spec, part.filename)
            incoming.append(record_files.Incoming(part.filename or "", content))
        folder = form.get("folder")
        return incoming, folder if isinstance(folder, str) else None
    finally:
        await form.close()


def _not_allowed(request: Request, allowed: str) -> Response:
    return error_response(
        405,
        "method_not_allowed",
        _m(f"méthode {request.method} non permise (permises : {allowed})", f"method {request.method} not allowed ({allowed})"),
        headers={"allow": allowed},
    )
