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

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, inspect, select
from sqlalchemy.orm.attributes import instance_state

from app.engine.bulk import insert_rows
from app.engine.coltypes import ExactDecimal
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
    # The last few are kept by how they print: hashing a new Decimal costs more than this whole
    # function (about 1 µs), its text very little.
    key = str(value)
    text = _DECIMAL_TEXTS.get(key)
    if text is None:
        text = "0" if value == 0 else format(value.normalize(), "f")
        if len(_DECIMAL_TEXTS) >= 4096:
            _DECIMAL_TEXTS.clear()
        _DECIMAL_TEXTS[key] = text
    return text


_DECIMAL_TEXTS: dict[str, str] = {}


def _quantized_text(value: Decimal, quantum: Decimal, texts: dict[str, str]) -> str:
    """`_decimal_text(value.quantize(quantum))`, kept in `texts` (one per quantum) by how
    `value` prints."""
    text = _decimal_text(value.quantize(quantum))
    if len(texts) >= 4096:
        texts.clear()
    texts[str(value)] = text
    return text


_QUANTIZED_TEXTS: dict[Decimal, dict[str, str]] = {}  # by quantum (a few, made once each)


_AS_IS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
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


def _plain_default(value: Any) -> Any:
    """What json.dumps cannot write itself, as `plain` writes it."""
    if isinstance(value, (Decimal, dt.date, dt.datetime, Label)):
        return plain(value)
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    raise TypeError(f"{type(value).__name__} is not canonical JSON")


def canonical(value: Any) -> str:
    """Sorted keys, no spaces, decimals as text (`plain`), UTF-8 as is; json.dumps calls
    `plain` only for what it cannot write itself."""
    try:
        return _ENCODER.encode(value)
    except TypeError:  # keys of several types (sorted only once turned into text)
        return _ENCODER.encode(plain(value))


# what json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
# default=_plain_default) makes to write each value, made once
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain_default)


