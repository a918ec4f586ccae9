"""Running transitions: states, rights, groups, conditions, effects (verbs), numbering, copy_to,
links, the record's log, computes, and rollback on any error — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import func, select

from app.engine.links import links_of
from app.engine.permissions import SYSTEM, Principal
from app.engine.store import Store, StoreError
from app.engine.workflow import TransitionRefused, allowed_actions, log_entries, run_transition
from app.spec.expressions import fixed_clock
from tests.engine.workflow_config import LINE, make_workflow_runtime

TODAY = dt.date(2026, 5, 4)


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_workflow_runtime(make_runtime, tmp_path)


@contextmanager
def store_of(rt: Any, principal: Principal = SYSTEM) -> Iterator[Store]:
    with fixed_clock(TODAY), rt.session() as session:
        yield Store(rt, session, principal)
        session.commit()


def who(login: str, *groups: str) -> Principal:
    return Principal(user_id=None, login=login, groups=groups)


def new_firm(rt: Any, name: str = "Dupont SARL") -> int:
    with store_of(rt) as s:
        return int(s.create("firm", {"name": name}).id)


def new_bill(rt: Any, firm: int, lines: list[dict[str, Any]] | None = None, **data: Any) -> int:
    with store_of(rt) as s:
        return int(s.create("bill", {"firm": firm, "lines": [LINE, LINE] if lines is None else lines, **data}).id)


def run(rt: Any, bill: int, name: str, principal: Principal = SYSTEM, entity: str = "bill") -> Any:
    with store_of(rt, principal) as s:
        result = run_transition(s, entity, bill, name)
        return s.serialize(result.record), result.created


def read(rt: Any, entity: str, record_id: int) -> dict[str, Any]:
    with store_of(rt) as s:
        return s.serialize(s.get(entity, record_id))


def test_new_record_starts_in_the_initial_state_with_computed_totals(rt: Any) -> None:
    bill = read(rt, "bill", new_bill(rt, new_firm(rt)))
    assert bill["status"] == "draft" and bill["number"] is None
    # EN 16931: two lines 1 × 1.24 at 10 % → net 2.48, VAT 0.25 (on the sum), gross 2.73
    assert (bill["total_net"], bill["total_vat"], bill["total_gross"], bill["amount_due"]) == ("2.48", "0.25", "2.73", "2.73")
    assert [line["total_net"] for line in bill["lines"]] == ["1.24", "1.24"]


def test_totals_follow_every_save_of_lines_and_header(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    with store_of(rt) as s:
        first = s.serialize(s.get("bill", bill_id))["lines"][0]
        del first["total_net"]  # read-only: computed
        s.update("bill", bill_id, {"lines": [first, {**LINE, "quantity": "2", "discount_percent": "50"}]})
    bill = read(rt, "bill", bill_id)
    assert bill["total_net"] == "2.48" and bill["lines"][1]["total_net"] == "1.24"
    with store_of(rt) as s:
        s.update("bill", bill_id, {"shipping_cost": "10"})  # a charge at its own VAT rate (20 %)
    bill = read(rt, "bill", bill_id)
    assert (bill["total_vat"], bill["total_gross"]) == ("2.25", "14.73")  # 0.25 + 2.00


@pytest.mark.parametrize("data", [{"status": "validated"}, {"status": "draft"}])
def test_the_status_field_is_never_written_directly(rt: Any, data: dict[str, Any]) -> None:
    firm = new_firm(rt)
    with store_of(rt) as s, pytest.raises(StoreError) as err:
        s.create("bill", {"firm": firm, **data})
    assert (err.value.status, err.value.code, err.value.field) == (422, "use_actions", "status")
    assert "utilisez les actions" in err.value.message and "use the actions" in err.value.message
    bill = new_bill(rt, firm)
    with store_of(rt) as s, pytest.raises(StoreError) as err:
        s.update("bill", bill, data)
    assert err.value.status == 422 and err.value.code == "use_actions"


def test_validate_numbers_sets_logs_and_locks(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    bill, created = run(rt, bill_id, "validate")
    assert created == []
    assert (bill["status"], bill["number"], bill["validated_on"]) == ("validated", "FA26-0001", TODAY.isoformat())
    with store_of(rt) as s:
        [entry] = log_entries(s, s.entity("bill"), bill_id)
        assert (entry.transition, entry.from_state, entry.to_state, entry.login) == ("validate", "draft", "validated", "system")
        assert entry.message.fr == "Facture validée"
        assert s.session.scalar(select(func.count()).select_from(rt.models.audit)) == 1


def test_a_transition_without_target_keeps_the_state_and_logs_its_label(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    bill, _ = run(rt, bill_id, "touch")
    assert (bill["status"], bill["note"]) == ("draft", "vu")
    with store_of(rt) as s:
        [entry] = log_entries(s, s.entity("bill"), bill_id)
        assert (entry.from_state, entry.to_state, entry.message.fr) == ("draft", "draft", "Marquer")


def test_not_from_this_state_is_409_with_the_allowed_ones(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    run(rt, bill_id, "validate")
    with pytest.raises(TransitionRefused) as err:
        run(rt, bill_id, "validate", who("sam", "sales"))
    assert err.value.status == 409 and err.value.code == "transition_not_allowed"
    assert err.value.allowed == ["convert"]  # cancel needs the manager group
    assert "Validée" in err.value.message
    with pytest.raises(TransitionRefused) as err:
        run(rt, bill_id, "touch", who("boss", "admin", "manager"))
    assert err.value.allowed == ["convert", "cancel"]


@pytest.mark.parametrize(
    ("principal", "name", "status"),
    [
        (who("cleo", "clerk"), "validate", 403),  # no right named like the transition
        (who("rita", "readonly"), "validate", 403),
        (who("sam", "sales"), "cancel", 403),  # not in the transition's groups (nor its right)
        (who("ada", "admin"), "cancel", 403),  # every right, but not in the `manager` group
        (SYSTEM, "nope", 404),
    ],
)
def test_rights_groups_and_unknown_transitions(rt: Any, principal: Principal, name: str, status: int) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    if name == "cancel":
        run(rt, bill_id, "validate")
    with pytest.raises(StoreError) as err:
        run(rt, bill_id, name, principal)
    assert err.value.status == status
    assert read(rt, "bill", bill_id)["status"] == ("validated" if name == "cancel" else "draft")


def test_groups_and_right_together_allow(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    run(rt, bill_id, "validate")
    bill, _ = run(rt, bill_id, "cancel", who("max", "manager"))
    assert bill["status"] == "cancelled"


def test_false_condition_is_422_with_its_message(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt), lines=[])
    with pytest.raises(StoreError) as err:
        run(rt, bill_id, "validate")
    assert (err.value.status, err.value.code) == (422, "condition_failed")
    assert err.value.message == "La facture est vide. / The bill is empty."
    with store_of(rt) as s:
        obj = s.get("bill", bill_id)
        assert [t.name for t in allowed_actions(s, s.entity("bill"), obj)] == ["touch", "broken"]
        filled = s.get("bill", new_bill(rt, obj.firm_id))
        assert [t.name for t in allowed_actions(s, s.entity("bill"), filled)] == ["validate", "touch", "broken"]


def test_any_error_rolls_everything_back(rt: Any) -> None:
    firm = new_firm(rt)
    bill_id = new_bill(rt, firm)
    with pytest.raises(StoreError) as err:
        run(rt, bill_id, "broken")  # numbers, then fails on its second effect
    assert err.value.status == 422 and err.value.field == "date"
    bill = read(rt, "bill", bill_id)
    assert (bill["status"], bill["number"]) == ("draft", None)
    with store_of(rt) as s:
        assert log_entries(s, s.entity("bill"), bill_id) == []
    assert run(rt, bill_id, "validate")[0]["number"] == "FA26-0001"  # the counter did not move


def test_numbers_count_per_series_and_keep_dates_in_order(rt: Any) -> None:
    first, second = new_firm(rt, "A"), new_firm(rt, "B")
    a1 = new_bill(rt, first, date="2026-03-10")
    a2 = new_bill(rt, first, date="2026-03-05")
    b1 = new_bill(rt, second, date="2026-03-01")
    assert run(rt, a1, "validate")[0]["number"] == "FA26-0001"
    with pytest.raises(StoreError) as err:
        run(rt, a2, "validate")
    assert (err.value.status, err.value.code, err.value.field) == (422, "date_before_last", "date")
    assert "10/03/2026" in err.value.message and "05/03/2026" in err.value.message
    assert run(rt, b1, "validate")[0]["number"] == "FA26-0001"  # another firm, another series
    with store_of(rt) as s:
        s.update("bill", a2, {"date": "2026-03-10"})  # same day as the last: accepted
    assert run(rt, a2, "validate")[0]["number"] == "FA26-0002"
    a3 = new_bill(rt, first, date="2027-01-02")
    assert run(rt, a3, "validate")[0]["number"] == "FA27-0001"  # yearly pattern: a new period


def test_a_numbered_record_keeps_its_number(rt: Any) -> None:
    """assign_number gives a number once: a record that has one (reopened, converted) keeps it."""
    bill_id = new_bill(rt, new_firm(rt))
    run(rt, bill_id, "validate")
    from app.engine.verbs import VerbContext, implementation

    with store_of(rt) as s:
        obj = s.get("bill", bill_id)
        implementation("assign_number")(
            VerbContext(store=s, entity=s.entity("bill"), record=obj),
            {"field": "number", "pattern": "X{0000}"},
        )
        assert obj.number == "FA26-0001"


def test_copy_to_creates_the_document_with_its_lines_and_links_both_ways(rt: Any) -> None:
    firm = new_firm(rt)
    bill_id = new_bill(rt, firm, title="Chantier", note="appeler")
    run(rt, bill_id, "validate")
    bill, created = run(rt, bill_id, "convert", who("sam", "sales"))
    assert bill["status"] == "converted"
    [(entity, job_id)] = created
    assert entity == "job"
    job = read(rt, "job", job_id)
    assert job["bill"] == bill_id and job["firm"] == firm and job["note"] == "appeler"
    assert job["title"] == "Depuis FA26-0001"  # the `fields` expression wins over the same-named field
    assert job["date"] == TODAY.isoformat()
    assert [(line["description"], line["quantity"], line["total_net"]) for line in job["lines"]] == [
        ("Pose", "1.0000", "1.24"),
        ("Pose", "1.0000", "1.24"),
    ]
    assert (job["total_net"], job["total_vat"], job["total_gross"]) == ("2.48", "0.25", "2.73")
    assert job["created_by"] == "sam"
    with store_of(rt) as s:
        [to_job] = links_of(s, "bill", [bill_id])[bill_id]
        [to_bill] = links_of(s, "job", [job_id])[job_id]
    assert (to_job.entity, to_job.id, to_job.kind, to_job.transition) == ("job", job_id, "child", "convert")
    assert (to_bill.entity, to_bill.id, to_bill.kind) == ("bill", bill_id, "parent")


def test_copy_to_needs_the_right_to_create_the_target(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    run(rt, bill_id, "validate")
    converter = Principal(user_id=None, login="x", grants=frozenset({("bill", "read"), ("bill", "convert")}))
    with pytest.raises(StoreError) as err:
        run(rt, bill_id, "convert", converter)
    assert err.value.status == 403
    assert read(rt, "bill", bill_id)["status"] == "validated"
    with store_of(rt) as s:
        assert s.list("job").total == 0


def test_deleting_a_draft_forgets_its_links(rt: Any) -> None:
    bill_id = new_bill(rt, new_firm(rt))
    run(rt, bill_id, "validate")
    _, [(_, job_id)] = run(rt, bill_id, "convert")
    with store_of(rt) as s:
        s.delete("job", job_id)
    with store_of(rt) as s:
        assert links_of(s, "bill", [bill_id]) == {bill_id: []}


def test_concurrent_validations_give_consecutive_numbers(rt: Any) -> None:
    """20 validations at once, each in its own session: 20 consecutive numbers, no gap, no
    duplicate (the counter row is locked for update; on SQLite the database's write lock)."""
    firm = new_firm(rt)
    bills = [new_bill(rt, firm, date="2026-05-01") for _ in range(20)]
    start = threading.Barrier(len(bills))
    numbers: list[str] = []
    errors: list[BaseException] = []

    def validate(bill_id: int) -> None:
        try:
            start.wait()
            with fixed_clock(TODAY), rt.session() as session:
                result = run_transition(Store(rt, session, SYSTEM), "bill", bill_id, "validate")
                session.commit()
                numbers.append(str(result.record.number))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=validate, args=(b,)) for b in bills]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"FA26-{i:04d}" for i in range(1, 21)]
    with store_of(rt) as s:
        audit = rt.models.audit
        assert list(s.session.scalars(select(audit.c.id).order_by(audit.c.id))) == list(range(1, 21))
    from app.engine.audit import verify

    assert verify(rt).problems == []


def test_a_compute_error_is_a_422(rt: Any) -> None:
    firm = new_firm(rt)
    with store_of(rt) as s, pytest.raises(StoreError) as err:
        s.create("bill", {"firm": firm, "lines": [{**LINE, "discount_percent": "150"}]})
    assert err.value.status == 422 and err.value.field == "lines[0]"  # the line is named
    assert "remise de ligne" in err.value.message
