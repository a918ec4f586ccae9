"""The `fill_from` compute through the Store: empty fields filled from a linked record, typed
values kept, locked records left alone but for their mutable fields — on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from app.engine.workflow import run_transition
from tests.engine.configs import write_config

PICKLISTS = """
payment_mode:
  label: {fr: Modes de règlement, en: Payment methods}
  values:
    - {code: transfer, label: {fr: Virement, en: Transfer}}
    - {code: cheque, label: {fr: Chèque, en: Cheque}}
"""

ENTITIES = {
    "party": """
        label: {fr: Tiers, en: Account}
        title: name
        fields:
          name: {type: string, required: true, length: 200}
          address: {type: text}
          city: {type: string, length: 100}
          vat_number: {type: vat_number}
          payment_mode: {type: choice, picklist: payment_mode}
          manager: {type: link, to: user}
    """,
    "doc": """
        label: {fr: Document, en: Document}
        title: ref
        fields:
          ref: {type: string}
          status: {type: status}
          party: {type: link, to: party, label: {fr: Client, en: Client}}
          billing_name: {type: string, length: 10, label: {fr: Nom (facturation), en: Billing name}}
          billing_address: {type: text}
          billing_city: {type: string, length: 100}
          billing_place: {type: text}
          their_vat_number: {type: vat_number}
          payment_mode: {type: choice, picklist: payment_mode}
          rep: {type: link, to: user}
          note: {type: text}
        compute:
          - fill_from:
              link: party
              fields:
                billing_address: address
                billing_city: city
                billing_place: city
                their_vat_number: vat_number
                payment_mode: payment_mode
                rep: manager
          - fill_from: {link: party, fields: {billing_name: name}}
    """,
}

WORKFLOWS = """
doc:
  field: status
  initial: draft
  mutable: [note, billing_place]
  states:
    draft: {label: Brouillon}
    done: {label: Terminé, editable: false}
  transitions:
    close: {from: [draft], to: done}
"""

DUPONT = {"name": "Dupont", "address": "1 rue de la Paix", "city": "Lyon", "vat_number": "FR40303265045", "payment_mode": "cheque"}


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_runtime(write_config(tmp_path / "cfg", ENTITIES, picklists=PICKLISTS, workflows=WORKFLOWS))


def _party(rt: Any, **data: Any) -> int:
    with rt.session() as s:
        party = Store(rt, s, SYSTEM).create("party", data)
        s.commit()
        return int(party.id)


def _user(rt: Any) -> int:
    with rt.session() as s:
        user = Store(rt, s, SYSTEM).create("user", {"login": "rep", "full_name": "Rep", "password": "secret-pass-1"})
        s.commit()
        return int(user.id)


def _doc(rt: Any, record_id: int) -> dict[str, Any]:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        return store.serialize(store.get("doc", record_id), with_children=False)


FILLED = ("billing_name", "billing_address", "billing_city", "billing_place", "their_vat_number", "payment_mode", "rep")


def test_create_fills_the_empty_fields_and_keeps_the_given_ones(rt: Any) -> None:
    user = _user(rt)
    party = _party(rt, **DUPONT, manager=user)
    with rt.session() as s:
        doc = Store(rt, s, SYSTEM).create("doc", {"ref": "D1", "party": party, "billing_city": "Paris", "payment_mode": "transfer"})
        s.commit()
        doc_id = int(doc.id)
    got = _doc(rt, doc_id)
    assert {name: got[name] for name in FILLED} == {
        "billing_name": "Dupont",
        "billing_address": "1 rue de la Paix",
        "billing_city": "Paris",  # typed by the user: kept
        "billing_place": "Lyon",  # a text field takes a string
        "their_vat_number": "FR40303265045",
        "payment_mode": "transfer",
        "rep": user,  # a link
    }


def test_fields_empty_on_the_linked_record_stay_empty_until_it_has_them(rt: Any) -> None:
    party = _party(rt, name="Martin")
    with rt.session() as s:
        doc_id = int(Store(rt, s, SYSTEM).create("doc", {"ref": "D2", "party": party}).id)
        s.commit()
    assert [_doc(rt, doc_id)[name] for name in ("billing_name", "billing_city", "rep")] == ["Martin", None, None]
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        store.update("party", party, {"city": "Nantes", "name": "Martin SA"})
        store.update("doc", doc_id, {"note": "relance"})
        s.commit()
    got = _doc(rt, doc_id)
    assert (got["billing_city"], got["billing_name"]) == ("Nantes", "Martin")  # filled; a value stays


def test_without_link_nothing_is_filled(rt: Any) -> None:
    with rt.session() as s:
        doc_id = int(Store(rt, s, SYSTEM).create("doc", {"ref": "D3"}).id)
        s.commit()
    assert all(_doc(rt, doc_id)[name] is None for name in FILLED)


def test_a_locked_record_is_filled_only_in_its_mutable_fields(rt: Any) -> None:
    party = _party(rt, name="Durand")
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        doc_id = int(store.create("doc", {"ref": "D4", "party": party}).id)
        run_transition(store, "doc", doc_id, "close")
        s.commit()
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        store.update("party", party, {"city": "Lille", "address": "2 place du Théâtre"})
        store.update("doc", doc_id, {"note": "payée"})  # no lock error: locked fields are not filled
        s.commit()
    got = _doc(rt, doc_id)
    assert (got["status"], got["note"]) == ("done", "payée")
    assert (got["billing_city"], got["billing_address"], got["billing_place"]) == (None, None, "Lille")


def test_a_value_too_long_for_our_field_is_refused_with_its_name(rt: Any) -> None:
    party = _party(rt, name="Établissements Dupont et fils")
    with rt.session() as s:
        with pytest.raises(StoreError) as caught:
            Store(rt, s, SYSTEM).create("doc", {"ref": "D5", "party": party})
    assert (caught.value.status, caught.value.code, caught.value.field) == (422, "invalid", "billing_name")
    assert caught.value.message.startswith("Nom (facturation) (repris de client « Établissements Dupont et fils ») : ")
