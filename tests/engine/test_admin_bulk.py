"""The list page's actions on the ticked rows (app/engine/admin/bulk.py): a button per
`bulk: true` transition the user may run, the POST (CSRF) running it on every ticked record in
one transaction, the outcome or the refusal flashed on the list, nothing changed on a refusal."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from starlette.testclient import TestClient

from tests.engine.configs import write_config
from tests.engine.test_admin import csrf_of, logged_in
from tests.engine.test_workflow import TODAY, new_bill, new_firm, read, run
from tests.engine.workflow_config import ENTITIES, GROUPS, PICKLISTS, WORKFLOWS

# the bill workflow of tests/engine/workflow_config.py, with validate, convert and cancel in bulk
BULK_WORKFLOWS = re.sub(
    r"(\n    (validate|convert|cancel):\n      from: [^\n]+\n)", r"\1      bulk: true\n", WORKFLOWS
)


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    assert BULK_WORKFLOWS.count("bulk: true") == 3
    root = write_config(tmp_path / "bulk", ENTITIES, picklists=PICKLISTS, groups=GROUPS, workflows=BULK_WORKFLOWS)
    return make_runtime(root)


def bulk_forms(page: str) -> dict[str, str]:
    """name -> the form's HTML, for each bulk form of the page."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<form[^>]*comptoir-bulk" [^>]*data-action="([^"]+)"[^>]*>.*?</form>', page, re.S)}


def flashes(page: str) -> list[tuple[str, str]]:
    return [(c, html.unescape(t).strip()) for c, t in re.findall(r'alert-(\w+) comptoir-flash" role="alert" id="action-result">(.*?)</div>', page, re.S)]


def bulk(client: TestClient, name: str, ids: list[int], *, query: str = "", token: str | None = None) -> Any:
    page = client.get("/admin/bill/list").text
    data = {"csrf_token": token if token is not None else csrf_of(page), "ids": ",".join(map(str, ids)), "query": query}
    return client.post(f"/admin/_bulk/bill/{name}", data=data, follow_redirects=False)


def bills(rt: Any, count: int, **data: Any) -> list[int]:
    firm = new_firm(rt)
    return [new_bill(rt, firm, date=TODAY.isoformat(), **data) for _ in range(count)]


def test_the_list_shows_a_button_per_bulk_transition_the_user_may_run(rt: Any) -> None:
    bills(rt, 1)
    sales = logged_in(rt, "sam", ("sales",)).get("/admin/bill/list").text
    assert set(bulk_forms(sales)) == {"validate", "convert"}  # cancel: managers only; touch: not bulk
    validate = html.unescape(bulk_forms(sales)["validate"])
    assert 'action="http://testserver/admin/_bulk/bill/validate"' in validate and 'method="post"' in validate
    assert re.search(r'name="csrf_token" value="[^"]+"', validate) and 'name="ids"' in validate
    assert 'data-confirm="Valider cette facture ? Son numéro sera définitif."' in validate
    assert re.search(r'>Valider \(<span class="comptoir-bulk-count">0</span>\)</button>', validate)
    assert 'data-one="facture" data-many="factures"' in validate
    assert set(bulk_forms(logged_in(rt, "max", ("manager",)).get("/admin/bill/list").text)) == {"cancel"}
    assert bulk_forms(logged_in(rt, "cleo", ("clerk",)).get("/admin/bill/list").text) == {}
    assert bulk_forms(logged_in(rt, "ada", ("admin",)).get("/admin/job/list").text) == {}  # no workflow


def test_a_bulk_transition_runs_on_every_ticked_record_and_comes_back_to_the_list(rt: Any) -> None:
    first, second, third = bills(rt, 3)
    untouched = bills(rt, 1)[0]
    client = logged_in(rt, "sam", ("sales",))
    response = bulk(client, "validate", [first, second, third], query="status=draft&page=1&error=x")
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/admin/bill/list?status=draft&page=1"  # the filters kept
    page = client.get(response.headers["location"]).text
    assert flashes(page) == [("success", "« Valider » effectué sur 3 factures (FA26-0001, FA26-0002, FA26-0003) : désormais « Validée ».")]
    assert [(read(rt, "bill", i)["status"], read(rt, "bill", i)["number"]) for i in (first, second, third)] == [
        ("validated", "FA26-0001"),
        ("validated", "FA26-0002"),
        ("validated", "FA26-0003"),
    ]
    assert read(rt, "bill", untouched)["status"] == "draft"
    assert flashes(client.get("/admin/bill/list").text) == []  # shown once
    converted = bulk(client, "convert", [first])
    assert flashes(client.get(converted.headers["location"]).text) == [
        ("success", "« Créer la commande » effectué sur 1 facture (FA26-0001) : désormais « Convertie ». 1 document créé.")
    ]


def test_a_refusal_on_one_record_changes_nothing_and_is_flashed(rt: Any) -> None:
    first, second, third = bills(rt, 3)
    run(rt, second, "validate")
    client = logged_in(rt, "sam", ("sales",))
    response = bulk(client, "validate", [first, second, third])
    assert response.status_code == 303 and response.headers["location"] == "http://testserver/admin/bill/list"
    [(category, message)] = flashes(client.get(response.headers["location"]).text)
    assert category == "danger" and message.startswith("Rien n'a été modifié — ")
    assert "FA26-0001" in message and " / " not in message  # the record at fault, in French only
    assert [read(rt, "bill", i)["number"] for i in (first, second, third)] == [None, "FA26-0001", None]
    assert [read(rt, "bill", i)["status"] for i in (first, third)] == ["draft", "draft"]
    [empty] = bills(rt, 1, lines=[])
    refused = bulk(client, "validate", [first, empty])
    [(category, message)] = flashes(client.get(refused.headers["location"]).text)
    # the condition's message, maybe after the record it names (« facture n° 4 : »)
    assert category == "danger" and message.startswith("Rien n'a été modifié — ") and message.endswith("La facture est vide.")
    assert read(rt, "bill", first)["status"] == "draft"


def test_forged_posts_are_refused_and_change_nothing(rt: Any) -> None:
    ids = bills(rt, 2)
    clerk = logged_in(rt, "cleo", ("clerk",))  # may edit bills, not validate them
    response = bulk(clerk, "validate", ids)
    assert response.status_code == 403 and "refusé à cleo" in response.text
    sales = logged_in(rt, "sam", ("sales",))
    assert bulk(sales, "cancel", ids).status_code == 403  # the right, but not the group
    assert bulk(sales, "touch", ids).status_code == 404  # not a bulk transition
    assert bulk(sales, "nope", ids).status_code == 404
    assert sales.post("/admin/_bulk/nope/validate", data={"csrf_token": csrf_of(sales.get("/admin/").text)}).status_code == 404
    assert bulk(sales, "validate", ids, token="forged").status_code == 403  # CSRF
    bad = sales.post("/admin/_bulk/bill/validate", data={"csrf_token": csrf_of(sales.get("/admin/").text), "ids": "1,x"}, follow_redirects=False)
    assert bad.status_code == 422
    nothing = bulk(sales, "validate", [])
    assert flashes(sales.get(nothing.headers["location"]).text) == [("warning", "Cochez d'abord les lignes à traiter.")]
    anonymous = TestClient(sales.app, base_url="http://testserver")
    token = csrf_of(anonymous.get("/admin/login").text)
    response = anonymous.post("/admin/_bulk/bill/validate", data={"csrf_token": token, "ids": ",".join(map(str, ids))}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/admin/login")
    assert [read(rt, "bill", i)["status"] for i in ids] == ["draft", "draft"]
