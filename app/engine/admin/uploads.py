"""File and image fields: uploads stored under COMPTOIR_FILES_DIR (default ./files).

The record keeps a path relative to that folder (`<entity>/<random>-<sanitised name>`). Uploads
are size-limited (COMPTOIR_MAX_UPLOAD_MB, default 10), images must really be PNG, JPEG, GIF or
WebP, and files are only served to users who may read the record, from inside the folder.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

import anyio.to_thread
from sqladmin.helpers import secure_filename
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from app.engine.admin.auth import authenticate, current_principal
from app.engine.runtime import Runtime
from app.spec.model import EntitySpec, FieldSpec

UPLOAD_SUFFIX = "__upload"
CLEAR_SUFFIX = "__clear"
IMAGE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


@dataclass(frozen=True)
class UploadConfig:
    root: Path
    max_bytes: int

    @classmethod
    def from_env(cls) -> UploadConfig:
        from app.engine.files import files_root

        root = files_root()
        raw = os.environ.get("COMPTOIR_MAX_UPLOAD_MB", "10")
        try:
            megabytes = float(raw)
        except ValueError:
            raise ValueError(f"COMPTOIR_MAX_UPLOAD_MB has value {raw!r}: a number of megabytes is expected") from None
        return cls(root=root, max_bytes=int(megabytes * 1024 * 1024))


class UploadRefused(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def image_type(head: bytes) -> str | None:
    for mime, signatures in IMAGE_SIGNATURES.items():
        if any(head.startswith(s) for s in signatures):
            if mime == "image/webp" and head[8:12] != b"WEBP":
                continue
            return mime
    return None


@dataclass
class PendingUpload:
    field: FieldSpec
    filename: str
    content: bytes


async def pending_uploads(config: UploadConfig, entity: EntitySpec, form: FormData) -> tuple[dict[str, PendingUpload], set[str]]:
    """The files sent with a form (checked, not yet written) and the fields to clear."""
    uploads: dict[str, PendingUpload] = {}
    cleared: set[str] = set()
    for field in entity.fields.values():
        if field.type not in ("file", "image") or field.readonly:
            continue
        if form.get(field.name + CLEAR_SUFFIX):
            cleared.add(field.name)
        upload = form.get(field.name + UPLOAD_SUFFIX)
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        content = await upload.read(config.max_bytes + 1)
        if not content:
            continue
        if len(content) > config.max_bytes:
            limit = config.max_bytes / (1024 * 1024)
            raise UploadRefused(field.name, f"Fichier trop volumineux : {limit:g} Mo au plus.")
        if field.type == "image" and image_type(content[:16]) is None:
            raise UploadRefused(field.name, "Image refusée : seuls les formats PNG, JPEG, GIF et WebP sont acceptés.")
        uploads[field.name] = PendingUpload(field, upload.filename, content)
        cleared.discard(field.name)
    return uploads, cleared


def write_upload(config: UploadConfig, entity: EntitySpec, pending: PendingUpload) -> str:
    """Write the file; answer the path stored in the record (relative to the files folder)."""
    name = secure_filename(pending.filename)[-120:] or "fichier"
    relative = f"{entity.name}/{secrets.token_hex(8)}-{name}"
    target = config.root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pending.content)
    return relative


def remove_written(config: UploadConfig, paths: list[str]) -> None:
    for relative in paths:
        target = resolve(config, relative)
        if target is not None:
            target.unlink(missing_ok=True)


def resolve(config: UploadConfig, relative: str | None) -> Path | None:
    """The file of a stored path, only if it lies inside the files folder."""
    if not relative:
        return None
    target = (config.root / relative).resolve()
    if not target.is_relative_to(config.root):
        return None
    return target


def download_endpoint(rt: Runtime, config: UploadConfig) -> Callable[[Request], Awaitable[Response]]:
    """GET /admin/_files/{entity}/{pk}/{field}: the stored file of a record the user may read."""

    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return PlainTextResponse("Connexion requise.", status_code=401)
        principal = current_principal(request)
        entity = rt.spec.entities.get(request.path_params["entity"])
        field = entity.fields.get(request.path_params["field"]) if entity else None
        if entity is None or field is None or field.type not in ("file", "image"):
            return PlainTextResponse("Fichier introuvable.", status_code=404)
        if principal is None or not principal.can(rt.spec, entity.name, "read"):
            return PlainTextResponse("Accès refusé.", status_code=403)

        def stored() -> str | None:
            with rt.session() as session:
                try:
                    obj = session.get(rt.models.cls(entity.name), int(request.path_params["pk"]))
                except ValueError:
                    return None
                return getattr(obj, field.column_name, None) if obj is not None else None

        target = resolve(config, await anyio.to_thread.run_sync(stored))
        if target is None or not target.is_file():
            return PlainTextResponse("Fichier introuvable.", status_code=404)
        headers = {"X-Content-Type-Options": "nosniff"}
        with target.open("rb") as handle:
            mime = image_type(handle.read(16))
        if field.type == "image" and mime is not None:
            return FileResponse(target, media_type=mime, headers=headers, content_disposition_type="inline", filename=target.name)
        return FileResponse(target, headers=headers, filename=target.name)

    return endpoint
