"""The Documents panel in chromium: a photo uploaded on a quote shows in its folder, opens, a
renamed program is refused in French, and a file is deleted after confirmation."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import ADMIN_LOGIN, PROJECT_ROOT
from tests.e2e.test_admin_browser import login, pick_link, save

pytestmark = pytest.mark.e2e

SCREENSHOT = PROJECT_ROOT / "test-artifacts" / "documents-panel.png"
TITLE = "Réfection de la façade"


def photo_png(width: int = 64, height: int = 48) -> bytes:
    """A real (tiny) PNG: a gradient, as a phone photo would be for the checks."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 5 % 256, 128)) for x in range(width)) for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def documents(page: Any) -> Any:
    return page.locator("#documents")


def upload(page: Any, folder: str, name: str, content: bytes, mime: str) -> None:
    page.select_option("#documents-folder", folder)
    page.set_input_files("#documents-files", files=[{"name": name, "mimeType": mime, "buffer": content}])
    with page.expect_navigation():
        page.locator("#documents-upload button[type=submit]").click()


def test_photo_uploaded_on_a_quote_shows_in_the_documents_panel(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    login(page)
    page.goto("/admin/quote/create")
    pick_link(page, "company", "Atelier", "Atelier Comptoir SAS")
    pick_link(page, "account", "Boulangerie", "Boulangerie Martin")
    page.fill("#title", TITLE)
    page.locator("[data-add-child='lines']").click()
    page.fill("input[name='lines-0-description']", "Ravalement")
    page.fill("input[name='lines-0-unit_price']", "1 800,00")
    save(page)
    page.goto("/admin/quote/list")
    page.locator("tbody tr", has_text=TITLE).first.locator("a[href*='/details/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/quote/details/\d+"))
    expect(documents(page)).to_contain_text("Aucun document pour l'instant.")

    photo = photo_png()
    upload(page, "Photos avant", "façade avant travaux.png", photo, "image/png")
    expect(page.locator(".alert-success").first).to_contain_text("1 fichier(s) ajouté(s) dans « Photos avant »")
    row = documents(page).locator("tr.comptoir-document", has_text="façade avant travaux.png")
    expect(row).to_contain_text("Photos avant")
    expect(row).to_contain_text(ADMIN_LOGIN)
    thumb = row.locator("img.comptoir-document-thumb")
    expect(thumb).to_be_visible()
    # the photo itself, served and drawn (decode() waits for it to load: a busy machine may not have yet)
    assert thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 64
    href = row.locator("a.comptoir-document-name").get_attribute("href")
    assert href is not None
    served = page.request.get(href)
    assert served.status == 200 and served.body() == photo and served.headers["content-type"] == "image/png"

    upload(page, "Documents", "devis fournisseur.pdf", b"MZ\x90\x00" + bytes(400), "application/pdf")
    expect(page.locator(".alert-danger").first).to_contain_text("« devis fournisseur.pdf » : type de fichier non reconnu ou refusé")
    expect(documents(page).locator("tr.comptoir-document")).to_have_count(1)

    upload(page, "Photos après", "façade après.png", photo, "image/png")
    expect(documents(page).locator("tr.comptoir-document")).to_have_count(2)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    documents(page).screenshot(path=str(SCREENSHOT))

    with page.expect_navigation():
        documents(page).locator("tr.comptoir-document", has_text="façade après.png").locator("form button").click()
    expect(page.locator(".alert-success").first).to_contain_text("Fichier « façade après.png » supprimé.")
    expect(documents(page).locator("tr.comptoir-document")).to_have_count(1)
