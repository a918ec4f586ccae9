"""The hash-chained audit log: entries on audited transitions, and `verify` (also as
`comptoir audit verify`) catching rows changed behind the application's back with raw SQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import select, text

from hypothesis import given
from hypothesis import strategies as st

from app.engine.audit import GENESIS, canonical, canonical_with, entry_hash, sha256, verify
from tests.engine.test_workflow import new_bill, new_firm, run
from tests.engine.workflow_config import make_workflow_runtime

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rt(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_workflow_runtime(make_runtime, tmp_path)


@pytest.fixture
def audited(rt: Any) -> list[int]:
    """Three validated bills (entries 1-3), the second then cancelled (entry 4)."""
    firm = new_firm(rt)
    bills = [new_bill(rt, firm) for _ in range(3)]
    for bill in bills:
        run(rt, bill, "validate")
    run(rt, bills[1], "cancel")
    return bills


def raw(rt: Any, sql: str, **params: Any) -> None:
    """A change made behind the application's back: plain SQL on a connection of the engine."""
    with rt.engine.begin() as conn:
        conn.execute(text(sql), params)


def entries(rt: Any) -> list[Any]:
    with rt.engine.connect() as conn:
        return list(conn.execute(select(rt.models.audit).order_by(rt.models.audit.c.id)).mappings())


def test_entries_chain_and_snapshot_the_record(rt: Any, audited: list[int]) -> None:
    rows = entries(rt)
    assert [(r["id"], r["entity"], r["record_id"], r["event"]) for r in rows] == [
        (1, "bill", audited[0], "validate"),
        (2, "bill", audited[1], "validate"),
        (3, "bill", audited[2], "validate"),
        (4, "bill", audited[1], "cancel"),
    ]
    previous = GENESIS
    for row in rows:
        assert row["prev_hash"] == previous
        entry = {**row, "at": row["at"].isoformat()}
        assert row["hash"] == entry_hash(previous, entry)
        previous = row["hash"]
    payload = json.loads(rows[0]["payload"])
    assert rows[0]["payload"] == canonical(payload)  # canonical: sorted keys, no spaces
    assert (payload["transition"], payload["from"], payload["to"], payload["locked"], payload["user"]) == (
        "validate", "draft", "validated", True, "system"
    )
    snapshot = payload["snapshot"]
    assert rows[0]["snapshot_hash"] == sha256(canonical(snapshot))
    assert snapshot["fields"]["number"] == "FA26-0001" and snapshot["fields"]["total_gross"] == "2.73"
    assert "status" not in snapshot["fields"] and "note" not in snapshot["fields"]  # moved by actions, mutable
    assert [line["unit_price"] for line in snapshot["children"]["lines"]] == ["1.24", "1.24"]  # 1.2400 → 1.24
    report = verify(rt)
    assert report.ok and (report.entries, report.records) == (4, 3)


def test_a_record_changed_with_raw_sql_is_named_with_its_fields(rt: Any, audited: list[int]) -> None:
    raw(rt, "UPDATE bill SET total_gross = 1.00, title = 'x' WHERE id = :id", id=audited[0])
    [problem] = verify(rt).problems
    assert f"Facture n° {audited[0]} (FA26-0001) modifié(e) depuis l'entrée 1 « validate » : champ title, total_gross" in problem
    assert f"bill {audited[0]} (FA26-0001) changed since validate (entry 1): field title, total_gross" in problem


def test_a_line_changed_added_or_removed_with_raw_sql_is_named(rt: Any, audited: list[int]) -> None:
    with rt.engine.connect() as conn:
        first, second = conn.execute(text("SELECT id FROM bill_line WHERE bill_id = :b ORDER BY id"), {"b": audited[2]}).scalars()
    raw(rt, "UPDATE bill_line SET quantity = 5 WHERE id = :id", id=first)
    raw(rt, "DELETE FROM bill_line WHERE id = :id", id=second)
    [problem] = verify(rt).problems
    assert f"lines[id={first}].quantity" in problem and f"lines[id={second}] supprimée/removed" in problem


def test_cancelled_records_are_checked_against_their_latest_entry(rt: Any, audited: list[int]) -> None:
    raw(rt, "UPDATE bill SET date = '2020-01-01' WHERE id = :id", id=audited[1])
    [problem] = verify(rt).problems
    assert "depuis l'entrée 4 « cancel » : champ date" in problem


