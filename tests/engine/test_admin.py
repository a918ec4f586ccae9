"""The generated admin through HTTP (TestClient): login, CSRF, lists, forms, rights, children."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator

import pytest
from starlette.testclient import TestClient

from tests.conftest import add_user

SIRET = "73282932000074"
IBAN = "FR7630006000011234567890189"
PASSWORD = "secret-pass-1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "files"
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(target))
    monkeypatch.setenv("COMPTOIR_MAX_UPLOAD_MB", "0.001")  # about 1 kB, to test the limit
    return target


def make_client(rt: Any) -> TestClient:
    from app.web.app import create_app

    return TestClient(create_app(runtime=rt, key="test-key"), base_url="http://testserver")


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client.get("/admin/login").text)
    return client.post("/admin/login", data={"username": user, "password": password, "csrf_token": token}, follow_redirects=False)


def logged_in(rt: Any, user: str = "alice", groups: tuple[str, ...] = ("admin",), **extra: Any) -> TestClient:
    add_user(rt, user, list(groups), **extra)
    client = make_client(rt)
    response = login(client, user)
    assert response.status_code == 302, response.text
    return client


def token(client: TestClient) -> str:
    return csrf_of(client.get("/admin/").text)


def post_form(client: TestClient, url: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(url, data={"csrf_token": token(client), "save": "Enregistrer", **data}, follow_redirects=False, **kw)


def field_errors(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'data-error-for="([^"]+)">([^<]*)<', page)}


def alert(page: str) -> str:
    match = re.search(r'id="form-(?:error|conflict)">(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def rows_of(page: str) -> list[str]:
    """The second configured column (the name) of each row of a list page, in order."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr\b[^>]*>(.*?)</tr>", body, re.S)  # a row may carry its colour class
    return [html.unescape(re.sub(r"<[^>]+>", "", re.findall(r"<td>(.*?)</td>", r, re.S)[2])).strip() for r in rows]


@contextmanager
def system_store(rt: Any) -> Iterator[Any]:
    """A Store acting as the system; committed, and its session always closed (PostgreSQL drops
    the test schema at the end and would wait forever on a connection left in a transaction)."""
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        yield Store(rt, session, SYSTEM)
        session.commit()


def create(rt: Any, entity: str, data: dict[str, Any]) -> int:
    with system_store(rt) as s:
        return int(s.create(entity, data).id)


def read(rt: Any, entity: str, record_id: int) -> dict[str, Any]:
    with system_store(rt) as s:
        return dict(s.serialize(s.get(entity, record_id)))


def count(rt: Any, entity: str) -> int:
    with system_store(rt) as s:
        return int(s.list(entity).total)


# --- login and sessions --------------------------------------------------------------------------


def test_login_page_is_french_and_login_works(runtime: Any) -> None:
    add_user(runtime, "alice", ["admin"])
    client = make_client(runtime)
    page = client.get("/admin/login").text
    assert "Connexion à Comptoir" in page and "Identifiant" in page and "Mot de passe" in page
    assert client.get("/admin/account/list", follow_redirects=False).status_code == 302
    assert login(client, "alice").headers["location"].endswith("/admin/")
    home = client.get("/admin/")
    assert home.status_code == 200 and "Tableau de bord" in home.text and "Se déconnecter" in home.text


def test_session_cookie_is_httponly_and_strict(runtime: Any) -> None:
    add_user(runtime, "alice", ["admin"])
    client = make_client(runtime)
    response = login(client, "alice")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_wrong_password_is_refused_in_french(runtime: Any) -> None:
    add_user(runtime, "alice", ["admin"])
    response = login(make_client(runtime), "alice", "wrong-password")
    assert response.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in html.unescape(response.text)


def test_external_users_cannot_log_in_to_the_admin(runtime: Any) -> None:
    add_user(runtime, "client-portail", ["readonly"], kind="external")
    client = make_client(runtime)
    response = login(client, "client-portail")
    assert response.status_code == 403
    assert "utilisateurs externes" in html.unescape(response.text)
    assert client.get("/admin/account/list", follow_redirects=False).status_code == 302


