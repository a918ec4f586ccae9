"""The one place where records are read and written: parsing, defaults, required and unique
checks, links, numbering, optimistic locking and permissions. The API and the admin both
go through it, so a rule holds whatever the interface.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from operator import attrgetter
from typing import Any, Iterable, Mapping

from sqlalchemy import String, and_, cast, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.attributes import instance_state

from app.domain.numbering import format_number, period_key
from app.engine.bulk import insert_rows
from app.engine.expressions import evaluate_default
from app.engine.fieldtypes import FIELD_TYPES, FieldError, parse_value, to_json
from app.engine.models import Record, utcnow
from app.engine.permissions import Principal
from app.engine.rules import check_frozen, check_matches, same_value, values_after
from app.engine.runtime import Runtime
from app.spec.expressions import today as clock_today
from app.spec.model import EntitySpec, FieldSpec, Label

MAX_PAGE_SIZE = 500
FILTER_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "contains", "in", "null")


class StoreError(Exception):
    """A refusal with an HTTP status, a code, a user message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


@dataclass(frozen=True)
class NewRecord:
    """One record to create: the user's data, the engine's own values (parsed, allowed on
    read-only fields) and those of the i-th new row of each collection."""

    data: Mapping[str, Any]
    system_values: Mapping[str, Any] = dataclass_field(default_factory=dict)
    child_system_values: Mapping[str, list[Mapping[str, Any]]] = dataclass_field(default_factory=dict)


def _in_batch(exc: StoreError, index: int, count: int) -> StoreError:
    """The refusal of the `index`-th of `count` records, named so when there are several."""
    if count > 1:
        exc.field = f"records[{index}].{exc.field}" if exc.field else f"records[{index}]"
    return exc


@dataclass
class Page:
    rows: list[Record]
    total: int
    page: int
    page_size: int


