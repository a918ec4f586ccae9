"""Field rules of app/engine/rules.py on a tiny app: `frozen` fields and link `match` constraints,
on SQLite and PostgreSQL. The functions are called as the Store calls them: after parsing and
defaults, before the flush."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest

from app.engine.permissions import SYSTEM
from app.engine.rules import check_frozen, check_matches, values_after
from app.engine.store import Store, StoreError
from tests.engine.configs import write_config

PICKLISTS = """
currency:
  label: {fr: Devises, en: Currencies}
  values:
    - {code: eur, label: Euro}
    - {code: usd, label: Dollar}
tag:
  label: {fr: Étiquettes, en: Tags}
  values:
    - {code: a, label: A}
    - {code: b, label: B}
"""

ENTITIES = {
    "party": """
        label: {fr: Tiers, en: Account}
        title: name
        fields:
          name: {type: string, label: {fr: Raison sociale, en: Name}, required: true}
    """,
    "person": """
        label: {fr: Personne, en: Person}
        title: name
        fields:
          name: {type: string, label: {fr: Nom, en: Name}, required: true}
          party: {type: link, to: party, label: {fr: Tiers, en: Account}}
          currency: {type: choice, picklist: currency, label: {fr: Devise, en: Currency}}
    """,
    "doc": """
        label: {fr: Document, en: Document}
        title: ref
        fields:
          ref: {type: string, label: {fr: Référence, en: Reference}}
          party: {type: link, to: party, label: {fr: Client, en: Client}, frozen: true}
          person:
            type: link
            to: person
            label: {fr: Contact, en: Contact}
            match: {party: party, currency: currency}
          currency: {type: choice, picklist: currency, label: {fr: Devise, en: Currency}, frozen: true}
          amount: {type: money, label: {fr: Montant, en: Amount}, frozen: true}
          tags: {type: multichoice, picklist: tag, label: {fr: Étiquettes, en: Tags}, frozen: true}
          note: {type: text, label: {fr: Note, en: Note}}
    """,
}


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_runtime(write_config(tmp_path / "cfg", ENTITIES, picklists=PICKLISTS))


def _ids(rt: Any) -> dict[str, int]:
    """Two parties, their people, and a document of the first party."""
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        dupont = store.create("party", {"name": "Dupont SARL"}).id
        martin = store.create("party", {"name": "Martin SA"}).id
        jean = store.create("person", {"name": "Jean Dupont", "party": dupont, "currency": "eur"}).id
        paul = store.create("person", {"name": "Paul Martin", "party": martin}).id
        loner = store.create("person", {"name": "Solo"}).id
        doc = store.create(
            "doc", {"ref": "D1", "party": dupont, "person": jean, "currency": "eur", "amount": "10", "tags": ["a", "b"]}
        ).id
        s.commit()
        return {"dupont": dupont, "martin": martin, "jean": jean, "paul": paul, "loner": loner, "doc": doc}


# --- frozen -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"currency": "eur"},  # the same value again: forms send every field
        {"amount": Decimal("10.00")},
        {"tags": ["b", "a"]},  # the same codes in another order
        {"note": "free", "ref": "D1-bis"},  # fields that are not frozen
    ],
)
def test_frozen_allows_the_same_value(rt: Any, values: dict[str, Any]) -> None:
    ids = _ids(rt)
    with rt.session() as s:
        doc = Store(rt, s, SYSTEM).get("doc", ids["doc"])
        check_frozen(rt.spec.entity("doc"), doc, {**values, "party": ids["dupont"]})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("currency", "usd", "« Devise » ne peut pas changer après la création (valeur actuelle : « eur »)"),
        ("party", "martin", "« Client » ne peut pas changer après la création (valeur actuelle : « Dupont SARL »)"),
        ("party", None, "valeur actuelle : « Dupont SARL »"),
        ("amount", Decimal("10.01"), "« Montant » ne peut pas changer"),
        ("tags", ["a"], "« Étiquettes » ne peut pas changer"),
    ],
)
def test_frozen_refuses_another_value(rt: Any, field: str, value: Any, message: str) -> None:
    ids = _ids(rt)
    with rt.session() as s:
        doc = Store(rt, s, SYSTEM).get("doc", ids["doc"])
        with pytest.raises(StoreError) as caught:
            check_frozen(rt.spec.entity("doc"), doc, {field: ids.get(value, value) if isinstance(value, str) else value})
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "frozen", field)
    assert message in caught.value.message
    assert "cannot change once the record is created" in caught.value.message


def test_frozen_empty_value_cannot_be_set_later(rt: Any) -> None:
    """Given on creation or never: an empty frozen field stays empty."""
    ids = _ids(rt)
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        doc = store.create("doc", {"ref": "D2"})
        with pytest.raises(StoreError) as caught:
            check_frozen(rt.spec.entity("doc"), doc, {"party": ids["martin"]})
        assert "valeur actuelle : « — »" in caught.value.message
        check_frozen(rt.spec.entity("doc"), doc, {"party": None, "tags": []})


# --- match --------------------------------------------------------------------------------------


def _check(rt: Any, values: dict[str, Any], record_id: int | None = None, changed: Any = None) -> None:
    with rt.session() as s:
        entity = rt.spec.entity("doc")
        obj = Store(rt, s, SYSTEM).get("doc", record_id) if record_id is not None else None
        check_matches(s, rt, entity, values_after(entity, obj, values), changed=changed)


def test_match_accepts_a_contact_of_the_client(rt: Any) -> None:
    ids = _ids(rt)
    _check(rt, {"party": ids["dupont"], "person": ids["jean"], "currency": "eur"})
    _check(rt, {"person": ids["jean"]}, record_id=ids["doc"])  # the rest read from the record
    _check(rt, {"party": None, "person": ids["paul"]})  # no client: nothing to belong to
    _check(rt, {"party": ids["dupont"]})  # no contact


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"party": "dupont", "person": "paul"},
            "Contact : « Paul Martin » n'appartient pas à « Dupont SARL » (Client) mais à « Martin SA » / "
            "Contact: 'Paul Martin' does not belong to 'Dupont SARL' (Client) but to 'Martin SA'",
        ),
        (
            {"party": "dupont", "person": "loner"},
            "Contact : « Solo » n'appartient pas à « Dupont SARL » (Client) : Tiers non renseigné / "
            "Contact: 'Solo' does not belong to 'Dupont SARL' (Client): Account not set",
        ),
        (
            {"party": "dupont", "person": "jean", "currency": "usd"},
            "Contact : « Jean Dupont » ne correspond pas : Devise « eur » au lieu de « usd » (Devise)",
        ),
    ],
)
def test_match_refuses_a_contact_of_another_client(rt: Any, values: dict[str, Any], message: str) -> None:
    ids = _ids(rt)
    with pytest.raises(StoreError) as caught:
        _check(rt, {k: ids.get(v, v) for k, v in values.items()})
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "mismatch", "person")
    assert message in caught.value.message


def test_match_on_update_reads_unchanged_fields_from_the_record(rt: Any) -> None:
    ids = _ids(rt)
    with pytest.raises(StoreError, match="n'appartient pas à « Dupont SARL »"):
        _check(rt, {"person": ids["paul"]}, record_id=ids["doc"], changed={"person"})
    with pytest.raises(StoreError, match="Devise « eur » au lieu de « usd »"):
        _check(rt, {"currency": "usd"}, record_id=ids["doc"], changed={"currency"})


def test_match_is_checked_only_when_one_of_its_fields_changes(rt: Any) -> None:
    ids = _ids(rt)
    with rt.session() as s:  # the contact moves to another client behind the document's back
        Store(rt, s, SYSTEM).update("person", ids["jean"], {"party": ids["martin"]})
        s.commit()
    _check(rt, {"note": "still editable"}, record_id=ids["doc"], changed={"note"})
    with pytest.raises(StoreError, match="mais à « Martin SA »"):
        _check(rt, {"note": "checked"}, record_id=ids["doc"])  # changed=None: every constraint
    with pytest.raises(StoreError, match="mais à « Martin SA »"):
        _check(rt, {"person": ids["jean"]}, record_id=ids["doc"], changed={"person"})


def test_values_after(rt: Any) -> None:
    ids = _ids(rt)
    entity = rt.spec.entity("doc")
    assert values_after(entity, None, {"ref": "X"}) == {
        "ref": "X", "party": None, "person": None, "currency": None, "amount": None, "tags": None, "note": None
    }
    with rt.session() as s:
        doc = Store(rt, s, SYSTEM).get("doc", ids["doc"])
        after = values_after(entity, doc, {"note": "n", "person": None})
    assert (after["note"], after["person"], after["party"], after["currency"]) == ("n", None, ids["dupont"], "eur")
