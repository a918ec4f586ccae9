"""Locked records stay as they were validated, whatever the path: the Store, the API, a bare ORM
session (flush-time guard), bulk statements; only `mutable` fields and transitions move them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from app.engine.guard import LockedRecord
from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from app.engine.workflow import run_transition
from tests.engine.apiclient import api_client
from tests.engine.workflow_config import LINE, make_workflow_runtime
from tests.engine.test_workflow import new_bill, new_firm, read, run, store_of


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_workflow_runtime(make_runtime, tmp_path)


@pytest.fixture
def locked(rt: Any) -> int:
    bill_id = new_bill(rt, new_firm(rt))
    run(rt, bill_id, "validate")
    return bill_id


def refused(rt: Any, change: Callable[[Session], Any], *, session: Session | None = None) -> LockedRecord:
    with (session or rt.session()) as s:
        with pytest.raises(LockedRecord) as err:
            change(s)
            s.flush()
        s.rollback()
    assert err.value.status == 409
    return err.value


# --- through the Store ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "Autre"}, "title"),
        ({"date": "2020-01-01"}, "date"),
        ({"firm": "another"}, "firm"),
        ({"shipping_cost": "5"}, "shipping_cost"),  # also moves the computed totals
    ],
)
def test_store_refuses_changes_naming_document_and_field(rt: Any, locked: int, data: dict[str, Any], field: str) -> None:
    if data.get("firm") == "another":
        data = {"firm": new_firm(rt, "Autre")}
    before = read(rt, "bill", locked)
    with store_of(rt) as s, pytest.raises(StoreError) as err:
        s.update("bill", locked, data)
    assert (err.value.status, err.value.code, err.value.field) == (409, "locked", field)
    assert "FA26-0001" in err.value.message and "verrouillé" in err.value.message and "Validée" in err.value.message
    assert read(rt, "bill", locked) == before


def test_store_accepts_mutable_fields_and_unchanged_values(rt: Any, locked: int) -> None:
    bill = read(rt, "bill", locked)
    with store_of(rt) as s:
        s.update("bill", locked, {"note": "relancé le 12", "title": bill["title"], "date": bill["date"]})
    after = read(rt, "bill", locked)
    assert after["note"] == "relancé le 12" and after["total_gross"] == bill["total_gross"]


def test_store_refuses_line_changes_and_deletion(rt: Any, locked: int) -> None:
    lines = read(rt, "bill", locked)["lines"]
    for line in lines:
        del line["total_net"]
    for payload in (
        {"lines": lines[:1]},  # one removed
        {"lines": [*lines, LINE]},  # one added
        {"lines": [{**lines[0], "quantity": "9"}, lines[1]]},  # one changed
    ):
        with store_of(rt) as s, pytest.raises(StoreError) as err:
            s.update("bill", locked, payload)
        assert (err.value.status, err.value.code, err.value.field) == (409, "locked", "lines")
        assert "Lignes" in err.value.message
    with store_of(rt) as s, pytest.raises(StoreError) as err:
        s.delete("bill", locked)
    assert (err.value.status, err.value.code) == (409, "locked")
    assert "supprimé" in err.value.message
    assert len(read(rt, "bill", locked)["lines"]) == 2


def test_a_draft_is_free_to_change_and_to_delete(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    with store_of(rt) as s:
        s.update("bill", bill_id, {"title": "Libre", "lines": [LINE]})
    with store_of(rt) as s:
        s.delete("bill", bill_id)


# --- through a bare ORM session ------------------------------------------------------------------


def test_orm_session_cannot_change_a_locked_record(rt: Any, locked: int) -> None:
    bill_cls = rt.models.cls("bill")
    err = refused(rt, lambda s: setattr(s.get(bill_cls, locked), "total_gross", Decimal("1.00")))
    assert err.field == "total_gross" and "Total TTC" in err.message
    err = refused(rt, lambda s: setattr(s.get(bill_cls, locked), "number", "FA26-9999"))
    assert err.field == "number"
    err = refused(rt, lambda s: setattr(s.get(bill_cls, locked), "firm", s.get(rt.models.cls("firm"), new_firm(rt, "Autre"))))
    assert err.field == "firm"
    err = refused(rt, lambda s: s.delete(s.get(bill_cls, locked)))
    assert "supprimé" in err.message
    # a plain Session on the engine, not the runtime's sessionmaker: guarded too
    err = refused(rt, lambda s: setattr(s.get(bill_cls, locked), "title", "x"), session=Session(rt.engine))
    assert err.field == "title"
    assert read(rt, "bill", locked)["total_gross"] == "2.73"


def test_orm_session_cannot_touch_the_lines_of_a_locked_record(rt: Any, locked: int) -> None:
    line_cls = rt.models.cls("bill_line")
    first = read(rt, "bill", locked)["lines"][0]["id"]
    for change in (
        lambda s: setattr(s.get(line_cls, first), "unit_price", Decimal("9")),
        lambda s: s.delete(s.get(line_cls, first)),
        lambda s: s.add(line_cls(bill_id=locked, description="ajout")),
        lambda s: s.add(line_cls(bill=s.get(rt.models.cls("bill"), locked), description="ajout")),
    ):
        err = refused(rt, change)
        assert err.field == "lines" and "FA26-0001" in err.message
    # moving a line out of a draft into a locked record, or out of the locked one, too
    draft = new_bill(rt, new_firm(rt))
    draft_line = read(rt, "bill", draft)["lines"][0]["id"]
    refused(rt, lambda s: setattr(s.get(line_cls, draft_line), "bill_id", locked))
    refused(rt, lambda s: setattr(s.get(line_cls, first), "bill_id", draft))


def test_status_moves_only_inside_a_transition(rt: Any, locked: int) -> None:
    bill_cls = rt.models.cls("bill")
    err = refused(rt, lambda s: setattr(s.get(bill_cls, locked), "status", "draft"))
    assert (err.code, err.field) == ("use_actions", "status")
    draft = new_bill(rt, new_firm(rt))
    err = refused(rt, lambda s: setattr(s.get(bill_cls, draft), "status", "validated"))
    assert err.code == "use_actions"


def test_mutable_fields_change_through_the_orm(rt: Any, locked: int) -> None:
    with rt.session() as s:
        s.get(rt.models.cls("bill"), locked).note = "payée par chèque"
        s.commit()
    assert read(rt, "bill", locked)["note"] == "payée par chèque"


def test_bulk_statements_through_a_session_are_checked(rt: Any, locked: int) -> None:
    bill_cls, bills, lines = rt.models.cls("bill"), rt.models.tables["bill"], rt.models.tables["bill_line"]
    draft = new_bill(rt, new_firm(rt))
    refused(rt, lambda s: s.execute(update(bill_cls).values(title="x")))
    refused(rt, lambda s: s.execute(delete(bills).where(bills.c.id == locked)))
    refused(rt, lambda s: s.execute(update(lines).values(description="x")))
    with rt.session() as s:  # rows of drafts only: allowed
        s.execute(update(bills).where(bills.c.id == draft).values(title="ok"))
        s.execute(update(lines).where(lines.c.bill_id == draft).values(description="ok"))
        s.commit()
    assert read(rt, "bill", draft)["title"] == "ok"


def test_the_audit_log_is_append_only(rt: Any, locked: int) -> None:
    audit = rt.models.audit
    err = refused(rt, lambda s: s.execute(update(audit).values(event="x")))
    assert err.code == "audit_append_only"
    refused(rt, lambda s: s.execute(delete(audit).where(audit.c.id == 1)))
    second = new_bill(rt, new_firm(rt, "Autre"))
    run(rt, second, "validate")  # appending is how entries are made
    from app.engine.audit import verify

    report = verify(rt)
    assert report.ok and report.entries == 2


def test_transitions_from_a_locked_state_still_run(rt: Any, locked: int) -> None:
    bill, [(_, job)] = run(rt, locked, "convert")
    assert bill["status"] == "converted" and bill["number"] == "FA26-0001"
    with rt.session() as s:  # a job has no workflow: free
        s.get(rt.models.cls("job"), job).title = "libre"
        s.commit()


def test_a_transition_may_write_only_its_own_fields_on_a_locked_record(
    rt: Any, locked: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Effects run inside the transition; from a locked state they may write the fields the
    transition names (`set`/`assign_number`), not others."""
    from app.engine import verbs

    def sneaky(ctx: Any, args: Any) -> None:
        ctx.record.title = "réécrit"

    monkeypatch.setitem(verbs._REGISTRY, "copy_to", sneaky)
    with store_of(rt) as s, pytest.raises(LockedRecord) as err:
        run_transition(s, "bill", locked, "convert")
    assert err.value.field == "title"
    bill = read(rt, "bill", locked)
    assert bill["title"] is None and bill["status"] == "validated"
    draft = new_bill(rt, new_firm(rt))
    monkeypatch.setitem(verbs._REGISTRY, "log", sneaky)
    run(rt, draft, "validate")  # from an editable state: anything goes
    assert read(rt, "bill", draft)["title"] == "réécrit"


