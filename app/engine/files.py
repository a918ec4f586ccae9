"""The document area: files attached to any record (entity + id), in folders, on disk.

One engine table (`comptoir_file`) describes every file: its record, folder (one level per
record), original name (sanitised, accents kept), stored name, size, MIME type, SHA-256, who
uploaded it and when, and its source (`upload` or `generated`). The bytes live under
COMPTOIR_FILES_DIR (the folder of the file fields, app/engine/admin/uploads.py), in
`documents/<entity>/<record id>/<random>.<ext>`: nothing of the user's name reaches the disk.

Uploads are checked against files.yaml (app/spec/files.py): size limit, and the type read from
the content (magic bytes), which must also agree with the name's extension. A file written to
disk is removed again if its transaction rolls back; a deleted file (or every file of a deleted
record, `remove_record_files`, called by Store.delete) leaves the disk once the deletion is
committed. Rights are the record's: read to list and download, edit to upload and delete; a
generated file of a locked record cannot be deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, event, select
from sqlalchemy.orm import Session

from app.spec.files import FILE_TYPES, FilesSpec, folder_key

from app.engine.store import StoreError

if TYPE_CHECKING:
    from app.engine.runtime import Runtime
    from app.engine.store import Store

FILE_TABLE = "comptoir_file"
UPLOAD = "upload"
GENERATED = "generated"
SUBFOLDER = "documents"
MAX_NAME = 150
_WRITTEN = "comptoir_files_written"  # session.info: paths to remove if the transaction rolls back
_DOOMED = "comptoir_files_doomed"  # session.info: paths to remove once the transaction commits

MIME_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "txt": "text/plain",
    "csv": "text/csv",
}
TYPE_LABELS: dict[str, str] = {}  # shown upper-case: PDF, PNG, DOCX…
INLINE_TYPES = ("pdf", "png", "jpeg", "gif", "webp")  # shown in the browser; the rest is downloaded
_OLE_STREAMS = (("doc", "WordDocument"), ("xls", "Workbook"), ("xls", "Book"), ("ppt", "PowerPoint Document"))
_FORBIDDEN_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def build_file_table(metadata: MetaData) -> Table:
    return Table(
        FILE_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("entity", String(100), nullable=False),
        Column("record_id", Integer, nullable=False),
        Column("folder", String(80), nullable=False),
        Column("original_name", String(MAX_NAME + 10), nullable=False),
        Column("stored_name", String(300), nullable=False, unique=True),
        Column("size", Integer, nullable=False),
        Column("mime_type", String(120), nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("source", String(20), nullable=False),  # "upload" | "generated"
        Column("uploaded_by", String(100), nullable=True),
        Column("uploaded_at", DateTime, nullable=False, default=_utcnow),
        Index(f"ix_{FILE_TABLE}_record", "entity", "record_id", "id"),
    )


class FileRefused(StoreError):
    """A refused file: HTTP status, code, message (French / English), the form field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = "file") -> None:
        super().__init__(status, code, message, field)


@dataclass(frozen=True)
class FileRow:
    id: int
    entity: str
    record_id: int
    folder: str
    original_name: str
    stored_name: str
    size: int
    mime_type: str
    sha256: str
    source: str
    uploaded_by: str | None
    uploaded_at: dt.datetime

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": self.entity,
            "record_id": self.record_id,
            "folder": self.folder,
            "name": self.original_name,
            "size": self.size,
            "mime_type": self.mime_type,
            "sha256": self.sha256,
            "source": self.source,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": self.uploaded_at.isoformat(),
            "url": f"/api/v1/{self.entity}/{self.record_id}/files/{self.id}",
        }

    @property
    def inline(self) -> bool:
        return any(MIME_TYPES[t] == self.mime_type for t in INLINE_TYPES)


# --- names, folders and types -------------------------------------------------------------------


def files_root() -> Path:
    """COMPTOIR_FILES_DIR (default ./files), the folder of every stored file."""
    return Path(os.environ.get("COMPTOIR_FILES_DIR", "./files")).resolve()


