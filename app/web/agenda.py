"""The agenda under /admin/agenda: a FullCalendar page (month, week, day; per user or
everyone), its JSON feed, quick creation of an event or a task from a slot, and the
statistics by event type over a period (page and JSON). See docs/agenda.md.

Its paths avoid sqladmin's `/{identity}/create|list|…` patterns. It is a sqladmin custom view, so the admin's session login, CSRF protection (POST with the
X-CSRF-Token header) and menu apply; rights are those of the `event` and `task` entities.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from jinja2 import ChoiceLoader, FileSystemLoader
from sqladmin import BaseView, expose
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from app.engine.admin.auth import current_principal
from app.engine.permissions import Principal
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError
from app.web.agenda_data import (
    EVENT,
    TASK,
    AgendaInputError,
    check_range,
    event_items,
    parse_day,
    parse_moment,
    parse_user,
    picklist_of,
    statistics,
    statistics_json,
    task_items,
    users_for_selector,
)
from app.web.errors import error_response

WEB_DIR = Path(__file__).parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
STATIC_ROUTE = "agenda_static"
VIEWS = ("dayGridMonth", "timeGridWeek", "timeGridDay", "listWeek")  # FullCalendar's names
QUICK_EVENT_FIELDS = ("title", "type", "start", "end", "all_day", "assigned_user", "account", "description")
QUICK_TASK_FIELDS = ("title", "due_date", "assigned_user", "account", "description")


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _can(request: Request, rt: Runtime, entity: str, action: str) -> bool:
    principal = current_principal(request)
    return principal is not None and entity in rt.spec.entities and principal.can(rt.spec, entity, action)


def _bad(exc: AgendaInputError) -> JSONResponse:
    return error_response(400, "invalid", str(exc), exc.field)


def _period(request: Request) -> tuple[dt.date, dt.date]:
    """`from`/`to` of the statistics; by default the current month."""
    today = dt.date.today()
    first_default = today.replace(day=1)
    next_month = (first_default + dt.timedelta(days=32)).replace(day=1)
    raw_from, raw_to = request.query_params.get("from"), request.query_params.get("to")
    first = parse_day(raw_from, "from") if raw_from else first_default
    last = parse_day(raw_to, "to") if raw_to else next_month - dt.timedelta(days=1)
    return first, last


def make_agenda_view(rt: Runtime, category: str) -> type[BaseView]:
    """The agenda's view class, bound to this runtime (added with admin.add_view)."""

    def run(work: Callable[[Any], Any]) -> Any:
        def in_session() -> Any:
            with rt.session() as session:
                return work(session)

        return anyio.to_thread.run_sync(in_session)

    class AgendaView(BaseView):
        name = "Agenda"
        icon = "fa-solid fa-calendar-days"

        def is_accessible(self, request: Request) -> bool:
            return _can(request, rt, EVENT, "read") or _can(request, rt, TASK, "read")

        @expose("/agenda", methods=["GET"], identity="agenda")
        async def agenda_page(self, request: Request) -> Response:
            principal = current_principal(request)
            me = principal.user_id if principal else None
            users = await run(lambda s: users_for_selector(rt, s))
            types = picklist_of(rt, EVENT, "type")
            config = {
                "feed": str(request.url_for("admin:view-agenda_feed")),
                "create": str(request.url_for("admin:view-agenda_quick")),
                "me": me,
                "canCreateEvent": _can(request, rt, EVENT, "create"),
                "canCreateTask": _can(request, rt, TASK, "create"),
                "initialView": _initial_view(request.query_params.get("view")),
                "initialDate": _initial_date(request.query_params.get("date")),
            }
            context = {
                "title": "Agenda",
                "users": users,
                "me": me,
                "selected": request.query_params.get("user") or ("me" if me else "all"),
                "types": [v for v in types.values if v.active] if types is not None else [],
                "config": json.dumps(config),
                "stats_url": str(request.url_for("admin:view-agenda_stats")),
            }
            return await self.templates.TemplateResponse(request, "agenda/agenda.html", context)

        @expose("/agenda/feed", methods=["GET"], identity="agenda_feed")
        async def agenda_feed(self, request: Request) -> Response:
            principal = current_principal(request)
            try:
                start = parse_moment(request.query_params.get("start"), "start")
                end = parse_moment(request.query_params.get("end"), "end")
                check_range(start, end)
                user_id = parse_user(request.query_params.get("user"), principal.user_id if principal else None)
            except AgendaInputError as exc:
                return _bad(exc)
            with_events, with_tasks = _can(request, rt, EVENT, "read"), _can(request, rt, TASK, "read")
            wanted = request.query_params.get("kinds", "event,task").split(",")

            def items(session: Any) -> list[dict[str, Any]]:
                found = []
                if with_events and "event" in wanted:
                    found += event_items(rt, session, start, end, user_id)
                if with_tasks and "task" in wanted:
                    found += task_items(rt, session, start, end, user_id)
                return found

            return JSONResponse(await run(items))

        @expose("/agenda/quick", methods=["POST"], identity="agenda_quick")
        async def agenda_quick(self, request: Request) -> Response:
            principal = current_principal(request)
            if principal is None:
                return error_response(401, "unauthorized", _m("connexion requise", "login required"))
            try:
                body = await request.json()
            except ValueError:
                return error_response(400, "invalid", _m("corps JSON invalide", "invalid JSON body"))
            if not isinstance(body, dict):
                return error_response(400, "invalid", _m("un objet JSON est attendu", "a JSON object is expected"))
            kind = body.get("kind", "event")
            if kind not in (EVENT, TASK):
                return error_response(422, "invalid", _m("« kind » : event ou task", "'kind': event or task"), "kind")
            return await run(lambda s: _quick_create(rt, s, principal, kind, body))

        @expose("/agenda/stats", methods=["GET"], identity="agenda_stats")
        async def agenda_stats(self, request: Request) -> Response:
            if not _can(request, rt, EVENT, "read"):
                return error_response(403, "forbidden", _m("accès refusé aux événements", "no access to events"))
            context: dict[str, Any] = {"title": "Statistiques des événements", "error": None, "stats": None}
            principal = current_principal(request)
            query = request.query_params
            try:
                first, last = _period(request)
                user_id = parse_user(query.get("user"), principal.user_id if principal else None)
                context["stats"] = await run(lambda s: statistics(rt, s, first, last, user_id))
                shown = (first.isoformat(), last.isoformat(), str(user_id or ""))
            except AgendaInputError as exc:  # the form keeps what was typed, with the message
                context["error"] = str(exc)
                shown = (query.get("from", ""), query.get("to", ""), query.get("user", ""))
            context.update(
                users=await run(lambda s: users_for_selector(rt, s)),
                first=shown[0],
                last=shown[1],
                selected=shown[2],
                agenda_url=str(request.url_for("admin:view-agenda")),
            )
            return await self.templates.TemplateResponse(
                request, "agenda/stats.html", context, status_code=400 if context["error"] else 200
            )

        @expose("/agenda/stats.json", methods=["GET"], identity="agenda_stats_json")
        async def agenda_stats_json(self, request: Request) -> Response:
            if not _can(request, rt, EVENT, "read"):
                return error_response(403, "forbidden", _m("accès refusé aux événements", "no access to events"))
            principal = current_principal(request)
            try:
                first, last = _period(request)
                user_id = parse_user(request.query_params.get("user"), principal.user_id if principal else None)
                stats = await run(lambda s: statistics(rt, s, first, last, user_id))
            except AgendaInputError as exc:
                return _bad(exc)
            return JSONResponse(statistics_json(stats))

    AgendaView.category = category
    return AgendaView


