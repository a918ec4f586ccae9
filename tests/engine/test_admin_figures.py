"""Document pages in the admin: the key figures panel, its live preview endpoint (exact totals,
nothing saved, CSRF and login), and frozen / read-only fields shown without inputs."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_admin import count, create, csrf_of, logged_in, make_client, post_form, read, token

CABLE = {"description": "Câble", "quantity": "1", "unit_price": "1.24", "vat_rate": "10"}
NBSP = "\u00a0"
NNBSP = "\u202f"


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(tmp_path / "files"))
    return tmp_path / "files"


def _parties(rt: Any) -> dict[str, int]:
    return {
        "company": create(rt, "company", {"legal_name": "Berthier Services SAS"}),
        "account": create(rt, "account", {"name": "Dupont SARL", "type": "client"}),
    }


def figures(page: str) -> dict[str, str]:
    """key -> the value shown, for each figure of the panel (French text, spaces normalised)."""
    panel = page.split('id="key-figures"', 1)[1]
    found = re.findall(r'data-figure="([^"]+)".*?comptoir-figure-value">([^<]*)<', panel, re.S)
    return {key: html.unescape(value).replace(NNBSP, " ").replace(NBSP, " ").strip() for key, value in found}


def vat_rows(page: str) -> list[tuple[str, str, str]]:
    """(rate, base, VAT) as shown in the VAT table of the panel."""
    panel = page.split('data-group="vat"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr data-figure.*?</tr>", panel, re.S):
        cells = [html.unescape(c).replace(NNBSP, " ").replace(NBSP, " ").strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", row)]
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def line_form(rows: list[dict[str, str]], **header: str) -> dict[str, str]:
    data = {"lines-present": "1", **header}
    for index, row in enumerate(rows):
        data[f"lines-{index}-id"] = row.get("id", "")
        for name, value in row.items():
            if name != "id":
                data[f"lines-{index}-{name}"] = value
    return data


def test_invoice_details_show_the_key_figures_in_french(runtime: Any) -> None:
    parties = _parties(runtime)
    lines = [CABLE, {**CABLE, "quantity": "1000", "unit_price": "1.5", "cost_price": "0.90"}]
    invoice = create(runtime, "invoice", {**parties, "kind": "standard", "lines": lines})
    page = logged_in(runtime).get(f"/admin/invoice/details/{invoice}").text
    assert "Chiffres clés" in page and "Totaux" in page and "TVA par taux" in page and "Marge" in page
    # net 1.24 + 1 500.00; VAT 10 % of 1 501.24 = 150.124 → 150.12; cost 900.00
    assert figures(page) == {
        "total_net": "1 501,24 €", "total_vat": "150,12 €", "total_gross": "1 651,36 €",
        "vat_10": "150,12 €", "cost": "900,00 €", "margin": "601,24 €", "margin_rate": "40,05 %",
        "outstanding": "0,00 €",  # the client's (nothing validated yet)
    }
    assert vat_rows(page) == [("10 %", "1 501,24 €", "150,12 €")]
    # not a document: no panel
    assert 'id="key-figures"' not in logged_in(runtime, "bob").get(f"/admin/account/details/{parties['account']}").text


def test_converted_document_keeps_its_linked_documents_beside_the_figures(runtime: Any) -> None:
    from tests.engine.apiclient import api_client

    api = api_client(runtime)
    parties = _parties(runtime)
    quote = api.post("/api/v1/quote", json={**parties, "lines": [CABLE, CABLE]}).json()["id"]
    for action in ("validate", "send", "accept"):
        assert api.post(f"/api/v1/quote/{quote}/actions/{action}").status_code == 200
    invoice = api.post(f"/api/v1/quote/{quote}/actions/convert_to_invoice").json()["created"][0]["id"]
    page = logged_in(runtime).get(f"/admin/invoice/details/{invoice}").text
    assert 'id="linked-documents"' in page and "Créé depuis" in page
    assert figures(page)["total_gross"] == "2,73 €"


def test_edit_form_locks_frozen_fields_and_shows_readonly_ones_as_text(runtime: Any) -> None:
    parties = _parties(runtime)
    invoice = create(runtime, "invoice", {**parties, "kind": "standard", "lines": [CABLE]})
    client = logged_in(runtime)
    edit = html.unescape(client.get(f"/admin/invoice/edit/{invoice}").text)
    for name in ("company", "account", "currency"):
        assert re.search(rf'data-frozen-for="{name}">\s*<input type="text" class="form-control" id="{name}" value="[^"]+" disabled', edit), name
        assert f'name="{name}"' not in edit
    assert 'value="Dupont SARL" disabled' in edit and "Fixé à la création" in edit
    assert re.search(r'data-readonly-for="total_gross">1,36\s€</div>', edit.replace(NNBSP, " ").replace(NBSP, " "))
    assert 'name="total_gross"' not in edit and 'name="number"' not in edit
    # on the create form the frozen fields are ordinary inputs
    new = client.get("/admin/invoice/create").text
    assert 'name="account"' in new and 'name="currency"' in new and 'data-frozen-for' not in new
    # saving the edit form (no frozen field sent: disabled inputs are not submitted) keeps them
    stored = read(runtime, "invoice", invoice)
    line = stored["lines"][0]
    saved = post_form(
        client,
        f"/admin/invoice/edit/{invoice}",
        {"kind": "standard", "date": "2026-11-23", "title": "Câblage", "version": str(stored["version"]),
         **line_form([{"id": str(line["id"]), "kind": "item", "description": "Câble", "quantity": "3", "unit_price": "1,24", "vat_rate": "10"}])},
    )
    assert saved.status_code == 302, saved.text
    after = read(runtime, "invoice", invoice)
    assert (after["title"], after["account"], after["company"], after["currency"]) == ("Câblage", parties["account"], parties["company"], "eur")
    assert after["total_gross"] == "4.09"


def test_preview_answers_exact_totals_and_saves_nothing(runtime: Any) -> None:
    parties = _parties(runtime)
    client = logged_in(runtime)
    before = count(runtime, "invoice")
    cable = {"description": "Câble", "quantity": "1", "unit_price": "1,24", "vat_rate": "10"}
    data = {"csrf_token": token(client), "kind": "standard", "company": str(parties["company"]), **line_form([cable, cable])}
    answer = client.post("/admin/invoice/totals-preview", data=data)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    totals = {f["key"]: f["value"] for f in body["groups"][0]["figures"]}
    assert totals == {"total_net": "2.48", "total_vat": "0.25", "total_gross": "2.73"}
    assert body["errors"] == {}
    shown = html.unescape(body["html"]).replace(NNBSP, " ").replace(NBSP, " ")
    assert "2,73 €" in shown and "Total TTC" in shown and 'data-figure="vat_10"' in shown
    assert count(runtime, "invoice") == before
    # a discount and a bad cell: the bad value is reported, the others still count
    data.update({"lines-1-quantity": "deux", "lines-0-discount_percent": "50"})
    partial = client.post("/admin/invoice/totals-preview", data=data).json()
    assert set(partial["errors"]) == {"lines[1].quantity"}
    assert {f["key"]: f["value"] for f in partial["groups"][0]["figures"]}["total_net"] == "0.62"


def test_preview_of_an_edited_record_uses_its_stored_values_and_changes_nothing(runtime: Any) -> None:
    parties = _parties(runtime)
    invoice = create(runtime, "invoice", {**parties, "kind": "standard", "lines": [CABLE]})
    before = read(runtime, "invoice", invoice)
    line = before["lines"][0]
    client = logged_in(runtime)
    data = {
        "csrf_token": token(client), "shipping_cost": "10", "shipping_vat_rate": "20",
        **line_form([{"id": str(line["id"]), "description": "Câble", "quantity": "10", "unit_price": "1,24", "vat_rate": "10", "cost_price": "1"}]),
    }
    body = client.post(f"/admin/invoice/totals-preview?pk={invoice}", data=data).json()
    values = {f["key"]: f["value"] for g in body["groups"] for f in g["figures"]}
    # 12.40 + shipping 10.00; VAT 1.24 + 2.00
    assert (values["total_net"], values["charges"], values["total_vat"], values["total_gross"]) == ("12.40", "10.00", "3.24", "25.64")
    assert (values["margin"], values["margin_rate"]) == ("2.40", "19.35")
    stored = read(runtime, "invoice", invoice)
    assert stored == before and stored["total_gross"] == "1.36"


def test_preview_needs_the_csrf_token_and_a_login(runtime: Any) -> None:
    client = logged_in(runtime)
    refused = client.post("/admin/invoice/totals-preview", data=line_form([CABLE]))
    assert refused.status_code == 403
    assert client.post("/admin/invoice/totals-preview", data=line_form([CABLE]), headers={"X-CSRF-Token": token(client)}).status_code == 200
    anonymous = make_client(runtime)
    anonymous_token = csrf_of(anonymous.get("/admin/login").text)
    answer = anonymous.post("/admin/invoice/totals-preview", data={"csrf_token": anonymous_token, **line_form([CABLE])})
    assert answer.status_code == 401 and "reconnectez-vous" in answer.json()["error"]["message"]
    denied = logged_in(runtime, "dan", ("readonly",), rights=[{"entity": "invoice", "action": "read", "effect": "deny"}])
    assert denied.post("/admin/invoice/totals-preview", data={"csrf_token": token(denied), **line_form([CABLE])}).status_code == 403
