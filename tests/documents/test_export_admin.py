"""The admin's multi-document export: a small selection downloads at once; a large one runs in
the background, its progress in COMPTOIR_FILES_DIR/exports/<job>.json, polled as JSON until
the file downloads. POST with the CSRF token; a job is its user's only."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.documents.pdfdata import make_document, parties
from tests.engine.apiclient import api_client
from tests.engine.test_admin import logged_in, token


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "files"
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(folder))
    return folder


def _invoices(runtime: Any, count: int) -> list[int]:
    client = api_client(runtime)
    ids = parties(client)
    def lines(n: int) -> list[dict[str, str]]:
        return [{"description": f"Prestation numéro {n}", "quantity": "1", "unit_price": "10.00", "vat_rate": "20"}]

    return [make_document(client, "invoice", ids, lines=lines(n + 1))["id"] for n in range(count)]


def _start(client: Any, ids: list[int], fmt: str) -> Any:
    data = {"csrf_token": token(client), "ids": ",".join(map(str, ids)), "format": fmt}
    return client.post("/admin/_export/new/invoice", data=data, follow_redirects=False)


def test_the_list_page_offers_the_export_only_for_entities_with_pdf_templates(runtime: Any) -> None:
    client = logged_in(runtime)
    assert 'id="comptoir-export-pdf"' in client.get("/admin/invoice/list").text
    assert 'id="comptoir-export"' not in client.get("/admin/account/list").text


def test_a_small_selection_downloads_at_once(runtime: Any) -> None:
    ids = _invoices(runtime, 3)
    client = logged_in(runtime)
    got = _start(client, ids, "zip")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(got.content)).namelist()) == 3
    no_token = client.post("/admin/_export/new/invoice", data={"ids": ",".join(map(str, ids))}, follow_redirects=False)
    assert no_token.status_code == 403
    unknown = _start(client, [ids[0], 99999], "pdf")
    assert unknown.status_code == 404 and "99999" in unknown.text
    bad = _start(client, [], "pdf")
    assert bad.status_code == 422


def test_a_job_of_twelve_documents_reports_its_progress_and_its_file_downloads(runtime: Any, files_dir: Path) -> None:
    ids = _invoices(runtime, 12)
    client = logged_in(runtime)
    started = _start(client, ids, "pdf")
    assert started.status_code == 303, started.text
    page_url = started.headers["location"]
    job = re.search(r"/_export/([0-9a-f]{32})/page", page_url)
    assert job is not None, page_url
    page = client.get(page_url)
    assert page.status_code == 200 and 'id="comptoir-export-bar"' in page.text
    seen: list[int] = []
    deadline = time.monotonic() + 300
    while True:
        status = client.get(f"/admin/_export/{job.group(1)}")
        assert status.status_code == 200
        state = status.json()
        assert state["total"] == 12 and state["status"] in ("running", "done"), state
        seen.append(state["done"])
        if state["status"] == "done":
            break
        assert time.monotonic() < deadline, state
        time.sleep(0.3)
    assert state["done"] == 12 and seen == sorted(seen)
    on_disk = json.loads((files_dir / "exports" / f"{job.group(1)}.json").read_text())
    assert (on_disk["done"], on_disk["total"], on_disk["status"]) == (12, 12, "done")
    got = client.get(state["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert 'filename="Facture-12-documents.pdf"' in got.headers["content-disposition"]
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(got.content)).pages]
    assert [f"Prestation numéro {n + 1}" in text for n, text in enumerate(pages)] == [True] * 12

    other = logged_in(runtime, "bob")  # another user never sees the job
    assert other.get(f"/admin/_export/{job.group(1)}").status_code == 404
    assert other.get(state["url"]).status_code == 404


def test_a_large_job_refused_names_the_missing_ids_and_rights_are_checked_at_once(runtime: Any) -> None:
    ids = _invoices(runtime, 11)
    client = logged_in(runtime)
    started = _start(client, [*ids, 99999], "zip")
    assert started.status_code == 303, started.text
    job = started.headers["location"].rsplit("/", 2)[-2]
    deadline = time.monotonic() + 120
    while (state := client.get(f"/admin/_export/{job}").json())["status"] == "running":
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    assert state["status"] == "error" and "99999" in state["message"] and state["url"] is None
    assert client.get(f"/admin/_export/{job}/file").status_code == 404

    denied = logged_in(runtime, "dan", ("readonly",), rights=[{"entity": "invoice", "action": "read", "effect": "deny"}])
    refused = _start(denied, ids, "pdf")
    assert refused.status_code == 403 and "invoice" in refused.text
    huge = _start(client, [*ids, 2**31], "pdf")
    assert huge.status_code == 422
