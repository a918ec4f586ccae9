"""Admin list pages through HTTP: row colours (`list.colours`) and saved filters (shipped ones,
users' private and public ones: save, choose, delete), with the exact rows shown."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from tests.engine.apiclient import api_client, document_parties, run_action
from tests.engine.test_admin import logged_in, token

TODAY = dt.date.today()
DAY = dt.timedelta(days=1)
LINE = [{"description": "Audit", "quantity": "1", "unit_price": "100", "vat_rate": "20"}]


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def table(page: str) -> tuple[list[str], list[tuple[str | None, list[str]]]]:
    """The column headers and each row as (its data-colour or None, its cells' text)."""
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    headers = [_text(h) for h in re.findall(r"<th>(.*?)</th>", head, re.S)]
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for attrs, inner in re.findall(r"<tr([^>]*)>(.*?)</tr>", body, re.S):
        colour = re.search(r'data-colour="([^"]+)"', attrs)
        cells = [_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", inner, re.S)][2:]
        rows.append((colour.group(1) if colour else None, cells))
    return headers, rows


def colours_by_first_cell(page: str) -> dict[str, str | None]:
    return {cells[0]: colour for colour, cells in table(page)[1]}


def _opportunities(api: TestClient, users: dict[str, int]) -> None:
    parties = document_parties(api)
    for name, user, next_step, actions in [
        ("Site vitrine", "alice", TODAY + 9 * DAY, ()),
        ("Relance en retard", "alice", TODAY - 2 * DAY, ("send_offer",)),
        ("Plaquette", "alice", TODAY - 5 * DAY, ("wait",)),
        ("Gagnée", "alice", TODAY - 5 * DAY, ("win",)),
        ("Chez Bob", "bob", TODAY + DAY, ()),
    ]:
        body = {"name": name, "company": parties["company"], "account": parties["account"],
                "next_step_date": next_step.isoformat(), "assigned_user": users[user]}
        created = api.post("/api/v1/opportunity", json=body)
        assert created.status_code == 201, created.text
        for action in actions:
            run_action(api, "opportunity", created.json()["id"], action)


def _user_ids(rt: Any) -> dict[str, int]:
    users = rt.models.tables["user"]
    with rt.session() as session:
        return {row.login: row.id for row in session.execute(users.select())}


def _setup(rt: Any) -> tuple[TestClient, TestClient]:
    alice = logged_in(rt, "alice", ("admin",))
    bob = logged_in(rt, "bob", ("sales",))
    _opportunities(api_client(rt), _user_ids(rt))
    return alice, bob


def test_rows_carry_the_first_matching_colour_and_a_legend(runtime: Any) -> None:
    alice, _ = _setup(runtime)
    page = alice.get("/admin/opportunity/list").text
    assert colours_by_first_cell(page) == {
        "Site vitrine": None,
        "Relance en retard": "c2",  # open, next step date passed: red
        "Plaquette": "c1",  # waiting: grey, even though its next step date passed too (first rule wins)
        "Gagnée": None,
        "Chez Bob": None,
    }
    assert 'style="--comptoir-row-colour: #adb5bd"' in page and 'style="--comptoir-row-colour: #d63939"' in page
    legend = page.split('class="comptoir-colour-legend', 1)[1].split(">", 1)[1].split("</div>", 1)[0]
    assert _text(legend).split() == ["En", "attente", "Étape", "suivante", "en", "retard"]


def test_document_colours_drafts_grey_overdue_red_past_validity_orange(runtime: Any) -> None:
    alice = logged_in(runtime, "alice", ("admin",))
    api = api_client(runtime)
    parties = document_parties(api)
    invoices = {}
    for title, due, validate in [("Brouillon", TODAY - DAY, False), ("En retard", TODAY - DAY, True), ("À venir", TODAY + DAY, True)]:
        body = {**parties, "title": title, "date": (TODAY - 40 * DAY).isoformat(), "due_date": due.isoformat(), "lines": LINE}
        created = api.post("/api/v1/invoice", json=body)
        assert created.status_code == 201, created.text
        number = run_action(api, "invoice", created.json()["id"], "validate")["record"]["number"] if validate else ""
        invoices[title] = number
    rows = {cells[0] or "draft": colour for colour, cells in table(alice.get("/admin/invoice/list").text)[1]}
    assert rows == {"draft": "c1", invoices["En retard"]: "c2", invoices["À venir"]: None}

    quotes = {}
    for title, validity, actions in [("Q brouillon", TODAY + DAY, ()), ("Q expiré", TODAY - DAY, ("validate", "send")),
                                      ("Q valable", TODAY + DAY, ("validate",)), ("Q accepté", TODAY - DAY, ("validate", "accept"))]:
        created = api.post("/api/v1/quote", json={**parties, "title": title, "validity_date": validity.isoformat(), "lines": LINE})
        assert created.status_code == 201, created.text
        for action in actions:
            run_action(api, "quote", created.json()["id"], action)
        quotes[title] = created.json()["id"]
    headers, quote_rows = table(alice.get("/admin/quote/list").text)
    title_at = headers.index("Objet")
    assert {cells[title_at]: colour for colour, cells in quote_rows} == {
        "Q brouillon": "c1", "Q expiré": "c2", "Q valable": None, "Q accepté": None,
    }
    assert 'style="--comptoir-row-colour: #f59f00"' in alice.get("/admin/quote/list").text


def test_shipped_filter_applies_its_condition_columns_and_sort(runtime: Any) -> None:
    alice, bob = _setup(runtime)
    page = alice.get("/admin/opportunity/list?filter=my_open").text
    headers, rows = table(page)
    assert headers == ["Intitulé", "Client ou prospect", "Contact", "Phase de vente", "Étape suivante",
                       "Date de l'étape suivante", "Échéance", "Montant estimé HT"]
    assert [cells[0] for _, cells in rows] == ["Plaquette", "Relance en retard", "Site vitrine"]
    assert "Mes affaires ouvertes" in page.split('id="saved-filters-toggle"', 1)[1].split("</button>", 1)[0]
    assert [cells[0] for _, cells in table(bob.get("/admin/opportunity/list?filter=my_open").text)[1]] == ["Chez Bob"]
    exported = alice.get("/admin/opportunity/export/csv?filter=my_open")  # the export follows the filter
    assert exported.status_code == 200
    assert sorted(line.split(",")[0] for line in exported.text.strip().splitlines()[1:]) == ["Plaquette", "Relance en retard", "Site vitrine"]
    bad = alice.get("/admin/opportunity/list?filter=nope")
    assert bad.status_code == 400 and "nope" in bad.text and "my_open" in bad.text


def _save(client: TestClient, name: str, query: str, columns: list[str], public: bool = False) -> Any:
    data: dict[str, Any] = {"csrf_token": token(client), "name": name, "query": query, "columns": columns}
    if public:
        data["public"] = "1"
    return client.post("/admin/_saved_filters/opportunity", data=data, follow_redirects=False)


def _choices(page: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind, label in re.findall(r'data-saved-filter="([a-z]+)">(.*?)</a>', page, re.S):
        found.setdefault(kind, []).append(_text(re.sub(r"<span.*?</span>", "", label, flags=re.S)))
    return found


def test_saved_filters_private_public_apply_and_delete(runtime: Any) -> None:
    alice, bob = _setup(runtime)
    saved = _save(alice, "Mes attentes", "phase=waiting&sortBy=name&sort=desc&page=2", ["name", "phase", "assigned_user"])
    assert saved.status_code == 303
    url = saved.headers["location"]
    params = parse_qs(urlsplit(url).query)
    assert params["phase"] == ["waiting"] and params["columns"] == ["name,phase,assigned_user"] and "page" not in params
    page = alice.get(url).text
    headers, rows = table(page)
    assert headers == ["Intitulé", "Phase de vente", "Commercial"]
    assert [cells for _, cells in rows] == [["Plaquette", "En attente", "alice"]]
    assert _choices(page)["mine"] == ["Mes attentes"]

    assert _save(alice, "Tout par nom", "sortBy=name&sort=asc", ["name"], public=True).status_code == 303
    # bob sees the public one only, without a delete button, and with alice's results for its conditions
    bob_page = bob.get("/admin/opportunity/list").text
    assert _choices(bob_page) == {"shipped": ["Mes affaires ouvertes", "Affaires ouvertes"], "public": ["Tout par nom"]}
    assert "_saved_filters/opportunity/" not in bob_page.split('id="save-filter"', 1)[0]
    public_url = re.search(r'href="([^"]*saved=\d+[^"]*)" data-saved-filter="public"', bob_page).group(1)
    assert [cells[0] for _, cells in table(bob.get(html.unescape(public_url)).text)[1]] == [
        "Chez Bob", "Gagnée", "Plaquette", "Relance en retard", "Site vitrine",
    ]

    # deleting: not someone else's, only one's own
    ids = [int(i) for i in re.findall(r"saved=(\d+)", alice.get("/admin/opportunity/list").text)]
    private_id = int(parse_qs(urlsplit(url).query)["saved"][0])
    refused = bob.post(f"/admin/_saved_filters/opportunity/{private_id}/delete", data={"csrf_token": token(bob)}, follow_redirects=False)
    assert refused.status_code == 303 and "error=" in refused.headers["location"]
    assert "seul son auteur" in bob.get(refused.headers["location"]).text
    assert sorted(set(ids)) == sorted(set(int(i) for i in re.findall(r"saved=(\d+)", alice.get("/admin/opportunity/list").text)))
    done = alice.post(f"/admin/_saved_filters/opportunity/{private_id}/delete", data={"csrf_token": token(alice)}, follow_redirects=False)
    assert done.status_code == 303 and "error" not in done.headers["location"]
    assert _choices(alice.get("/admin/opportunity/list").text) == {
        "shipped": ["Mes affaires ouvertes", "Affaires ouvertes"], "mine": ["Tout par nom"],
    }


def test_saving_refuses_a_missing_name_and_needs_the_csrf_token(runtime: Any) -> None:
    alice, _ = _setup(runtime)
    blank = _save(alice, "   ", "phase=waiting", ["name"])
    assert blank.status_code == 303
    assert "Donnez un nom au filtre." in alice.get(blank.headers["location"]).text
    forged = alice.post("/admin/_saved_filters/opportunity", data={"name": "x", "query": ""}, follow_redirects=False)
    assert forged.status_code == 403
    assert "data-saved-filter=\"mine\"" not in alice.get("/admin/opportunity/list").text
