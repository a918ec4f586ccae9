"""Immutability of locked records, enforced at flush time below every interface.

A record whose workflow state is not `editable` (judged on its state before this flush, i.e.
the state stored in the database) keeps every column but its workflow's `mutable` fields and
the system stamps; its status changes only inside a running transition (which may also write
the fields its effects name); it cannot be deleted; the rows of its child collections can be
neither added, changed nor removed. The listeners sit on every SQLAlchemy Session, so the
Store, the API, the admin, the CLI and a bare ORM session are all held to the same rule.
Bulk UPDATE/DELETE statements run through a session are checked the same way, and the audit
log (app/engine/audit.py) is append-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, instance_state

from app.engine.models import Models, Record
from app.engine.store import StoreError
from app.engine.workflow import RUNNING, SYSTEM_WRITES, Machine, machine_of

_installed = False


class LockedRecord(StoreError):
    """409: a change that the record's locked state forbids."""

    def __init__(self, message: str, field: str | None = None, code: str = "locked") -> None:
        super().__init__(409, code, message, field)


@dataclass(frozen=True)
class ParentLock:
    """On a child class: its parent (with a workflow) and the column pointing to it."""

    parent_cls: type[Record]
    machine: Machine
    via_column: str
    via_name: str  # the link field (relationship) name
    collection: str
    mutable: frozenset[str]  # child columns that stay mutable (`lines.quantity_delivered`)


# What to check on bulk statements, kept in the table's own `info` (a process-wide map keyed by
# table would keep every runtime's models alive: its values point back to their tables).
_GUARDED = "comptoir.guarded"


def install_guard(models: Models) -> None:
    """Tell each child class about its locked-able parents; listen on every Session once."""
    global _installed
    for cls in models.classes.values():
        cls.__locked_parents__ = ()  # type: ignore[attr-defined]
    for name, cls in models.classes.items():
        machine = machine_of(cls)
        if machine is None:
            continue
        models.tables[name].info[_GUARDED] = ("record", machine)
        for child in machine.entity.children:
            child_cls = models.classes[child.entity]
            via = child_cls.__entity__.fields[child.via]
            lock = ParentLock(cls, machine, via.column_name, via.name, child.name, machine.child_mutable.get(child.name, frozenset()))
            child_cls.__locked_parents__ = (*child_cls.__locked_parents__, lock)  # type: ignore[attr-defined]
            models.tables[child.entity].info[_GUARDED] = ("child", (lock, models.tables[name]))
    models.audit.info[_GUARDED] = ("audit", None)
    if not _installed:
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _on_execute)
        _installed = True


# --- messages ---------------------------------------------------------------------------------


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _title(obj: Record) -> str:
    """The record's title (its number, for a document), else its id."""
    entity = obj.__entity__
    try:
        title = str(obj) if getattr(obj, entity.title, None) not in (None, "") else ""
    except Exception:  # a title read from a link that cannot load here
        title = ""
    return title or f"n° {obj.id}"


def _field_of(machine: Machine, column: str, entity: Any = None) -> Any:
    spec = entity or machine.entity
    return next((f for f in spec.fields.values() if f.column_name == column), None)


def _locked_field(machine: Machine, obj: Record, state: Any, column: str) -> LockedRecord:
    field = _field_of(machine, column)
    name_fr = field.label.fr if field is not None else column
    name_en = field.label.en if field is not None else column
    entity = machine.entity
    return LockedRecord(
        _m(
            f"{entity.label.fr} {_title(obj)} est verrouillé(e) (état « {machine.state_label(state)} ») : "
            f"« {name_fr} » ne peut plus être modifié(e)",
            f"{entity.label.en} {_title(obj)} is locked (state '{state}'): '{name_en}' can no longer change",
        ),
        field=field.name if field is not None else column,
    )