def canonical_with(mapping: Mapping[str, Any], key: str, text: str) -> str:
    """`canonical({**mapping, key: value})` where `text` is `canonical(value)`, without writing
    the value again (the keys are text: sorted as json.dumps sorts them)."""
    encode = _ENCODER.encode
    parts = []
    for name in sorted({*mapping, key}):
        value = text if name == key else canonical(mapping[name])
        parts.append(f"{encode(name)}:{value}")
    return "{" + ",".join(parts) + "}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash and the entry's canonical form (its payload, a canonical
    text itself, written in it as a JSON string)."""
    body = {k: entry[k] for k in ("id", "at", "entity", "record_id", "event", "snapshot_hash")}
    payload = entry["payload"]
    if type(payload) is not str:
        return sha256(prev_hash + canonical({**body, "payload": payload}))
    return sha256(prev_hash + canonical_with(body, "payload", _ENCODER.encode(payload)))


# --- snapshots -----------------------------------------------------------------------------------


def read_snapshot(db: Any, models: Models, spec: AppSpec, machine: Machine, record_id: int) -> dict[str, Any] | None:
    """The record's protected content as stored: fields but status and mutable ones, and child
    rows (by id, but their link to the parent and their mutable columns). `db`: a Session or a
    Connection. None when the record does not exist."""
    return read_snapshots(db, models, spec, machine, [record_id]).get(record_id)


CHUNK = 500  # ids per IN (…) list


def read_snapshots(db: Any, models: Models, spec: AppSpec, machine: Machine, record_ids: list[int]) -> dict[int, dict[str, Any]]:
    """`read_snapshot` of many records of one entity, a few queries for all of them."""
    entity = machine.entity
    table = models.tables[entity.name]
    skip = machine.mutable_columns | {machine.status_column}
    fields = [f for f in entity.fields.values() if f.column_name not in skip and f.type != "password"]
    wanted = sorted(set(record_ids))
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for row in db.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            out[row["id"]] = {"fields": {f.name: plain(row[f.column_name]) for f in fields}, "children": {}}
        for child in entity.children:
            child_spec = spec.entities[child.entity]
            child_table = models.tables[child.entity]
            via = child_spec.fields[child.via].column_name
            mutable = machine.child_mutable.get(child.name, frozenset())
            kept = [f for f in child_spec.fields.values() if f.column_name not in mutable and f.name != child.via and f.type != "password"]
            for snapshot in (out[i] for i in chunk if i in out):
                snapshot["children"][child.name] = []
            rows = db.execute(select(child_table).where(child_table.c[via].in_(chunk)).order_by(child_table.c.id)).mappings()
            for r in rows:
                parent = out.get(r[via])
                if parent is not None:
                    parent["children"][child.name].append({"id": r["id"], **{f.name: plain(r[f.column_name]) for f in kept}})
    return out


class _NotAsStored(Exception):
    """A value in memory that might not read back the same from the database."""


def _json_native(value: Any) -> bool:
    if value is None or type(value) in (str, int, bool):
        return True
    if type(value) is list:
        return all(_json_native(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _json_native(v) for k, v in value.items())
    return False


_JSON_VALUE = object()  # the column keeps any JSON-native value
_UNKNOWN = object()  # a column type not known here: only NULL is read from memory


def _as_stored(column: Any) -> tuple[Any, Decimal | None]:
    """How a value in memory reads back from this column once written: the one Python type
    the column keeps as it is (`_JSON_VALUE`: JSON-native values), and for decimals the
    column's quantum (the write quantizes to it). Another type raises _NotAsStored in
    `_written` (the snapshot is then read from the database)."""
    kind = column.type
    if isinstance(kind, ExactDecimal):
        return Decimal, kind._quantum
    for sql_type, python_type in ((Boolean, bool), (Integer, int), (String, str), (DateTime, dt.datetime), (Date, dt.date)):
        if isinstance(kind, sql_type):
            return python_type, None
    return (_JSON_VALUE if isinstance(kind, JSON) else _UNKNOWN), None


def _reader(columns: list[tuple[str, str, tuple[Any, Decimal | None]]]) -> Any:
    """A function of a record's dictionary giving `plain` of its kept values as the database
    gives them back, raising _NotAsStored for a value not loaded or of another type than its
    column's. Written out once per entity, one test per column (what a loop over the columns
    would do with more work per value: this runs for every value of every audited record)."""
    namespace: dict[str, Any] = {
        "_ABSENT": _UNKNOWN, "_NotAsStored": _NotAsStored, "_decimal_text": _decimal_text, "_json": _json_native,
        "_plain": plain, "Decimal": Decimal, "date": dt.date, "datetime": dt.datetime, "_quantized": _quantized_text,
    }
    body = ["def read(stored):"]
    for index, (_name, column, (python_type, quantum)) in enumerate(columns):
        v = f"v{index}"
        body.append(f"    {v} = stored.get({column!r}, _ABSENT)")
        body.append(f"    if {v} is not None:")
        if quantum is not None:
            namespace[f"q{index}"] = quantum
            namespace[f"t{index}"] = _QUANTIZED_TEXTS.setdefault(quantum, {})
            body += [
                f"        if type({v}) is not Decimal: raise _NotAsStored",
                f"        {v} = t{index}.get(str({v})) or _quantized({v}, q{index}, t{index})",
            ]
        elif python_type in (str, int, bool):
            body.append(f"        if type({v}) is not {python_type.__name__}: raise _NotAsStored")
        elif python_type is dt.date:
            body += [f"        if type({v}) is not date: raise _NotAsStored", f"        {v} = {v}.isoformat()"]
        elif python_type is dt.datetime:
            body += [f"        if type({v}) is not datetime or {v}.tzinfo is not None: raise _NotAsStored", f"        {v} = {v}.isoformat()"]
        elif python_type is _JSON_VALUE:
            body += [f"        if not _json({v}): raise _NotAsStored", f"        {v} = _plain({v})"]
        else:
            body.append("        raise _NotAsStored")
    pairs = ", ".join(f"{name!r}: v{index}" for index, (name, _c, _r) in enumerate(columns))
    body.append(f"    return {{{pairs}}}")
    exec("\n".join(body), namespace)  # noqa: S102 - names and columns come from the checked spec, quoted by repr
    return namespace["read"]


@dataclass
class _Plan:
    """What a snapshot of one entity's records holds: the reader of its kept fields, and
    each collection's (name, child entity, link field, reader of its kept fields)."""

    fields: Any
    children: list[tuple[str, str, str, Any]]


def _plan(store: Store, machine: Machine) -> _Plan:
    """The snapshot plan of the machine's entity, made once per runtime."""
    key = ("audit_plan", machine.entity.name)
    plan = store.rt.memo.get(key)
    if plan is not None:
        return plan
    models, spec = store.rt.models, store.spec
    entity = machine.entity
    table = models.tables[entity.name]
    skip = machine.mutable_columns | {machine.status_column}
    fields = [(f.name, f.column_name, _as_stored(table.c[f.column_name])) for f in entity.fields.values() if f.column_name not in skip and f.type != "password"]
    children = []
    for child in entity.children:
        child_spec = spec.entities[child.entity]
        child_table = models.tables[child.entity]
        mutable = machine.child_mutable.get(child.name, frozenset())
        kept = [
            (f.name, f.column_name, _as_stored(child_table.c[f.column_name]))
            for f in child_spec.fields.values()
            if f.column_name not in mutable and f.name != child.via and f.type != "password"
        ]
        children.append((child.name, child.entity, child.via, _reader(kept)))
    plan = store.rt.memo[key] = _Plan(_reader(fields), children)
    return plan


def _written(obj: Any, reader: Any) -> dict[str, Any]:
    """`plain` of the values of a persistent object with nothing pending nor expired, as the
    database gives them back."""
    state = instance_state(obj)
    if state.key is None or state.modified or state.expired_attributes:
        raise _NotAsStored
    return reader(obj.__dict__)


