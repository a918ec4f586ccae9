"""The document area through the REST API: upload, list, download, delete, checks and rights."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.engine.apiclient import add_user_with_token, api_client, client_for, document_parties, error_of, make_app, run_action

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(300)


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "files"
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(target))
    return target


def _quote(client: Any) -> int:
    ids = document_parties(client)
    lines = [{"description": "Pose de carrelage", "quantity": "2", "unit_price": "45.00", "vat_rate": "20"}]
    created = client.post("/api/v1/quote", json={**ids, "lines": lines})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _stored(files_dir: Path) -> list[Path]:
    return sorted(p for p in files_dir.rglob("*") if p.is_file())


def test_upload_list_download_delete_round_trip(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    quote = _quote(client)
    photo = PNG + b"photo avant travaux"
    sent = client.post(
        f"/api/v1/quote/{quote}/files",
        files=[("file", ("Façade avant.png", photo, "image/png")), ("file", ("devis signé.pdf", PDF, "application/pdf"))],
        data={"folder": "photos AVANT"},
    )
    assert sent.status_code == 201, sent.text
    items = sent.json()["items"]
    assert [i["name"] for i in items] == ["Façade avant.png", "devis signé.pdf"]
    assert {i["folder"] for i in items} == {"Photos avant"}  # the configured folder's spelling
    assert items[0]["size"] == len(photo) and items[0]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert items[0]["mime_type"] == "image/png" and items[1]["mime_type"] == "application/pdf"
    assert items[0]["source"] == "upload" and items[0]["uploaded_by"] == "api-admin"
    on_disk = _stored(files_dir)
    assert len(on_disk) == 2 and all("Fa" not in p.name for p in on_disk)  # the user's name never reaches the disk

    listed = client.get(f"/api/v1/quote/{quote}/files").json()["items"]
    assert sorted(i["id"] for i in listed) == sorted(i["id"] for i in items)
    got = client.get(items[0]["url"])
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/png"
    assert "inline" in got.headers["content-disposition"] and "Fa%C3%A7ade" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert client.get(items[1]["url"]).content == PDF

    removed = client.delete(items[0]["url"])
    assert removed.status_code == 204
    assert client.get(items[0]["url"]).status_code == 404
    assert [i["name"] for i in client.get(f"/api/v1/quote/{quote}/files").json()["items"]] == ["devis signé.pdf"]
    assert len(_stored(files_dir)) == 1


def test_default_folder_and_other_records_files_are_apart(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    first, second = _quote(client), _quote(client)
    row = client.post(f"/api/v1/quote/{first}/files", files={"file": ("notice.txt", "Fiche technique : carrelage grès cérame\n".encode(), "text/plain")}).json()["items"][0]
    assert row["folder"] == "Documents" and row["mime_type"] == "text/plain"
    assert client.get(f"/api/v1/quote/{second}/files").json()["items"] == []
    assert client.get(f"/api/v1/quote/{second}/files/{row['id']}").status_code == 404  # not that record's file
    assert client.get(f"/api/v1/quote/{first}/files/abc").status_code == 404
    assert client.get(f"/api/v1/quote/999999/files").status_code == 404


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("a\\b.pdf", "b.pdf"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("  .caché<>:|?*.pdf  ", "caché______.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("../..", "fichier.pdf"),
    ],
)
def test_traversal_and_odd_names_are_sanitised(runtime: Any, files_dir: Path, sent: str, kept: str) -> None:
    client = api_client(runtime)
    quote = _quote(client)
    content = b"line one\n" if kept.endswith(".txt") else PDF
    answer = client.post(f"/api/v1/quote/{quote}/files", files={"file": (sent, content, "application/octet-stream")})
    assert answer.status_code == 201, answer.text
    row = answer.json()["items"][0]
    assert row["name"] == kept
    for path in _stored(files_dir):
        assert path.resolve().is_relative_to(files_dir.resolve())
    assert not (files_dir.parent / "etc").exists()
    assert client.get(row["url"]).content == content


def test_too_big_is_413_with_a_french_message(runtime: Any, files_dir: Path, config_copy: Path, make_runtime: Any) -> None:
    (config_copy / "files.yaml").write_text("max_size_mb: 0.01\n", encoding="utf-8")  # 10 KiB
    rt = make_runtime(config_copy)
    client = api_client(rt)
    quote = _quote(client)
    big = PDF + b"0" * 11000
    answer = client.post(f"/api/v1/quote/{quote}/files", files={"file": ("gros.pdf", big, "application/pdf")})
    assert answer.status_code == 413
    error = error_of(answer)
    assert error["code"] == "too_large"
    assert error["message"].startswith("« gros.pdf » est trop volumineux : 0,01 Mo au plus par fichier")
    small = client.post(f"/api/v1/quote/{quote}/files", files={"file": ("petit.pdf", PDF, "application/pdf")})
    assert small.status_code == 201, small.text
    assert len(_stored(files_dir)) == 1


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("facture.pdf", EXE, 415, "unsupported_type"),  # an .exe renamed .pdf
        ("programme.exe", EXE, 415, "unsupported_type"),
        ("photo.pdf", PNG, 415, "type_mismatch"),
        ("archive.docx", b"PK\x03\x04" + bytes(100), 415, "unsupported_type"),  # a zip that is no Word file
        ("vide.pdf", b"", 422, "empty_file"),
    ],
)
def test_wrong_types_are_refused_by_their_content(runtime: Any, files_dir: Path, name: str, content: bytes, status: int, code: str) -> None:
    client = api_client(runtime)
    quote = _quote(client)
    answer = client.post(f"/api/v1/quote/{quote}/files", files={"file": (name, content, "application/pdf")})
    assert answer.status_code == status, answer.text
    assert error_of(answer)["code"] == code
    assert _stored(files_dir) == [] and client.get(f"/api/v1/quote/{quote}/files").json()["items"] == []


def test_office_files_and_a_missing_extension_are_recognised(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    quote = _quote(client)
    answer = client.post(
        f"/api/v1/quote/{quote}/files",
        files=[("file", ("Présentation.docx", _docx(), "application/octet-stream")), ("file", ("scan", PDF, "application/octet-stream"))],
    )
    assert answer.status_code == 201, answer.text
    items = answer.json()["items"]
    assert items[0]["mime_type"].endswith("wordprocessingml.document")
    assert items[1]["name"] == "scan.pdf"


def test_one_bad_file_refuses_the_whole_upload(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    quote = _quote(client)
    answer = client.post(
        f"/api/v1/quote/{quote}/files",
        files=[("file", ("bon.pdf", PDF, "application/pdf")), ("file", ("mauvais.pdf", EXE, "application/pdf"))],
    )
    assert answer.status_code == 415
    assert "mauvais.pdf" in error_of(answer)["message"]
    assert _stored(files_dir) == []


def test_readonly_user_can_list_and_download_but_not_upload_or_delete(runtime: Any, files_dir: Path) -> None:
    admin = api_client(runtime)
    quote = _quote(admin)
    row = admin.post(f"/api/v1/quote/{quote}/files", files={"file": ("plan.pdf", PDF, "application/pdf")}).json()["items"][0]
    reader = client_for(make_app(runtime), add_user_with_token(runtime, "lecteur", ["readonly"]))
    assert [i["id"] for i in reader.get(f"/api/v1/quote/{quote}/files").json()["items"]] == [row["id"]]
    assert reader.get(row["url"]).content == PDF
    refused = reader.post(f"/api/v1/quote/{quote}/files", files={"file": ("autre.pdf", PDF, "application/pdf")})
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert reader.delete(row["url"]).status_code == 403
    assert len(_stored(files_dir)) == 1
    refused_big = reader.post(f"/api/v1/quote/{quote}/files", files={"file": ("gros.pdf", PDF + bytes(21 * 1024 * 1024), "application/pdf")})
    assert refused_big.status_code == 403  # the right is checked before the body is read
    anonymous = client_for(make_app(runtime), None)
    assert anonymous.get(f"/api/v1/quote/{quote}/files").status_code == 401
    assert anonymous.post(f"/api/v1/quote/{quote}/files", files={"file": ("x.pdf", PDF, "application/pdf")}).status_code == 401


def test_deleting_a_record_removes_its_files_from_disk(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    keep, drop = _quote(client), _quote(client)
    client.post(f"/api/v1/quote/{keep}/files", files={"file": ("garde.pdf", PDF, "application/pdf")})
    client.post(f"/api/v1/quote/{drop}/files", files=[("file", ("a.pdf", PDF, "application/pdf")), ("file", ("b.png", PNG, "image/png"))])
    assert len(_stored(files_dir)) == 3
    assert client.delete(f"/api/v1/quote/{drop}").status_code == 204
    remaining = _stored(files_dir)
    assert len(remaining) == 1 and f"/quote/{keep}/" in remaining[0].as_posix()
    assert client.get(f"/api/v1/quote/{keep}/files").json()["items"][0]["name"] == "garde.pdf"


def test_generated_files_of_a_locked_record_cannot_be_deleted(runtime: Any, files_dir: Path) -> None:
    from app.engine.files import store_generated

    client = api_client(runtime)
    quote = _quote(client)
    generated = store_generated(runtime, "quote", quote, "PDF", "Devis brouillon", PDF)
    assert generated.source == "generated" and generated.original_name == "Devis brouillon.pdf" and generated.folder == "PDF"
    photo = client.post(f"/api/v1/quote/{quote}/files", files={"file": ("après.png", PNG, "image/png")}).json()["items"][0]
    run_action(client, "quote", quote, "validate")
    refused = client.delete(f"/api/v1/quote/{quote}/files/{generated.id}")
    assert refused.status_code == 409 and error_of(refused)["code"] == "locked"
    assert client.get(f"/api/v1/quote/{quote}/files/{generated.id}").content == PDF
    assert client.delete(photo["url"]).status_code == 204  # an upload may go, even on a locked record
    late = client.post(f"/api/v1/quote/{quote}/files", files={"file": ("après2.png", PNG, "image/png")})
    assert late.status_code == 201  # photos after the work, on a sent quote


def test_bad_requests_are_clear_4xx(runtime: Any, files_dir: Path) -> None:
    client = api_client(runtime)
    quote = _quote(client)
    not_multipart = client.post(f"/api/v1/quote/{quote}/files", json={"file": "x"})
    assert not_multipart.status_code == 415 and error_of(not_multipart)["code"] == "multipart_expected"
    nothing = client.post(f"/api/v1/quote/{quote}/files", files={"other": ("x.pdf", PDF, "application/pdf")})
    assert nothing.status_code == 422 and error_of(nothing)["code"] == "no_file"
    assert client.put(f"/api/v1/quote/{quote}/files").status_code == 405
    assert client.post(f"/api/v1/quote_line/1/files", files={"file": ("x.pdf", PDF, "application/pdf")}).status_code == 404


def test_openapi_describes_the_file_paths_and_answers_match_the_schema(runtime: Any, files_dir: Path) -> None:
    from jsonschema import Draft202012Validator
    from openapi_spec_validator import validate as validate_openapi

    client = api_client(runtime)
    doc = client.get("/api/v1/openapi.json").json()
    validate_openapi(doc)
    upload = doc["paths"]["/quote/{id}/files"]["post"]
    assert set(upload["requestBody"]["content"]) == {"multipart/form-data"}
    assert {"201", "413", "415"} <= set(upload["responses"])
    assert set(doc["paths"]["/quote/{id}/files/{file_id}"]) >= {"get", "delete"}
    assert "/quote_line/{id}/files" not in doc["paths"]  # embedded entities have no files of their own
    quote = _quote(client)
    answer = client.post(f"/api/v1/quote/{quote}/files", files={"file": ("a.pdf", PDF, "application/pdf")}).json()
    Draft202012Validator(doc["components"]["schemas"]["File"]).validate(answer["items"][0])