def sanitise_name(raw: str) -> str:
    """A file name safe to show and to send back: the last part of any path (/ or \\), no
    control or reserved characters, no leading dot, accents kept (NFC), at most 150 characters."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _FORBIDDEN_CHARS.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    if _WINDOWS_RESERVED.match(name):
        name = "_" + name
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        ext = f".{ext}" if dot and len(ext) <= 10 else ""
        name = (stem if ext else name)[: MAX_NAME - len(ext)].rstrip(" .") + ext
    return name or "fichier"


def sanitise_folder(raw: str | None, spec: FilesSpec) -> str:
    """One folder level: a configured folder keeps its spelling; empty means the default one."""
    text = unicodedata.normalize("NFC", str(raw or ""))
    text = " ".join(_FORBIDDEN_CHARS.sub(" ", text).split()).strip(" .")[:80].strip()
    if not text:
        return spec.default_folder
    for folder in spec.folders:
        if folder_key(folder) == folder_key(text):
            return folder
    return text


def detect_type(content: bytes, extension: str = "") -> str | None:
    """The type name (app/spec/files.py FILE_TYPES) of the content, from its first bytes."""
    head = content[:64]
    if b"%PDF-" in content[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(content)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        for kind, stream in _OLE_STREAMS:
            if stream.encode("utf-16-le") in content:
                return kind
        return None
    if _is_text(content[:65536]):
        return "csv" if extension == ".csv" else "txt"
    return None


def _zip_type(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                kind = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return {
                    "application/vnd.oasis.opendocument.text": "odt",
                    "application/vnd.oasis.opendocument.spreadsheet": "ods",
                    "application/vnd.oasis.opendocument.presentation": "odp",
                }.get(kind)
            if "[Content_Types].xml" in names:
                for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
                    if any(n.startswith(prefix) for n in names):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    return None


def _is_text(sample: bytes) -> bool:
    """Plain text: no NUL nor other control characters, UTF-8 or Windows-1252 (Excel's CSV)."""
    if not sample or b"\x00" in sample:
        return False
    if any(b < 32 and b not in (9, 10, 12, 13) for b in sample):
        return False
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # a character cut by the sample's end
            return True
    try:
        sample.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def type_label(kind: str) -> str:
    return TYPE_LABELS.get(kind, kind.upper())


def allowed_labels(spec: FilesSpec) -> str:
    return ", ".join(type_label(t) for t in FILE_TYPES if t in spec.allowed)


def check_upload(spec: FilesSpec, filename: str, content: bytes) -> tuple[str, str]:
    """The sanitised name (with the right extension) and MIME type of an upload, or FileRefused."""
    name = sanitise_name(filename)
    if len(content) > spec.max_bytes:
        raise too_large(spec, name)
    if not content:
        raise FileRefused(422, "empty_file", _m(f"« {name} » est vide", f"'{name}' is empty"))
    stem, dot, ext = name.rpartition(".")
    extension = f".{ext.lower()}" if dot and stem else ""
    kind = detect_type(content, extension)
    if kind is None:
        raise FileRefused(
            415,
            "unsupported_type",
            _m(
                f"« {name} » : type de fichier non reconnu ou refusé (types acceptés : {allowed_labels(spec)})",
                f"'{name}': unknown or refused file type",
            ),
        )
    if kind not in spec.allowed:
        raise FileRefused(
            415,
            "unsupported_type",
            _m(
                f"« {name} » : les fichiers {type_label(kind)} ne sont pas acceptés (types acceptés : {allowed_labels(spec)})",
                f"'{name}': {kind} files are not accepted",
            ),
        )
    if not extension:
        name = name + FILE_TYPES[kind][0]
    elif extension not in FILE_TYPES[kind]:
        raise FileRefused(
            415,
            "type_mismatch",
            _m(
                f"« {name} » : le contenu est un fichier {type_label(kind)}, pas {extension} ; renommez-le en {FILE_TYPES[kind][0]}",
                f"'{name}': the content is a {kind} file, not {extension}",
            ),
        )
    return name, MIME_TYPES[kind]


def too_large(spec: FilesSpec, name: str | None = None) -> FileRefused:
    what = f"« {name} » est trop volumineux" if name else "Fichier trop volumineux"
    limit = f"{round(spec.max_megabytes, 2):g}"
    return FileRefused(
        413,
        "too_large",
        _m(f"{what} : {limit.replace('.', ',')} Mo au plus par fichier", f"file too large: at most {limit} MB"),
    )


# --- rows and disk ------------------------------------------------------------------------------


def table_of(rt: Runtime) -> Table:
    return rt.models.system[FILE_TABLE]


def _row(values: Any) -> FileRow:
    data = dict(values._mapping)
    return FileRow(**{k: data[k] for k in FileRow.__dataclass_fields__})


def path_of(row: FileRow) -> Path | None:
    """The file on disk, only if it lies inside the files folder."""
    root = files_root()
    target = (root / row.stored_name).resolve()
    return target if target.is_relative_to(root) else None


def read_content(row: FileRow) -> bytes:
    """The bytes of a file (e.g. a mail attachment from the document area)."""
    target = path_of(row)
    if target is None or not target.is_file():
        raise FileRefused(404, "file_missing", _m(f"« {row.original_name} » manque sur le disque", "file missing on disk"))
    return target.read_bytes()


def list_files(session: Session, rt: Runtime, entity: str, record_id: int) -> list[FileRow]:
    table = table_of(rt)
    query = (
        select(table)
        .where(table.c.entity == entity, table.c.record_id == record_id)
        .order_by(table.c.folder, table.c.original_name, table.c.id)
    )
    return [_row(r) for r in session.execute(query)]


def find_file(session: Session, rt: Runtime, entity: str, record_id: int, file_id: Any) -> FileRow:
    table = table_of(rt)
    try:
        wanted = int(file_id)
    except (TypeError, ValueError):
        wanted = -1
    found = session.execute(
        select(table).where(table.c.id == wanted, table.c.entity == entity, table.c.record_id == record_id)
    ).first()
    if found is None:
        raise FileRefused(404, "not_found", _m(f"fichier n° {file_id} introuvable sur cet enregistrement", f"file {file_id} not found"), None)
    return _row(found)


def add_file(
    session: Session,
    rt: Runtime,
    entity: str,
    record_id: int,
    *,
    folder: str,
    name: str,
    mime_type: str,
    content: bytes,
    source: str,
    login: str | None,
) -> FileRow:
    """Write the bytes and insert the row in the session's transaction (undone on rollback)."""
    root = files_root()
    extension = Path(name).suffix.lower()
    extension = extension if re.fullmatch(r"\.[a-z0-9]{1,10}", extension) else ""
    relative = f"{SUBFOLDER}/{entity}/{record_id}/{secrets.token_hex(12)}{extension}"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    session.info.setdefault(_WRITTEN, []).append(target)
    values = {
        "entity": entity,
        "record_id": record_id,
        "folder": folder,
        "original_name": name,
        "stored_name": relative,
        "size": len(content),
        "mime_type": mime_type,
        "sha256": hashlib.sha256(content).hexdigest(),
        "source": source,
        "uploaded_by": login,
        "uploaded_at": _utcnow(),
    }
    new_id = session.execute(table_of(rt).insert().values(**values)).inserted_primary_key[0]  # type: ignore[index]
    return FileRow(id=int(new_id), **values)


def forget_files(session: Session, rt: Runtime, rows: Iterable[FileRow]) -> None:
    """Delete the rows now; their bytes leave the disk when the transaction commits."""
    rows = list(rows)
    if not rows:
        return
    table = table_of(rt)
    session.execute(table.delete().where(table.c.id.in_([r.id for r in rows])))
    doomed = session.info.setdefault(_DOOMED, [])
    doomed.extend(p for p in (path_of(r) for r in rows) if p is not None)


def remove_record_files(store: Store, entity: str, record_id: int) -> None:
    """Store.delete's hook: a deleted record takes its files with it."""
    forget_files(store.session, store.rt, list_files(store.session, store.rt, entity, record_id))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_DOOMED, []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DOOMED, None)
    for path in session.info.pop(_WRITTEN, []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    """A session closed without commit nor rollback: its writes are undone too (a commit has
    already emptied the list by now)."""
    if transaction.parent is None:
        _after_rollback(session)


def store_generated(
    rt: Runtime,
    entity: str,
    record_id: int,
    folder: str,
    filename: str,
    content: bytes,
    *,
    session: Session | None = None,
    login: str | None = "system",
) -> FileRow:
    """Keep a generated file (e.g. a document's PDF) in a record's document area, with no rights
    asked (the caller decides). Without `session`, in a transaction of its own, committed; with
    one, in the caller's transaction (written file removed again if it rolls back)."""
    spec = rt.spec.files
    name = sanitise_name(filename)
    kind = detect_type(content, Path(name).suffix.lower())
    mime = MIME_TYPES.get(kind or "", "application/octet-stream")
    if kind is not None and not Path(name).suffix:
        name += FILE_TYPES[kind][0]
    if session is not None:
        return add_file(
            session, rt, entity, record_id, folder=sanitise_folder(folder, spec), name=name,
            mime_type=mime, content=content, source=GENERATED, login=login,
        )
    with rt.session() as own:
        row = add_file(
            own, rt, entity, record_id, folder=sanitise_folder(folder, spec), name=name,
            mime_type=mime, content=content, source=GENERATED, login=login,
        )
        own.commit()
        return row
