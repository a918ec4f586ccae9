"""Searching link targets for select boxes, fast on large tables.

A lookup never loads all targets and reads indexes first: a prefix range of the target's title
column (a handful of index pages, even with 100,000 rows), then prefix ranges of its other
indexed search fields (code, e-mail, SIREN...), and only when that gives fewer than `limit`
results, a "contains" scan of the title's index alone.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import anyio.to_thread
from sqladmin.ajax import QueryAjaxModelLoader
from sqlalchemy import Column, Table, UniqueConstraint, and_, or_, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.engine.admin.auth import authenticate, current_principal
from app.engine.fieldtypes import FIELD_TYPES
from app.engine.models import Record
from app.engine.runtime import Runtime
from app.spec.model import EntitySpec

LIMIT = 20
MAX_TERM = 100


def _indexed(table: Table, column: Column[Any]) -> bool:
    if any(ix.columns[0] is column for ix in table.indexes):
        return True
    return any(isinstance(c, UniqueConstraint) and list(c.columns)[0] is column for c in table.constraints)


def search_columns(rt: Runtime, entity: EntitySpec) -> tuple[Column[Any] | None, list[Column[Any]]]:
    """The title column (if textual) and the other indexed textual search columns."""
    table = rt.models.tables[entity.name]
    title_field = entity.fields.get(entity.title)
    title = table.c[title_field.column_name] if title_field is not None and FIELD_TYPES[title_field.type].textual else None
    others: list[Column[Any]] = []
    for name in entity.list.search:
        field = entity.fields.get(name)
        if field is None or not FIELD_TYPES[field.type].textual:
            continue
        column = table.c[field.column_name]
        if column is not title and column not in others and _indexed(table, column):
            others.append(column)
    return title, others


def _prefix_ranges(column: Any, term: str) -> Any:
    """`column` starts with `term` in any usual capitalisation, as index range scans."""
    ranges = []
    for variant in dict.fromkeys((term, term.lower(), term.upper(), term.capitalize(), term.title())):
        last = ord(variant[-1])
        if last >= 0xD7FF:
            continue
        upper = variant[:-1] + chr(last + 1)
        ranges.append(and_(column >= variant, column < upper))
    return or_(*ranges) if ranges else None


def search_targets(rt: Runtime, session: Session, entity: EntitySpec, term: str, limit: int = LIMIT) -> list[Record]:
    cls = rt.models.cls(entity.name)
    table = rt.models.tables[entity.name]
    term = term.strip()[:MAX_TERM]
    if not term:
        return []
    title, others = search_columns(rt, entity)
    ids: list[int] = []

    def add(query: Any) -> None:
        if ids:
            query = query.where(table.c.id.not_in(ids))
        ids.extend(session.scalars(query.limit(limit - len(ids))))

    if term.isdigit() and session.get(cls, int(term)) is not None:
        ids.append(int(term))
    for column in [c for c in (title, *others) if c is not None]:
        ranges = _prefix_ranges(column, term)
        if ranges is not None and len(ids) < limit:
            add(select(table.c.id).where(ranges, column.ilike(f"{_escape(term)}%", escape="\\")).order_by(column, table.c.id))
    if title is not None and len(ids) < limit:
        add(select(table.c.id).where(title.ilike(f"%{_escape(term)}%", escape="\\")).order_by(title, table.c.id))
    if not ids:
        return []
    records = {r.id: r for r in session.scalars(select(cls).where(table.c.id.in_(ids)))}
    return [records[i] for i in ids if i in records]


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def option(record: Record) -> dict[str, str]:
    return {"id": str(record.id), "text": str(record)}


class LinkLoader(QueryAjaxModelLoader):
    """sqladmin's form_ajax_refs loader, searching with `search_targets` and the reader's rights."""

    rt: Runtime
    target: EntitySpec

    def bind(self, rt: Runtime, target: EntitySpec) -> LinkLoader:
        self.rt = rt
        self.target = target
        self.limit = LIMIT
        return self

    async def get_list(self, request: Request, term: str) -> list[Any]:
        principal = current_principal(request)
        if principal is None or not principal.can(self.rt.spec, self.target.name, "read"):
            return []

        def run() -> list[dict[str, str]]:
            with self.rt.session() as session:  # titles are read here: a title may be a link
                return [option(r) for r in search_targets(self.rt, session, self.target, term, self.limit)]

        return await anyio.to_thread.run_sync(run)

    async def format_by_pk(self, pk: Any) -> dict[str, Any]:
        try:
            record_id = int(str(pk))
        except (TypeError, ValueError):
            return {}

        def run() -> dict[str, str]:
            with self.rt.session() as session:
                record = session.get(self.rt.models.cls(self.target.name), record_id)
                return option(record) if record is not None else {}

        return await anyio.to_thread.run_sync(run)

    def format(self, model: Any) -> dict[str, Any]:
        if isinstance(model, dict):
            return model
        if not isinstance(model, Record):
            raise TypeError("not a record")  # sqladmin then falls back to format_by_pk
        return option(model)


def lookup_endpoint(rt: Runtime) -> Callable[[Request], Awaitable[Response]]:
    """GET /admin/_lookup/{entity}?term=…: options for filters and child rows (read right)."""

    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return JSONResponse({"results": [], "error": "non connecté"}, status_code=401)
        principal = current_principal(request)
        entity = rt.spec.entities.get(request.path_params["entity"])
        if entity is None or principal is None or not principal.can(rt.spec, entity.name, "read"):
            return JSONResponse({"results": [], "error": "accès refusé"}, status_code=403)
        term = request.query_params.get("term", "")

        def run() -> list[dict[str, str]]:
            with rt.session() as session:
                return [option(r) for r in search_targets(rt, session, entity, term)]

        return JSONResponse({"results": await anyio.to_thread.run_sync(run)})

    return endpoint


def titles(rt: Runtime, session: Session, entity_name: str, ids: set[int]) -> dict[int, str]:
    """The display names of a few records, in one query."""
    if not ids:
        return {}
    cls = rt.models.cls(entity_name)
    table = rt.models.tables[entity_name]
    return {r.id: str(r) for r in session.scalars(select(cls).where(table.c.id.in_(sorted(ids))))}
