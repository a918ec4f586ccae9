"""Many records in one transaction (app/engine/batch.py), with the shipped configuration: the
same rows as one at a time, all or nothing, gapless numbers also when batches run at once."""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterator

import pytest
from sqlalchemy import func, select

from app.engine import audit
from app.engine.batch import MAX_BATCH, create_many, run_transition_many
from app.engine.permissions import SYSTEM
from app.engine.store import Store, StoreError
from app.engine.workflow import log_entries, run_transition
from app.spec.expressions import fixed_clock
from tests.engine.apiclient import api_client

DAY = dt.date(2026, 12, 1)
LINES = [
    {"description": "Entretien chaudière gaz", "quantity": "1", "unit_price": "149.90", "vat_rate": "10"},
    {"description": "Pièces détachées", "quantity": "3", "unit_price": "12.45", "vat_rate": "20"},
    {"description": "Déplacement", "quantity": "1", "unit_price": "35", "vat_rate": "20", "discount_percent": "10"},
    {"kind": "comment", "description": "Intervention du 1er décembre"},
    {"description": "Contrat annuel (mensuel × 12)", "quantity": "1", "unit_factor": "12", "unit_price": "9.90", "vat_rate": "5.5"},
]
STAMPS = ("id", "created_at", "updated_at", "invoice")


@contextmanager
def store_of(rt: Any) -> Iterator[Store]:
    with fixed_clock(DAY), rt.session() as session:
        yield Store(rt, session, SYSTEM)
        session.commit()