def _locked_delete(machine: Machine, obj: Record, state: Any) -> LockedRecord:
    entity = machine.entity
    return LockedRecord(
        _m(
            f"{entity.label.fr} {_title(obj)} est verrouillé(e) (état « {machine.state_label(state)} ») : "
            "il ne peut pas être supprimé",
            f"{entity.label.en} {_title(obj)} is locked (state '{state}'): it cannot be deleted",
        )
    )


def _status_outside_transition(machine: Machine, obj: Record) -> LockedRecord:
    field = machine.entity.fields[machine.spec.field]
    return LockedRecord(
        _m(
            f"« {field.label.fr} » ne change que par les actions : utilisez les actions",
            f"'{field.label.en}' changes only through the actions: use the actions",
        ),
        field=field.name,
        code="use_actions",
    )


def _locked_child(lock: ParentLock, parent: Any, state: Any) -> LockedRecord:
    entity = lock.machine.entity
    collection = next(c for c in entity.children if c.name == lock.collection)
    title = _title(parent) if isinstance(parent, Record) else f"n° {parent}"
    return LockedRecord(
        _m(
            f"{entity.label.fr} {title} est verrouillé(e) (état « {lock.machine.state_label(state)} ») : "
            f"ses « {collection.label.fr} » ne peuvent plus changer",
            f"{entity.label.en} {title} is locked (state '{state}'): its '{collection.label.en}' can no longer change",
        ),
        field=lock.collection,
    )


# --- state before the flush -------------------------------------------------------------------


def changed_columns(obj: Record) -> set[str]:
    """Columns whose value this flush would change (a relationship counts as its column)."""
    state = instance_state(obj)
    columns: set[str] = set()
    mapper = state.mapper
    # Only the attributes set since the load can have changed (a flush looks at no other).
    for key in list(state.committed_state):
        if not state.get_history(key, PASSIVE_NO_INITIALIZE).has_changes():
            continue  # set back to its stored value
        prop = mapper.get_property(key)
        if key in mapper.relationships:
            columns.update(c.name for c in mapper.relationships[key].local_columns)
        else:
            columns.update(c.name for c in getattr(prop, "columns", ()))
    return columns


def original_value(session: Session, obj: Record, column: str) -> Any:
    """The column's value as stored (before this flush's changes)."""
    history = inspect(obj).get_history(column, PASSIVE_NO_INITIALIZE)
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    identity = inspect(obj).identity
    if identity is None:  # pending: nothing stored yet
        return history.added[0] if history.added else None
    table = type(obj).__table__  # type: ignore[attr-defined]
    return session.connection().execute(select(table.c[column]).where(table.c.id == identity[0])).scalar()


def _parent_state(session: Session, lock: ParentLock, parent_id: int, new: dict[tuple[type, int], Any]) -> tuple[Any, Any]:
    """(parent object or id, its stored state); `new`: the records of this flush, by class and id."""
    pending = new.get((lock.parent_cls, parent_id))
    if pending is not None:  # inserted by this flush: its state is the one it is created in
        return pending, original_value(session, pending, lock.machine.status_column)
    key = inspect(lock.parent_cls).identity_key_from_primary_key((parent_id,))
    parent = session.identity_map.get(key)
    if parent is not None and inspect(parent).identity is not None:
        return parent, original_value(session, parent, lock.machine.status_column)
    table = lock.parent_cls.__table__  # type: ignore[attr-defined]
    stored = session.connection().execute(
        select(table.c[lock.machine.status_column]).where(table.c.id == parent_id)
    ).scalar()
    return parent_id, stored


# --- the listeners ---------------------------------------------------------------------------


def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    check_session(session)


