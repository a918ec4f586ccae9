"""The `propagate` effect and the `compute_field` compute through the Store, on a tiny config of
their own: the linked transition run when its state allows it, skipped when the record is
already there or not allowed (or refused with `strict`), fields set from expressions on the
source record, `only_if` / `when_all` guards, two hops by chaining transitions, and any failure
rolling the whole transition back — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

import pytest

from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from app.engine.workflow import log_entries, run_transition
from app.spec.expressions import fixed_clock
from tests.engine.configs import write_config

DAY = dt.date(2026, 11, 23)

PICKLISTS = """
party_kind:
  values:
    - {code: prospect, label: Prospect}
    - {code: client, label: Client}
"""

ENTITIES = {
    "party": """
        label: {fr: Tiers, en: Party}
        title: name
        fields:
          name: {type: string, required: true}
          kind: {type: choice, picklist: party_kind, default: "'prospect'"}
          won_deals: {type: integer, default: "0"}
    """,
    "deal": """
        label: {fr: Affaire, en: Deal}
        title: name
        fields:
          name: {type: string, required: true}
          phase: {type: status}
          party: {type: link, to: party}
          amount: {type: money}
          follow_up: {type: date, label: {fr: Relance, en: Follow-up}}
          note: {type: string, length: 5, label: {fr: Note, en: Note}}
          ready: {type: boolean, default: "true"}
          recomputed: {type: integer, default: "0"}
        compute:
          - compute_field: {field: recomputed, value: "recomputed + 1"}
    """,
    "offer": """
        label: {fr: Offre, en: Offer}
        title: ref
        fields:
          ref: {type: string}
          status: {type: status}
          deal: {type: link, to: deal, label: {fr: Affaire, en: Deal}}
          party: {type: link, to: party}
          total: {type: money}
    """,
    "bill": """
        label: {fr: Facture, en: Bill}
        title: ref
        fields:
          ref: {type: string}
          status: {type: status}
          offer: {type: link, to: offer}
    """,
}

WORKFLOWS = """
deal:
  field: phase
  initial: open
  states:
    open: {label: Ouverte}
    offered: {label: Offre envoyée}
    won: {label: Gagnée}
    lost: {label: Perdue}
    closed: {label: Close, editable: false}
  transitions:
    offer: {from: [open], to: offered, condition: "ready"}
    win: {from: [open, offered], to: won}
    lose: {from: [open, offered], to: lost}
    close: {from: [won], to: closed}
offer:
  field: status
  initial: draft
  states:
    draft: {label: Brouillon}
    sent: {label: Envoyée}
    accepted: {label: Acceptée}
    paid: {label: Réglée}
  transitions:
    send:
      from: [draft]
      to: sent
      effects:
        - propagate: {link: deal, transition: offer, set: {follow_up: "today() + days(7)", amount: "total"}}
    send_strictly:
      from: [draft]
      to: sent
      effects:
        - propagate: {link: deal, transition: offer, strict: true}
    accept:
      from: [sent]
      to: accepted
      effects:
        - propagate: {link: deal, transition: win, only_if: "amount"}
        - propagate: {link: party, set: {kind: "'client'"}}
    annotate:
      from: [draft, sent]
      to: sent
      effects:
        - propagate: {link: deal, set: {note: "ref"}}
    mark_paid:
      from: [accepted]
      to: paid
      effects:
        - propagate: {link: deal, transition: close}
bill:
  field: status
  initial: draft
  states:
    draft: {label: Brouillon}
    paid: {label: Réglée}
    cancelled: {label: Annulée}
  transitions:
    pay:
      from: [draft]
      to: paid
      effects:
        - propagate: {link: offer, transition: mark_paid, when_all: "status in ['paid', 'cancelled']"}
    cancel: {from: [draft], to: cancelled}