def parties(rt: Any, credit_limit: str | None = None) -> dict[str, int]:
    with store_of(rt) as s:
        company = s.create("company", {"legal_name": "Berthier Services SAS"}).id
        account = s.create("account", {"name": "Dupont SARL", "type": "client", "credit_limit": credit_limit}).id
    return {"company": company, "account": account}


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A serialised invoice without what differs between two equal ones (ids, stamps)."""
    out = {k: v for k, v in record.items() if k not in (*STAMPS, "version")}
    out["lines"] = [{k: v for k, v in line.items() if k not in STAMPS} for line in record["lines"]]
    out["deductions"] = [{k: v for k, v in row.items() if k not in STAMPS} for row in record["deductions"]]
    return out


def test_a_batch_writes_what_one_at_a_time_writes(runtime: Any) -> None:
    who = parties(runtime)
    data = {**who, "date": DAY.isoformat(), "title": "Entretien annuel", "lines": LINES}
    with store_of(runtime) as s:
        single = s.create("invoice", data)
        run_transition(s, "invoice", single.id, "validate")
        alone = s.serialize(single)
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [data, data, data])
        assert [m.id for m in made] == sorted(m.id for m in made)
        drafts = [s.serialize(m) for m in made]
        results = run_transition_many(s, "invoice", [m.id for m in made], "validate")
        assert [(r.from_state, r.to_state) for r in results] == [("draft", "validated")] * 3
        batch = [s.serialize(m) for m in made]
    assert drafts[0]["status"] == "draft" and drafts[0]["total_gross"] == alone["total_gross"] == "372.84"
    assert [line["position"] for line in batch[0]["lines"]] == [1, 2, 3, 4, 5]
    assert [line["total_net"] for line in batch[0]["lines"]] == ["149.90", "37.35", "31.50", None, "118.80"]
    for record, number in zip(batch, ("FA2612-0002", "FA2612-0003", "FA2612-0004")):
        assert record["number"] == number
        assert comparable(record) == {**comparable(alone), "number": number}
    with store_of(runtime) as s:  # read back from the database, not from the session
        stored = [s.serialize(s.get("invoice", m.id)) for m in made]
        assert [comparable(r) for r in stored] == [comparable(r) for r in batch]
        entity = s.entity("invoice")
        assert [e.transition for e in log_entries(s, entity, made[1].id)] == ["validate"]
        account = s.get("account", who["account"])
        assert str(account.outstanding) == "1491.36"  # 4 × 372.84
    report = audit.verify(runtime)
    assert report.problems == [] and report.entries == 4 and report.records == 4


def test_the_audit_chain_of_a_batch_detects_a_changed_row(runtime: Any) -> None:
    who = parties(runtime)
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 3)
        run_transition_many(s, "invoice", [m.id for m in made], "validate")
    table = runtime.models.tables["invoice_line"]
    with runtime.engine.begin() as conn:  # behind the application's back
        target = conn.execute(select(func.min(table.c.id)).where(table.c.invoice_id == made[1].id)).scalar_one()
        conn.execute(table.update().where(table.c.id == target).values(unit_price=1))
    problems = audit.verify(runtime).problems
    assert len(problems) == 1 and f"n° {made[1].id}" in problems[0] and "unit_price" in problems[0]


def test_snapshots_made_from_memory_are_those_read_back(runtime: Any) -> None:
    """The audit entries of records written in the transaction take their snapshot from the
    session; it is the very one the database gives back (what `audit verify` compares)."""
    who = parties(runtime)
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 3)
        ids = [m.id for m in made]
        run_transition_many(s, "invoice", ids, "validate")
        machine = audit.machine_of(made[0])
        from_memory = audit.memory_snapshots(s, machine, ids)
        assert sorted(from_memory) == ids
        assert from_memory == audit.read_snapshots(s.session, runtime.models, runtime.spec, machine, ids)
        assert from_memory[ids[0]]["fields"]["total_gross"] == "372.84" and len(from_memory[ids[0]]["children"]["lines"]) == 5
        # an equal amount written otherwise, or with more decimals than its column keeps: the
        # snapshot is what the column gives back (twice: the texts kept are the same)
        line = s.children(s.entity("invoice"), made[0])["lines"][0]
        line.__dict__["unit_price"] = Decimal("149.9000")
        line.__dict__["quantity"] = Decimal("1.000004")  # (scale 4)
        for _ in range(2):
            assert audit.memory_snapshots(s, machine, ids[:1]) == audit.read_snapshots(s.session, runtime.models, runtime.spec, machine, ids[:1])
        made[1].title = "changé"  # pending: not as stored, read from the database instead
        made[2].__dict__["number"] = 12  # (behind the ORM) not the column's type: read back too
        assert sorted(audit.memory_snapshots(s, machine, ids)) == [ids[0]]
        s.session.rollback()


def test_records_created_in_the_transaction_are_not_read_again_to_run_a_batch(runtime: Any) -> None:
    """Created then validated in one transaction (what POST …/batch then …/actions/validate
    do in one request, and the bench): neither the invoices nor their lines are read back,
    and what is written is what a later read finds."""
    from sqlalchemy import event

    who = parties(runtime)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    with store_of(runtime) as s:
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 4)
        ids = [m.id for m in made]
        del made  # the session holds its records weakly: nothing of the caller's keeps them
        event.listen(runtime.engine, "before_cursor_execute", seen)
        try:
            run_transition_many(s, "invoice", ids, "validate")
        finally:
            event.remove(runtime.engine, "before_cursor_execute", seen)
    reads = [q for q in statements if q.startswith("SELECT") and ("FROM invoice WHERE invoice.id" in q or "FROM invoice_line WHERE" in q)]
    assert reads == []  # (the client's outstanding is summed again, by one aggregate query)
    assert any(q.startswith("UPDATE invoice SET") for q in statements)
    with store_of(runtime) as s:
        assert [s.get("invoice", i).number for i in ids] == [f"FA2612-{n:04d}" for n in range(1, 5)]
    assert audit.verify(runtime).problems == []


def test_one_refusal_in_a_batch_names_the_record_and_changes_nothing(runtime: Any) -> None:
    who = parties(runtime)
    with store_of(runtime) as s:
        good = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 2)
        empty = s.create("invoice", {**who, "date": DAY.isoformat(), "lines": []})  # total 0: not validated
        ids = [good[0].id, empty.id, good[1].id]
    with store_of(runtime) as s:
        with pytest.raises(StoreError) as refused:
            run_transition_many(s, "invoice", ids, "validate")
    assert refused.value.code == "condition_failed" and refused.value.field == "ids[1]"
    assert refused.value.message.startswith(f"facture n° {empty.id} : ")
    with store_of(runtime) as s:
        assert [s.get("invoice", i).status for i in ids] == ["draft"] * 3
        assert s.session.scalar(select(func.count()).select_from(runtime.models.audit)) == 0
        assert log_entries(s, s.entity("invoice"), good[0].id) == []
        # the numbers the refused batch had taken are given again: no gap
        assert run_transition(s, "invoice", good[1].id, "validate").record.number == "FA2612-0001"


def test_a_refused_row_names_its_record_and_nothing_is_created(runtime: Any) -> None:
    who = parties(runtime)
    bad = [dict(LINES[0]), {**LINES[1], "quantity": "trois"}]
    with store_of(runtime) as s:
        with pytest.raises(StoreError) as refused:
            create_many(s, "invoice", [{**who, "lines": LINES}, {**who, "lines": bad}])
    assert refused.value.status == 422 and refused.value.field == "records[1].lines[1].quantity"
    with store_of(runtime) as s:
        assert s.session.scalar(select(func.count()).select_from(runtime.models.tables["invoice"])) == 0
        assert s.session.scalar(select(func.count()).select_from(runtime.models.tables["invoice_line"])) == 0
    with store_of(runtime) as s:  # ids given and not used are no harm: the next records are saved
        made = create_many(s, "invoice", [{**who, "lines": LINES}] * 2)
    with store_of(runtime) as s:
        assert [len(s.children(s.entity("invoice"), s.get("invoice", m.id))["lines"]) for m in made] == [5, 5]


def test_a_batch_of_a_locked_or_missing_record_is_refused(runtime: Any) -> None:
    who = parties(runtime)
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 2)
        run_transition(s, "invoice", made[0].id, "validate")
    with store_of(runtime) as s:
        with pytest.raises(StoreError) as twice:
            run_transition_many(s, "invoice", [made[1].id, made[0].id], "validate")
        assert twice.value.status == 409 and twice.value.field == "ids[1]"
        assert "FA2612-0001" in twice.value.message
    with store_of(runtime) as s:
        with pytest.raises(StoreError) as missing:
            run_transition_many(s, "invoice", [made[1].id, 999_999], "validate")
        assert missing.value.status == 404 and "999999" in missing.value.message
        with pytest.raises(StoreError) as repeated:
            run_transition_many(s, "invoice", [made[1].id, made[1].id], "validate")
        assert repeated.value.field == "ids"
        with pytest.raises(StoreError) as large:
            run_transition_many(s, "invoice", list(range(1, MAX_BATCH + 2)), "validate")
        assert large.value.status == 413


def test_deposits_are_deducted_in_a_batch_as_one_at_a_time(runtime: Any) -> None:
    """deduct_prepaid, a compute that adds rows, on records created together."""
    client = api_client(runtime)
    who = parties(runtime)
    line = {"description": "Pose", "quantity": "1", "unit_price": "1000", "vat_rate": "20"}
    with fixed_clock(DAY):
        order = client.post("/api/v1/order", json={**who, "lines": [line], "deposit_percent": "30"}).json()["id"]
        assert client.post(f"/api/v1/order/{order}/actions/validate").status_code == 200
        deposit = client.post(f"/api/v1/order/{order}/actions/create_deposit").json()["created"][0]["id"]
        assert client.post(f"/api/v1/invoice/{deposit}/actions/validate").status_code == 200
    data = {**who, "order": order, "date": DAY.isoformat(), "lines": [line]}
    with store_of(runtime) as s:
        alone = s.serialize(s.create("invoice", data))
        s.session.rollback()
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [data])
        batch = s.serialize(made[0])
    assert (batch["deposits_deducted"], batch["amount_due"]) == ("360.00", "840.00")
    assert comparable(batch) == comparable(alone)
    assert [row["amount"] for row in batch["deductions"]] == ["360.00"]


def test_the_credit_limit_counts_the_invoices_before_in_the_batch(runtime: Any) -> None:
    who = parties(runtime, credit_limit="500")
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 3)  # 372.84 each
        results = run_transition_many(s, "invoice", [m.id for m in made], "validate")
    assert [len(r.warnings) for r in results] == [0, 1, 1]
    assert "745,68" in results[1].warnings[0].fr


def test_concurrent_batches_and_single_validations_give_consecutive_numbers(runtime: Any) -> None:
    """On PostgreSQL the counter row is locked until each transaction ends; on SQLite the
    database's write lock: 3 batches of 5 and 5 single validations, 20 numbers, no gap."""
    who = parties(runtime)
    with store_of(runtime) as s:
        ids = [m.id for m in create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES[:2]}] * 20)]
    groups = [ids[0:5], ids[5:10], ids[10:15], *[[i] for i in ids[15:]]]
    start = threading.Barrier(len(groups))
    errors: list[BaseException] = []

    def validate(group: list[int]) -> None:
        try:
            start.wait()
            with fixed_clock(DAY), runtime.session() as session:
                store = Store(runtime, session, SYSTEM)
                if len(group) == 1:
                    run_transition(store, "invoice", group[0], "validate")
                else:
                    run_transition_many(store, "invoice", group, "validate")
                session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=validate, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store_of(runtime) as s:
        numbers = {i: s.get("invoice", i).number for i in ids}
    assert sorted(numbers.values()) == [f"FA2612-{n:04d}" for n in range(1, 21)]
    for group in groups[:3]:  # a batch's numbers follow one another, in the order given
        assert [int(numbers[i][-4:]) for i in group] == list(range(int(numbers[group[0]][-4:]), int(numbers[group[0]][-4:]) + 5))
    assert audit.verify(runtime).problems == []


