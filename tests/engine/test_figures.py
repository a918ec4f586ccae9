"""The figure registry (app/engine/figures.py): a business module plugs in more figures — here a
stand-in for the client's outstanding — and the API and the admin show them with no change."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from app.engine import figures as registry
from app.engine.figures import Figure, FigureGroup, FigureSubject, figures_json, register_figures
from app.spec.model import Label
from app.verbs.client_figures import client_figures
from app.verbs.figures import document_figures
from tests.engine.apiclient import api_client
from tests.engine.test_admin import create, logged_in, token

SEEN: list[FigureSubject] = []


def outstanding(subject: FigureSubject) -> list[FigureGroup] | None:
    """Figures for any record with an `account` link: 100 € per letter of the client's name."""
    SEEN.append(subject)
    account_id = subject.value("account") if subject.entity.name != "account" else subject.record.id
    if account_id is None:
        return None
    account = subject.store.get("account", account_id)
    amount = Decimal(100 * len(account.name))
    return [FigureGroup("outstanding", Label("Encours client", "Client outstanding"), (Figure("outstanding", Label("Encours", "Outstanding"), amount),))]


@pytest.fixture
def with_outstanding(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    registry.providers()  # the shipped providers first, as at start-up
    monkeypatch.setattr(registry, "_PROVIDERS", list(registry._PROVIDERS))
    register_figures(outstanding)
    register_figures(outstanding)  # twice: still once
    SEEN.clear()
    yield


@pytest.fixture(autouse=True)
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPTOIR_FILES_DIR", str(tmp_path / "files"))
    return tmp_path / "files"


def test_registration_keeps_order_and_is_idempotent(with_outstanding: None) -> None:
    assert registry.providers() == (document_figures, client_figures, outstanding)


def test_json_amounts_are_strings_and_labels_bilingual() -> None:
    group = FigureGroup("g", Label("Groupe", "Group"), (Figure("a", Label("A", "A"), Decimal("2.50")), Figure("b", Label("B", "B"), None, kind="text")))
    assert figures_json([group]) == [
        {
            "key": "g", "label": {"fr": "Groupe", "en": "Group"}, "columns": [], "value_label": None,
            "figures": [
                {"key": "a", "label": {"fr": "A", "en": "A"}, "kind": "money", "value": "2.50", "details": {}},
                {"key": "b", "label": {"fr": "B", "en": "B"}, "kind": "text", "value": None, "details": {}},
            ],
        }
    ]


def test_a_plugged_provider_shows_in_the_api_and_the_admin(runtime: Any, with_outstanding: None) -> None:
    client = api_client(runtime)
    company = create(runtime, "company", {"legal_name": "Berthier Services SAS"})
    account = create(runtime, "account", {"name": "Dupont", "type": "client"})
    quote = client.post("/api/v1/quote", json={"company": company, "account": account, "lines": []}).json()["id"]
    groups = client.get(f"/api/v1/quote/{quote}/figures").json()["groups"]
    assert [g["key"] for g in groups] == ["totals", "vat", "client", "outstanding"]
    assert groups[3]["figures"][0]["value"] == "600"
    on_account = client.get(f"/api/v1/account/{account}/figures").json()["groups"]
    assert [g["key"] for g in on_account] == ["outstanding"]
    assert client.get(f"/api/v1/company/{company}/figures").json()["groups"] == []
    admin = logged_in(runtime)
    page = admin.get(f"/admin/account/details/{account}").text
    assert 'id="key-figures"' in page and "Encours client" in page and 'data-figure="outstanding"' in page
    # a preview hands the provider the unsaved record: preview flag, the form's rows
    SEEN.clear()
    answer = admin.post(
        "/admin/quote/totals-preview",
        data={"csrf_token": token(admin), "account": str(account), "company": str(company), "lines-present": "1",
              "lines-0-id": "", "lines-0-unit_price": "10", "lines-0-vat_rate": "20"},
    )
    assert answer.status_code == 200, answer.text
    (subject,) = SEEN
    assert subject.preview and subject.record.id is None and len(subject.rows("lines")) == 1
    assert [g["key"] for g in answer.json()["groups"]] == ["totals", "vat", "client", "outstanding"]
