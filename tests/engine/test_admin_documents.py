"""The "Documents" panel of the admin record pages: list, upload (CSRF), download, delete."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_admin import csrf_of, logged_in

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(tmp_path / "files"))
    return tmp_path / "files"


def new_quote(rt: Any) -> int:
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        company = store.create("company", {"legal_name": "Atelier Comptoir SAS"})
        account = store.create("account", {"name": "Dupont SARL", "type": "client"})
        quote = store.create("quote", {"company": company.id, "account": account.id, "lines": [{"description": "Pose", "quantity": "1", "unit_price": "100"}]})
        session.commit()
        return int(quote.id)


def panel(page: str) -> str:
    match = re.search(r'<div class="card mb-3" id="documents">.*?</form>\s*<script>|<div class="card mb-3" id="documents">.*?</table>', page, re.S)
    assert match, "no Documents panel"
    return match.group(0)


def names(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'class="comptoir-document-name">([^<]+)<', page)]


def flash_text(page: str) -> str:
    return " ".join(html.unescape(m).strip() for m in re.findall(r'id="action-result">(.*?)</div>', page, re.S))


def upload(client: Any, quote: int, files: list[tuple[str, bytes]], folder: str = "Documents", token: str | None = None, **extra: str) -> Any:
    page = client.get(f"/admin/quote/details/{quote}").text
    return client.post(
        f"/admin/_documents/quote/{quote}/upload",
        data={"csrf_token": token if token is not None else csrf_of(page), "folder": folder, **extra},
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
        follow_redirects=False,
    )


def test_upload_list_download_and_delete_from_the_record_page(runtime: Any, files_dir: Path) -> None:
    quote = new_quote(runtime)
    client = logged_in(runtime, "alice", ("admin",))
    page = client.get(f"/admin/quote/details/{quote}").text
    assert "Aucun document pour l'instant." in page
    assert 'enctype="multipart/form-data"' in page and 'name="files"' in page and "multiple" in page
    assert "20 Mo au plus par fichier" in page
    assert [html.unescape(o) for o in re.findall(r'<option value="([^"]+)"', page.split('id="documents-folder"')[1].split("</select>")[0])][:3] == ["Documents", "Photos avant", "Photos après"]

    sent = upload(client, quote, [("chantier avant.png", PNG), ("plan.pdf", PDF)], folder="Photos avant")
    assert sent.status_code == 303 and sent.headers["location"].endswith(f"/admin/quote/details/{quote}#documents")
    page = client.get(sent.headers["location"]).text
    assert "2 fichier(s) ajouté(s) dans « Photos avant »" in flash_text(page)
    assert names(page) == ["chantier avant.png", "plan.pdf"]
    assert "alice" in panel(page) and "Photos avant" in panel(page)
    url = re.search(r'href="([^"]+)" target="_blank" rel="noopener" class="comptoir-document-name">chantier avant', page)
    assert url is not None
    assert client.get(url.group(1)).content == PNG

    other = upload(client, quote, [("fiche.txt", "Fiche technique\n".encode())], folder="Documents", new_folder="Dossier client 2026")
    page = client.get(other.headers["location"]).text
    assert "Dossier client 2026" in panel(page)

    delete = re.search(r'<form method="post" action="([^"]+/delete)"[^>]*data-confirm="([^"]+)"', page)
    assert delete is not None and "Supprimer définitivement le fichier" in html.unescape(delete.group(2))
    no_token = client.post(delete.group(1), data={}, follow_redirects=False)
    assert no_token.status_code == 403
    done = client.post(delete.group(1), data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "supprimé" in flash_text(page) and len(names(page)) == 2
    assert len([p for p in files_dir.rglob("*") if p.is_file()]) == 2


def test_refusals_are_flashed_in_french_and_nothing_is_kept(runtime: Any, files_dir: Path) -> None:
    quote = new_quote(runtime)
    client = logged_in(runtime, "alice", ("admin",))
    assert upload(client, quote, [("x.pdf", PDF)], token="wrong").status_code == 403
    sent = upload(client, quote, [("virus.pdf", b"MZ" + bytes(200))])
    page = client.get(sent.headers["location"]).text
    assert "Envoi refusé : « virus.pdf » : type de fichier non reconnu ou refusé" in flash_text(page)
    sent = upload(client, quote, [])
    assert "Choisissez au moins un fichier" in flash_text(client.get(sent.headers["location"]).text)
    assert not files_dir.exists() or not any(p.is_file() for p in files_dir.rglob("*"))


def test_readonly_user_sees_and_downloads_but_cannot_upload_or_delete(runtime: Any, files_dir: Path) -> None:
    from app.engine.files import store_generated

    quote = new_quote(runtime)
    row = store_generated(runtime, "quote", quote, "PDF", "Devis.pdf", PDF)
    reader = logged_in(runtime, "rita", ("readonly",))
    page = reader.get(f"/admin/quote/details/{quote}").text
    assert names(page) == ["Devis.pdf"] and "généré" in panel(page)
    assert 'id="documents-upload"' not in page and "/delete" not in panel(page)
    assert reader.get(f"/admin/_documents/quote/{quote}/{row.id}").content == PDF
    sent = upload(reader, quote, [("x.pdf", PDF)])
    assert "refusé" in flash_text(reader.get(sent.headers["location"]).text)
    refused = reader.post(f"/admin/_documents/quote/{quote}/{row.id}/delete", data={"csrf_token": csrf_of(page)}, follow_redirects=False)
    assert refused.status_code == 303
    assert names(reader.get(f"/admin/quote/details/{quote}").text) == ["Devis.pdf"]
    assert reader.get(f"/admin/_documents/quote/{quote + 1}/{row.id}").status_code == 404


def test_the_panels_script_gets_the_address_and_the_flash_waits_for_it(runtime: Any, files_dir: Path) -> None:
    quote = new_quote(runtime)
    client = logged_in(runtime, "alice", ("admin",))
    page = client.get(f"/admin/quote/details/{quote}").text
    sent = client.post(
        f"/admin/_documents/quote/{quote}/upload",
        data={"folder": "PDF"},
        files=[("files", ("bon.pdf", PDF, "application/pdf"))],
        headers={"X-CSRF-Token": csrf_of(page), "X-Comptoir-Fetch": "1"},
        follow_redirects=False,
    )
    assert sent.status_code == 200 and sent.json()["location"].endswith(f"/admin/quote/details/{quote}#documents")
    page = client.get(sent.json()["location"]).text
    assert "1 fichier(s) ajouté(s) dans « PDF » : « bon.pdf »." in flash_text(page)