def test_login_is_throttled_after_repeated_failures(runtime: Any) -> None:
    add_user(runtime, "alice", ["admin"])
    client = make_client(runtime)
    statuses = [login(client, "alice", "wrong-password").status_code for _ in range(5)]
    assert statuses == [400] * 5
    blocked = login(client, "alice")  # even the right password, while blocked
    assert blocked.status_code == 429
    assert "Trop de tentatives de connexion" in html.unescape(blocked.text)
    assert client.get("/admin/", follow_redirects=False).status_code == 302
    add_user(runtime, "bruno", ["admin"])
    assert login(client, "bruno").status_code == 302  # another login from the same address still works


def test_inactive_user_cannot_log_in(runtime: Any) -> None:
    add_user(runtime, "bob", ["admin"], active=False)
    assert login(make_client(runtime), "bob").status_code == 400


def test_logout_ends_the_session(runtime: Any) -> None:
    client = logged_in(runtime)
    client.get("/admin/logout")
    assert client.get("/admin/", follow_redirects=False).status_code == 302


# --- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "data"),
    [
        ("POST", "/admin/account/create", {"name": "Sans jeton", "type": "client"}),
        ("POST", "/admin/account/edit/{id}", {"name": "Sans jeton", "type": "client", "version": "1"}),
        ("DELETE", "/admin/account/delete?pks={id}", None),
    ],
)
def test_state_changing_requests_need_the_csrf_token(runtime: Any, method: str, url: str, data: Any) -> None:
    client = logged_in(runtime)
    record_id = create(runtime, "account", {"name": "Cible", "type": "client"})
    url = url.format(id=record_id)
    missing = client.request(method, url, data=data)
    wrong = client.request(method, url, data={**(data or {}), "csrf_token": "forged"}, headers={"X-CSRF-Token": "forged"})
    for response in (missing, wrong):
        assert response.status_code == 403
        assert "jeton de sécurité (CSRF)" in html.unescape(response.text)
    assert read(runtime, "account", record_id)["name"] == "Cible"
    header = client.request(method, url, data=data, headers={"X-CSRF-Token": token(client)}, follow_redirects=False)
    assert header.status_code in (200, 302)


def test_login_form_needs_the_csrf_token(runtime: Any) -> None:
    add_user(runtime, "alice", ["admin"])
    client = make_client(runtime)
    client.get("/admin/login")
    response = client.post("/admin/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403


def test_every_admin_form_carries_the_token(runtime: Any) -> None:
    client = logged_in(runtime)
    record_id = create(runtime, "account", {"name": "Cible", "type": "client"})
    for url in ("/admin/account/create", f"/admin/account/edit/{record_id}"):
        page = client.get(url).text
        forms = re.findall(r"<form[^>]*method=\"POST\".*?</form>", page, re.S | re.I)
        assert forms and all('name="csrf_token"' in f for f in forms)
        assert 'name="csrf-token"' in page  # for the scripts' X-CSRF-Token header


# --- lists ---------------------------------------------------------------------------------------


def test_every_entity_has_its_pages_in_french(runtime: Any) -> None:
    client = logged_in(runtime)
    create(runtime, "product", {"name": "Kit", "vat_rate": "20", "components": []})
    for entity in runtime.spec.entities.values():
        slug = re.sub(r"_", "-", entity.name)
        if entity.embedded:
            assert client.get(f"/admin/{slug}/list").status_code == 404
            continue
        listing = client.get(f"/admin/{slug}/list")
        assert listing.status_code == 200 and entity.plural.fr in html.unescape(listing.text), entity.name
        form = client.get(f"/admin/{slug}/create")
        assert form.status_code == 200 and "Enregistrer" in form.text, entity.name
    assert client.get("/admin/product/details/1").status_code == 200
    assert "Composants du kit" in html.unescape(client.get("/admin/product/edit/1").text)


@pytest.fixture
def accounts(runtime: Any) -> dict[str, int]:
    user_id = add_user(runtime, "paul", ["sales"])
    data = [
        ("Boulangerie Martin", "client", "Lyon", True),
        ("Garage des Alpes", "prospect", "Grenoble", False),
        ("Atelier Morel", "client", "Lyon", False),
        ("Cabinet Rousseau", "other", "Annecy", False),
        ("Pharmacie du Parc", "prospect", "Lyon", True),
    ]
    ids = {}
    for name, kind, city, supplier in data:
        extra = {"assigned_user": user_id} if name.startswith("Garage") else {}
        ids[name] = create(runtime, "account", {"name": name, "type": kind, "city": city, "is_supplier": supplier, **extra})
    return ids


def test_list_shows_configured_columns_in_french_sorted_by_name(runtime: Any, accounts: dict[str, int]) -> None:
    page = logged_in(runtime).get("/admin/account/list").text
    for header in ("Code client", "Raison sociale", "Niveau", "Ville", "Commercial"):
        assert header in page
    assert rows_of(page) == sorted(accounts)
    assert "Prospect" in page and "Filtres" in page and "Lignes 1 à 5 sur 5" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("search=lyon", ["Atelier Morel", "Boulangerie Martin", "Pharmacie du Parc"]),
        ("search=garage", ["Garage des Alpes"]),
        ("type=prospect", ["Garage des Alpes", "Pharmacie du Parc"]),
        ("type=client&city=Lyon", ["Atelier Morel", "Boulangerie Martin"]),
        ("is_supplier=true", ["Boulangerie Martin", "Pharmacie du Parc"]),
        ("is_supplier=false&type=__all", ["Atelier Morel", "Cabinet Rousseau", "Garage des Alpes"]),
        ("city__contains=nne", ["Cabinet Rousseau"]),
        ("sortBy=name&sort=desc", ["Pharmacie du Parc", "Garage des Alpes", "Cabinet Rousseau", "Boulangerie Martin", "Atelier Morel"]),
        ("sortBy=city&sort=asc&pageSize=2", ["Cabinet Rousseau", "Garage des Alpes"]),
        ("sortBy=city&sort=asc&pageSize=2&page=2", ["Boulangerie Martin", "Atelier Morel"]),  # ties by id
        ("pageSize=2&page=3", ["Pharmacie du Parc"]),
    ],
)
def test_list_search_filter_sort_and_paging(runtime: Any, accounts: dict[str, int], query: str, expected: list[str]) -> None:
    page = logged_in(runtime).get(f"/admin/account/list?{query}")
    assert page.status_code == 200, page.text
    assert rows_of(page.text) == expected


