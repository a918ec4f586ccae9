"""Running the state machines of workflows.yaml.

At start-up each workflow is compiled onto its entity's class (`__workflow__`: the conditions
compiled once, the locked states, the columns that may still change). A transition runs in
one transaction: the record is read with a row lock, then the state, the right, the groups
and the condition are checked, the effects run in order (verbs), the status moves to its
target, the record's log gets an entry and, with `audit: true`, the hash-chained audit log
too. Any refusal or error rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import instance_state

from app.engine.bulk import insert_rows
from app.engine.store import Batch, Store, StoreError, inserted_here
from app.engine.verbs import VerbContext, evaluate_on, implementation, implemented, load_plugins
from app.spec.errors import SpecError, SpecInvalid
from app.spec.expressions import CompiledExpression, compile_expression
from app.spec.model import AppSpec, EntitySpec, Label, Location
from app.spec.workflow_model import TransitionSpec, WorkflowSpec

if TYPE_CHECKING:
    from app.engine.models import Models, Record

# session.info key: {(entity, record id): columns the running transition may write}
RUNNING = "comptoir_running_transitions"
SYSTEM_WRITES = frozenset({"updated_at", "updated_by", "version"})


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


@dataclass(frozen=True)
class Machine:
    """A workflow compiled for its entity's class."""

    spec: WorkflowSpec
    entity: EntitySpec
    status_column: str
    locked_states: frozenset[str]
    mutable_columns: frozenset[str]  # the `mutable` fields' columns
    child_mutable: dict[str, frozenset[str]]  # child collection -> columns (`lines.quantity_delivered`)
    conditions: dict[str, CompiledExpression]
    whens: dict[tuple[str, int], CompiledExpression]  # (transition, effect index) -> its `when`
    writes: dict[str, frozenset[str]]  # transition -> columns its effects write

    def locked(self, state: Any) -> bool:
        return state in self.locked_states

    def state_label(self, state: Any) -> str:
        found = self.spec.states.get(str(state))
        return found.label.fr if found is not None else str(state)


