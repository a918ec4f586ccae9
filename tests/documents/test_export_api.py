"""POST /api/v1/{entity}/export: several invoices as one PDF (in the selection's order) or a
zip of their separate PDFs; rights, unknown ids, empty and too long selections."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from app.documents.facturx_check import check_pdf
from tests.documents.pdfdata import make_document, parties, text_of, validate
from tests.engine.apiclient import (
    add_user_with_token,
    api_client,
    client_for,
    error_of,
    make_app,
)


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "files"
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(folder))
    return folder


def _three_invoices(client: Any) -> list[dict[str, Any]]:
    ids = parties(client)
    made = []
    for n, price in enumerate(("11.00", "22.00", "33.00")):
        lines = [{"description": f"Prestation numéro {n + 1}", "quantity": "1", "unit_price": price, "vat_rate": "20"}]
        made.append(make_document(client, "invoice", ids, lines=lines))
    return made


def test_one_pdf_holds_every_page_in_the_selection_order_and_stores_the_validated_one(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    invoices = _three_invoices(client)
    number = validate(client, "invoice", invoices[1]["id"])["number"]
    order = [invoices[2]["id"], invoices[0]["id"], invoices[1]["id"]]
    got = client.post("/api/v1/invoice/export", json={"ids": order})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf"
    assert 'filename="Facture-3-documents.pdf"' in got.headers["content-disposition"]
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(got.content)).pages]
    assert len(pages) == 3
    assert ["Prestation numéro 3" in pages[0], "Prestation numéro 1" in pages[1], "Prestation numéro 2" in pages[2]] == [True] * 3
    assert "SPECIMEN" in pages[0] and "SPECIMEN" not in pages[2] and number in pages[2]
    assert check_pdf(got.content)[0] is None  # for printing: no Factur-X XML in the merged PDF
    # the validated invoice was stored exactly as a single download stores it, then served as stored
    stored = list(files_dir.rglob("*.pdf"))
    assert len(stored) == 1 and number in stored[0].name
    single = client.get(f"/api/v1/invoice/{invoices[1]['id']}/pdf")
    assert single.headers["x-comptoir-stored"] == "yes" and single.content == stored[0].read_bytes()


def test_zip_holds_the_separate_pdfs_with_unique_names_and_their_facturx(runtime: Any) -> None:
    client = api_client(runtime)
    invoices = _three_invoices(client)
    number = validate(client, "invoice", invoices[0]["id"])["number"]
    got = client.post("/api/v1/invoice/export", json={"ids": [i["id"] for i in invoices], "format": "zip"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    assert 'filename="Facture-3-documents.zip"' in got.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    names = archive.namelist()
    assert len(names) == 3 and len(set(names)) == 3, names
    assert names[0] == f"Facture-{number}.pdf"
    for n, name in enumerate(names):
        content = archive.read(name)
        assert content.startswith(b"%PDF-") and f"Prestation numéro {n + 1}" in text_of(content)
    xml, problems = check_pdf(archive.read(names[0]))  # the validated one keeps its Factur-X XML
    assert xml is not None and problems == []


def test_errors_name_the_unknown_ids_and_refuse_bad_selections(runtime: Any) -> None:
    client = api_client(runtime)
    invoices = _three_invoices(client)
    first = invoices[0]["id"]
    missing = client.post("/api/v1/invoice/export", json={"ids": [first, 99998, 99999]})
    assert missing.status_code == 404
    error = error_of(missing)
    assert "introuvable : n° 99998, 99999 — export refusé" in error["message"], error  # the found one is not named
    empty = client.post("/api/v1/invoice/export", json={"ids": []})
    assert empty.status_code == 422 and error_of(empty)["field"] == "ids"
    many = client.post("/api/v1/invoice/export", json={"ids": list(range(1, 502))})
    assert many.status_code == 422 and "501" in error_of(many)["message"]
    for bad_id in (0, -3, 2**31, True, "12"):
        out_of_range = client.post("/api/v1/invoice/export", json={"ids": [first, bad_id]})
        assert out_of_range.status_code == 422 and error_of(out_of_range)["field"] == "ids", bad_id
    bad_format = client.post("/api/v1/invoice/export", json={"ids": [first], "format": "docx"})
    assert bad_format.status_code == 422 and error_of(bad_format)["field"] == "format"
    bad_key = client.post("/api/v1/invoice/export", json={"ids": [first], "colour": "red"})
    assert bad_key.status_code == 422 and error_of(bad_key)["field"] == "colour"
    bad_template = client.post("/api/v1/invoice/export", json={"ids": [first], "template": "nope"})
    assert bad_template.status_code == 404 and error_of(bad_template)["field"] == "template"
    no_pdf = client.post("/api/v1/account/export", json={"ids": [1]})
    assert no_pdf.status_code == 404 and error_of(no_pdf)["code"] == "no_pdf"
    wrong_method = client.get("/api/v1/invoice/export")
    assert wrong_method.status_code == 405
    not_json = client.post("/api/v1/invoice/export", content=b"[1, 2]")
    assert not_json.status_code == 400


def test_rights_the_read_right_is_required(runtime: Any) -> None:
    client = api_client(runtime)
    invoices = _three_invoices(client)
    denied = client_for(
        make_app(runtime),
        add_user_with_token(runtime, "dan", ["readonly"], rights=[{"entity": "invoice", "action": "read", "effect": "deny"}]),
    )
    got = denied.post("/api/v1/invoice/export", json={"ids": [i["id"] for i in invoices]})
    assert got.status_code == 403 and error_of(got)["code"] == "forbidden"
    reader = client_for(make_app(runtime), add_user_with_token(runtime, "rita", ["readonly"]))
    allowed = reader.post("/api/v1/invoice/export", json={"ids": [invoices[0]["id"]]})
    assert allowed.status_code == 200 and allowed.content.startswith(b"%PDF-")


def test_openapi_documents_the_export(runtime: Any) -> None:
    doc = api_client(runtime).get("/api/v1/openapi.json").json()
    post = doc["paths"]["/invoice/export"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["required"] == ["ids"]
    assert "/account/export" not in doc["paths"]