def test_list_filters_by_link(runtime: Any, accounts: dict[str, int]) -> None:
    client = logged_in(runtime)
    user_id = int(re.findall(r"/admin/user/details/(\d+)", client.get("/admin/account/list").text)[0])
    page = client.get(f"/admin/account/list?assigned_user={user_id}").text
    assert rows_of(page) == ["Garage des Alpes"]
    assert f'<option value="{user_id}" selected>paul</option>' in page


def test_csv_export_is_filtered_and_french(runtime: Any, accounts: dict[str, int]) -> None:
    create(runtime, "account", {"name": "Zèbre", "type": "client", "credit_limit": "1234.5"})
    export = logged_in(runtime).get("/admin/account/export/csv?type=client&city=Lyon")
    assert export.status_code == 200
    lines = export.text.splitlines()
    assert lines[0] == "Code client,Raison sociale,Niveau,Ville,Commercial,Encours"  # the list columns of schema/account.yaml
    assert sorted(line.split(",")[1:4] for line in lines[1:]) == [["Atelier Morel", "Client", "Lyon"], ["Boulangerie Martin", "Client", "Lyon"]]


def test_bad_filter_value_is_a_french_400(runtime: Any, accounts: dict[str, int]) -> None:
    page = logged_in(runtime).get("/admin/account/list?type=nope")
    assert page.status_code == 400
    assert "Filtre « Niveau »" in html.unescape(page.text)


def test_amounts_and_dates_are_french_in_lists(runtime: Any) -> None:
    create(runtime, "product", {"name": "Kit", "sale_price": "1234.5", "vat_rate": "5.5"})
    page = html.unescape(logged_in(runtime).get("/admin/product/list").text)
    assert "1\u202f234,50\u00a0€" in page and "5,5\u00a0%" in page


