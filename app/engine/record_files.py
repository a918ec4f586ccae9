"""A record's document area as a user sees it, with the record's rights: read to list and
download, edit to upload and delete. Shared by the API (files_api.py) and the admin panel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.engine.files import (
    GENERATED,
    UPLOAD,
    FileRefused,
    FileRow,
    add_file,
    check_upload,
    find_file,
    forget_files,
    list_files,
    path_of,
    sanitise_folder,
)
from app.engine.models import Record
from app.engine.store import Store
from app.engine.workflow import machine_of, record_name


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


@dataclass(frozen=True)
class Incoming:
    """An uploaded file, read but not yet checked."""

    filename: str
    content: bytes


def record_of(store: Store, entity: str, record_id: Any, action: str) -> Record:
    """The record, after the rights check (`read` or `edit`) on its entity."""
    return store.get(entity, record_id, action=action)


def locked(obj: Record) -> bool:
    machine = machine_of(obj)
    return machine is not None and machine.locked(getattr(obj, machine.status_column, None))


def files_of(store: Store, entity: str, record_id: Any) -> list[FileRow]:
    obj = record_of(store, entity, record_id, "read")
    return list_files(store.session, store.rt, entity, obj.id)


def upload(store: Store, entity: str, record_id: Any, incoming: list[Incoming], folder: str | None) -> list[FileRow]:
    """Check every file first, then store them all (or none: one bad file refuses the lot)."""
    obj = record_of(store, entity, record_id, "edit")
    spec = store.rt.spec.files
    if not incoming:
        raise FileRefused(422, "no_file", _m("aucun fichier envoyé (champ « file »)", "no file sent ('file' field)"))
    checked = [(check_upload(spec, item.filename, item.content), item.content) for item in incoming]
    target = sanitise_folder(folder, spec)
    return [
        add_file(
            store.session, store.rt, entity, obj.id, folder=target, name=name, mime_type=mime,
            content=content, source=UPLOAD, login=store.principal.login,
        )
        for (name, mime), content in checked
    ]


def download(store: Store, entity: str, record_id: Any, file_id: Any) -> tuple[FileRow, Path]:
    obj = record_of(store, entity, record_id, "read")
    row = find_file(store.session, store.rt, entity, obj.id, file_id)
    target = path_of(row)
    if target is None or not target.is_file():
        raise FileRefused(404, "file_missing", _m(f"« {row.original_name} » manque sur le disque", "file missing on disk"), None)
    return row, target


def delete(store: Store, entity: str, record_id: Any, file_id: Any) -> FileRow:
    obj = record_of(store, entity, record_id, "edit")
    row = find_file(store.session, store.rt, entity, obj.id, file_id)
    if row.source == GENERATED and locked(obj):
        raise FileRefused(
            409,
            "locked",
            _m(
                f"« {row.original_name} » a été généré pour {record_name(obj)}, verrouillé(e) : il ne peut pas être supprimé",
                f"'{row.original_name}' was generated for a locked record and cannot be deleted",
            ),
            None,
        )
    forget_files(store.session, store.rt, [row])
    return row