def test_a_batch_runs_the_consequences_of_each_record(runtime: Any) -> None:
    """The last invoices of an order, validated together: the order closes by itself (an
    internal transition during the batch), its lines count what both invoiced."""
    from tests.engine.apiclient import document_parties, run_action

    client = api_client(runtime)
    lines = [
        {"position": 1, "description": "Carrelage", "quantity": "10", "unit_price": "33.33", "vat_rate": "20"},
        {"position": 2, "description": "Colle", "quantity": "3", "unit_price": "19.99", "vat_rate": "10"},
    ]
    with fixed_clock(DAY):
        order = client.post("/api/v1/order", json={**document_parties(client), "lines": lines}).json()["id"]
        run_action(client, "order", order, "validate")
        invoices = []
        for position in (1, 2):  # one delivery note, then one invoice, per line
            delivery = run_action(client, "order", order, "convert_to_delivery")["created"][0]["id"]
            kept = [line for line in client.get(f"/api/v1/delivery/{delivery}").json()["lines"] if line["position"] == position]
            assert client.patch(f"/api/v1/delivery/{delivery}", json={"lines": [{"id": kept[0]["id"]}]}).status_code == 200
            run_action(client, "delivery", delivery, "validate")
            invoices.append(run_action(client, "delivery", delivery, "convert_to_invoice")["created"][0]["id"])
    with store_of(runtime) as s:
        results = run_transition_many(s, "invoice", invoices, "validate")
        assert [r.record.number for r in results] == ["FA2612-0001", "FA2612-0002"]
    with store_of(runtime) as s:
        closed = s.serialize(s.get("order", order))
    assert closed["status"] == "closed"
    assert [line["qty_invoiced"] for line in closed["lines"]] == ["10.0000", "3.0000"]
    assert [e.transition for e in log_entries(s, s.entity("order"), order)][-1] == "close"
    assert audit.verify(runtime).problems == []


