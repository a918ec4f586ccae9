"""Saved list filters: shipped ones from YAML (`list.saved_filters`) and users' own, stored in
one engine table (user, entity, name, public flag, conditions, columns, sort).

A user's filter keeps the list's query parameters as they were when saved (sidebar filters,
search, a shipped filter it builds on): the admin list re-applies them, the API reads the same
ones (`?filter=NAME`). Private filters are seen by their owner only, public ones by everyone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, and_, delete, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.engine.conditions import condition_clause
from app.engine.runtime import Runtime
from app.spec.list_rules import SavedFilterSpec
from app.spec.model import EntitySpec

SAVED_FILTER_TABLE = "comptoir_saved_filter"
NAME_LENGTH = 100
# Query parameters of the admin list that are not conditions of a saved filter.
NOT_CONDITIONS = ("page", "pageSize", "sortBy", "sort", "columns", "saved", "error")
ADMIN_TO_API = {"search": "q"}  # the admin's search box is the API's `q`
SHOWN_SYSTEM = ("id", "created_at", "updated_at")  # system columns a list may show


def saved_filter_table(metadata: MetaData) -> Table:
    return Table(
        SAVED_FILTER_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        Column("entity", String(100), nullable=False),
        Column("name", String(NAME_LENGTH), nullable=False),
        Column("public", Boolean, nullable=False, default=False),
        Column("conditions", JSON, nullable=False),  # [[parameter, value], ...] of the list page
        Column("columns", JSON, nullable=True),  # [field, ...]; None: the list's own columns
        Column("sort", String(100), nullable=True),  # "field" or "-field"
        Column("created_at", DateTime, nullable=False, default=lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)),
        Index(f"ix_{SAVED_FILTER_TABLE}_entity", "entity", "user_id", "id"),
    )


@dataclass(frozen=True)
class UserFilter:
    id: int
    user_id: int
    owner: str  # the owner's login
    entity: str
    name: str
    public: bool
    conditions: tuple[tuple[str, str], ...]
    columns: tuple[str, ...] | None
    sort: str | None


class SavedFilterError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _table(rt: Runtime) -> Table:
    return rt.models.metadata.tables[SAVED_FILTER_TABLE]


def shipped(entity: EntitySpec, name: str) -> SavedFilterSpec | None:
    return next((f for f in entity.list.saved_filters if f.name == name), None)


def shipped_clause(rt: Runtime, entity: EntitySpec, saved: SavedFilterSpec, user_id: int | None) -> ColumnElement[bool] | None:
    if saved.condition is None:
        return None
    return condition_clause(rt.models.tables[entity.name], entity, saved.condition, user_id)


def visible(rt: Runtime, session: Session, entity: str, user_id: int | None) -> list[UserFilter]:
    """The user's own filters of an entity, then the public ones of others, by name."""
    table, users = _table(rt), rt.models.tables["user"]
    mine = table.c.user_id == user_id if user_id is not None else None
    seen = or_(mine, table.c.public.is_(True)) if mine is not None else table.c.public.is_(True)
    query = (
        select(table, users.c.login)
        .join(users, users.c.id == table.c.user_id)
        .where(and_(table.c.entity == entity, seen))
        .order_by(table.c.name, table.c.id)
    )
    found = [_user_filter(row) for row in session.execute(query)]
    return sorted(found, key=lambda f: (f.user_id != user_id, f.name.lower(), f.id))


def find(rt: Runtime, session: Session, entity: str, user_id: int | None, key: str) -> UserFilter | None:
    """A visible filter by id (`12`) or by name (the user's own first)."""
    filters = visible(rt, session, entity, user_id)
    if key.isdigit():
        return next((f for f in filters if f.id == int(key)), None)
    return next((f for f in filters if f.name == key), None)