def _initial_view(raw: str | None) -> str:
    return raw if raw in VIEWS else VIEWS[0]


def _initial_date(raw: str | None) -> str | None:
    """`?date=` when it is a valid ISO date; otherwise the calendar opens on today."""
    try:
        return dt.date.fromisoformat(raw or "").isoformat()
    except ValueError:
        return None


def _quick_create(rt: Runtime, session: Any, principal: Principal, kind: str, body: dict[str, Any]) -> Response:
    allowed = QUICK_EVENT_FIELDS if kind == EVENT else QUICK_TASK_FIELDS
    data = {k: v for k, v in body.items() if k in allowed and v not in (None, "")}
    try:
        if kind == EVENT and "start" in data and "end" in data:
            start, end = parse_moment(str(data["start"]), "start"), parse_moment(str(data["end"]), "end")
            if end < start:
                raise AgendaInputError("end", "la fin est avant le début", "the end is before the start")
    except AgendaInputError as exc:
        return error_response(422, "invalid", str(exc), exc.field)
    try:
        record = Store(rt, session, principal).create(kind, data)
        session.commit()
    except StoreError as exc:
        session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.field)
    url = f"/admin/{kind}/details/{record.id}"
    return JSONResponse({"entity": kind, "id": record.id, "url": url}, status_code=201, headers={"location": url})


def mount_agenda(app: Starlette, rt: Runtime) -> None:
    """Add the agenda to the admin mounted on `app` (a configuration without `event` has none)."""
    admin = getattr(app.state, "admin", None)
    if admin is None or EVENT not in rt.spec.entities:
        return
    env = admin.templates.env
    env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), env.loader])
    admin.admin.router.routes.insert(0, Mount("/agenda/_static", app=StaticFiles(directory=STATIC), name=STATIC_ROUTE))
    entity = rt.spec.entities[EVENT]
    category = entity.category.fr if entity.category else ""
    admin.add_view(make_agenda_view(rt, category))
    for group in admin._menu.items:  # the agenda first in its menu group
        if category and group.name == category and len(group.children) > 1:
            group.children.insert(0, group.children.pop())