def test_lookup_is_limited_and_searches_title(runtime: Any) -> None:
    client = logged_in(runtime)
    for i in range(30):
        create(runtime, "account", {"name": f"Client {i:02d}", "type": "client"})
    create(runtime, "account", {"name": "Autre", "type": "client", "email": "zoe@exemple.fr"})
    results = client.get("/admin/contact/ajax/lookup?name=account&term=cli").json()["results"]
    assert [r["text"] for r in results] == [f"Client {i:02d}" for i in range(20)]  # 20 at most
    by_email = client.get("/admin/_lookup/account?term=zoe@").json()["results"]  # an indexed search field
    assert [r["text"] for r in by_email] == ["Autre"]
    inside = client.get("/admin/_lookup/account?term=ENT 2").json()["results"]  # within the title
    assert [r["text"] for r in inside] == [f"Client {i}" for i in range(20, 30)]


# --- create and edit -----------------------------------------------------------------------------


def test_create_with_bad_siret_and_iban_shows_french_errors_and_keeps_input(runtime: Any) -> None:
    client = logged_in(runtime)
    response = post_form(
        client,
        "/admin/account/create",
        {"name": "ACME", "type": "client", "siret": "12345678901234", "iban": "FR76 1234", "credit_limit": "1 234,50"},
    )
    assert response.status_code == 400
    errors = field_errors(response.text)
    assert errors["siret"] == "SIRET invalide : « 12345678901234 » (la clé de contrôle est fausse)"
    assert errors["iban"].startswith("IBAN invalide : « FR76 1234 »")
    assert 'value="ACME"' in response.text and 'value="1 234,50"' in response.text
    assert "corrigez les champs signalés" in alert(response.text)
    assert count(runtime, "account") == 0


def test_create_accepts_french_decimals_and_saves_through_the_store(runtime: Any) -> None:
    client = logged_in(runtime)
    response = post_form(
        client,
        "/admin/account/create",
        {"name": "ACME", "type": "client", "siret": SIRET, "iban": "fr76 3000 6000 0112 3456 7890 189", "credit_limit": "1 234,50"},
    )
    assert response.status_code == 302, field_errors(response.text)
    saved = read(runtime, "account", 1)
    assert saved["credit_limit"] == "1234.50" and saved["iban"] == IBAN
    assert re.fullmatch(r"CU\d{4}-0001", saved["code"])  # numbering ran
    assert saved["country"] == "France" and saved["created_by"] == "alice"  # defaults and audit


def test_required_and_unique_errors_are_shown_on_the_field(runtime: Any) -> None:
    client = logged_in(runtime)
    missing = post_form(client, "/admin/account/create", {"name": "", "type": "client"})
    assert field_errors(missing.text)["name"] == "Ce champ est obligatoire."
    create(runtime, "product", {"name": "Vis", "code": "VIS-1", "vat_rate": "20"})
    duplicate = post_form(client, "/admin/product/create", {"name": "Autre vis", "code": "VIS-1", "kind": "product", "vat_rate": "20"})
    assert duplicate.status_code == 400
    assert field_errors(duplicate.text)["code"] == "« Référence » déjà utilisé"


def test_create_form_is_french_with_sections_and_defaults(runtime: Any) -> None:
    page = html.unescape(logged_in(runtime).get("/admin/account/create").text)
    for text in ("Identité", "Coordonnées", "Facturation", "Raison sociale", "Montant maximal dû par le tiers", "Enregistrer"):
        assert text in page
    assert '<option selected value="prospect">Prospect</option>' in page  # default 'prospect'
    assert 'name="country" type="text" value="France"' in page
    assert re.search(r'class="form-label required" for="name"', page)
    # a read-only field is shown as text, never as an input
    assert 'data-readonly-for="code"' in page and 'name="code"' not in page


def test_edit_conflict_shows_french_message_and_keeps_input(runtime: Any) -> None:
    client = logged_in(runtime)
    record_id = create(runtime, "account", {"name": "ACME", "type": "client"})
    form = client.get(f"/admin/account/edit/{record_id}").text
    assert re.search(r'name="version" type="hidden" value="1"', form)
    with system_store(runtime) as s:
        s.update("account", record_id, {"city": "Lyon"})
    response = post_form(client, f"/admin/account/edit/{record_id}", {"name": "ACME modifié", "type": "client", "version": "1"})
    assert response.status_code == 400
    message = alert(response.text)
    assert "a été modifié par system" in message and "rechargez" in message
    assert 'value="ACME modifié"' in response.text
    assert read(runtime, "account", record_id)["name"] == "ACME"
    ok = post_form(client, f"/admin/account/edit/{record_id}", {"name": "ACME modifié", "type": "client", "version": "2"})
    assert ok.status_code == 302
    assert read(runtime, "account", record_id)["name"] == "ACME modifié"