def save(
    rt: Runtime,
    session: Session,
    entity: EntitySpec,
    user_id: int,
    *,
    name: str,
    public: bool,
    conditions: Sequence[tuple[str, str]],
    columns: Sequence[str] | None,
    sort: str | None,
) -> int:
    """Create the filter, or replace the user's filter of the same name; answers its id."""
    name = " ".join(name.split())
    if not name:
        raise SavedFilterError("Donnez un nom au filtre.", "name")
    if len(name) > NAME_LENGTH:
        raise SavedFilterError(f"Nom trop long ({len(name)} caractères, {NAME_LENGTH} au plus).", "name")
    if shipped(entity, name) is not None:
        raise SavedFilterError(f"« {name} » est le nom d'un filtre fourni : choisissez-en un autre.", "name")
    known = [*entity.fields, *SHOWN_SYSTEM]
    allowed = [n for n, f in entity.fields.items() if f.type != "password"] + list(SHOWN_SYSTEM)
    shown = [c for c in dict.fromkeys(columns or ()) if c in allowed]
    if columns is not None and len(shown) != len(set(columns)):
        unknown = [c for c in columns if c not in shown]
        raise SavedFilterError(f"Colonne inconnue : {', '.join(unknown)}.", "columns")
    if sort is not None and sort.lstrip("-") not in known:
        raise SavedFilterError(f"Tri inconnu : {sort}.", "sort")
    table = _table(rt)
    values = {
        "public": public,
        "conditions": [[k, v] for k, v in conditions if k not in NOT_CONDITIONS],
        "columns": list(shown) if columns else None,
        "sort": sort,
    }
    existing = session.scalar(
        select(table.c.id).where(table.c.user_id == user_id, table.c.entity == entity.name, table.c.name == name)
    )
    if existing is not None:
        session.execute(table.update().where(table.c.id == existing).values(**values))
        return int(existing)
    result = session.execute(table.insert().values(user_id=user_id, entity=entity.name, name=name, **values))
    return int(result.inserted_primary_key[0])


def remove(rt: Runtime, session: Session, entity: str, user_id: int | None, filter_id: int) -> bool:
    """Delete one of the user's own filters; False when it is not theirs (or does not exist)."""
    table = _table(rt)
    if user_id is None:
        return False
    result = session.execute(
        delete(table).where(table.c.id == filter_id, table.c.user_id == user_id, table.c.entity == entity)
    )
    return bool(result.rowcount)


def api_parameters(saved: UserFilter) -> list[tuple[str, str]]:
    """The stored list parameters as API query parameters (search → q; "all" dropped)."""
    return [(ADMIN_TO_API.get(k, k), v) for k, v in saved.conditions if v not in ("", "__all")]


def _user_filter(row: Any) -> UserFilter:
    conditions = row.conditions if isinstance(row.conditions, list) else []
    return UserFilter(
        id=row.id,
        user_id=row.user_id,
        owner=row.login,
        entity=row.entity,
        name=row.name,
        public=bool(row.public),
        conditions=tuple((str(k), str(v)) for k, v in conditions),
        columns=tuple(row.columns) if isinstance(row.columns, list) else None,
        sort=row.sort,
    )


def as_mapping(saved: UserFilter) -> Mapping[str, Any]:
    return {
        "id": saved.id,
        "name": saved.name,
        "public": saved.public,
        "owner": saved.owner,
        "conditions": [list(c) for c in saved.conditions],
        "columns": list(saved.columns) if saved.columns else None,
        "sort": saved.sort,
    }


def apply_for_api(
    rt: Runtime, session: Session, entity: EntitySpec, user_id: int | None, name: str, filters: dict[str, str], options: dict[str, str]
) -> ColumnElement[bool] | None:
    """`?filter=NAME` of the API: a shipped filter or a visible user's one, by name.

    Its stored parameters are added to `filters`/`options` (those given in the request win);
    answers the SQL condition of the shipped filter involved, if any.
    """
    saved = shipped(entity, name)
    if saved is None:
        mine = find(rt, session, entity.name, user_id, name)
        if mine is None:
            names = [f.name for f in entity.list.saved_filters] + [f.name for f in visible(rt, session, entity.name, user_id)]
            listed = ", ".join(names) or "aucun / none"
            raise SavedFilterError(f"filtre inconnu « {name} » (filtres : {listed}) / unknown filter '{name}'", "filter")
        base: SavedFilterSpec | None = None
        for key, value in api_parameters(mine):
            if key == "filter":
                base = shipped(entity, value)
                continue
            target = options if key in ("q", "sort") else filters
            target.setdefault(key, value)
        if mine.sort:
            options.setdefault("sort", mine.sort)
        saved = base
        if saved is None:
            return None
    if saved.sort:
        options.setdefault("sort", saved.sort)
    return shipped_clause(rt, entity, saved, user_id)
