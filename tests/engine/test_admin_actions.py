"""Workflow actions in the admin: a POST form per allowed transition (CSRF, confirmation), the
result flashed in French, linked documents and the log on the page, locked records kept."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from starlette.testclient import TestClient

from tests.engine.test_admin import csrf_of, logged_in, post_form
from tests.engine.test_workflow import TODAY, new_bill, new_firm, read, run
from tests.engine.workflow_config import make_workflow_runtime


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(tmp_path / "files"))
    return tmp_path / "files"


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_workflow_runtime(make_runtime, tmp_path)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def action_forms(page: str) -> dict[str, str]:
    """name -> the form's HTML, for each action form of the page."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<form[^>]*comptoir-action" data-action="([^"]+)"[^>]*>.*?</form>', page, re.S)}


def flash(page: str) -> str:
    match = re.search(r'id="action-result">(.*?)</div>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def do(client: TestClient, bill: int, name: str, token: str | None = None) -> Any:
    page = client.get(f"/admin/bill/details/{bill}").text
    return client.post(
        f"/admin/_action/bill/{bill}/{name}",
        data={"csrf_token": token if token is not None else csrf_of(page)},
        follow_redirects=False,
    )


def test_details_page_shows_one_form_per_allowed_action(rt: Any) -> None:
    bill = new_bill(rt, new_firm(rt), date=TODAY.isoformat())
    client = logged_in(rt, "sam", ("sales",))
    page = client.get(f"/admin/bill/details/{bill}").text
    # convert: not from a draft; cancel: managers only; touch, broken: no right
    assert set(action_forms(page)) == {"validate"}
    validate = action_forms(page)["validate"]
    assert f'action="http://testserver/admin/_action/bill/{bill}/validate"' in validate and 'method="post"' in validate
    assert re.search(r'name="csrf_token" value="[^"]+"', validate)
    assert 'data-confirm="Valider cette facture ? Son numéro sera définitif."' in html.unescape(validate)
    assert "Valider" in validate
    admin_page = logged_in(rt, "ada", ("admin",)).get(f"/admin/bill/details/{bill}").text
    assert set(action_forms(admin_page)) == {"validate", "touch", "broken"}
    assert "data-confirm" not in action_forms(admin_page)["touch"]
    assert 'style="background-color: #6c757d">Brouillon' in page  # the state as a coloured badge
    edit = client.get(f"/admin/bill/edit/{bill}").text
    assert set(action_forms(edit)) == {"validate"}
    # the status is shown (its badge), never edited: no input carries it
    assert re.search(r'data-readonly-for="status">\s*<span class="badge[^>]*>Brouillon</span>', edit)
    assert 'name="status"' not in edit
    listing = client.get("/admin/bill/list").text
    assert 'style="background-color: #6c757d">Brouillon' in listing


def test_running_an_action_flashes_and_updates_the_page(rt: Any) -> None:
    bill = new_bill(rt, new_firm(rt), date=TODAY.isoformat())
    client = logged_in(rt, "sam", ("sales",))
    response = do(client, bill, "validate")
    assert response.status_code == 303
    assert response.headers["location"] == f"http://testserver/admin/bill/details/{bill}"
    page = client.get(response.headers["location"]).text
    assert flash(page) == "« Valider » effectué : facture FA26-0001 est « Validée »."
    assert 'style="background-color: #2fb344">Validée' in page
    assert set(action_forms(page)) == {"convert"}
    assert "Historique" in page and "Facture validée" in text_of(page) and "Brouillon → Validée" in text_of(page)
    assert 'data-bs-target="#modal-delete"' not in page  # locked: no delete button
    assert f"/admin/bill/edit/{bill}" in page  # but `note` stays editable
    assert flash(client.get(f"/admin/bill/details/{bill}").text) == ""  # shown once
    new_bill(rt, new_firm(rt, "Autre"), title="Brouillon resté")
    validated = client.get("/admin/bill/list?status=validated").text  # states filter like a picklist
    assert "FA26-0001" in validated and "Brouillon resté" not in validated
    assert "Brouillon resté" in client.get("/admin/bill/list?status=draft").text
    assert read(rt, "bill", bill)["status"] == "validated"


def test_conversion_goes_to_the_new_document_with_links_both_ways(rt: Any) -> None:
    bill = new_bill(rt, new_firm(rt), date=TODAY.isoformat())
    run(rt, bill, "validate")
    client = logged_in(rt, "sam", ("sales",))
    response = do(client, bill, "convert")
    assert response.status_code == 303
    match = re.fullmatch(r"http://testserver/admin/job/details/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    job_page = client.get(response.headers["location"]).text
    assert flash(job_page).endswith("est « Convertie ». Document créé : commande Depuis FA26-0001.")
    panel = text_of(job_page.split('id="linked-documents"')[1].split("</div>\n</div>")[0])
    assert "Créé depuis Facture FA26-0001" in panel
    assert f'href="http://testserver/admin/bill/details/{bill}"' in job_page
    bill_page = client.get(f"/admin/bill/details/{bill}").text
    assert "A donné Commande Depuis FA26-0001" in text_of(bill_page)
    assert f'href="http://testserver/admin/job/details/{match.group(1)}"' in bill_page


def test_refusals_are_flashed_and_change_nothing(rt: Any) -> None:
    empty = new_bill(rt, new_firm(rt), lines=[])
    client = logged_in(rt, "sam", ("sales",))
    response = do(client, empty, "validate")
    assert response.status_code == 303
    assert flash(client.get(response.headers["location"]).text) == "La facture est vide."
    assert read(rt, "bill", empty)["status"] == "draft"
    bill = new_bill(rt, new_firm(rt, "Autre"))
    clerk = logged_in(rt, "cleo", ("clerk",))
    page = clerk.get(f"/admin/bill/details/{bill}").text
    assert action_forms(page) == {}  # no right, no button
    response = do(clerk, bill, "validate")
    assert "refusé à cleo" in flash(clerk.get(response.headers["location"]).text)
    assert read(rt, "bill", bill)["status"] == "draft"


def test_an_action_needs_the_csrf_token_and_a_session(rt: Any) -> None:
    bill = new_bill(rt, new_firm(rt))
    client = logged_in(rt, "sam", ("sales",))
    assert do(client, bill, "validate", token="forged").status_code == 403
    assert client.post(f"/admin/_action/bill/{bill}/validate", follow_redirects=False).status_code == 403
    assert read(rt, "bill", bill)["status"] == "draft"
    anonymous = TestClient(client.app, base_url="http://testserver")
    token = csrf_of(anonymous.get("/admin/login").text)
    response = anonymous.post(f"/admin/_action/bill/{bill}/validate", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/admin/login")
    assert read(rt, "bill", bill)["status"] == "draft"


def test_edit_form_of_a_locked_record_keeps_it(rt: Any) -> None:
    firm = new_firm(rt)
    bill = new_bill(rt, firm, date=TODAY.isoformat())
    run(rt, bill, "validate")
    client = logged_in(rt, "sam", ("sales",))
    version = str(read(rt, "bill", bill)["version"])
    common = {"firm": str(firm), "date": TODAY.isoformat(), "version": version, "shipping_vat_rate": "20"}
    response = post_form(client, f"/admin/bill/edit/{bill}", {**common, "title": "Changé", "note": ""})
    assert response.status_code == 400  # the form again, with the refusal
    assert "est verrouillé(e) (état « Validée ») : « Objet » ne peut plus être modifié(e)" in html.unescape(response.text)
    assert read(rt, "bill", bill)["title"] is None
    response = post_form(client, f"/admin/bill/edit/{bill}", {**common, "title": "", "note": "relance faite"})
    assert response.status_code == 302, text_of(response.text)[:500]
    assert read(rt, "bill", bill)["note"] == "relance faite"