def check_session(session: Session, changes: dict[int, set[str]] | None = None) -> None:
    """What a flush of the session's pending changes would be refused for (LockedRecord);
    also called before writing changed records without the unit of work (a batch), which
    gets in `changes` the changed columns of each changed record of a workflow, by id(obj)."""
    running: dict[tuple[str, int], frozenset[str]] = session.info.get(RUNNING, {})
    for obj in list(session.deleted):
        machine = machine_of(obj)
        if machine is not None:
            state = original_value(session, obj, machine.status_column)
            if machine.locked(state):
                raise _locked_delete(machine, obj, state)
    for obj in list(session.dirty):
        machine = machine_of(obj)
        if machine is None:
            continue
        changed = changed_columns(obj)
        if changes is not None:
            changes[id(obj)] = changed
        if not changed:
            continue
        writable = running.get((machine.entity.name, obj.id))
        if machine.status_column in changed and writable is None:
            raise _status_outside_transition(machine, obj)
        state = original_value(session, obj, machine.status_column)
        if machine.locked(state):
            allowed = machine.mutable_columns | SYSTEM_WRITES | (writable or frozenset())
            refused = sorted(changed - allowed)
            if refused:
                raise _locked_field(machine, obj, state, refused[0])
    _check_children(session)


def _check_children(session: Session) -> None:
    dirty = set(map(id, session.dirty))
    new = {(type(o), o.id): o for o in session.new if getattr(o, "id", None) is not None}
    for obj in chain(list(session.deleted), list(session.dirty), list(session.new)):
        locks: tuple[ParentLock, ...] = getattr(type(obj), "__locked_parents__", ())
        if not locks:
            continue
        changed = changed_columns(obj) if id(obj) in dirty else None
        for lock in locks:
            if changed is not None and changed <= (lock.mutable | SYSTEM_WRITES):
                continue  # unchanged, or only its mutable columns
            parents: set[Any] = set()
            current = getattr(obj, lock.via_column)
            if current is None:
                related = getattr(obj, lock.via_name, None)
                if isinstance(related, Record):
                    current = related.id if inspect(related).identity is not None else None
            parents.add(current)
            if inspect(obj).identity is not None:
                parents.add(original_value(session, obj, lock.via_column))
            for parent_id in parents - {None}:
                parent, state = _parent_state(session, lock, parent_id, new)
                if lock.machine.locked(state):
                    if not isinstance(parent, Record):  # for its title in the message
                        parent = session.get(lock.parent_cls, parent_id) or parent
                    raise _locked_child(lock, parent, state)


def _on_execute(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE through a session: refused on the audit log and on locked rows."""
    if not (state.is_update or state.is_delete) or state.execution_options.get("comptoir_lock"):
        return
    statement: Any = state.statement
    table = getattr(statement, "table", None)
    if table is not None and hasattr(table, "_deannotate"):
        table = table._deannotate()
    if table is None:
        return
    guarded = getattr(table, "info", {}).get(_GUARDED)
    if guarded is None:
        return
    kind, info = guarded
    if kind == "audit":
        raise LockedRecord(
            _m("le journal d'audit ne se modifie ni ne s'efface", "the audit log can be neither changed nor deleted"),
            code="audit_append_only",
        )
    where = statement.whereclause
    connection = state.session.connection()
    if kind == "record":
        machine: Machine = info
        status = table.c[machine.status_column]
        query = select(table.c.id).where(status.in_(machine.locked_states))
        if where is not None:
            query = query.where(where)
        found = connection.execute(query.limit(1)).scalar()
        if found is not None:
            raise LockedRecord(
                _m(
                    f"{machine.entity.label.fr} n° {found} est verrouillé(e) : modification en masse refusée",
                    f"{machine.entity.label.en} {found} is locked: bulk change refused",
                )
            )
        return
    lock, parent_table = info
    status = parent_table.c[lock.machine.status_column]
    joined = table.join(parent_table, table.c[lock.via_column] == parent_table.c.id)
    query = select(parent_table.c.id, status).select_from(joined).where(status.in_(lock.machine.locked_states))
    if where is not None:
        query = query.where(where)
    row = connection.execute(query.limit(1)).first()
    if row is not None:
        raise _locked_child(lock, row[0], row[1])