def test_records_of_a_rolled_back_batch_are_forgotten_by_the_session(runtime: Any) -> None:
    """Inserted without the unit of work, the new records still belong to the transaction:
    after a rollback the same session creates again (on SQLite the same ids come back; a
    PostgreSQL sequence goes on) and keeps nothing of the first ones."""
    who = parties(runtime)
    with fixed_clock(DAY), runtime.session() as session:
        store = Store(runtime, session, SYSTEM)
        first = [m.id for m in create_many(store, "invoice", [{**who, "lines": LINES}] * 2)]
        session.rollback()
        again = create_many(store, "invoice", [{**who, "title": "Deuxième essai", "lines": LINES[:1]}] * 2)
        if runtime.engine.dialect.name == "sqlite":
            assert [m.id for m in again] == first
        assert [len(store.children(store.entity("invoice"), m)["lines"]) for m in again] == [1, 1]
        session.commit()
    with store_of(runtime) as s:
        table = runtime.models.tables["invoice"]
        stored = s.session.execute(select(table.c.id, table.c.title).order_by(table.c.id)).all()
        assert [tuple(r) for r in stored] == [(m.id, "Deuxième essai") for m in again]


def test_no_garbage_collection_while_a_batch_runs(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector is paused while a batch runs (its passes would walk the batch's records
    again and again), collects once at its end, and is back on — after a refusal too; a
    program that paused it itself finds it paused still."""
    import gc

    who = parties(runtime)
    seen: list[bool] = []
    collected: list[int] = []
    create, transition = Store.create_many, audit.write_pending
    monkeypatch.setattr(Store, "create_many", lambda self, *a, **k: seen.append(gc.isenabled()) or create(self, *a, **k))
    monkeypatch.setattr(audit, "write_pending", lambda *a, **k: seen.append(gc.isenabled()) or transition(*a, **k))
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    assert gc.isenabled()
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 2)
        assert gc.isenabled() and collected == [0]
        run_transition_many(s, "invoice", [m.id for m in made], "validate")
    assert seen == [False, False] and gc.isenabled() and collected == [0, 0]
    with store_of(runtime) as s, pytest.raises(StoreError):
        create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}, {**who, "lines": [{"quantity": "x"}]}])
    assert gc.isenabled() and seen[-1] is False and collected == [0, 0, 0]
    gc.disable()
    try:
        with store_of(runtime) as s:
            create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}])
        assert not gc.isenabled() and collected == [0, 0, 0]
    finally:
        gc.enable()


def test_the_records_links_found_are_read_again_from_the_transaction(runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a link checked in this transaction found (the client of a batch's invoices) is
    given again to the verbs reading it (fill_from, the credit limit, the terms) without the
    session's lookup; another goes through the session."""
    who = parties(runtime)
    with store_of(runtime) as s:
        account_cls = runtime.models.cls("account")
        looked: list[Any] = []
        get = s.session.get
        monkeypatch.setattr(s.session, "get", lambda model, pk, **k: looked.append((model, pk)) or get(model, pk, **k))
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 3)
        assert made[2].billing_name == "Dupont SARL"
        assert looked.count((account_cls, who["account"])) == 1  # the link's check, once
        found = s.linked(account_cls, who["account"])
        assert found is not None and found.id == who["account"] and looked.count((account_cls, who["account"])) == 1
        other = s.create("account", {"name": "Martin", "type": "client"}).id
        assert s.linked(account_cls, other).id == other and (account_cls, other) in looked
        assert s.linked(account_cls, 10**6) is None and (account_cls, 10**6) in looked
        s.session.rollback()


