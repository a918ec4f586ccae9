"""app/engine/files.py on plain values and with the database: names, types, transactions."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from app.engine.files import FileRefused, check_upload, detect_type, list_files, sanitise_folder, sanitise_name, store_generated
from app.spec.files import FilesSpec, expand

PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(tmp_path / "files"))
    return tmp_path / "files"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Devis n°12 — réfection façade.pdf", "Devis n°12 — réfection façade.pdf"),
        ("Cafe\u0301.pdf", "Café.pdf"),  # decomposed accent composed (NFC)
        ("../../etc/passwd", "passwd"),
        ("a\\b.pdf", "b.pdf"),
        ("C:\\Users\\Léa\\plan.dwg.pdf", "plan.dwg.pdf"),
        (".htaccess", "htaccess"),
        ("nul", "_nul"),
        ("tab\there\x00.txt", "tab_here_.txt"),
        ("", "fichier"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_names_are_sanitised_and_stay_readable(raw: str, clean: str) -> None:
    assert sanitise_name(raw) == clean


def test_folders_are_one_level_and_take_the_configured_spelling() -> None:
    spec = FilesSpec()
    assert sanitise_folder("", spec) == "Documents"
    assert sanitise_folder("  photos   APRÈS ", spec) == "Photos après"
    assert sanitise_folder("../clients/2026", spec) == "clients 2026"
    assert sanitise_folder("Dossier Martin", spec) == "Dossier Martin"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)


@pytest.mark.parametrize(
    ("content", "extension", "kind"),
    [
        (PDF, ".pdf", "pdf"),
        (b"\xff\xd8\xff\xe0" + bytes(20), ".jpg", "jpeg"),
        (b"GIF89a" + bytes(10), ".gif", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ".webp", "webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", ".webp", None),
        (_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"}), ".ods", "ods"),
        (_zip({"[Content_Types].xml": b"<T/>", "xl/workbook.xml": b"<w/>"}), ".xlsx", "xlsx"),
        (_zip({"[Content_Types].xml": b"<T/>", "ppt/presentation.xml": b"<p/>"}), ".pptx", "pptx"),
        (_zip({"readme.txt": b"hello"}), ".docx", None),
        (OLE + "WordDocument".encode("utf-16-le"), ".doc", "doc"),
        (OLE + "Workbook".encode("utf-16-le"), ".xls", "xls"),
        (OLE, ".doc", None),
        ("nom;ville\nDupont;Besançon\n".encode("cp1252"), ".csv", "csv"),
        ("Fiche technique : grès cérame\n".encode(), ".txt", "txt"),
        (b"MZ\x90\x00\x03" + bytes(50), ".pdf", None),
        (b"\x7fELF\x02\x01\x01" + bytes(50), ".txt", None),
    ],
)
def test_types_are_read_from_the_content(content: bytes, extension: str, kind: str | None) -> None:
    assert detect_type(content, extension) == kind


def test_allowed_types_come_from_the_settings() -> None:
    only_pdf = FilesSpec(allowed=expand(("pdf",)))
    assert check_upload(only_pdf, "a.pdf", PDF) == ("a.pdf", "application/pdf")
    with pytest.raises(FileRefused) as refused:
        check_upload(only_pdf, "photo.png", b"\x89PNG\r\n\x1a\n" + bytes(10))
    assert refused.value.status == 415 and "les fichiers PNG ne sont pas acceptés (types acceptés : PDF)" in refused.value.message
    with pytest.raises(FileRefused) as mismatch:
        check_upload(FilesSpec(), "photo.jpg", b"\x89PNG\r\n\x1a\n" + bytes(10))
    assert mismatch.value.code == "type_mismatch" and "renommez-le en .png" in mismatch.value.message
    assert check_upload(FilesSpec(), "PHOTO.JPEG", b"\xff\xd8\xff\xe0" + bytes(5)) == ("PHOTO.JPEG", "image/jpeg")


def _account(rt: Any) -> int:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        account = Store(rt, session, SYSTEM).create("account", {"name": "Dupont SARL", "type": "client"})
        session.commit()
        return int(account.id)


def test_store_generated_in_the_callers_transaction_is_undone_with_it(runtime: Any, files_dir: Path) -> None:
    account = _account(runtime)
    with runtime.session() as session:
        row = store_generated(runtime, "account", account, "PDF", "relevé.pdf", PDF, session=session, login="claire")
        assert (files_dir / row.stored_name).read_bytes() == PDF
        session.rollback()
    assert not (files_dir / row.stored_name).exists()
    with runtime.session() as session:
        assert list_files(session, runtime, "account", account) == []
        forgotten = store_generated(runtime, "account", account, "PDF", "brouillon.pdf", PDF, session=session)
    assert not (files_dir / forgotten.stored_name).exists()  # closed without commit
    with runtime.session() as session:
        kept = store_generated(runtime, "account", account, "PDF", "relevé.pdf", PDF, session=session, login="claire")
        session.commit()
    with runtime.session() as session:
        rows = list_files(session, runtime, "account", account)
    assert [(r.id, r.original_name, r.source, r.uploaded_by, r.mime_type) for r in rows] == [
        (kept.id, "relevé.pdf", "generated", "claire", "application/pdf")
    ]
    assert (files_dir / kept.stored_name).read_bytes() == PDF


def test_a_refused_record_deletion_keeps_its_files(runtime: Any, files_dir: Path) -> None:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store, StoreError

    account = _account(runtime)
    row = store_generated(runtime, "account", account, "PDF", "relevé.pdf", PDF)
    with runtime.session() as session:
        store = Store(runtime, session, SYSTEM)
        store.create("contact", {"account": account, "last_name": "Durand"})
        session.commit()
    with runtime.session() as session:
        with pytest.raises(StoreError) as refused:
            Store(runtime, session, SYSTEM).delete("account", account)
        assert refused.value.code == "in_use"
    assert (files_dir / row.stored_name).is_file()
    with runtime.session() as session:
        assert len(list_files(session, runtime, "account", account)) == 1