def test_contact_links_to_account(runtime: Any) -> None:
    client = logged_in(runtime)
    account_id = create(runtime, "account", {"name": "ACME", "type": "client"})
    response = post_form(client, "/admin/contact/create", {"account": str(account_id), "last_name": "Martin"})
    assert response.status_code == 302, field_errors(response.text)
    with system_store(runtime) as s:
        contact = s.serialize(s.list("contact").rows[0])
    assert contact["account"] == account_id
    page = client.get(f"/admin/contact/edit/{contact['id']}").text
    assert 'data-role="select2-ajax"' in page and "ACME" in html.unescape(page)
    missing = post_form(client, "/admin/contact/create", {"last_name": "Sans tiers"})
    assert field_errors(missing.text)["account"] == "Ce champ est obligatoire."
    unknown = post_form(client, "/admin/contact/create", {"account": "999", "last_name": "Fantôme"})
    assert "aucun(e) tiers n° 999" in field_errors(unknown.text)["account"]


def test_password_is_hashed_and_empty_keeps_it(runtime: Any) -> None:
    from app.engine.auth import check_password

    client = logged_in(runtime)
    bob = add_user(runtime, "bob", ["readonly"])
    page = client.get(f"/admin/user/edit/{bob}").text
    assert 'type="password"' in page and "$argon2" not in page
    common = {"login": "bob", "kind": "internal", "active": "y", "groups": "readonly", "version": "1"}
    assert post_form(client, f"/admin/user/edit/{bob}", {**common, "password": ""}).status_code == 302
    with runtime.session() as session:
        assert check_password(runtime, session, "bob", PASSWORD) is not None
    short = post_form(client, f"/admin/user/edit/{bob}", {**common, "version": "2", "password": "court"})
    assert field_errors(short.text)["password"] == "8 caractères au moins"
    assert post_form(client, f"/admin/user/edit/{bob}", {**common, "version": "2", "password": "nouveau-mot-2"}).status_code == 302
    with runtime.session() as session:
        assert check_password(runtime, session, "bob", "nouveau-mot-2") is not None


# --- child collections ---------------------------------------------------------------------------


def test_children_are_created_updated_and_removed_inline(runtime: Any) -> None:
    client = logged_in(runtime)
    created = post_form(
        client,
        "/admin/account/create",
        {
            "name": "ACME", "type": "client", "addresses-present": "1",
            "addresses-0-id": "", "addresses-0-label": "Siège", "addresses-0-kind": "billing", "addresses-0-city": "Lyon",
            "addresses-1-id": "", "addresses-1-label": "Dépôt", "addresses-1-city": "Vénissieux",
        },
    )
    assert created.status_code == 302, field_errors(created.text)
    first = read(runtime, "account", 1)["addresses"]
    assert [(a["label"], a["kind"], a["city"]) for a in first] == [("Siège", "billing", "Lyon"), ("Dépôt", "billing", "Vénissieux")]
    edit = client.get("/admin/account/edit/1").text
    assert 'name="addresses-1-label"' in edit and "Vénissieux" in html.unescape(edit)
    siege, depot = first[0]["id"], first[1]["id"]
    updated = post_form(
        client,
        "/admin/account/edit/1",
        {
            "name": "ACME", "type": "client", "version": "1", "addresses-present": "1",
            "addresses-0-id": str(depot), "addresses-0-label": "Dépôt nord", "addresses-0-kind": "delivery",
            "addresses-5-id": "", "addresses-5-label": "Agence", "addresses-5-kind": "other",
        },
    )
    assert updated.status_code == 302, field_errors(updated.text)
    after = read(runtime, "account", 1)["addresses"]
    assert {a["label"] for a in after} == {"Dépôt nord", "Agence"}
    assert siege not in {a["id"] for a in after} and depot in {a["id"] for a in after}
    details = html.unescape(client.get("/admin/account/details/1").text)
    assert "Adresses" in details and "Dépôt nord" in details and "Livraison" in details