@pytest.mark.parametrize(
    "source",
    [
        "kind == 'standard'",
        "kind in ['standard', 'progress'] and total_gross > 0",
        "due_date or date + days(30)",
        "created_by == 'system' and version >= 1",
        "user.login == 'system'",
        "lines | length",
        "total_net * 2",
        "nothing_of_that_name is none",
        "'constant'",
    ],
)
def test_an_expression_on_a_record_is_what_it_is_on_its_values(runtime: Any, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """evaluate_on gives what evaluating on record_values gives, the first time and when the
    value is known for the record's values (then without building them)."""
    from app.engine import verbs
    from app.spec.expressions import compile_expression

    who = parties(runtime)
    with store_of(runtime) as s:
        made = create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 2)
        entity = s.entity("invoice")
        compiled = compile_expression(source)
        expected = [compiled.evaluate(verbs.record_values(s, entity, m, compiled.names)) for m in made]
        built: list[int] = []
        record_values = verbs.record_values
        monkeypatch.setattr(verbs, "record_values", lambda *a, **k: built.append(1) or record_values(*a, **k))
        s.session.expire(made[1], ["total_net"])  # not loaded: read through the attribute
        assert [verbs.evaluate_on(s, entity, m, compiled) for m in made] == expected
        again = len(built)
        assert [verbs.evaluate_on(s, entity, m, compiled) for m in made] == expected
        memoizable = not ({"user", "lines", "today"} & compiled.names)
        assert (len(built) == again) == memoizable, built
        s.session.rollback()


