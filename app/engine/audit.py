"""The append-only, hash-chained audit log (`comptoir_audit`) and its verification.

Each entry records an event on a record (a transition with `audit: true`, later payments) with
a canonical JSON payload (sorted keys, decimals as text) holding a snapshot of the record: its
fields but the status and the `mutable` ones, and its child rows. `snapshot_hash` is the
SHA-256 of that snapshot; `hash` is SHA-256(prev_hash + canonical entry), so changing,
removing or inserting an entry breaks the chain. Entries are numbered 1, 2, 3… from a counter
row locked for update, which also serialises concurrent appends.

`verify` recomputes the chain and re-reads every audited record that is still locked: a row
changed behind the application's back (raw SQL) no longer matches its latest snapshot, and the
report names the record and the fields. The ORM never updates nor deletes entries (guard.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import insert, select

from app.engine.models import Models
from app.engine.workflow import Machine, machine_of
from app.spec.model import AppSpec, EntitySpec, Label

if TYPE_CHECKING:
    from app.engine.models import Record
    from app.engine.runtime import Runtime
    from app.engine.store import Store
    from app.spec.workflow_model import TransitionSpec

GENESIS = "0" * 64
AUDIT_COUNTER = "comptoir.audit"


# --- canonical form ------------------------------------------------------------------------------


def _decimal_text(value: Decimal) -> str:
    """20, 20.0 and 20.00 are one amount: written 20 (and 2.50 as 2.5)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Label):
        return {"fr": value.fr, "en": value.en}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def canonical(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    body = {k: entry[k] for k in ("id", "at", "entity", "record_id", "event", "payload", "snapshot_hash")}
    return sha256(prev_hash + canonical(body))


# --- snapshots -----------------------------------------------------------------------------------


def read_snapshot(db: Any, models: Models, spec: AppSpec, machine: Machine, record_id: int) -> dict[str, Any] | None:
    """The record's protected content as stored: fields but status and mutable ones, and child
    rows (by id, but their link to the parent and their mutable columns). `db`: a Session or a
    Connection. None when the record does not exist."""
    entity = machine.entity
    table = models.tables[entity.name]
    row = db.execute(select(table).where(table.c.id == record_id)).mappings().first()
    if row is None:
        return None
    skip = machine.mutable_columns | {machine.status_column}
    fields = {f.name: plain(row[f.column_name]) for f in entity.fields.values() if f.column_name not in skip and f.type != "password"}
    children: dict[str, list[dict[str, Any]]] = {}
    for child in entity.children:
        child_spec = spec.entities[child.entity]
        child_table = models.tables[child.entity]
        via = child_spec.fields[child.via].column_name
        mutable = machine.child_mutable.get(child.name, frozenset())
        rows = db.execute(select(child_table).where(child_table.c[via] == record_id).order_by(child_table.c.id)).mappings()
        children[child.name] = [
            {
                "id": r["id"],
                **{
                    f.name: plain(r[f.column_name])
                    for f in child_spec.fields.values()
                    if f.column_name not in mutable and f.name != child.via and f.type != "password"
                },
            }
            for r in rows
        ]
    return {"fields": fields, "children": children}


# --- appending -----------------------------------------------------------------------------------


def append_entry(
    store: Store, entity: EntitySpec, record_id: int, event: str, payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None
) -> int:
    """Add one entry in the store's transaction; returns its number."""
    session = store.session
    table = store.rt.models.audit
    number = store.next_counter(AUDIT_COUNTER)  # locks the counter row: appends queue here
    prev = session.execute(select(table.c.hash).where(table.c.id < number).order_by(table.c.id.desc()).limit(1)).scalar()
    body = dict(payload)
    if snapshot is not None:
        body["snapshot"] = snapshot
    entry: dict[str, Any] = {
        "id": number,
        "at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0).isoformat(),
        "entity": entity.name,
        "record_id": int(record_id),
        "event": event,
        "payload": canonical(body),
        "snapshot_hash": sha256(canonical(snapshot)) if snapshot is not None else "",
    }
    prev_hash = prev or GENESIS
    session.execute(
        insert(table).values(
            **{**entry, "at": dt.datetime.fromisoformat(entry["at"])},
            prev_hash=prev_hash,
            hash=entry_hash(prev_hash, entry),
        )
    )
    return number


def append(store: Store, entity: EntitySpec, obj: Record, transition: TransitionSpec, before: str, after: str) -> int:
    """The entry of a transition with `audit: true` (the record is flushed: stored = in memory)."""
    machine = machine_of(obj)
    if machine is None:
        raise ValueError(f"'{entity.name}' has no workflow to audit")
    snapshot = read_snapshot(store.session, store.rt.models, store.spec, machine, obj.id)
    payload = {
        "transition": transition.name,
        "from": before,
        "to": after,
        "locked": machine.locked(after),
        "user": store.principal.login,
    }
    return append_entry(store, entity, obj.id, transition.name, payload, snapshot)


# --- verification --------------------------------------------------------------------------------


@dataclass
class Report:
    entries: int = 0
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    names = [k for k in old.get("fields", {}) if old["fields"].get(k) != new.get("fields", {}).get(k)]
    names += [k for k in new.get("fields", {}) if k not in old.get("fields", {})]
    for collection in sorted({*old.get("children", {}), *new.get("children", {})}):
        before = {r["id"]: r for r in old.get("children", {}).get(collection, [])}
        after = {r["id"]: r for r in new.get("children", {}).get(collection, [])}
        for row_id in sorted(before.keys() - after.keys()):
            names.append(f"{collection}[id={row_id}] supprimée/removed")
        for row_id in sorted(after.keys() - before.keys()):
            names.append(f"{collection}[id={row_id}] ajoutée/added")
        for row_id in sorted(before.keys() & after.keys()):
            names += [f"{collection}[id={row_id}].{k}" for k in sorted({*before[row_id], *after[row_id]}) if before[row_id].get(k) != after[row_id].get(k)]
    return names


def verify(rt: Runtime) -> Report:
    """Recompute the chain and compare every still-locked audited record with its last snapshot."""
    report = Report()
    table = rt.models.audit
    latest: dict[tuple[str, int], Any] = {}
    with rt.engine.connect() as conn:
        expected, prev = 1, GENESIS
        for row in conn.execute(select(table).order_by(table.c.id)).mappings():
            report.entries += 1
            number = row["id"]
            for missing in range(expected, number):
                report.problems.append(_m(f"entrée {missing} manquante (supprimée)", f"entry {missing} missing (deleted)"))
            entry: dict[str, Any] = {**row, "at": row["at"].replace(microsecond=0).isoformat() if isinstance(row["at"], dt.datetime) else row["at"]}
            if row["prev_hash"] != prev:
                report.problems.append(
                    _m(f"entrée {number} : la chaîne est rompue (prev_hash)", f"entry {number}: the chain is broken (prev_hash)")
                )
            if entry_hash(row["prev_hash"], entry) != row["hash"] or not _snapshot_intact(row):
                report.problems.append(_m(f"entrée {number} altérée", f"entry {number} altered"))
            prev, expected = row["hash"], number + 1
            latest[(row["entity"], row["record_id"])] = row
        counted = conn.execute(select(rt.models.counters.c.value).where(rt.models.counters.c.key == AUDIT_COUNTER)).scalar()
        for missing in range(expected, int(counted or 0) + 1):
            report.problems.append(_m(f"entrée {missing} manquante (supprimée)", f"entry {missing} missing (deleted)"))
        for (entity_name, record_id), row in sorted(latest.items()):
            problem = _check_record(rt, conn, entity_name, record_id, row)
            report.records += 1
            if problem:
                report.problems.append(problem)
    return report


def _snapshot_intact(row: Any) -> bool:
    try:
        payload = json.loads(row["payload"])
    except ValueError:
        return False
    snapshot = payload.get("snapshot") if isinstance(payload, dict) else None
    if snapshot is None:
        return row["snapshot_hash"] == ""
    return sha256(canonical(snapshot)) == row["snapshot_hash"]


def _check_record(rt: Runtime, conn: Any, entity_name: str, record_id: int, row: Any) -> str | None:
    cls = rt.models.classes.get(entity_name)
    machine = machine_of(cls) if cls is not None else None
    if machine is None:
        return None
    try:
        payload = json.loads(row["payload"])
    except ValueError:
        return None  # reported as an altered entry
    snapshot = payload.get("snapshot") if isinstance(payload, dict) else None
    if not isinstance(snapshot, dict):
        return None
    entity = machine.entity
    table = rt.models.tables[entity_name]
    state = conn.execute(select(table.c[machine.status_column]).where(table.c.id == record_id)).first()
    where = f"{entity.label.fr} n° {record_id}", f"{entity_name} {record_id}"
    if state is None:
        return _m(f"{where[0]} supprimé(e) depuis l'entrée {row['id']}", f"{where[1]} deleted since entry {row['id']}")
    if not machine.locked(state[0]):
        return None  # reopened by a transition: editable again
    current = read_snapshot(conn, rt.models, rt.spec, machine, record_id)
    if current is None or sha256(canonical(current)) == row["snapshot_hash"]:
        return None
    fields = ", ".join(_differences(snapshot, current)) or "?"
    title = current["fields"].get(entity.title)
    named = f" ({title})" if title not in (None, "") else ""
    return _m(
        f"{where[0]}{named} modifié(e) depuis l'entrée {row['id']} « {row['event']} » : champ {fields}",
        f"{where[1]}{named} changed since {row['event']} (entry {row['id']}): field {fields}",
    )