def test_mutable_fields_and_later_transitions_are_not_tampering(rt: Any, audited: list[int]) -> None:
    raw(rt, "UPDATE bill SET note = 'payée' WHERE id = :id", id=audited[0])
    run(rt, audited[0], "convert")  # not audited, changes nothing protected
    assert verify(rt).ok


def test_an_altered_entry_breaks_the_chain(rt: Any, audited: list[int]) -> None:
    raw(rt, "UPDATE comptoir_audit SET event = 'annule' WHERE id = 2")
    assert verify(rt).problems == ["entrée 2 altérée / entry 2 altered"]
    raw(rt, "UPDATE comptoir_audit SET event = 'validate', payload = replace(payload, '2.73', '9.99') WHERE id = 2")
    assert verify(rt).problems == ["entrée 2 altérée / entry 2 altered"]


def test_a_rehashed_entry_breaks_the_next_link(rt: Any, audited: list[int]) -> None:
    """Even recomputing the altered entry's own hash leaves the next entry pointing elsewhere."""
    row = entries(rt)[1]
    forged = {**row, "at": row["at"].isoformat(), "event": "forged"}
    raw(rt, "UPDATE comptoir_audit SET event = 'forged', hash = :h WHERE id = 2", h=entry_hash(row["prev_hash"], forged))
    assert verify(rt).problems == ["entrée 3 : la chaîne est rompue (prev_hash) / entry 3: the chain is broken (prev_hash)"]


def test_deleted_entries_and_records_are_reported(rt: Any, audited: list[int]) -> None:
    raw(rt, "DELETE FROM comptoir_audit WHERE id = 4")  # the last one: the counter still knows it
    raw(rt, "DELETE FROM comptoir_audit WHERE id = 2")
    problems = verify(rt).problems
    assert "entrée 2 manquante (supprimée) / entry 2 missing (deleted)" in problems
    assert "entrée 3 : la chaîne est rompue (prev_hash) / entry 3: the chain is broken (prev_hash)" in problems
    assert "entrée 4 manquante (supprimée) / entry 4 missing (deleted)" in problems
    raw(rt, "DELETE FROM bill_line WHERE bill_id = :id", id=audited[0])
    raw(rt, "DELETE FROM bill WHERE id = :id", id=audited[0])
    assert f"Facture n° {audited[0]} supprimé(e) depuis l'entrée 1 / bill {audited[0]} deleted since entry 1" in verify(rt).problems


def _cli(database_url: str, config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
    env.update(COMPTOIR_DATABASE_URL=database_url, COMPTOIR_CONFIG_DIR=str(config), PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"], capture_output=True, text=True, env=env, timeout=300, cwd=config
    )


def test_cli_audit_verify(rt: Any, audited: list[int], database_url: str) -> None:
    config = rt.spec.root
    ok = _cli(database_url, config)
    assert ok.returncode == 0, ok.stderr
    assert "Journal d'audit intègre : 4 entrée(s), 3 document(s)" in ok.stdout
    raw(rt, "UPDATE bill SET total_gross = 0 WHERE id = :id", id=audited[2])
    raw(rt, "UPDATE comptoir_audit SET record_id = 99 WHERE id = 1")
    broken = _cli(database_url, config)
    assert broken.returncode == 1
    assert "entrée 1 altérée / entry 1 altered" in broken.stdout
    assert f"bill {audited[2]} (FA26-0003) changed since validate (entry 3): field total_gross" in broken.stdout
    assert "anomalie(s)" in broken.stderr


def _nested(inner: Any) -> Any:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(), _nested, max_leaves=10)


@given(st.dictionaries(st.text(), _JSON, max_size=5), st.text(), _JSON)
def test_a_payload_written_around_a_snapshot_text_is_its_canonical_form(payload: dict[str, Any], key: str, value: Any) -> None:
    assert canonical_with(payload, key, canonical(value)) == canonical({**payload, key: value})


@given(st.text(), st.text(), st.integers(min_value=1), st.integers(min_value=1), st.text(max_size=64))
def test_an_entry_hash_is_that_of_its_canonical_form(payload: str, event: str, number: int, record_id: int, prev: str) -> None:
    """The payload (a canonical text) is written into the entry's canonical form as a JSON
    string without encoding the whole entry again: the same hash as the plain definition."""
    entry = {"id": number, "at": "2026-12-01T10:00:00", "entity": "invoice", "record_id": record_id, "event": event, "payload": payload, "snapshot_hash": "ab" * 32}
    plain = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry_hash(prev, entry) == sha256(prev + plain)
