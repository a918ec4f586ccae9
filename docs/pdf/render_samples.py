"""Render a sample of every PDF template and a PNG of its first page into docs/pdf/.

    PYTHONPATH=. python docs/pdf/render_samples.py

Builds a throwaway SQLite database with the shipped configuration, makes the documents
through the REST API (as a client would), then `pdftoppm -png -r 50 -singlefile`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _logo(files: Path) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 116, 116), radius=18, fill="#206bc4")
    draw.text((30, 40), "BS", fill="white", font_size=44)
    draw.text((132, 34), "Berthier", fill="#1d273b", font_size=34)
    draw.text((132, 72), "Services", fill="#206bc4", font_size=26)
    folder = files / "company"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    (folder / "logo.png").write_bytes(buffer.getvalue())
    return "company/logo.png"


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="comptoir-pdf-"))
    os.environ["COMPTOIR_FILES_DIR"] = str(work / "files")
    sys.path.insert(0, str(ROOT))
    from app.spec.expressions import fixed_clock
    from app.web.app import load_runtime
    from tests.documents.pdfdata import make_document, parties, pdf_of, validate
    from tests.engine.apiclient import api_client

    rt = load_runtime(ROOT, f"sqlite:///{work / 'samples.db'}")
    client = api_client(rt)
    ids = parties(client)
    company = client.get(f"/api/v1/company/{ids['company']}").json()
    logo = _logo(work / "files")
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:  # an image field is set by an upload in the admin; here directly
        obj = Store(rt, session, SYSTEM).get("company", company["id"])
        obj.logo = logo
        session.commit()
    products = {}
    for code, name, kind, price in (("CAB-10", "Câble cuivre 10 m", "product", "24.90"), ("POSE", "Pose et raccordement", "service", "65")):
        made = client.post("/api/v1/product", json={"code": code, "name": name, "kind": kind, "sale_price": price, "vat_rate": "20", "barcode": "3760123450017"})
        assert made.status_code == 201, made.text
        products[code] = made.json()["id"]
    lines = [
        {"product": products["CAB-10"], "description": "Câble cuivre 10 m", "quantity": "4", "unit": "unit", "unit_price": "24.90", "vat_rate": "20", "discount_percent": "5"},
        {"product": products["POSE"], "description": "Pose et raccordement", "quantity": "3", "unit": "hour", "unit_price": "65", "vat_rate": "20"},
        {"kind": "comment", "description": "Intervention prévue la semaine 48."},
        {"description": "Déplacement", "quantity": "1", "unit_price": "35", "vat_rate": "10"},
    ]
    common = {"payment_terms": ids["terms"], "title": "Rénovation électrique de la boutique", "delivery_date": "2026-11-20",
              "general_terms": "Article 1 — Objet\nLes présentes conditions générales régissent les ventes de Berthier Services SAS.\n\nArticle 2 — Prix\nLes prix sont exprimés en euros hors taxes.",
              "public_note": "Merci de votre confiance."}
    samples: list[tuple[str, str, int, str | None]] = []
    invoice = make_document(client, "invoice", ids, lines=lines, **common)
    validate(client, "invoice", invoice["id"])
    samples.append(("invoice", "invoice", invoice["id"], None))
    samples.append(("invoice_compact", "invoice", invoice["id"], "invoice_compact"))
    with fixed_clock(dt.date(2026, 11, 25)):
        credit = client.post(f"/api/v1/invoice/{invoice['id']}/actions/create_credit_note").json()["created"][0]["id"]
    validate(client, "invoice", credit)
    samples.append(("credit_note", "invoice", credit, None))
    deposit = make_document(client, "invoice", ids, lines=lines[:2], kind="deposit", deposit_percent="30")
    validate(client, "invoice", deposit["id"])
    samples.append(("deposit_invoice", "invoice", deposit["id"], None))
    progress_lines = [{"description": "Gros œuvre", "quantity": "1", "unit_price": "12000", "vat_rate": "20", "progress_percent": "40"},
                      {"description": "Charpente", "quantity": "1", "unit_price": "8000", "vat_rate": "20", "progress_percent": "25"}]
    progress = make_document(client, "invoice", ids, lines=progress_lines, kind="progress")
    samples.append(("progress_invoice_draft", "invoice", progress["id"], None))
    quote = make_document(client, "quote", ids, lines=lines, validity_date="2026-12-23", **{k: v for k, v in common.items() if k != "delivery_date"})
    samples.append(("quote_draft", "quote", quote["id"], None))
    samples.append(("training_quote_draft", "quote", quote["id"], "training_quote"))
    proforma = make_document(client, "quote", ids, lines=lines, proforma=True)
    samples.append(("proforma", "quote", proforma["id"], None))
    order = make_document(client, "order", ids, lines=lines, payment_terms=ids["terms"])
    client.post(f"/api/v1/order/{order['id']}/actions/validate")
    samples.append(("order", "order", order["id"], None))
    delivery = make_document(client, "delivery", ids, lines=lines, delivery_date="2026-11-20", carrier="Transports Rhône")
    samples.append(("delivery_draft", "delivery", delivery["id"], None))

    for name, entity, record_id, template in samples:
        pdf = work / f"{name}.pdf"
        pdf.write_bytes(pdf_of(client, entity, record_id, template))
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(HERE / name)], check=True)
        print(f"docs/pdf/{name}.png")
    rt.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
