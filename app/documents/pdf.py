"""Documents as PDF: a Jinja2 template (templates/pdf/) rendered by WeasyPrint.

    result = document_pdf(store, "invoice", 12, template=None)   # bytes, file name, stored?

The work is split so that the CPU-bound part can run anywhere:
1. `prepare` (needs the database): picks the template, builds the context (pdf_context), the
   HTML and, for a locked document with a `facturx` section, the CII XML (facturx.py);
2. `render_job` (pure, picklable input): HTML → PDF, PDF/A-3 with the XML embedded when
   there is one. `render_batch` runs jobs in a ProcessPoolExecutor across cores.

A locked (validated) document's PDF is rendered once, stored under COMPTOIR_FILES_DIR
(pdf/<entity>/<id>/<template>-<number>.pdf) and served as stored afterwards, so that a later
template change never alters an issued invoice. A draft's PDF carries a SPECIMEN watermark.
Callers run this in a worker thread (the API uses run_in_threadpool), never in the event loop.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from jinja2 import ChainableUndefined, FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment

from app.documents.pdf_context import PdfSubject, amount, build_context, french_date, is_locked, number, price
from app.engine.store import Store, StoreError
from app.spec.model import EntitySpec
from app.spec.pdf_templates import PdfTemplate, template_dirs
from app.spec.suggest import did_you_mean


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


PDF_FOLDER = "PDF"  # the document-area folder of issued PDFs (files.yaml ships it)


@dataclass(frozen=True)
class PdfJob:
    """Everything the rendering needs, picklable (sent to worker processes)."""

    html: str
    title: str = ""
    author: str = ""
    facturx_xml: bytes | None = None


@dataclass(frozen=True)
class Prepared:
    job: PdfJob | None  # None when a stored PDF is served
    filename: str
    stored_path: Path | None  # where the locked document's PDF is (or is to be) stored
    stored: bytes | None = None


@dataclass(frozen=True)
class PdfResult:
    content: bytes
    filename: str
    stored: bool  # served from the stored copy


@lru_cache(maxsize=16)
def environment(root: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(d) for d in template_dirs(Path(root))]),
        autoescape=True,
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(amount=amount, price=price, number=number, fdate=french_date)
    return env


def files_dir() -> Path:
    from app.engine.files import files_root

    return files_root()


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "document"


def pick_template(entity: EntitySpec, values: dict[str, Any], name: str | None) -> PdfTemplate:
    pdf = entity.pdf
    if pdf is None:
        raise StoreError(
            404, "no_pdf", _m(f"« {entity.name} » n'a pas de modèle PDF", f"'{entity.name}' has no PDF template"), field="template"
        )
    if name is not None:
        found = pdf.templates.get(name)
        if found is None:
            hint = did_you_mean(name, pdf.templates)
            known = ", ".join(pdf.templates)
            raise StoreError(
                404, "unknown_template",
                _m(f"modèle PDF inconnu « {name} » (modèles : {known}){hint}", f"unknown PDF template '{name}' (templates: {known}){hint}"),
                field="template",
            )
        return found
    return pdf.default_for(values) or next(iter(pdf.templates.values()))


def prepare(store: Store, entity_name: str, record_id: Any, template: str | None = None) -> Prepared:
    from app.engine.verbs import record_values

    entity = store.entity(entity_name)
    obj = store.get(entity_name, record_id)
    chosen = pick_template(entity, record_values(store, entity, obj), template)
    number_value = getattr(obj, entity.fields["number"].column_name, None) if "number" in entity.fields else None
    label = chosen.label.fr
    filename = _safe(f"{label}-{number_value or obj.id}") + ".pdf"
    keep = is_locked(store, entity, obj) and not chosen.option("proforma")
    stored_path = None
    if keep:
        stored_path = files_dir() / "pdf" / entity.name / str(obj.id) / f"{_safe(chosen.name)}-{_safe(str(number_value or obj.id))}.pdf"
        if stored_path.is_file():
            return Prepared(None, filename, stored_path, stored_path.read_bytes())
    context = build_context(PdfSubject(store, entity, obj, chosen))
    html = environment(str(store.spec.root)).get_template(chosen.file).render(context)
    xml = None
    if keep and entity.pdf.facturx is not None:
        from app.documents.facturx import build_cii, type_code_of

        code = type_code_of(entity.pdf.facturx, record_values(store, entity, obj))
        if code is not None:
            xml = build_cii(context, code, entity.pdf.facturx.preceding)
    company = context["doc"].get("company") or {}
    title = f"{chosen.option('title') or label} {number_value or ''}".strip()
    return Prepared(PdfJob(html, title, str(company.get("legal_name") or ""), xml), filename, stored_path)


def render_job(job: PdfJob) -> bytes:
    """HTML → PDF; with Factur-X XML: PDF/A-3b with the XML embedded (factur-x library)."""
    from weasyprint import HTML

    variant = "pdf/a-3b" if job.facturx_xml is not None else None
    with warnings.catch_warnings():
        # WeasyPrint 70 leaves its sRGB profile file open for PDF/A (freed with the document)
        warnings.simplefilter("ignore", ResourceWarning)
        document = HTML(string=job.html).render()
        pdf: bytes = document.write_pdf(pdf_variant=variant)
        del document
    if job.facturx_xml is not None:
        from app.documents.facturx import embed

        pdf = embed(pdf, job.facturx_xml, title=job.title, author=job.author)
    return pdf


def render_batch(jobs: Sequence[PdfJob], workers: int | None = None) -> list[bytes]:
    """Render many documents across `workers` processes (default: every core)."""
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) <= 1:
        return [render_job(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(render_job, jobs, chunksize=max(1, len(jobs) // (workers * 4))))


def finish(prepared: Prepared) -> PdfResult:
    """Render a prepared document (or take its stored copy) and store a locked one."""
    if prepared.stored is not None:
        return PdfResult(prepared.stored, prepared.filename, True)
    assert prepared.job is not None
    return PdfResult(store_rendered(prepared, render_job(prepared.job)), prepared.filename, False)


def store_rendered(prepared: Prepared, content: bytes) -> bytes:
    """Store a locked document's freshly rendered PDF (never replacing a stored copy); the
    bytes to serve: `content`, or the copy stored first when another render won the race."""
    if prepared.stored_path is None:
        return content
    target = prepared.stored_path
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(content)
    try:
        os.link(temporary, target)  # never replaces: the first stored copy stays the one
    except FileExistsError:
        content = target.read_bytes()  # rendered concurrently: serve the copy stored first
    finally:
        temporary.unlink()
    return content


def document_pdf(store: Store, entity_name: str, record_id: Any, template: str | None = None) -> PdfResult:
    """The PDF of one record (run it in a worker thread, never in the event loop). A locked
    document's PDF, stored the first time, also goes into its document area (folder « PDF »)."""
    prepared = prepare(store, entity_name, record_id, template)
    result = finish(prepared)
    if not result.stored and prepared.stored_path is not None:
        keep_in_document_area(store, entity_name, int(record_id), result)
    return result


def keep_in_document_area(store: Store, entity_name: str, record_id: int, result: PdfResult) -> None:
    """The issued PDF among the record's files (once: not again when it is served as stored)."""
    from app.engine.files import GENERATED, list_files, store_generated

    rows = list_files(store.session, store.rt, entity_name, record_id)
    if any(r.source == GENERATED and r.original_name == result.filename for r in rows):
        return
    store_generated(store.rt, entity_name, record_id, PDF_FOLDER, result.filename, result.content)