def test_a_batch_over_a_credit_limit_and_a_payment_of_the_client_at_once_both_succeed(
    runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locks are taken in one order by every transaction: the audit counter, then the client.
    A batch validating invoices of a client with a credit limit writes the client's outstanding
    while it runs (the invoices before count); it takes the audit counter first, as a payment
    does, so that a payment of the same client at that moment waits instead of deadlocking."""
    who = parties(runtime, credit_limit="100000")
    with store_of(runtime) as s:
        paid = s.create("invoice", {**who, "date": DAY.isoformat(), "lines": LINES}).id
        run_transition(s, "invoice", paid, "validate")
        drafts = [m.id for m in create_many(s, "invoice", [{**who, "date": DAY.isoformat(), "lines": LINES}] * 3)]
        payment = s.create("payment", {"account": who["account"], "date": DAY.isoformat(), "amount": "100", "invoice": paid}).id
    batch_holds_its_locks, payment_waits = threading.Event(), threading.Event()
    write_pending = audit.write_pending

    def paused(store: Store, entries: list[Any]) -> int:
        batch_holds_its_locks.set()  # the client's row is written by now
        payment_waits.wait(30)
        return write_pending(store, entries)

    monkeypatch.setattr(audit, "write_pending", paused)
    outcomes: dict[str, str] = {}

    def run(name: str, work: Any) -> None:
        try:
            with fixed_clock(DAY), runtime.session() as session:
                work(Store(runtime, session, SYSTEM))
                session.commit()
            outcomes[name] = "ok"
        except BaseException as exc:  # reported below
            outcomes[name] = repr(exc)

    batch = threading.Thread(target=run, args=("batch", lambda s: run_transition_many(s, "invoice", drafts, "validate")))
    pay = threading.Thread(target=run, args=("payment", lambda s: run_transition(s, "payment", payment, "validate")))
    batch.start()
    assert batch_holds_its_locks.wait(30)
    pay.start()
    _wait_until_blocked(runtime, pay)
    payment_waits.set()
    batch.join(60)
    pay.join(60)
    assert outcomes == {"batch": "ok", "payment": "ok"}
    with store_of(runtime) as s:
        assert [s.get("invoice", i).status for i in drafts] == ["validated"] * 3
        assert s.get("invoice", paid).status == "partially_paid"
        assert s.get("account", who["account"]).outstanding == Decimal("372.84") * 4 - 100
    assert audit.verify(runtime).problems == []


def _wait_until_blocked(rt: Any, thread: threading.Thread) -> None:
    """Until the thread's transaction waits for a lock (PostgreSQL says so; SQLite's driver
    waits on the database's write lock without telling: some time is left to it)."""
    import time

    if rt.engine.dialect.name != "postgresql":
        time.sleep(0.5)
        return
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    deadline = time.monotonic() + 30
    with rt.engine.connect() as conn:
        while time.monotonic() < deadline and thread.is_alive():
            if conn.exec_driver_sql(query).scalar():
                return
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError("the payment never waited for a lock")