class TransitionRefused(StoreError):
    """409: the transition does not start from the record's state; `allowed` names those that do."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(409, "transition_not_allowed", message)
        self.allowed = allowed


def record_name(obj: Record) -> str:
    """« facture FA2401-0001 », or « facture n° 12 » while it has no title (a draft's number)."""
    entity = obj.__entity__
    title = getattr(obj, entity.title, None) if entity.title in entity.fields else None
    if title in (None, ""):
        return f"{entity.label.fr.lower()} n° {obj.id}"
    return f"{entity.label.fr.lower()} {obj}"


def machine_of(obj_or_cls: Any) -> Machine | None:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    found = getattr(cls, "__workflow__", None)
    return found if isinstance(found, Machine) else None


def _where(spec: WorkflowSpec, located: Location | None) -> Location:
    return located or spec.location or Location("workflows.yaml", 1, 1)


def _written_columns(entity: EntitySpec, transition: TransitionSpec) -> frozenset[str]:
    """Columns the effects write: the `field` of set and assign_number (numbers, dates)."""
    columns: set[str] = set()
    for effect in transition.effects:
        name = effect.args.get("field") if effect.verb in ("set", "assign_number") else None
        if isinstance(name, str) and name in entity.fields:
            columns.add(entity.fields[name].column_name)
    return frozenset(columns)


def compile_machine(spec: AppSpec, workflow: WorkflowSpec) -> Machine:
    entity = spec.entities[workflow.entity]
    status = entity.fields[workflow.field]
    mutable: set[str] = set()
    child_mutable: dict[str, set[str]] = {}
    for name in workflow.mutable:
        collection, dot, child_field = name.partition(".")
        if dot:
            child = next((c for c in entity.children if c.name == collection), None)
            child_spec = spec.entities[child.entity] if child is not None else None
            if child_spec is not None and child_field in child_spec.fields:
                child_mutable.setdefault(collection, set()).add(child_spec.fields[child_field].column_name)
        elif name in entity.fields:
            mutable.add(entity.fields[name].column_name)
    return Machine(
        spec=workflow,
        entity=entity,
        status_column=status.column_name,
        locked_states=frozenset(code for code, s in workflow.states.items() if not s.editable),
        mutable_columns=frozenset(mutable),
        child_mutable={k: frozenset(v) for k, v in child_mutable.items()},
        conditions={t.name: compile_expression(t.condition) for t in workflow.transitions.values() if t.condition},
        whens={
            (t.name, i): compile_expression(e.when)
            for t in workflow.transitions.values()
            for i, e in enumerate(t.effects)
            if e.when
        },
        writes={t.name: _written_columns(entity, t) for t in workflow.transitions.values()},
    )


def compile_workflows(spec: AppSpec, models: Models) -> None:
    """Attach each entity's compiled machine to its class; every verb needs an implementation."""
    load_plugins()
    errors: list[SpecError] = []
    have = implemented()
    for workflow in spec.workflows.values():
        if not isinstance(workflow, WorkflowSpec) or workflow.entity not in models.classes:
            continue
        for transition in workflow.transitions.values():
            for effect in transition.effects:
                if effect.verb not in have:
                    errors.append(SpecError(_where(workflow, effect.location), f"verb '{effect.verb}' has no implementation"))
        models.classes[workflow.entity].__workflow__ = compile_machine(spec, workflow)  # type: ignore[attr-defined]
    for entity in spec.entities.values():
        for compute in entity.computes:
            if compute.verb not in have:
                where = compute.location or entity.location or Location(entity.file or entity.name, 1, 1)
                errors.append(SpecError(where, f"verb '{compute.verb}' has no implementation"))
    if errors:
        raise SpecInvalid(errors)


# --- checks ---------------------------------------------------------------------------------


def workflow_of(store: Store, entity: EntitySpec) -> Machine | None:
    return machine_of(store.rt.models.cls(entity.name))


def _in_groups(store: Store, transition: TransitionSpec) -> bool:
    if not transition.groups:
        return True
    principal = store.principal
    return bool(set(principal.groups) & set(transition.groups)) or ("*", "*") in principal.grants


def condition_holds(store: Store, machine: Machine, transition: TransitionSpec, obj: Record) -> bool:
    compiled = machine.conditions.get(transition.name)
    if compiled is None:
        return True
    return bool(evaluate_on(store, machine.entity, obj, compiled))


def may_run(store: Store, machine: Machine, transition: TransitionSpec, obj: Record) -> bool:
    state = getattr(obj, machine.status_column)
    return (
        ("*" in transition.sources or state in transition.sources)
        and store.principal.can(store.spec, machine.entity.name, transition.name)
        and _in_groups(store, transition)
        and condition_holds(store, machine, transition, obj)
    )


def allowed_actions(store: Store, entity: EntitySpec, obj: Record) -> list[TransitionSpec]:
    """The transitions this user may run on the record now (state, right, groups, condition)."""
    machine = workflow_of(store, entity)
    if machine is None:
        return []
    return [t for t in machine.spec.transitions.values() if may_run(store, machine, t, obj)]


# --- running --------------------------------------------------------------------------------


@dataclass
class TransitionResult:
    record: Record
    transition: TransitionSpec
    from_state: str
    to_state: str
    created: list[tuple[str, int]] = field(default_factory=list)
    messages: list[Label] = field(default_factory=list)
    warnings: list[Label] = field(default_factory=list)  # shown to the user; the transition ran


def _unknown(entity: EntitySpec, name: str, machine: Machine | None) -> StoreError:
    names = ", ".join(machine.spec.transitions) if machine is not None else ""
    known_fr = f" (actions : {names})" if names else " (aucune action)"
    known_en = f" (actions: {names})" if names else " (no action)"
    return StoreError(
        404,
        "unknown_transition",
        _m(f"action inconnue « {name} » sur {entity.label.fr.lower()}{known_fr}", f"unknown action '{name}' on {entity.label.en.lower()}{known_en}"),
    )


def lock_record(store: Store, entity: EntitySpec, record_id: Any, *, internal: bool = False) -> Record:
    """The record, read again under a row lock held until the transaction ends. `internal`:
    a consequence of another transition — no read right needed, and the session's pending
    changes are flushed first so that reading the row again loses none of them."""
    cls = store.rt.models.cls(entity.name)
    session = store.session
    if internal:
        store.flush(entity)
    else:
        store.get(entity.name, record_id)  # rights and 404 first
    pk = int(record_id)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row lock: take the database's write lock now (BEGIN + a no-op write),
        # so that concurrent transitions queue here instead of failing at their first write.
        table = store.rt.models.tables[entity.name]
        session.execute(
            update(table).where(table.c.id == pk).values(id=table.c.id).execution_options(comptoir_lock=True)
        )
    obj = session.get(cls, pk, with_for_update=True, populate_existing=True)
    if obj is None:  # deleted meanwhile
        raise StoreError(404, "not_found", _m(f"{entity.label.fr} n° {record_id} introuvable", f"{entity.label.en} {record_id} not found"))
    return obj


def run_transition(
    store: Store, entity_name: str, record_id: Any, name: str, params: Mapping[str, Any] | None = None,
    *, internal: bool = False,
) -> TransitionResult:
    """Run one transition in the store's transaction; on any error the session is rolled back.
    `params` reach the effects (VerbContext.params), e.g. the source rows copy_to copies.

    `internal=True` runs it as a consequence of the transition under way (a payment moving its
    invoices to `paid`): the user's right and groups are not asked — the running transition
    was allowed — but the state and the condition are checked, and the log and audit written."""
    try:
        return _run(store, entity_name, record_id, name, params or {}, internal=internal)
    except BaseException:
        store.session.rollback()
        raise


def run_consequence(store: Store, entity_name: str, record_id: Any, name: str) -> TransitionResult:
    """Run a transition of another record as a consequence of the running one (an order closed
    when its last line is delivered and invoiced), inside the caller's transaction: the state and
    the condition are checked, the effects, log and audit run as usual, but the user's rights
    are not checked again — the transition they ran decided it. The caller rolls back on error."""
    return _run(store, entity_name, record_id, name, {}, internal=True)


def _lookup(store: Store, entity_name: str, name: str, *, internal: bool) -> tuple[EntitySpec, Machine, TransitionSpec]:
    entity = store.entity(entity_name)
    machine = workflow_of(store, entity)
    transition = machine.spec.transitions.get(name) if machine is not None else None
    if machine is None or transition is None:
        if not internal:
            store.require(entity.name, "read")
        raise _unknown(entity, name, machine)
    return entity, machine, transition


def _check(store: Store, entity: EntitySpec, machine: Machine, transition: TransitionSpec, obj: Record, *, internal: bool) -> str:
    """The record's state, once the transition is known to start from it, be allowed to this
    user (unless `internal`) and have its condition met."""
    state = str(getattr(obj, machine.status_column))
    if "*" not in transition.sources and state not in transition.sources:
        allowed = [t.name for t in allowed_actions(store, entity, obj)]
        raise TransitionRefused(
            _m(
                f"« {transition.label.fr} » impossible : {record_name(obj)} est « {machine.state_label(state)} »"
                f" (possible : {', '.join(allowed) or 'aucune action'})",
                f"'{transition.label.en}' is not allowed from state '{state}' (allowed: {', '.join(allowed) or 'none'})",
            ),
            allowed,
        )
    if not internal and (not store.principal.can(store.spec, entity.name, transition.name) or not _in_groups(store, transition)):
        raise StoreError(
            403,
            "forbidden",
            _m(
                f"droit « {transition.name} » sur « {entity.name} » refusé à {store.principal.login}",
                f"{store.principal.login} may not {transition.name} {entity.name}",
            ),
        )
    if not condition_holds(store, machine, transition, obj):
        text = transition.condition_message or Label(
            f"condition non remplie : {transition.condition}", f"condition not met: {transition.condition}"
        )
        raise StoreError(422, "condition_failed", _m(text.fr, text.en))
    return state


def _effects(
    store: Store, entity: EntitySpec, machine: Machine, transition: TransitionSpec, obj: Record, state: str,
    params: Mapping[str, Any], *, in_batch: bool = False,
) -> tuple[VerbContext, str]:
    """Run the effects, move the record to the target state, log and audit it (the caller has
    made its columns writable in RUNNING). `in_batch`: one of a batch's records, written with
    the others at its end (its log and audit entries too); a transition run as a consequence
    during a batch is flushed at once, but its entries wait for the batch's end as well."""
    from app.engine import audit

    ctx = VerbContext(store=store, entity=entity, record=obj, transition=transition, workflow=machine.spec, params=params)
    for i, effect in enumerate(transition.effects):
        when = machine.whens.get((transition.name, i))
        if when is not None and not evaluate_on(store, entity, obj, when):
            continue
        implementation(effect.verb)(ctx, effect.args)
    target = transition.target or state
    if target != state:
        setattr(obj, machine.status_column, target)
    obj.updated_by = store.principal.login  # type: ignore[attr-defined]
    if not in_batch:
        store.flush(entity)
    write_log(store, entity, obj, transition, state, target, ctx.messages)
    if transition.audit:
        audit.append(store, entity, obj, transition, state, target)
    if not in_batch:
        store.flush(entity)
    return ctx, target


def _writable(machine: Machine, transition: TransitionSpec) -> frozenset[str]:
    return machine.writes[transition.name] | {machine.status_column} | SYSTEM_WRITES


def _run(
    store: Store, entity_name: str, record_id: Any, name: str, params: Mapping[str, Any], *, internal: bool = False
) -> TransitionResult:
    entity, machine, transition = _lookup(store, entity_name, name, internal=internal)
    obj = lock_record(store, entity, record_id, internal=internal)
    state = _check(store, entity, machine, transition, obj, internal=internal)
    session = store.session
    key = (entity.name, int(obj.id))
    running: dict[tuple[str, int], frozenset[str]] = session.info.setdefault(RUNNING, {})
    outer = running.get(key)  # a consequence may run a transition of the record under way
    running[key] = _writable(machine, transition)
    try:
        ctx, _target = _effects(store, entity, machine, transition, obj, state, params)
    finally:
        if outer is None:
            running.pop(key, None)
        else:
            running[key] = outer
    # Consequences run once the record is in its new state (a cancelled payment no longer
    # counts when its invoices are summed again); each is a transaction step of its own kind
    # (internal transitions, recomputes) in this same transaction.
    for consequence in ctx.consequences:
        consequence()
    store.flush(entity)
    final = str(getattr(obj, machine.status_column))  # a consequence may have moved it (no `to`)
    return TransitionResult(obj, transition, state, final, ctx.created, ctx.messages, ctx.warnings)


def lock_records(store: Store, entity: EntitySpec, record_ids: list[int]) -> list[Record]:
    """Many records read again under a row lock (as `lock_record`), a few queries for all;
    404 names the first missing id."""
    cls = store.rt.models.cls(entity.name)
    session = store.session
    store.require(entity.name, "read")
    store.flush(entity)
    table = store.rt.models.tables[entity.name]
    found: dict[int, Record] = {}
    # Records inserted by this very transaction are locked already (no other transaction sees
    # them before it commits; on SQLite it holds the write lock) and, held unchanged by the
    # session, are as stored: they are not read again.
    inserted = inserted_here(session, entity.name)
    for record_id in record_ids:
        obj = inserted.get(record_id)
        if obj is not None:
            state = instance_state(obj)
            if state.session_id == session.hash_key and not state.deleted and not state.expired_attributes and not state.modified:
                found[record_id] = obj
    wanted = sorted(set(record_ids) - found.keys())
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        if session.get_bind().dialect.name == "sqlite":
            session.execute(
                update(table).where(table.c.id.in_(chunk)).values(id=table.c.id).execution_options(comptoir_lock=True)
            )
        query = select(cls).where(cls.id.in_(chunk)).order_by(cls.id).with_for_update().execution_options(populate_existing=True)
        for obj in session.scalars(query):
            found[obj.id] = obj
    for record_id in record_ids:
        if record_id not in found:
            raise StoreError(404, "not_found", _m(f"{entity.label.fr} n° {record_id} introuvable", f"{entity.label.en} {record_id} not found"))
    return [found[record_id] for record_id in record_ids]


def write_records(store: Store, entity: EntitySpec, objs: list[Record]) -> None:
    """Write the changes of many records of one entity — those that changed the same columns
    by one UPDATE … WHERE id = ? AND version = ? run for all of them — once the flush-time
    guard has checked the whole session. The ORM updates row by row when a table has a
    version column; a batch of transitions changes the same columns of every record."""
    from sqlalchemy.orm.attributes import set_committed_value

    from app.engine.guard import check_session
    from app.engine.models import utcnow

    session = store.session
    changes: dict[int, set[str]] = {}
    check_session(session, changes)  # and the changed columns of each
    table = store.rt.models.tables[entity.name]
    groups: dict[tuple[str, ...], list[Record]] = {}
    for obj in objs:
        changed = changes.get(id(obj))
        if not changed:
            continue  # not changed (or not seen changed by the guard: the flush writes it)
        state = instance_state(obj)
        relations = state.mapper.relationships
        if not any(key in relations for key in state.committed_state):
            columns = tuple(sorted(changed - {"version", "updated_at"}))
            if columns:
                groups.setdefault(columns, []).append(obj)
    stamp = utcnow()
    for columns, members in groups.items():
        statement = (
            table.update()
            .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
            .values({**{c: bindparam(f"_{c}") for c in columns}, "version": bindparam("_next"), "updated_at": stamp})
        )
        params = [
            {"_id": o.id, "_version": o.version, "_next": o.version + 1, **{f"_{c}": getattr(o, c) for c in columns}}  # type: ignore[attr-defined]
            for o in members
        ]
        with session.no_autoflush:
            done = session.execute(statement.execution_options(comptoir_lock=True), params)
        if done.rowcount != len(members):
            raise StoreError(
                409, "conflict", _m("enregistrement modifié par quelqu'un d'autre entre-temps", "record changed by someone else"), field="version"
            )
        for obj, row in zip(members, params):
            set_committed_value(obj, "version", row["_next"])
            set_committed_value(obj, "updated_at", stamp)
        # written: what they hold is now their stored state, and the next flush skips them
        # (the ORM's own step after a flush; the public set_committed_value leaves them dirty)
        states = [instance_state(o) for o in members]
        type(states[0])._commit_all_states([(st, st.dict) for st in states], session.identity_map)


def run_transition_many(
    store: Store, entity_name: str, record_ids: list[Any], name: str, params: Mapping[str, Any] | None = None
) -> list[TransitionResult]:
    """Run one transition on many records in the store's transaction, as `run_transition` runs
    it on each, all or nothing. The records are locked together; their changes are flushed
    together at the end, with their log and audit entries, the counters they moved, and the
    recomputes they asked for (each once). A refusal names the record and rolls back."""
    try:
        return _run_many(store, entity_name, record_ids, name, params or {})
    except BaseException:
        Batch.end(store.session)
        store.session.rollback()
        raise


def _run_many(store: Store, entity_name: str, record_ids: list[Any], name: str, params: Mapping[str, Any]) -> list[TransitionResult]:
    from app.engine import audit

    entity, machine, transition = _lookup(store, entity_name, name, internal=False)
    ids = []
    for index, raw in enumerate(record_ids):
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise StoreError(422, "invalid", _m(f"identifiant invalide : « {raw} »", f"invalid id '{raw}'"), field=f"ids[{index}]") from None
    if len(set(ids)) != len(ids):
        raise StoreError(422, "invalid", _m("identifiant donné deux fois", "an id is given twice"), field="ids")
    objs = lock_records(store, entity, ids)
    session = store.session
    running: dict[tuple[str, int], frozenset[str]] = session.info.setdefault(RUNNING, {})
    writable = _writable(machine, transition)
    batch = Batch.begin(session)
    results: list[TransitionResult] = []
    keys = [(entity.name, int(obj.id)) for obj in objs]
    try:
        for index, obj in enumerate(objs):
            try:
                state = _check(store, entity, machine, transition, obj, internal=False)
                running[keys[index]] = writable
                ctx, target = _effects(store, entity, machine, transition, obj, state, params, in_batch=True)
                for consequence in ctx.consequences:
                    consequence()
            except StoreError as exc:
                exc.message = f"{record_name(obj)} : {exc.message}"
                exc.args = (exc.message,)
                exc.field = f"ids[{index}]" + (f".{exc.field}" if exc.field else "")
                raise
            results.append(TransitionResult(obj, transition, state, target, ctx.created, ctx.messages, ctx.warnings))
        write_records(store, entity, objs)
        store.flush(entity)
        store.write_counters(batch)
        if batch.logs:
            insert_rows(session, store.rt.models.log, list(batch.logs[0]), batch.logs)
        audit.write_pending(store, batch.audits)
        store.write_counters(batch)  # the audit counter
        once = list(batch.once.values())
    finally:
        Batch.end(session)
        for key in keys:
            running.pop(key, None)
    for consequence in once:
        consequence()
    store.flush(entity)
    for result in results:
        result.to_state = str(getattr(result.record, machine.status_column))
    return results


# --- the record's log ------------------------------------------------------------------------


def write_log(
    store: Store, entity: EntitySpec, obj: Record, transition: TransitionSpec, before: str, after: str, messages: list[Label]
) -> None:
    """One entry per transition: who, when, from and to, and the `log` verbs' messages."""
    label = Label(" ; ".join(m.fr for m in messages), " ; ".join(m.en for m in messages)) if messages else transition.label
    row = {
        "entity": entity.name,
        "record_id": obj.id,
        "login": store.principal.login,
        "transition": transition.name,
        "from_state": before,
        "to_state": after,
        "message": {"fr": label.fr, "en": label.en},
    }
    batch = Batch.of(store.session)
    if batch is not None:
        batch.logs.append(row)  # written with the batch's others at its end
        return
    store.session.execute(insert(store.rt.models.log).values(**row))


@dataclass(frozen=True)
class LogEntry:
    at: Any
    login: str | None
    transition: str | None
    from_state: str | None
    to_state: str | None
    message: Label


def log_entries(store: Store, entity: EntitySpec, record_id: int) -> list[LogEntry]:
    table = store.rt.models.log
    rows = store.session.execute(
        select(table).where(table.c.entity == entity.name, table.c.record_id == record_id).order_by(table.c.id)
    ).mappings()
    result = []
    for row in rows:
        message = row["message"] if isinstance(row["message"], dict) else {}
        result.append(
            LogEntry(
                row["at"], row["login"], row["transition"], row["from_state"], row["to_state"],
                Label(str(message.get("fr", "")), str(message.get("en", ""))),
            )
        )
    return result