# --- through the API -----------------------------------------------------------------------------


def test_api_answers_409_for_a_locked_record(rt: Any, locked: int) -> None:
    api = api_client(rt)
    response = api.patch(f"/api/v1/bill/{locked}", json={"title": "x"})
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "locked" and response.json()["error"]["field"] == "title"
    assert api.patch(f"/api/v1/bill/{locked}", json={"note": "ok"}).status_code == 200
    response = api.delete(f"/api/v1/bill/{locked}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "locked"
    response = api.patch(f"/api/v1/bill/{locked}", json={"status": "draft"})
    assert response.status_code == 422 and "use the actions" in response.json()["error"]["message"]
    assert read(rt, "bill", locked)["title"] is None


def test_system_principal_is_held_too(rt: Any, locked: int) -> None:
    with rt.session() as s, pytest.raises(StoreError) as err:
        Store(rt, s, SYSTEM).update("bill", locked, {"title": "x"})
    assert err.value.status == 409


def test_a_runtime_dropped_leaves_no_models_behind(tmp_path: Any) -> None:
    """The guard's knowledge of each table must not keep a runtime's classes alive once the
    runtime is gone (the tests build hundreds of them; a long-lived process may rebuild)."""
    import gc
    import weakref

    from app.engine.runtime import build_runtime
    from tests.conftest import PROJECT_ROOT, _cached_spec

    spec = _cached_spec(PROJECT_ROOT)
    rt = build_runtime(spec, f"sqlite:///{tmp_path / 'gone.db'}")
    gone = weakref.ref(rt.models.cls("invoice"))
    rt.engine.dispose()
    del rt
    gc.collect()
    assert gone() is None
