"""PDF pipeline against bare WeasyPrint, and a batch across cores against one core.

    python bench/pdf.py                     # 15 rounds, a batch of 200 invoices
    python bench/pdf.py --rounds 5 --batch 40

1. Median ms per invoice (10 lines) of our pipeline — record read, context providers, Jinja
   template, WeasyPrint — against bare WeasyPrint rendering the very same HTML in the same run
   (ratio target ≤ 1.1). Also the validated invoice: PDF/A-3b + Factur-X XML built, XSD-checked
   and embedded, against bare WeasyPrint PDF/A-3b of the same HTML.
2. Invoices per second for a batch rendered with every core (ProcessPoolExecutor) against one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.documents.pdf import PdfJob, prepare, render_batch, render_job  # noqa: E402
from app.engine.permissions import SYSTEM  # noqa: E402
from app.engine.store import Store  # noqa: E402
from app.web.app import load_runtime  # noqa: E402
from tests.documents.pdfdata import make_document, parties, validate  # noqa: E402
from tests.engine.apiclient import api_client  # noqa: E402

LINES = [
    {"description": f"Article {i} — fourniture et pose", "quantity": str(i % 4 + 1), "unit_price": f"{10 * i}.50", "vat_rate": "20" if i % 3 else "10"}
    for i in range(1, 11)
]


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    fn()  # warm-up: fonts, templates, caches
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bare(html: str, variant: str | None = None) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf(pdf_variant=variant))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="comptoir-bench-pdf-"))
    os.environ["COMPTOIR_FILES_DIR"] = str(work / "files")
    rt = load_runtime(ROOT, f"sqlite:///{work / 'bench.db'}")
    client = api_client(rt)
    ids = parties(client)
    draft = make_document(client, "invoice", ids, lines=LINES, payment_terms=ids["terms"])["id"]
    issued = make_document(client, "invoice", ids, lines=LINES, payment_terms=ids["terms"])["id"]
    validate(client, "invoice", issued)

    def pipeline(record_id: int) -> bytes:
        with rt.session() as session:
            prepared = prepare(Store(rt, session, SYSTEM), "invoice", record_id)
        assert prepared.job is not None
        return render_job(prepared.job)

    with rt.session() as session:
        draft_job = prepare(Store(rt, session, SYSTEM), "invoice", draft).job
        issued_job = prepare(Store(rt, session, SYSTEM), "invoice", issued).job
    assert draft_job is not None and issued_job is not None and issued_job.facturx_xml is not None

    ours = median_ms(lambda: pipeline(draft), args.rounds)
    base = median_ms(lambda: bare(draft_job.html), args.rounds)
    print(f"draft invoice, 10 lines: pipeline {ours:.1f} ms, bare WeasyPrint {base:.1f} ms, ratio {ours / base:.2f} (target <= 1.1)")
    ours_fx = median_ms(lambda: pipeline(issued), args.rounds)  # prepare never stores: rendered each round
    base_fx = median_ms(lambda: bare(issued_job.html, "pdf/a-3b"), args.rounds)
    print(f"validated invoice, Factur-X: pipeline {ours_fx:.1f} ms, bare WeasyPrint PDF/A-3b {base_fx:.1f} ms, ratio {ours_fx / base_fx:.2f}")

    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        jobs: list[PdfJob] = []
        for _ in range(args.batch):
            job = prepare(store, "invoice", draft).job
            assert job is not None
            jobs.append(job)
    cores = os.cpu_count() or 1
    start = time.perf_counter()
    render_batch(jobs, workers=1)
    one = args.batch / (time.perf_counter() - start)
    start = time.perf_counter()
    render_batch(jobs, workers=cores)
    every = args.batch / (time.perf_counter() - start)
    print(f"batch of {args.batch}: {every:.1f} invoices/s on {cores} cores, {one:.1f} on one core, ratio {every / one:.2f}")
    rt.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