def memory_snapshots(store: Store, machine: Machine, record_ids: list[int]) -> dict[int, dict[str, Any]]:
    """`read_snapshots` of the records written in this transaction and still held by the
    session as they were written — with their child rows kept for the transaction — made from
    what is in memory instead of read back; the others are left out (read from the database)."""
    session = store.session
    models = store.rt.models
    plan = _plan(store, machine)
    mapper = inspect(models.cls(machine.entity.name))
    out: dict[int, dict[str, Any]] = {}
    for record_id in record_ids:
        obj = session.identity_map.get(mapper.identity_key_from_primary_key((record_id,)))
        if obj is None:
            continue
        rows = store.kept_children(machine.entity, obj)
        if rows is None:
            continue
        try:
            children = {
                collection: [{"id": r.id, **_written(r, kept)} for r in sorted(rows[collection], key=_ID)]
                for collection, _child, _via, kept in plan.children
            }
            out[record_id] = {"fields": _written(obj, plan.fields), "children": children}
        except _NotAsStored:
            continue
    return out


def _ID(obj: Any) -> Any:
    return obj.id


# --- appending -----------------------------------------------------------------------------------


@dataclass
class PendingEntry:
    """An entry of a batch (app/engine/store.Batch), written with the others at its end; its
    snapshot is read then (`machine` set) or was given."""

    entity: EntitySpec
    record_id: int
    event: str
    payload: Mapping[str, Any]
    snapshot: Mapping[str, Any] | None
    machine: Machine | None = None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()


def append_entry(
    store: Store, entity: EntitySpec, record_id: int, event: str, payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None
) -> int:
    """Add one entry in the store's transaction; returns its number (0 during a batch: it is
    written at the batch's end)."""
    from app.engine.store import Batch

    batch = Batch.of(store.session)
    if batch is not None:
        batch.audits.append(PendingEntry(entity, int(record_id), event, payload, snapshot))
        return 0
    return _write(store, [PendingEntry(entity, int(record_id), event, payload, snapshot)])


def write_pending(store: Store, entries: list[PendingEntry]) -> int:
    """The entries of a batch, in their order: snapshots read, numbered, chained, inserted."""
    return _write(store, entries) if entries else 0


def _write(store: Store, entries: list[PendingEntry]) -> int:
    session = store.session
    table = store.rt.models.audit
    snapshots: dict[tuple[str, int], Any] = {}
    by_machine: dict[str, tuple[Machine, list[int]]] = {}
    for e in entries:
        if e.machine is not None:
            by_machine.setdefault(e.entity.name, (e.machine, []))[1].append(e.record_id)
    for name, (machine, ids) in by_machine.items():
        # the session is flushed: what it holds unchanged is what is stored
        known = memory_snapshots(store, machine, ids)
        missing = [i for i in ids if i not in known]
        if missing:
            known.update(read_snapshots(session, store.rt.models, store.spec, machine, missing))
        for record_id, snapshot in known.items():
            snapshots[(name, record_id)] = snapshot
    last = store.next_counter(AUDIT_COUNTER, len(entries))  # locks the counter row: appends queue here
    first = last - len(entries) + 1
    prev = session.execute(select(table.c.hash).where(table.c.id < first).order_by(table.c.id.desc()).limit(1)).scalar()
    prev_hash = prev or GENESIS
    at = _now()
    rows = []
    for number, e in enumerate(entries, start=first):
        snapshot = snapshots.get((e.entity.name, e.record_id)) if e.machine is not None else e.snapshot
        if snapshot is not None:
            snapshot_text = canonical(snapshot)  # written once, in the payload and for its hash
            payload, snapshot_hash = canonical_with(e.payload, "snapshot", snapshot_text), sha256(snapshot_text)
        else:
            payload, snapshot_hash = canonical(dict(e.payload)), ""
        entry: dict[str, Any] = {
            "id": number,
            "at": at,
            "entity": e.entity.name,
            "record_id": e.record_id,
            "event": e.event,
            "payload": payload,
            "snapshot_hash": snapshot_hash,
        }
        digest = entry_hash(prev_hash, entry)
        rows.append({**entry, "at": dt.datetime.fromisoformat(at), "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    insert_rows(session, table, list(rows[0]), rows)
    return last


def append(store: Store, entity: EntitySpec, obj: Record, transition: TransitionSpec, before: str, after: str) -> int:
    """The entry of a transition with `audit: true` (the record is flushed: stored = in memory;
    during a batch, its snapshot is read at the batch's end, once every record is flushed)."""
    from app.engine.store import Batch

    machine = machine_of(obj)
    if machine is None:
        raise ValueError(f"'{entity.name}' has no workflow to audit")
    payload = {
        "transition": transition.name,
        "from": before,
        "to": after,
        "locked": machine.locked(after),
        "user": store.principal.login,
    }
    entry = PendingEntry(entity, int(obj.id), transition.name, payload, None, machine)
    batch = Batch.of(store.session)
    if batch is not None:
        batch.audits.append(entry)
        return 0
    return _write(store, [entry])


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
