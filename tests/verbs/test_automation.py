"""The `compute_field` compute (automation rules) through the Store: a computed date, a default
by condition, `only_if_empty` keeping a typed value, locked records left alone but for their
mutable fields, and an expression that cannot be computed refused with the field named."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from app.engine.workflow import run_transition
from tests.engine.configs import write_config

PICKLISTS = """
priority:
  values:
    - {code: normal, label: Normale}
    - {code: high, label: Haute}
"""

ENTITIES = {
    "doc": """
        label: {fr: Document, en: Document}
        title: ref
        fields:
          ref: {type: string}
          status: {type: status}
          date: {type: date}
          valid_until: {type: date, label: {fr: Fin de validité, en: Valid until}}
          amount: {type: money}
          priority: {type: choice, picklist: priority}
          note: {type: text}
          reviewed_on: {type: date}
          offset: {type: string, label: {fr: Décalage, en: Offset}}
          shifted: {type: date, label: {fr: Décalée, en: Shifted}}
        compute:
          - compute_field: {field: valid_until, value: "date + days(30)", when: "date", only_if_empty: true}
          - compute_field: {field: priority, value: "'high'", when: "amount and amount >= 10000"}
          - compute_field: {field: note, value: "'à relire'", when: "priority == 'high'", only_if_empty: true}
          - compute_field: {field: reviewed_on, value: "date", when: "status == 'done'"}
          - compute_field: {field: shifted, value: "date + days(offset)", when: "offset"}
          - compute_field: {field: note, value: "'clos'", when: "status == 'done'"}
    """,
}

WORKFLOWS = """
doc:
  field: status
  initial: draft
  mutable: [reviewed_on]
  states:
    draft: {label: Brouillon}
    done: {label: Terminé, editable: false}
  transitions:
    close: {from: [draft], to: done}
"""


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_runtime(write_config(tmp_path / "cfg", ENTITIES, picklists=PICKLISTS, workflows=WORKFLOWS))


def _create(rt: Any, **data: Any) -> dict[str, Any]:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        doc = store.create("doc", data)
        s.commit()
        return store.serialize(doc, with_children=False)


def _update(rt: Any, doc_id: int, **data: Any) -> dict[str, Any]:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        doc = store.update("doc", doc_id, data)
        s.commit()
        return store.serialize(doc, with_children=False)


@pytest.mark.parametrize(
    ("data", "valid_until", "priority", "note"),
    [
        ({"date": "2026-01-15"}, "2026-02-14", None, None),  # computed from the date
        ({"date": "2026-01-15", "valid_until": "2026-06-30"}, "2026-06-30", None, None),  # typed: kept
        ({}, None, None, None),  # no date: `when` false, nothing computed
        ({"date": "2026-01-15", "amount": "12000"}, "2026-02-14", "high", "à relire"),  # defaults by condition
        ({"amount": "12000", "note": "déjà vu", "priority": "normal"}, None, "high", "déjà vu"),  # not only_if_empty: overwritten
        ({"amount": "500", "priority": "normal"}, None, "normal", None),
    ],
)
def test_rules_on_create(rt: Any, data: dict[str, Any], valid_until: str | None, priority: str | None, note: str | None) -> None:
    got = _create(rt, ref="D", **data)
    assert (got["valid_until"], got["priority"], got["note"]) == (valid_until, priority, note)


def test_emptied_field_is_computed_again_and_a_locked_record_only_gets_its_mutable_fields(rt: Any) -> None:
    doc = _create(rt, ref="D", date="2026-01-15")
    assert _update(rt, doc["id"], valid_until=None, date="2026-03-01")["valid_until"] == "2026-03-31"
    with rt.session() as s:
        run_transition(Store(rt, s, SYSTEM), "doc", doc["id"], "close")
        s.commit()
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        closed = store.recompute_record("doc", doc["id"])
        s.commit()
        got = store.serialize(closed, with_children=False)
    assert got["reviewed_on"] == "2026-03-01"  # mutable in the locked state: computed
    assert got["note"] is None  # not mutable: left as it is (writing it would be refused)


def test_a_value_that_cannot_be_computed_names_the_field(rt: Any) -> None:
    with pytest.raises(StoreError) as refused:
        _create(rt, ref="D", date="2026-01-15", offset="trois")
    assert refused.value.status == 422 and refused.value.field == "shifted"
    assert refused.value.message.startswith("Décalée : calcul impossible")
    assert _create(rt, ref="E", date="2026-01-15", offset="")["shifted"] is None
