"""Multi-document export: several records of one entity as ONE PDF (for printing) or a zip of
their separate PDFs.

    content, filename, mime = export_documents(store, "invoice", [3, 1, 2], fmt="zip", progress=cb)

Rights go through the Store (the entity's read right; every id must exist, else the whole
export is refused naming the missing ones). What is not stored yet is rendered in a
ProcessPoolExecutor across cores (as_completed, so that `progress(done, total)` follows the
work); a locked document's PDF is stored exactly as for a single download (pdf.store_rendered).
The merged PDF keeps the selection's order; it is meant for printing: the Factur-X XML of each
invoice is kept only in the separate files of the zip. Run it in a worker thread.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from app.documents.pdf import Prepared, _safe, prepare, render_job, store_rendered
from app.engine.store import Store, StoreError

FORMATS = ("pdf", "zip")
MAX_DOCUMENTS = 500
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
MIMES = {"pdf": "application/pdf", "zip": "application/zip"}

Progress = Callable[[int, int], None]


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def check_selection(store: Store, entity_name: str, ids: Sequence[Any], fmt: str) -> list[int]:
    """The selection's ids, without duplicates, in order; 422 on an empty / too long list."""
    entity = store.entity(entity_name)
    store.require(entity.name, "read")
    if entity.pdf is None:
        raise StoreError(404, "no_pdf", _m(f"« {entity.name} » n'a pas de modèle PDF", f"'{entity.name}' has no PDF template"))
    if fmt not in FORMATS:
        raise StoreError(422, "invalid", _m(f"format inconnu « {fmt} » (pdf, zip)", f"unknown format '{fmt}' (pdf, zip)"), field="format")
    if not isinstance(ids, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
        raise StoreError(422, "invalid", _m("« ids » : liste d'identifiants attendue", "'ids': a list of record ids is expected"), field="ids")
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise StoreError(422, "invalid", _m("aucun document choisi", "no document selected"), field="ids")
    if len(unique) > MAX_DOCUMENTS:
        raise StoreError(
            422, "invalid",
            _m(f"trop de documents : {len(unique)} (au plus {MAX_DOCUMENTS} par export)", f"too many documents: {len(unique)} (at most {MAX_DOCUMENTS})"),
            field="ids",
        )
    return unique


def prepare_all(store: Store, entity_name: str, ids: Sequence[int], template: str | None) -> list[Prepared]:
    """Every record prepared (database work); the missing ones refused together, by id."""
    prepared: list[Prepared] = []
    missing: list[str] = []
    for record_id in ids:
        try:
            prepared.append(prepare(store, entity_name, record_id, template))
        except StoreError as exc:
            if exc.status != 404 or exc.code != "not_found":
                raise
            missing.append(str(record_id))
    if missing:
        label = store.entity(entity_name).label
        listed = ", ".join(missing)
        raise StoreError(
            404, "not_found",
            _m(f"{label.fr} introuvable : n° {listed} — export refusé", f"{label.en} not found: {listed} — export refused"),
            field="ids",
        )
    return prepared


def render_all(prepared: Sequence[Prepared], progress: Progress | None = None, workers: int | None = None) -> list[bytes]:
    """The PDF of each prepared document, in order: stored copies as they are, the others
    rendered across processes and stored when locked."""
    total = len(prepared)
    results: list[bytes | None] = [p.stored for p in prepared]
    todo = [i for i, p in enumerate(prepared) if p.stored is None]
    done = total - len(todo)
    if progress is not None:
        progress(done, total)
    workers = min(workers or os.cpu_count() or 1, len(todo)) if todo else 0

    def finished(index: int, content: bytes) -> None:
        nonlocal done
        results[index] = store_rendered(prepared[index], content)
        done += 1
        if progress is not None:
            progress(done, total)

    if workers <= 1:
        for index in todo:
            job = prepared[index].job
            assert job is not None
            finished(index, render_job(job))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(render_job, prepared[i].job): i for i in todo}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    return [r for r in results if r is not None]


def merge(pdfs: Sequence[bytes]) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for content in pdfs:
        writer.append(io.BytesIO(content))
    out = io.BytesIO()
    writer.write(out)
    writer.close()
    return out.getvalue()


def unique_names(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        seen.add(candidate)
        out.append(candidate)
    return out


def bundle(names: Sequence[str], pdfs: Sequence[bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in zip(unique_names(names), pdfs):
            archive.writestr(name, content)
    return out.getvalue()


def export_filename(store: Store, entity_name: str, count: int, fmt: str) -> str:
    label = store.entity(entity_name).label.fr
    return f"{_safe(label)}-{count}-documents.{fmt}"


def export_documents(
    store: Store,
    entity_name: str,
    ids: Sequence[Any],
    *,
    fmt: str = "pdf",
    template: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> tuple[bytes, str, str]:
    """(content, file name, MIME type) of the selection as one PDF or a zip of PDFs."""
    selection = check_selection(store, entity_name, ids, fmt)
    prepared = prepare_all(store, entity_name, selection, template)
    pdfs = render_all(prepared, progress, workers)
    content = merge(pdfs) if fmt == "pdf" else bundle([p.filename for p in prepared], pdfs)
    return content, export_filename(store, entity_name, len(selection), fmt), MIMES[fmt]