"""


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_runtime(write_config(tmp_path / "cfg", ENTITIES, picklists=PICKLISTS, workflows=WORKFLOWS))


def _create(rt: Any, entity: str, **data: Any) -> int:
    with rt.session() as s:
        record = Store(rt, s, SYSTEM).create(entity, data)
        s.commit()
        return int(record.id)


def _run(rt: Any, entity: str, record_id: int, name: str) -> None:
    with rt.session() as s:
        run_transition(Store(rt, s, SYSTEM), entity, record_id, name)
        s.commit()


def _read(rt: Any, entity: str, record_id: int) -> dict[str, Any]:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        return store.serialize(store.get(entity, record_id), with_children=False)


def _transitions(rt: Any, entity: str, record_id: int) -> list[str | None]:
    with rt.session() as s:
        store = Store(rt, s, SYSTEM)
        return [e.transition for e in log_entries(store, store.entity(entity), record_id)]


def _deal_and_offer(rt: Any, **deal: Any) -> tuple[int, int, int]:
    party = _create(rt, "party", name="Martin")
    deal_id = _create(rt, "deal", name="Site", party=party, **deal)
    offer = _create(rt, "offer", ref="OF-1", deal=deal_id, party=party, total="1500")
    return party, deal_id, offer


def test_the_linked_transition_runs_and_the_fields_take_expressions_on_the_source(rt: Any) -> None:
    _, deal, offer = _deal_and_offer(rt)
    before = _read(rt, "deal", deal)["recomputed"]
    with fixed_clock(DAY):
        _run(rt, "offer", offer, "send")
    got = _read(rt, "deal", deal)
    assert (got["phase"], got["follow_up"], got["amount"]) == ("offered", "2026-11-30", "1500.00")
    assert got["recomputed"] == before + 1  # its computes ran again after the fields were set
    assert _transitions(rt, "deal", deal) == ["offer"]


def test_already_there_sets_the_fields_without_running_the_transition_again(rt: Any) -> None:
    party, deal, offer = _deal_and_offer(rt)
    _run(rt, "deal", deal, "offer")
    with fixed_clock(DAY):
        _run(rt, "offer", offer, "send")
    got = _read(rt, "deal", deal)
    assert (got["phase"], got["follow_up"]) == ("offered", "2026-11-30")
    assert _transitions(rt, "deal", deal) == ["offer"]  # once, by hand


@pytest.mark.parametrize("how", ["state", "condition"])
def test_not_allowed_is_skipped_silently_fields_included(rt: Any, how: str) -> None:
    _, deal, offer = _deal_and_offer(rt, ready=how != "condition")
    if how == "state":
        _run(rt, "deal", deal, "lose")
    _run(rt, "offer", offer, "send")
    got = _read(rt, "deal", deal)
    assert got["phase"] == ("lost" if how == "state" else "open")
    assert (got["follow_up"], got["amount"]) == (None, None)  # the transition did not run: no field set
    assert _read(rt, "offer", offer)["status"] == "sent"


def test_strict_refuses_and_rolls_back_the_source_transition(rt: Any) -> None:
    _, deal, offer = _deal_and_offer(rt)
    _run(rt, "deal", deal, "lose")
    with pytest.raises(StoreError) as refused:
        _run(rt, "offer", offer, "send_strictly")
    assert refused.value.status == 409 and refused.value.code == "propagation_refused"
    assert "« Perdue »" in refused.value.message and "offre OF-1" in refused.value.message
    assert _read(rt, "offer", offer)["status"] == "draft"
    assert _transitions(rt, "offer", offer) == []


def test_strict_accepts_a_record_already_there(rt: Any) -> None:
    _, deal, offer = _deal_and_offer(rt)
    _run(rt, "deal", deal, "offer")
    _run(rt, "offer", offer, "send_strictly")
    assert _read(rt, "offer", offer)["status"] == "sent"


def test_only_if_on_the_linked_record_and_a_record_without_workflow(rt: Any) -> None:
    party, deal, offer = _deal_and_offer(rt, ready=False)
    _run(rt, "offer", offer, "send")  # `offer`'s condition fails: skipped, no amount set
    _run(rt, "offer", offer, "accept")
    assert _read(rt, "deal", deal)["phase"] == "open"  # `win` is allowed, but only_if "amount" is false
    assert _read(rt, "party", party)["kind"] == "client"  # no workflow: its fields are set


def test_an_empty_link_does_nothing(rt: Any) -> None:
    offer = _create(rt, "offer", ref="OF-3")
    _run(rt, "offer", offer, "send")
    _run(rt, "offer", offer, "accept")
    assert _read(rt, "offer", offer)["status"] == "accepted"


def test_when_all_waits_for_every_sibling_then_chains_two_hops(rt: Any) -> None:
    _, deal, offer = _deal_and_offer(rt)
    for action in ("send", "accept"):
        _run(rt, "offer", offer, action)
    assert _read(rt, "deal", deal)["phase"] == "won"
    first, second, third = (_create(rt, "bill", ref=f"B{i}", offer=offer) for i in (1, 2, 3))
    _run(rt, "bill", first, "pay")
    assert _read(rt, "offer", offer)["status"] == "accepted"  # two bills still unpaid
    _run(rt, "bill", third, "cancel")
    assert _read(rt, "offer", offer)["status"] == "accepted"  # cancelling is no payment
    _run(rt, "bill", second, "pay")  # the last one: bill → offer paid → deal closed
    assert _read(rt, "offer", offer)["status"] == "paid"
    assert _read(rt, "deal", deal)["phase"] == "closed"
    assert _transitions(rt, "deal", deal) == ["offer", "win", "close"]


def test_a_value_the_linked_field_refuses_rolls_everything_back(rt: Any) -> None:
    _, deal, _ = _deal_and_offer(rt)
    bad = _create(rt, "offer", ref="OF-12345", deal=deal)  # the deal's note holds 5 characters
    with pytest.raises(StoreError) as refused:
        _run(rt, "offer", bad, "annotate")
    assert refused.value.status == 422 and refused.value.field == "note"
    assert "Note (affaire « Site ») : " in refused.value.message
    assert _read(rt, "offer", bad)["status"] == "draft"
    assert _read(rt, "deal", deal)["note"] is None
    assert _transitions(rt, "offer", bad) == []


def test_a_field_of_a_locked_linked_record_is_refused_and_rolled_back(rt: Any) -> None:
    _, deal, offer = _deal_and_offer(rt)
    for action in ("send", "accept", "mark_paid"):
        _run(rt, "offer", offer, action)
    assert _read(rt, "deal", deal)["phase"] == "closed"  # a locked state: its note may not change
    other = _create(rt, "offer", ref="OF-9", deal=deal)
    with pytest.raises(StoreError) as refused:
        _run(rt, "offer", other, "annotate")
    assert refused.value.status == 409, refused.value.message
    assert _read(rt, "deal", deal)["note"] is None
    assert _read(rt, "offer", other)["status"] == "draft"