class Store:
    def __init__(self, runtime: Runtime, session: Session, principal: Principal) -> None:
        self.rt = runtime
        self.spec = runtime.spec
        self.session = session
        self.principal = principal
        self._allowed: set[tuple[str, str]] = set()  # rights already checked (the principal's do not change)

    # --- permissions -------------------------------------------------------------------

    def entity(self, name: str) -> EntitySpec:
        entity = self.spec.entities.get(name)
        if entity is None:
            raise StoreError(404, "unknown_entity", _m(f"entité inconnue « {name} »", f"unknown entity '{name}'"))
        return entity

    def require(self, entity: str, action: str) -> None:
        if (entity, action) in self._allowed:  # checked for each row of a batch
            return
        if self.principal.can(self.spec, entity, action):
            self._allowed.add((entity, action))
        else:
            raise StoreError(
                403,
                "forbidden",
                _m(
                    f"droit « {action} » sur « {entity} » refusé à {self.principal.login}",
                    f"{self.principal.login} may not {action} {entity}",
                ),
            )

    # --- reading -----------------------------------------------------------------------

    def get(self, entity_name: str, record_id: Any, *, action: str = "read") -> Record:
        entity = self.entity(entity_name)
        self.require(entity.name, action)
        try:
            pk = int(record_id)
        except (TypeError, ValueError):
            pk = -1
        obj = self.session.get(self.rt.models.cls(entity.name), pk) if pk > 0 else None
        if obj is None:
            raise StoreError(
                404,
                "not_found",
                _m(f"{entity.label.fr} n° {record_id} introuvable", f"{entity.label.en} {record_id} not found"),
            )
        return obj

    def list(
        self,
        entity_name: str,
        *,
        filters: Mapping[str, str] | None = None,
        search: str | None = None,
        sort: str | None = None,
        page: int = 1,
        page_size: int | None = None,
        where: Any = None,
    ) -> Page:
        entity = self.entity(entity_name)
        self.require(entity.name, "read")
        cls = self.rt.models.cls(entity.name)
        conditions = [self._filter(entity, key, value) for key, value in (filters or {}).items()]
        if where is not None:  # an extra SQL condition, e.g. a saved filter's (app/engine/saved_filters.py)
            conditions.append(where)
        if search:
            conditions.append(self._search(entity, search))
        where = and_(*conditions) if conditions else None
        size = min(max(page_size or entity.list.page_size, 1), MAX_PAGE_SIZE)
        page = max(page, 1)
        query = select(cls)
        count = select(func.count()).select_from(cls.__table__)  # type: ignore[attr-defined]
        if where is not None:
            query = query.where(where)
            count = count.where(where)
        query = query.order_by(*self._order(entity, sort)).offset((page - 1) * size).limit(size)
        rows = list(self.session.scalars(query))
        total = int(self.session.scalar(count) or 0)
        return Page(rows=rows, total=total, page=page, page_size=size)

    def _column(self, entity: EntitySpec, name: str) -> Any:
        table = self.rt.models.tables[entity.name]
        if name in ("id", "created_at", "updated_at", "created_by", "updated_by", "version"):
            return table.c[name]
        field = entity.fields.get(name)
        if field is None or field.type == "password":
            raise StoreError(
                400, "unknown_field", _m(f"champ inconnu « {name} »", f"unknown field '{name}'"), field=name
            )
        return table.c[field.column_name]

    def _filter(self, entity: EntitySpec, key: str, raw: str) -> Any:
        name, _, op = key.partition("__")
        op = op or "eq"
        if op not in FILTER_OPERATORS:
            raise StoreError(
                400,
                "bad_filter",
                _m(f"opérateur inconnu « {op} » ({', '.join(FILTER_OPERATORS)})", f"unknown operator '{op}'"),
                field=key,
            )
        column = self._column(entity, name)
        field = entity.fields.get(name)
        if op == "null":
            return column.is_(None) if raw.lower() in ("1", "true", "oui") else column.is_not(None)
        if op == "contains":
            textual = field is not None and FIELD_TYPES[field.type].textual or name in ("created_by", "updated_by")
            return (column if textual else cast(column, String)).ilike(f"%{raw}%")
        if field is not None and field.type == "multichoice":
            return cast(column, String).like(f'%"{raw}"%')
        values = [self._filter_value(field, v, key) for v in (raw.split(",") if op == "in" else [raw])]
        if op == "in":
            return column.in_(values)
        value = values[0]
        if value is None and op in ("eq", "ne"):
            return column.is_(None) if op == "eq" else column.is_not(None)
        if value is None:
            raise StoreError(400, "bad_filter", _m("valeur attendue", "a value is expected"), field=key)
        if isinstance(value, bool) and op != "eq" and op != "ne":
            raise StoreError(
                400, "bad_filter", _m(f"opérateur « {op} » impossible sur oui/non", f"operator '{op}' on a boolean"), field=key
            )
        return {
            "eq": lambda: column == value,
            "ne": lambda: column != value,
            "gt": lambda: column > value,
            "gte": lambda: column >= value,
            "lt": lambda: column < value,
            "lte": lambda: column <= value,
        }[op]()

    def _filter_value(self, field: FieldSpec | None, raw: str, key: str) -> Any:
        if field is None:  # a system column
            name = key.partition("__")[0]
            if name in ("created_by", "updated_by"):
                return raw
            kind = "datetime" if name in ("created_at", "updated_at") else "integer"
            system = FieldSpec(name=name, type=kind, label=Label(name, name))
            try:
                return parse_value(system, raw, self.spec)
            except FieldError as exc:
                raise StoreError(400, "bad_filter", exc.message, field=key) from None
        try:
            if field.type in ("choice", "status"):
                return raw
            return parse_value(field, raw, self.spec)
        except FieldError as exc:
            raise StoreError(400, "bad_filter", exc.message, field=key) from None

    def _search(self, entity: EntitySpec, text: str) -> Any:
        names = list(entity.list.search) or [entity.title]
        pattern = f"%{text.strip()}%"
        columns = []
        for name in names:
            column = self._column(entity, name)
            field = entity.fields.get(name)
            textual = field is not None and FIELD_TYPES[field.type].textual
            columns.append(column if textual else cast(column, String))  # PostgreSQL: no ILIKE on numbers
        return or_(*(column.ilike(pattern) for column in columns))

    def _order(self, entity: EntitySpec, sort: str | None) -> list[Any]:
        key = sort or entity.list.sort or "id"
        terms = []
        for part in key.split(","):
            part = part.strip()
            if not part:
                continue
            descending = part.startswith("-")
            name = part.lstrip("-")
            column = self._column(entity, name)
            if name in entity.fields and entity.fields[name].type == "multichoice":
                column = cast(column, String)  # JSON has no ordering on PostgreSQL
            terms.append(column.desc() if descending else column.asc())
        table = self.rt.models.tables[entity.name]
        terms.append(table.c.id.desc() if key.startswith("-") else table.c.id.asc())
        return terms

    # --- writing -----------------------------------------------------------------------

    def create(
        self,
        entity_name: str,
        data: Mapping[str, Any],
        *,
        system_values: Mapping[str, Any] | None = None,
        child_system_values: Mapping[str, list[Mapping[str, Any]]] | None = None,
    ) -> Record:
        """A new record from user input `data`; `system_values` are set by the engine itself
        (e.g. a conversion's link back to its source), parsed but allowed on read-only fields;
        `child_system_values[collection][i]` likewise for the i-th new row of a collection
        (a copied line's link to its source line)."""
        return self.create_many(entity_name, [NewRecord(data, system_values or {}, child_system_values or {})])[0]

    def create_many(self, entity_name: str, items: Iterable[NewRecord]) -> list[Record]:
        """New records, as `create` makes one, in three steps whatever their number: every
        record is parsed and checked, then all are inserted at once; their child rows are added
        and the entity's computes run on them in memory; one last flush inserts the rows and
        writes the totals. A refusal names the record (`records[i]`) when there are several."""
        entity = self.entity(entity_name)
        self.require(entity.name, "create")
        batch = list(items)
        workflow = self.spec.workflows.get(entity.name)
        made: list[tuple[Record, dict[str, list[Mapping[str, Any]]], NewRecord]] = []
        with self.session.no_autoflush:  # the checks' queries need none of the new records
            for index, item in enumerate(batch):
                try:
                    values, children = self._parse(entity, item.data, creating=True)
                    values.update(self._system_values(entity, item.system_values))
                    if workflow is not None:
                        values[workflow.field] = workflow.initial  # a new record starts in the initial state
                    self._apply_defaults(entity, values)
                    self._check_required(entity, values, creating=True)
                    if entity.matched_links:
                        check_matches(self.session, self.rt, entity, values_after(entity, None, values))
                    obj = self._new_object(entity, values)
                    self._number(entity, obj)
                except StoreError as exc:
                    self.session.rollback()
                    raise _in_batch(exc, index, len(batch))
                made.append((obj, children, item))
            self._give_ids(entity, [obj for obj, _c, _i in made])
            _add_new(self.session, [obj for obj, _children, _item in made])
            cache = _ChildRows.of(self.session)
            written: list[tuple[Record, dict[str, list[Record]]]] = []
            for index, (obj, children, item) in enumerate(made):
                try:
                    written.append((obj, self._add_children(entity, obj, children, item.child_system_values)))
                except StoreError as exc:
                    self.session.rollback()
                    raise _in_batch(exc, index, len(batch))
            for child in entity.children:
                self._give_ids(self.spec.entities[child.entity], [r for _o, rows in written for r in rows.get(child.name, [])])
        for child in entity.children:
            self._watch_rows(child.entity, child.via)
        for obj, rows in written:  # the new rows are all their rows, flushed or not
            for child in entity.children:
                cache.put_fresh((child.entity, child.via, obj.id), self._in_order(child.entity, rows.get(child.name, [])))
        for index, (obj, _rows) in enumerate(written):
            try:
                self._compute(entity, obj, flush=False)
            except StoreError as exc:
                self.session.rollback()
                raise _in_batch(exc, index, len(batch))
        still = set(cache.fresh)  # not dropped by a compute adding rows (deduct_prepaid…)
        self._insert_new(entity, made, written)
        for obj, rows in written:  # flushed: kept as ordinary entries
            for child in entity.children:
                if (child.entity, child.via, obj.id) in still:
                    self._keep_new_rows(cache, child.entity, child.via, obj.id, rows.get(child.name, []))
        return [obj for obj, _children, _item in made]

    def _insert_new(self, entity: EntitySpec, made: list[Any], written: list[tuple[Record, dict[str, list[Record]]]]) -> None:
        """Insert the new records and their rows: each table by one multi-row INSERT, instead of
        the unit of work's bookkeeping per object, then the records become persistent with what
        was inserted as their loaded state; whatever else is pending (rows added by a compute)
        is flushed after them. The flush-time guard has nothing to check on them — new
        records in their initial state and their own rows — unless that state is locked: then,
        and when a compute flushed them already, the ordinary flush does it all."""
        machine = getattr(self.rt.models.cls(entity.name), "__workflow__", None)
        locked_start = machine is not None and machine.locked(machine.spec.initial)
        groups: list[tuple[EntitySpec, list[Record]]] = [(entity, [obj for obj, _c, _i in made])]
        groups += [(self.spec.entities[c.entity], [r for _o, rows in written for r in rows.get(c.name, [])]) for c in entity.children]
        pending = self.session._new
        if locked_start or any(instance_state(o) not in pending for _spec, objs in groups for o in objs):
            self._flush(entity)
            return
        stamp = utcnow()
        try:
            for spec, objs in groups:
                if not objs:
                    continue
                table = self.rt.models.tables[spec.name]
                keys = [c.key for c in table.columns]
                all_keys = frozenset(keys)
                given: set[str] = {c.key for c in table.columns if c.default is not None or c.server_default is not None}
                undecided = [k for k in keys if k not in given]  # NULL in every row so far
                for obj in objs:
                    values = obj.__dict__  # pending, never loaded: its dictionary is what gets inserted
                    for key in ("created_at", "updated_at"):
                        if values.get(key) is None:
                            values[key] = stamp
                    if values.get("version") is None:
                        values["version"] = 1
                    for key in all_keys - values.keys():
                        values[key] = None  # NULL in the row, and known to be so
                    valued = [k for k in undecided if values[k] is not None]
                    if valued:
                        given.update(valued)
                        undecided = [k for k in undecided if k not in given]
                # the columns NULL in every row (and without a default) are left out of the
                # INSERT: NULL all the same, without binding each of them in each row
                columns = [k for k in keys if k in given]
                with self.session.no_autoflush:  # the rows still pending wait for their records
                    insert_rows(self.session, table, columns, [o.__dict__ for o in objs])
                # inserted: persistent now, with what was inserted as their loaded state — the
                # unit of work's own last step after its INSERTs (a rollback forgets them again)
                self.session._register_persistent({instance_state(o) for o in objs})
                inserted_here(self.session, spec.name).update((o.id, o) for o in objs)
        except IntegrityError as exc:
            self.session.rollback()
            raise self._integrity(entity, exc) from None
        self._flush(entity)  # what the computes added (deduction rows…), after the records

    def _give_ids(self, entity: EntitySpec, objs: list[Record]) -> None:
        """Ids for new records, taken before they are inserted: their rows can then point to
        them, the computes run before the insert (no second write of the totals), and the
        rows of one table go in one statement (without ids given, SQLite's driver inserts
        them one by one to learn each id). PostgreSQL: the table's own sequence. SQLite: its
        rule, the largest id + 1, read once this transaction holds the database's write lock."""
        if not objs:
            return
        table = self.rt.models.tables[entity.name]
        count = len(objs)
        if self.session.get_bind().dialect.name == "postgresql":
            ids = list(
                self.session.execute(
                    select(func.nextval(func.pg_get_serial_sequence(table.name, "id"))).select_from(func.generate_series(1, count))
                ).scalars()
            )
        else:
            # a write that changes nothing takes SQLite's write lock until the transaction ends
            self.session.execute(
                table.update().where(table.c.id == -1).values(id=table.c.id).execution_options(comptoir_lock=True)
            )
            stored = int(self.session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
            model = self.rt.models.cls(entity.name)
            # (each entity has its class: no subclass to look for; the id read from the dictionary)
            waiting = [i for o in self.session._new.values() if type(o) is model and (i := o.__dict__.get("id")) is not None]
            first = max([stored, *waiting]) + 1  # and past those given but not inserted yet
            ids = list(range(first, first + count))
        for obj, new_id in zip(objs, ids):
            obj.id = new_id

    def _new_object(self, entity: EntitySpec, values: Mapping[str, Any]) -> Record:
        """A new, unsaved record with these values (the flush writes NULL in the other columns)."""
        # the class manager's own constructor of instances (what loading rows uses): the
        # mapped __init__ would add its argument handling and `init` event to each
        obj = self.rt.models.cls(entity.name)._sa_class_manager.new_instance()
        fields = entity.fields
        # Straight into the new object's dictionary (what an INSERT reads): a transient
        # object has no history to keep, and the attribute events cost more than the rest here.
        state = obj.__dict__
        # NULL known in every column without a default (what the INSERT writes there): the
        # computes that read them find None in the dictionary, not through the attribute
        state.update(self._nulls(entity))
        for name, value in values.items():
            state[fields[name].column_name] = value
        state["created_by"] = state["updated_by"] = self.principal.login
        return obj

    def _nulls(self, entity: EntitySpec) -> dict[str, None]:
        key = ("nulls", entity.name)
        nulls = self.rt.memo.get(key)
        if nulls is None:
            table = self.rt.models.tables[entity.name]
            nulls = self.rt.memo[key] = dict.fromkeys(
                c.key for c in table.columns if c.default is None and c.server_default is None and not c.primary_key
            )
        return nulls

    def _system_values(self, entity: EntitySpec, data: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, raw in data.items():
            field = entity.fields[key]
            try:
                values[key] = parse_value(field, raw, self.spec)
            except FieldError as exc:
                raise StoreError(422, "invalid", f"{field.label.fr} : {exc.message}", field=key) from None
        return values

    def update(
        self, entity_name: str, record_id: Any, data: Mapping[str, Any], *, expected_version: Any = None
    ) -> Record:
        entity = self.entity(entity_name)
        obj = self.get(entity.name, record_id, action="edit")
        if expected_version is not None and str(expected_version) != str(obj.version):
            raise self._conflict(entity, obj, expected_version)
        values, children = self._parse(entity, data, creating=False, current=obj)
        self._check_required(entity, values, creating=False)
        check_frozen(entity, obj, values)
        check_matches(self.session, self.rt, entity, values_after(entity, obj, values), changed=values.keys())
        self._assign(entity, obj, values)
        obj.updated_by = self.principal.login  # type: ignore[attr-defined]
        self._flush(entity, obj)
        self._write_children(entity, obj, children)
        self._compute(entity, obj)
        return obj

    def _compute(self, entity: EntitySpec, obj: Record, *, flush: bool = True) -> None:
        """The entity's compute verbs (e.g. document totals), after the children are written."""
        if not entity.computes:
            return
        from app.engine.verbs import VerbContext, implementation

        ctx = VerbContext(store=self, entity=entity, record=obj)
        for compute in entity.computes:
            implementation(compute.verb)(ctx, compute.args)
        if flush:
            self._flush(entity, obj)

    def recompute(self, entity: EntitySpec, obj: Record) -> None:
        """Run the entity's computes again (a verb changed its children)."""
        self._compute(entity, obj)

    def recompute_record(self, entity_name: str, record_id: Any) -> Record | None:
        """Run the record's computes again (e.g. a client's outstanding after a payment); no
        right is asked: the caller is a verb of an allowed transition. None if it is gone."""
        entity = self.entity(entity_name)
        obj = self.session.get(self.rt.models.cls(entity.name), int(record_id))
        if obj is not None:
            self._compute(entity, obj)
        return obj

    def recompute_pending(self, entity_name: str, record_id: Any) -> None:
        """Run now the recompute of this record that a batch of transitions has put off to its
        end (`VerbContext.then_once`), so that what is read from it is up to date."""
        batch = Batch.of(self.session)
        consequence = batch.once.pop(("recompute", entity_name, int(record_id)), None) if batch is not None else None
        if consequence is not None:
            from app.engine.audit import AUDIT_COUNTER

            # Every transaction takes the audit counter's lock before it writes what its
            # transitions recompute (a single transition appends its entry first); a batch
            # appends at its end, so here it takes the lock first — in the other order, a
            # payment of the same client at that moment and this batch would deadlock.
            self.next_counter(AUDIT_COUNTER, 0)
            consequence()

    def flush(self, entity: EntitySpec) -> None:
        """Flush pending changes, turning database refusals into StoreError (409)."""
        self._flush(entity)

    def delete(self, entity_name: str, record_id: Any) -> None:
        entity = self.entity(entity_name)
        obj = self.get(entity.name, record_id, action="delete")
        self.session.delete(obj)  # first: a locked record is refused before its children are
        with self.session.no_autoflush:
            for child in entity.children:
                for row in self._child_rows(child.entity, child.via, obj.id):
                    self.session.delete(row)
        try:
            self.session.flush()
            from app.engine.links import remove_links

            remove_links(self, entity.name, obj.id)
            from app.engine.files import remove_record_files

            remove_record_files(self, entity.name, obj.id)  # their bytes leave the disk on commit
        except StoreError:
            self.session.rollback()
            raise
        except IntegrityError:
            self.session.rollback()
            raise StoreError(
                409,
                "in_use",
                _m(
                    f"{entity.label.fr} n° {record_id} est utilisé par d'autres enregistrements",
                    f"{entity.label.en} {record_id} is referenced by other records",
                ),
            ) from None

    def _conflict(self, entity: EntitySpec, obj: Record, expected: Any) -> StoreError:
        who = getattr(obj, "updated_by", None) or "?"
        when = getattr(obj, "updated_at", None)
        at = when.strftime("%d/%m/%Y %H:%M") if isinstance(when, dt.datetime) else "?"
        return StoreError(
            409,
            "conflict",
            _m(
                f"{entity.label.fr} a été modifié par {who} le {at} depuis votre lecture "
                f"(version {obj.version}, la vôtre {expected}) : rechargez puis refaites vos modifications",
                f"{entity.label.en} was changed by {who} at {at} since you read it; reload and redo your changes",
            ),
            field="version",
        )

    def _flush(self, entity: EntitySpec, obj: Record | None = None) -> None:
        try:
            self.session.flush()
        except StoreError:  # refused by the flush-time guard (a locked record)
            self.session.rollback()
            raise
        except StaleDataError:
            self.session.rollback()
            raise StoreError(
                409,
                "conflict",
                _m("enregistrement modifié par quelqu'un d'autre entre-temps", "record changed by someone else"),
                field="version",
            ) from None
        except IntegrityError as exc:
            self.session.rollback()
            raise self._integrity(entity, exc) from None

    def _integrity(self, entity: EntitySpec, exc: IntegrityError) -> StoreError:
        text = str(exc.orig)
        for f in entity.fields.values():
            if f.unique and (f"uq_{entity.name}_{f.column_name}" in text or f"{entity.name}.{f.column_name}" in text):
                return StoreError(
                    409, "duplicate", _m(f"« {f.label.fr} » déjà utilisé", f"'{f.label.en}' already used"), field=f.name
                )
        return StoreError(409, "integrity", _m("enregistrement refusé par la base", "rejected by the database"))

    def _parse(
        self, entity: EntitySpec, data: Mapping[str, Any], *, creating: bool, current: Record | None = None
    ) -> tuple[dict[str, Any], dict[str, list[Mapping[str, Any]]]]:
        """Parsed values by field name, and the child lists. On an update (`current`: the stored
        record), a read-only field sent back with the value it has is ignored, so a record read
        by GET can be sent back as it is (without its status); a different value is refused."""
        if type(data) is not dict and not isinstance(data, Mapping):  # (the ABC's check is slow)
            raise StoreError(400, "bad_request", _m("objet JSON attendu", "a JSON object is expected"))
        values: dict[str, Any] = {}
        children: dict[str, list[Mapping[str, Any]]] = {}
        child_names = {c.name for c in entity.children}
        for key, raw in data.items():
            if key in ("id", "version", "created_at", "updated_at", "created_by", "updated_by"):
                continue
            if key in child_names:
                if not isinstance(raw, list):
                    raise StoreError(422, "invalid", _m("liste attendue", "a list is expected"), field=key)
                children[key] = raw
                continue
            field = entity.fields.get(key)
            if field is None:
                raise StoreError(
                    422, "unknown_field", _m(f"champ inconnu « {key} »", f"unknown field '{key}'"), field=key
                )
            if field.readonly and field.type != "status" and current is not None and self._unchanged(field, raw, current):
                continue  # sent back as read; a status field is refused even unchanged: actions move it
            if field.type == "status" and raw not in (None, ""):
                raise StoreError(
                    422,
                    "use_actions",
                    _m(
                        f"« {field.label.fr} » ne se modifie que par les actions : utilisez les actions",
                        f"'{field.label.en}' changes only through the actions: use the actions",
                    ),
                    field=key,
                )
            if field.readonly and (raw not in (None, "") or current is not None):
                raise StoreError(
                    422, "readonly", _m(f"« {field.label.fr} » est en lecture seule", f"'{field.label.en}' is read-only"), field=key
                )
            try:
                values[key] = parse_value(field, raw, self.spec)
            except FieldError as exc:
                raise StoreError(422, "invalid", f"{field.label.fr} : {exc.message}", field=key) from None
            if field.type == "password" and values[key] is None:
                del values[key]  # an empty password field keeps the current one
            elif field.is_link and values[key] is not None:
                self._check_link(field, values[key])
        return values, children

    def _unchanged(self, field: FieldSpec, raw: Any, current: Record) -> bool:
        try:
            value = parse_value(field, raw, self.spec)
        except FieldError:
            return False
        return same_value(field, getattr(current, field.column_name), value)

    def linked(self, model: type, record_id: Any) -> Record | None:
        """`session.get(model, record_id)`, first among the records a link of this transaction
        found already (a batch links its records to a few, which its verbs read again)."""
        kept: dict[tuple[type, int], Record] | None = self.session.info.get(_KEPT)
        found = kept.get((model, record_id)) if kept is not None else None
        if found is not None and not instance_state(found).was_deleted:
            return found
        return self.session.get(model, record_id)

    def _check_link(self, field: FieldSpec, target_id: int) -> None:
        target = self.rt.models.cls(field.to or "")
        found = self.linked(target, target_id)
        if found is not None:
            # The identity map holds records weakly: keep the linked record for the transaction,
            # so that the computes and verbs reading it (fill_from, the client's outstanding…)
            # find it there instead of reading it again.
            _ChildRows.of(self.session)  # its listeners also let them go at commit and rollback
            self.session.info.setdefault(_KEPT, {})[(target, target_id)] = found
        if found is None:
            label = self.spec.entities[field.to or ""].label
            raise StoreError(
                422,
                "invalid",
                _m(
                    f"{field.label.fr} : aucun(e) {label.fr.lower()} n° {target_id}",
                    f"{field.label.en}: no {label.en.lower()} with id {target_id}",
                ),
                field=field.name,
            )

    def _apply_defaults(self, entity: EntitySpec, values: dict[str, Any]) -> None:
        memo_key = ("defaults", entity.name)
        defaulted = self.rt.memo.get(memo_key)
        if defaulted is None:  # the fields with a compiled default, once per runtime
            defaulted = self.rt.memo[memo_key] = [
                (f.name, f, (entity.name, f.name), self.rt.defaults[(entity.name, f.name)])
                for f in entity.defaulted_fields
                if self.rt.defaults.get((entity.name, f.name)) is not None
            ]
        constants = self.rt.constant_defaults
        for name, field, key, compiled in defaulted:
            if name in values:
                continue
            constant = constants.get(key, _NONE)
            if constant is not _NONE:  # a literal, parsed once
                values[name] = constant
                continue
            raw = evaluate_default(compiled, {**values, "user": self.principal})
            try:
                values[name] = parse_value(field, raw, self.spec)
                if compiled.names == frozenset() and isinstance(values[name], _IMMUTABLE):
                    constants[key] = values[name]
            except FieldError as exc:
                raise StoreError(
                    422, "invalid", f"{field.label.fr} (valeur par défaut) : {exc.message}", field=field.name
                ) from None

    def _check_required(self, entity: EntitySpec, values: Mapping[str, Any], *, creating: bool) -> None:
        for field in entity.required_fields:
            missing = values.get(field.name) in (None, "", []) if (creating or field.name in values) else False
            if missing:
                raise StoreError(
                    422,
                    "required",
                    _m(f"« {field.label.fr} » est obligatoire", f"'{field.label.en}' is required"),
                    field=field.name,
                )

    def _assign(self, entity: EntitySpec, obj: Record, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            field = entity.fields[name]
            setattr(obj, field.column_name, value)

    def _number(self, entity: EntitySpec, obj: Record) -> None:
        for rule in entity.numbering:
            if getattr(obj, rule.field, None):
                continue
            today = clock_today()
            key = f"{entity.name}.{rule.field}:{period_key(rule.pattern, today)}"
            setattr(obj, rule.field, format_number(rule.pattern, today, self.next_counter(key)))

    def check_series_date(self, key: str, day: dt.date, field: FieldSpec, entity: EntitySpec) -> None:
        """Refuse a date before the last one numbered in the series `key` (row locked), then
        record it: numbers of a series follow the dates."""
        table = self.rt.models.counters
        batch = Batch.of(self.session)
        if batch is not None and key in batch.last_dates:
            last = batch.last_dates[key]  # the row is locked by this transaction since it was read
        else:
            with self.session.no_autoflush:
                self._counter_row(key)
                last = self.session.execute(select(table.c.last_date).where(table.c.key == key).with_for_update()).scalar_one()
        if last is not None and day < last:
            raise StoreError(
                422,
                "date_before_last",
                _m(
                    f"« {field.label.fr} » ({day:%d/%m/%Y}) précède celle du dernier numéro de la série "
                    f"({last:%d/%m/%Y}) : {entity.label.fr.lower()} doit être daté(e) du {last:%d/%m/%Y} ou après",
                    f"'{field.label.en}' ({day.isoformat()}) is before the last numbered date of the series ({last.isoformat()})",
                ),
                field=field.name,
            )
        if batch is not None:
            batch.last_dates[key] = day if last is None or day > last else last
            if last is None or day > last:
                batch.dates_changed.add(key)
        elif last is None or day > last:
            self.session.execute(table.update().where(table.c.key == key).values(last_date=day))

    def _counter_row(self, key: str) -> None:
        """Create the counter row if missing, without failing when a concurrent transaction does too."""
        table = self.rt.models.counters
        if self.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self.session.execute(pg_insert(table).values(key=key, value=0).on_conflict_do_nothing())
        else:
            self.session.execute(table.insert().prefix_with("OR IGNORE").values(key=key, value=0))

    def next_counter(self, key: str, count: int = 1) -> int:
        """Increment a named counter by `count` in the current transaction and answer its new
        value: one UPDATE … RETURNING takes the row lock (concurrent callers queue there until
        the first one commits); the row is created first when it does not exist yet. During a
        batch (see Batch) a counter already locked goes up in memory and is written at its end."""
        batch = Batch.of(self.session)
        if batch is not None and key in batch.counters:
            batch.counters[key] += count
            return batch.counters[key]
        table = self.rt.models.counters
        bump = table.update().where(table.c.key == key).values(value=table.c.value + count).returning(table.c.value)
        with self.session.no_autoflush:  # the counters depend on no pending record
            value = self.session.execute(bump).scalar()
            if value is None:
                self._counter_row(key)
                value = self.session.execute(bump).scalar_one()
        if batch is not None:
            batch.counters[key] = batch.written[key] = int(value)
        return int(value)

    def write_counters(self, batch: Batch) -> None:
        """The counters and series dates a batch moved in memory, written (their rows are locked)."""
        table = self.rt.models.counters
        for key, value in batch.counters.items():
            if batch.written.get(key) != value:
                self.session.execute(table.update().where(table.c.key == key).values(value=value))
                batch.written[key] = value
        for key in sorted(batch.dates_changed):
            self.session.execute(table.update().where(table.c.key == key).values(last_date=batch.last_dates[key]))
        batch.dates_changed.clear()

    # --- children ----------------------------------------------------------------------

    def _child_rows(self, child_entity: str, via: str, parent_id: int) -> list[Record]:
        """The child rows of a record, in their order. Kept for the transaction: the computes,
        verbs and serialisation of one save read the same lines many times; any flush that
        adds, changes or deletes rows of the child entity drops them (see _ChildRows)."""
        cls = self.rt.models.cls(child_entity)
        cache = _ChildRows.of(self.session)
        self._watch_rows(child_entity, via)
        key = (child_entity, via, parent_id)
        rows = cache.get(key, cls)
        if rows is None:
            field = self.spec.entities[child_entity].fields[via]
            column = getattr(cls, field.column_name)
            spec = self.spec.entities[child_entity]
            order = [getattr(cls, spec.fields[o].column_name) for o in _child_order(self.rt, child_entity)]
            rows = list(self.session.scalars(select(cls).where(column == parent_id).order_by(*order, cls.id)))
            cache.put(key, rows)
        return list(rows)

    def _watch_rows(self, child_entity: str, via: str) -> None:
        cls = self.rt.models.cls(child_entity)
        if via in cls.__dict__.get("_comptoir_watched_links", ()):
            return
        spec = self.spec.entities[child_entity]
        fields = [spec.fields[via], *(spec.fields[o] for o in _child_order(self.rt, child_entity))]
        # a link is set by its id column or by its relationship (same name as the field)
        columns = [f.column_name for f in fields] + [f.name for f in fields if f.is_link]
        _ChildRows.watch(cls, child_entity, columns)
        cls._comptoir_watched_links = {*cls.__dict__.get("_comptoir_watched_links", ()), via}  # type: ignore[attr-defined]

    def kept_children(self, entity: EntitySpec, obj: Record) -> dict[str, list[Record]] | None:
        """The record's child rows kept for the transaction (as `children` gives them, read
        from no query), or None when one of its collections is not kept."""
        cache = self.session.info.get(_ChildRows.INFO_KEY)
        if cache is None:
            return None
        out: dict[str, list[Record]] = {}
        for child in entity.children:
            rows = cache.get((child.entity, child.via, obj.id), self.rt.models.cls(child.entity))
            if rows is None:
                return None
            out[child.name] = rows
        return out

    def children(self, entity: EntitySpec, obj: Record) -> dict[str, list[Record]]:
        return {c.name: self._child_rows(c.entity, c.via, obj.id) for c in entity.children}

    def _write_children(
        self,
        entity: EntitySpec,
        parent: Record,
        children: Mapping[str, list[Mapping[str, Any]]],
        system_rows: Mapping[str, list[Mapping[str, Any]]] | None = None,
    ) -> None:
        """The collections given in an update: rows with an id are changed, rows without one
        added, rows left out removed."""
        for child in entity.children:
            if child.name not in children:
                continue
            child_spec = self.spec.entities[child.entity]
            existing = {row.id: row for row in self._child_rows(child.entity, child.via, parent.id)}
            kept: set[int] = set()
            for index, item in enumerate(children[child.name]):
                if not isinstance(item, Mapping):
                    raise StoreError(422, "invalid", _m("objet attendu", "an object is expected"), field=f"{child.name}[{index}]")
                data = {k: v for k, v in item.items() if k != child.via}
                try:
                    row_id = _row_id(item.get("id"))
                    if row_id is not None:
                        if row_id not in existing:
                            raise StoreError(422, "invalid", _m(f"ligne n° {row_id} inconnue", f"unknown row {row_id}"), field="id")
                        values, _ = self._parse(child_spec, data, creating=False, current=existing[row_id])
                        if any(getattr(existing[row_id], child_spec.fields[k].column_name) != v for k, v in values.items()):
                            self.require(child.entity, "edit")
                        self._check_required(child_spec, values, creating=False)
                        check_frozen(child_spec, existing[row_id], values)
                        check_matches(
                            self.session, self.rt, child_spec,
                            values_after(child_spec, existing[row_id], values), changed=values.keys(),
                        )
                        self._assign(child_spec, existing[row_id], values)
                        existing[row_id].updated_by = self.principal.login  # type: ignore[attr-defined]
                        kept.add(row_id)
                    else:
                        forced = (system_rows or {}).get(child.name) or []
                        self._new_child(child, child_spec, parent, index, data, forced)
                except StoreError as exc:
                    exc.field = f"{child.name}[{index}].{exc.field}" if exc.field else f"{child.name}[{index}]"
                    raise
            for row_id, row in existing.items():
                if row_id not in kept:
                    self.require(child.entity, "delete")
                    self.session.delete(row)
            self._flush(child_spec)

    def _new_child(
        self, child: Any, child_spec: EntitySpec, parent: Record, index: int, data: Mapping[str, Any], forced: list[Mapping[str, Any]]
    ) -> Record:
        """The `index`-th row of a collection, new, added to the session (not flushed)."""
        self.require(child.entity, "create")
        values, _ = self._parse(child_spec, data, creating=True)
        if index < len(forced):
            values.update(self._system_values(child_spec, forced[index]))
        values[child.via] = parent.id
        self._apply_defaults(child_spec, values)
        order = child_spec.fields.get(child.order_by or "")
        if order is not None and order.type == "integer" and values.get(order.name) in (None, 0):
            values[order.name] = index + 1  # a new row without a place takes its place in the list
        self._check_required(child_spec, values, creating=True)
        if child_spec.matched_links:
            check_matches(self.session, self.rt, child_spec, values_after(child_spec, None, values))
        row = self._new_object(child_spec, values)
        _add_new(self.session, [row])
        return row

    def _add_children(
        self,
        entity: EntitySpec,
        parent: Record,
        children: Mapping[str, list[Mapping[str, Any]]],
        system_rows: Mapping[str, list[Mapping[str, Any]]],
    ) -> dict[str, list[Record]]:
        """The rows of a new record's collections, added to the session (not flushed)."""
        out: dict[str, list[Record]] = {}
        for child in entity.children:
            items = children.get(child.name)
            if items is None:
                continue
            child_spec = self.spec.entities[child.entity]
            forced = system_rows.get(child.name) or []
            rows = out[child.name] = []
            for index, item in enumerate(items):
                try:
                    if type(item) is not dict and not isinstance(item, Mapping):
                        raise StoreError(422, "invalid", _m("objet attendu", "an object is expected"))
                    if _row_id(item.get("id")) is not None:
                        raise StoreError(422, "invalid", _m(f"ligne n° {item.get('id')} inconnue", f"unknown row {item.get('id')}"), field="id")
                    data = {k: v for k, v in item.items() if k != child.via}
                    rows.append(self._new_child(child, child_spec, parent, index, data, forced))
                except StoreError as exc:
                    exc.field = f"{child.name}[{index}].{exc.field}" if exc.field else f"{child.name}[{index}]"
                    raise
        return out

    def _in_order(self, child_entity: str, rows: list[Record]) -> list[Record] | None:
        """New rows in the order a query would give them (order field, then id = the order
        they were added in); None if an order value is missing (NULLs sort differently on
        SQLite and PostgreSQL)."""
        spec = self.spec.entities[child_entity]
        columns = [spec.fields[o].column_name for o in _child_order(self.rt, child_entity)]
        if not columns:
            return list(rows)
        if any(getattr(r, c) is None for r in rows for c in columns):
            return None
        return sorted(rows, key=attrgetter(*columns))  # stable: then as added

    def _keep_new_rows(self, cache: _ChildRows, child_entity: str, via: str, parent_id: int, rows: list[Record]) -> None:
        """The rows just written for a new record are all its rows: keep them, in the order a
        query would give."""
        ordered = self._in_order(child_entity, rows)
        if ordered is not None:
            cache.put((child_entity, via, parent_id), ordered)

    # --- output ------------------------------------------------------------------------

    def serialize(self, obj: Record, *, with_children: bool = True) -> dict[str, Any]:
        entity = obj.__entity__
        out: dict[str, Any] = {"id": obj.id}
        for field in entity.fields.values():
            if field.type == "password":
                continue
            out[field.name] = to_json(field, getattr(obj, field.column_name))
        if with_children:
            for name, rows in self.children(entity, obj).items():
                out[name] = [self.serialize(r, with_children=False) for r in rows]
        for meta in ("version", "created_at", "updated_at", "created_by", "updated_by"):
            value = getattr(obj, meta)
            out[meta] = value.isoformat() if isinstance(value, dt.datetime) else value
        return out


class Batch:
    """What a batch of transitions (app/engine/batch.py) writes once at its end instead of once
    per record: counters already locked by this transaction (they go up in memory), the
    series' last dates, the records' log and audit entries, and the recomputes asked by several
    records (a client's outstanding, once). Kept in the session's info while the batch runs."""

    INFO_KEY = "comptoir.batch"

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.written: dict[str, int] = {}
        self.last_dates: dict[str, Any] = {}
        self.dates_changed: set[str] = set()
        self.logs: list[dict[str, Any]] = []
        self.audits: list[Any] = []  # app.engine.audit.PendingEntry
        self.once: dict[Any, Any] = {}  # key -> consequence, run once at the end

    @classmethod
    def of(cls, session: Session) -> Batch | None:
        return session.info.get(cls.INFO_KEY)

    @classmethod
    def begin(cls, session: Session) -> Batch:
        batch = session.info[cls.INFO_KEY] = cls()
        return batch

    @staticmethod
    def end(session: Session) -> None:
        session.info.pop(Batch.INFO_KEY, None)


_KEPT = "comptoir.kept_records"
_INSERTED = "comptoir.inserted_records"


def inserted_here(session: Session, entity_name: str) -> dict[int, Record]:
    """The records of `entity_name` that `create_many` inserted in the session's transaction,
    by id, held until it commits or rolls back (the identity map holds records weakly; the
    transitions of a batch that follow find them there): no other transaction sees nor locks
    them before it commits."""
    _ChildRows.of(session)  # its listeners forget them at commit and rollback
    return session.info.setdefault(_INSERTED, {}).setdefault(entity_name, {})


_NONE = object()
_IMMUTABLE = (str, int, float, bool, Decimal, dt.date, type(None))


class _ChildRows:
    """Child rows read in a session, by (child entity, link field, parent id): the rows, which
    are the session's own objects, so what a verb changes in them is seen at once. An entry is
    used only while no row of its entity is new or deleted and not flushed yet; it is dropped
    when a row of its entity changes parent or place in the order (the link and order columns
    are watched, see `watch`), when a flush writes rows of its entity, on commit and on rollback.

    A fresh entry holds the rows just added for a new record, not flushed yet: it is all the
    record's rows, so it is used although they are pending — until another row of that entity
    is added or a pending one removed (the entries of that entity are then dropped)."""

    INFO_KEY = "comptoir.child_rows"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[str, str, int], list[Record]] = {}
        self.fresh: set[tuple[str, str, int]] = set()

    @classmethod
    def of(cls, session: Session) -> _ChildRows:
        cache = session.info.get(cls.INFO_KEY)
        if cache is None:
            cache = session.info[cls.INFO_KEY] = cls(session)
            event.listen(session, "after_flush", cache._flushed)
            event.listen(session, "transient_to_pending", cache._attached)
            event.listen(session, "pending_to_transient", cache._attached)
            for name in ("after_commit", "after_rollback", "after_soft_rollback"):
                event.listen(session, name, cache._clear)
                event.listen(session, name, lambda *_a: session.info.pop(_KEPT, None))
                event.listen(session, name, lambda *_a: session.info.pop(_INSERTED, None))
        return cache

    def get(self, key: tuple[str, str, int], model: type) -> list[Record] | None:
        rows = self.rows.get(key)
        if rows is not None and key in self.fresh:
            return rows
        if rows is None or _added_or_removed(self.session, model):
            return None  # pending rows: the query autoflushes them, which drops the entry
        return rows

    @staticmethod
    def watch(cls: type, entity_name: str, columns: Iterable[str]) -> None:
        """Drop the entries of `entity_name` in the session of a row whose value of one of these
        attributes (the link to the parent, the order) is set to another: the row may belong to
        another parent, or the rows to another order. Once per mapped class and column."""
        watched: set[str] = cls.__dict__.get("_comptoir_watched") or set()
        for column in columns:
            if column in watched:
                continue
            event.listen(getattr(cls, column), "set", _moved(entity_name))
            watched.add(column)
        setattr(cls, "_comptoir_watched", watched)

    def put(self, key: tuple[str, str, int], rows: list[Record]) -> None:
        self.rows[key] = rows
        self.fresh.discard(key)

    def put_fresh(self, key: tuple[str, str, int], rows: list[Record] | None) -> None:
        if rows is None:
            self.rows.pop(key, None)
            self.fresh.discard(key)
            return
        self.rows[key] = rows
        self.fresh.add(key)

    def _attached(self, _session: Session, obj: Any) -> None:
        if self.fresh:
            self._drop({getattr(getattr(obj, "__entity__", None), "name", None)})

    def _flushed(self, session: Session, _context: Any) -> None:
        written = {getattr(getattr(o, "__entity__", None), "name", None) for o in (*session.new, *session.dirty, *session.deleted)}
        if written:
            self._drop(written)

    def _drop(self, entities: set[Any]) -> None:
        self.rows = {k: v for k, v in self.rows.items() if k[0] not in entities}
        self.fresh = {k for k in self.fresh if k[0] not in entities}

    def _clear(self, *_args: Any) -> None:
        self.rows = {}
        self.fresh = set()


def _add_new(session: Session, objs: list[Record]) -> None:
    """`session.add` of new records made by `_new_object`, without its cascade: the cascade
    looks for related objects through every attribute of every record (a large share of
    creating one), and these have none — their links are written as ids, never as objects."""
    for obj in objs:
        state = instance_state(obj)
        if state.key is not None or state.session_id is not None:
            session.add(obj)  # not a new, unattached record: the ordinary way
            continue
        session._save_impl(state)  # what add does for each object of its cascade


def _added_or_removed(session: Session, model: type) -> bool:
    """Whether rows of `model` are new or deleted in the session and not flushed yet (the
    session's own registers, which `session.new` and `.deleted` are built from)."""
    if session._new and any(isinstance(o, model) for o in session._new.values()):
        return True
    return bool(session._deleted) and any(isinstance(o, model) for o in session._deleted.values())


def _moved(entity_name: str) -> Any:
    def moved(target: Any, value: Any, old: Any, _initiator: Any) -> None:
        if value is old or value == old:
            return
        session = object_session(target)
        cache = session.info.get(_ChildRows.INFO_KEY) if session is not None else None
        if cache is not None:
            cache._drop({entity_name})

    return moved


def _child_order(rt: Runtime, child_entity: str) -> tuple[str, ...]:
    """The field(s) ordering the rows of a child entity (the first collection of it that has
    an order), found once per runtime."""
    key = ("child_order", child_entity)
    found = rt.memo.get(key)
    if found is None:
        found = rt.memo[key] = next(
            ((c.order_by,) for p in rt.spec.entities.values() for c in p.children if c.entity == child_entity and c.order_by), ()
        )
    return found


def textual_fields(entity: EntitySpec) -> list[FieldSpec]:
    return [f for f in entity.fields.values() if FIELD_TYPES[f.type].textual]


def _row_id(raw: Any) -> int | None:
    """The id of an existing child row given in a payload, None for a new row."""
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise StoreError(422, "invalid", _m("identifiant de ligne invalide", "invalid row id"), field="id")
    try:
        return int(raw)
    except ValueError:
        raise StoreError(422, "invalid", _m(f"identifiant de ligne invalide : « {raw} »", f"invalid row id '{raw}'"), field="id") from None