def _child_headers(page: str, child: str) -> list[str]:
    """The column headings of a collection's table on a record page."""
    start = page.index(f'data-child="{child}"')
    table = page[start : page.index("</table>", start)]
    return [html.unescape(h) for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", table)]


def test_the_record_page_shows_the_configured_columns_of_its_lines(runtime: Any) -> None:
    """The lines of an invoice page: the columns `list.columns` of invoice_line.yaml names, in
    that order (a line's net amount visible without scrolling); the form still edits them all."""
    client = logged_in(runtime)
    company = create(runtime, "company", {"legal_name": "Comptoir SAS"})
    account = create(runtime, "account", {"name": "Dupont SARL", "type": "client"})
    invoice = create(
        runtime,
        "invoice",
        {"company": company, "account": account, "lines": [{"description": "Pose", "quantity": "2", "unit_price": "45.5", "vat_rate": "20", "cost_price": "30"}]},
    )
    columns = runtime.spec.entities["invoice_line"].list.columns
    expected = [runtime.spec.entities["invoice_line"].fields[name].label.fr for name in columns]
    details = client.get(f"/admin/invoice/details/{invoice}").text
    assert _child_headers(details, "lines") == expected
    assert "Coefficient d'unité" not in _child_headers(details, "lines") and "Prix de revient HT" not in _child_headers(details, "lines")
    row = details[details.index('data-child="lines"') :]
    assert "91,00\u00a0€" in html.unescape(row[: row.index("</table>")])  # the line's total, shown
    assert re.search(r'<td class="comptoir-amount">91,00', html.unescape(row))  # numbers right-aligned
    edit = client.get(f"/admin/invoice/edit/{invoice}").text
    assert 'name="lines-0-unit_factor"' in edit and 'name="lines-0-cost_price"' in edit
    headings = _child_headers(edit, "lines")  # every field, the configured columns first
    assert [h.removesuffix(" *") for h in headings[: len(expected)]] == expected, headings
    assert "Coefficient d'unité" in headings[len(expected) :] and "Prix de revient HT" in headings[len(expected) :]


def test_child_rows_with_links_and_french_decimals(runtime: Any) -> None:
    client = logged_in(runtime)
    screw = create(runtime, "product", {"name": "Vis inox", "vat_rate": "20"})
    response = post_form(
        client,
        "/admin/product/create",
        {
            "name": "Kit de fixation", "kind": "product", "vat_rate": "20", "components-present": "1",
            "components-0-id": "", "components-0-component": str(screw), "components-0-quantity": "2,5",
        },
    )
    assert response.status_code == 302, field_errors(response.text)
    kit = read(runtime, "product", screw + 1)
    assert [(c["component"], c["quantity"]) for c in kit["components"]] == [(screw, "2.5000")]
    edit = html.unescape(client.get(f"/admin/product/edit/{screw + 1}").text)
    assert f'<option value="{screw}" selected>Vis inox</option>' in edit and 'value="2,5000"' in edit
    assert "Vis inox" in html.unescape(client.get(f"/admin/product/details/{screw + 1}").text)


def test_child_errors_are_shown_in_their_cell_and_nothing_is_saved(runtime: Any) -> None:
    client = logged_in(runtime)
    company = create(runtime, "company", {"legal_name": "Comptoir SAS"})
    response = post_form(
        client,
        f"/admin/company/edit/{company}",
        {
            "legal_name": "Comptoir SAS", "version": "1", "bank_profiles-present": "1",
            "bank_profiles-0-id": "", "bank_profiles-0-label": "Principal", "bank_profiles-0-iban": "FR00 1234",
            "bank_profiles-1-id": "", "bank_profiles-1-label": "", "bank_profiles-1-iban": IBAN,
        },
    )
    assert response.status_code == 400
    errors = field_errors(response.text)
    assert errors["bank_profiles[0].iban"].startswith("IBAN invalide : « FR00 1234 »")
    assert errors["bank_profiles[1].label"] == "Ce champ est obligatoire."
    assert 'value="FR00 1234"' in response.text
    assert read(runtime, "company", company)["bank_profiles"] == []


# --- uploads -------------------------------------------------------------------------------------


def test_image_upload_is_stored_served_and_limited(runtime: Any, files_dir: Path) -> None:
    client = logged_in(runtime)
    company = create(runtime, "company", {"legal_name": "Comptoir SAS"})
    url = f"/admin/company/edit/{company}"
    form = {"legal_name": "Comptoir SAS", "version": "1"}
    upload = post_form(client, url, form, files={"logo__upload": ("../../Logo été.png", PNG, "image/png")})
    assert upload.status_code == 302, field_errors(upload.text)
    stored = read(runtime, "company", company)["logo"]
    assert re.fullmatch(r"company/[0-9a-f]{16}-Logo_ete.png", stored)
    assert (files_dir / stored).read_bytes() == PNG
    served = client.get(f"/admin/_files/company/{company}/logo")
    assert served.status_code == 200 and served.content == PNG and served.headers["content-type"] == "image/png"
    not_image = post_form(client, url, {**form, "version": "2"}, files={"logo__upload": ("x.png", b"<svg/>", "image/png")})
    assert "Image refusée" in field_errors(not_image.text)["logo"]
    too_big = post_form(client, url, {**form, "version": "2"}, files={"logo__upload": ("big.png", PNG + b"0" * 2048, "image/png")})
    assert "Fichier trop volumineux" in field_errors(too_big.text)["logo"]
    kept = post_form(client, url, {**form, "version": "2", "logo": "../../etc/passwd"})
    assert kept.status_code == 302 and read(runtime, "company", company)["logo"] == stored
    version = str(read(runtime, "company", company)["version"])
    cleared = post_form(client, url, {**form, "version": version, "logo__clear": "1"})
    assert cleared.status_code == 302 and read(runtime, "company", company)["logo"] is None
    assert not (files_dir / stored).exists()


# --- rights --------------------------------------------------------------------------------------


def test_readonly_user_sees_no_write_buttons_and_is_refused(runtime: Any) -> None:
    record_id = create(runtime, "account", {"name": "ACME", "type": "client"})
    client = logged_in(runtime, "rita", ("readonly",))
    listing = client.get("/admin/account/list").text
    assert "ACME" in listing
    assert 'id="action-create"' not in listing and "/admin/account/edit/" not in listing and "fa-trash" not in listing
    details = client.get(f"/admin/account/details/{record_id}").text
    assert "/admin/account/edit/" not in details and "modal-delete" not in details
    assert client.get("/admin/account/create").status_code == 403
    assert client.get(f"/admin/account/edit/{record_id}").status_code == 403
    assert post_form(client, f"/admin/account/edit/{record_id}", {"name": "Piraté", "type": "client", "version": "1"}).status_code == 403
    deleted = client.delete(f"/admin/account/delete?pks={record_id}", headers={"X-CSRF-Token": token(client)})
    assert deleted.status_code == 403
    assert read(runtime, "account", record_id)["name"] == "ACME"
    assert "Accès refusé" in html.unescape(client.get("/admin/account/create").text)


def test_sales_can_create_and_edit_accounts_but_not_delete_or_touch_products(runtime: Any) -> None:
    client = logged_in(runtime, "sam", ("sales",))
    assert 'id="action-create"' in client.get("/admin/account/list").text
    assert post_form(client, "/admin/account/create", {"name": "Nouveau", "type": "prospect"}).status_code == 302
    assert "fa-trash" not in client.get("/admin/account/list").text
    deleted = client.delete("/admin/account/delete?pks=1", headers={"X-CSRF-Token": token(client)})
    assert deleted.status_code == 403
    assert client.get("/admin/product/list").status_code == 200
    assert client.get("/admin/product/create").status_code == 403


def test_menu_hides_what_the_user_cannot_read(runtime: Any) -> None:
    client = logged_in(runtime, "dan", ("readonly",), rights=[{"entity": "company", "action": "read", "effect": "deny"}])
    home = html.unescape(client.get("/admin/").text)
    assert "Tiers" in home and "Sociétés" not in home
    assert client.get("/admin/company/list").status_code == 403
    assert client.get("/admin/_lookup/company?term=a").status_code == 403


def test_delete_through_the_store_reports_use_in_french(runtime: Any) -> None:
    client = logged_in(runtime)
    account_id = create(runtime, "account", {"name": "ACME", "type": "client"})
    create(runtime, "contact", {"account": account_id, "last_name": "Martin"})
    response = client.delete(f"/admin/account/delete?pks={account_id}", headers={"X-CSRF-Token": token(client)})
    assert response.status_code == 200
    assert "est utilisé par d'autres enregistrements" in html.unescape(client.get(response.text).text)
    free = create(runtime, "account", {"name": "Libre", "type": "client"})
    assert client.delete(f"/admin/account/delete?pks={free}", headers={"X-CSRF-Token": token(client)}).status_code == 200
    assert count(runtime, "account") == 1


# --- configuration checks ------------------------------------------------------------------------


def test_admin_refuses_a_configuration_it_cannot_draw(make_runtime: Any, tmp_path: Path) -> None:
    from app.engine.admin.views import check_admin_spec
    from tests.engine.configs import write_config

    root = write_config(
        tmp_path / "config",
        {
            "thing": """
            label: {fr: Chose, en: Thing}
            plural: {fr: Choses, en: Things}
            title: name
            fields:
              name: {type: string, label: {fr: Nom, en: Name}}
              errors: {type: string, label: {fr: Erreurs, en: Errors}}
              scan: {type: file, label: {fr: Scan, en: Scan}}
            list:
              columns: [name]
              filters: [scan]
            """
        },
    )
    rt = make_runtime(root)
    problems = [str(e) for e in check_admin_spec(rt.spec)]
    assert any("field name 'errors' is reserved" in p and "schema/thing.yaml" in p for p in problems), problems
    assert any("'scan' of type file cannot be a list filter" in p for p in problems), problems


def test_form_tabs_and_unplaced_fields(make_runtime: Any, tmp_path: Path) -> None:
    from tests.engine.configs import write_config

    root = write_config(
        tmp_path / "config",
        {
            "thing": """
            label: {fr: Chose, en: Thing}
            plural: {fr: Choses, en: Things}
            title: name
            fields:
              name: {type: string, label: {fr: Nom, en: Name}, required: true}
              when: {type: date, label: {fr: Date prévue, en: Due date}}
              price: {type: money, label: {fr: Prix, en: Price}}
            list:
              columns: [name, when, price]
            form:
              tabs:
                - label: {fr: Général, en: General}
                  fields: [name]
                - label: {fr: Planning, en: Planning}
                  fields: [when]
            """
        },
    )
    rt = make_runtime(root)
    client = logged_in(rt)
    page = html.unescape(client.get("/admin/thing/create").text)
    assert 'class="nav nav-tabs' in page
    assert re.findall(r'data-bs-toggle="tab" role="tab">\s*([^<\s][^<]*?)\s*<', page) == ["Général", "Planning", "Autres informations"]
    refused = post_form(client, "/admin/thing/create", {"name": "", "when": "31/02/2024", "price": "12,5"})
    assert field_errors(refused.text)["when"].startswith("date invalide : « 31/02/2024 »")
    assert '<span class="badge bg-red ms-1">!</span>' in refused.text  # the tabs holding errors
    saved = post_form(client, "/admin/thing/create", {"name": "Révision", "when": "15/03/2024", "price": "12,5"})
    assert saved.status_code == 302, field_errors(saved.text)
    listing = html.unescape(client.get("/admin/thing/list").text)
    assert "15/03/2024" in listing and "12,50\u00a0€" in listing


def test_french_catalogue_covers_every_sqladmin_string() -> None:
    from babel.messages.pofile import read_po
    import sqladmin

    from app.engine.admin.i18n import CATALOGUE, load_catalogue

    with (Path(sqladmin.__file__).parent / "translations" / "admin.pot").open("rb") as source:
        template = read_po(source)
    with CATALOGUE.open("rb") as source:
        ours = read_po(source)
    missing = [m.id for m in template if m.id and (m.id not in ours or not ours[m.id].string)]
    assert missing == []
    assert load_catalogue().gettext("Save and continue editing") == "Enregistrer et continuer"


def test_french_half_of_engine_messages() -> None:
    from app.engine.admin.errors import french

    assert french("valeur « a / b » refusée / value 'a / b' refused") == "valeur « a / b » refusée"
    assert french("IBAN invalide / invalid IBAN") == "IBAN invalide"
    assert french("sans traduction") == "sans traduction"


def test_decimal_display_is_french() -> None:
    from app.engine.admin.formatting import money, number

    assert money(Decimal("1234.5")) == "1\u202f234,50\u00a0€"
    assert number(Decimal("5.5")) == "5,5"
