"""Saved filters on the admin list page: the selector (shipped, mine, public), applying one
(conditions, columns, sort), saving the current list under a name, deleting my own.

URLs of the list page:
    ?filter=NAME          a shipped filter (`list.saved_filters`), its `where` run in SQL
    ?columns=a,b,c        the columns shown (any field of the entity)
    ?saved=ID             marks the user's filter in use (its parameters are in the URL)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.expression import Select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.engine import saved_filters as store
from app.engine.admin.auth import authenticate, current_principal
from app.engine.admin.formatting import list_formatter
from app.engine.admin.layout import column_spec
from app.spec.list_rules import SavedFilterSpec
from app.spec.model import AppSpec, EntitySpec

if TYPE_CHECKING:
    from app.engine.admin.views import EntityView

SELECTABLE_SYSTEM = store.SHOWN_SYSTEM


@dataclass
class Choice:
    label: str
    url: str
    kind: str  # shipped, mine, public
    active: bool = False
    owner: str = ""
    delete_url: str | None = None  # my own ones
    public: bool = False


@dataclass
class ColumnChoice:
    name: str
    label: str
    shown: bool


@dataclass
class Selector:
    choices: list[Choice] = field(default_factory=list)
    current: str = ""  # label of the filter in use
    save_url: str = ""
    query: str = ""  # the current list parameters, kept by the save form
    columns: list[ColumnChoice] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Choice]:
        return [c for c in self.choices if c.kind == kind]


# --- view attributes ---------------------------------------------------------------------------


def selectable(entity: EntitySpec) -> list[str]:
    """Every column a list may show: the fields (passwords never) and a few system columns."""
    return [n for n, f in entity.fields.items() if f.type != "password"] + list(SELECTABLE_SYSTEM)


def _sortable(entity: EntitySpec, name: str) -> bool:
    spec = column_spec(entity, name)
    return not spec.is_link and spec.type not in ("multichoice", "password", "text")


def view_attributes(
    spec: AppSpec, entity: EntitySpec, labels: dict[str, str], formatters: dict[str, Any], sortable: list[str]
) -> dict[str, Any]:
    """Labels and formatters of every selectable column; the shipped filters' columns sortable."""
    labels, formatters, sortable = dict(labels), dict(formatters), list(sortable)
    for name in selectable(entity):
        f = column_spec(entity, name)
        labels.setdefault(name, f.label.fr)
        if not f.is_link:
            formatters.setdefault(name, list_formatter(spec, f))
    for saved in entity.list.saved_filters:
        for name in (*saved.columns, *([saved.sort.lstrip("-")] if saved.sort else [])):
            if name not in sortable and _sortable(entity, name):
                sortable.append(name)
    return {"column_labels": labels, "column_formatters": formatters, "column_sortable_list": sortable}


# --- the list query ----------------------------------------------------------------------------


def current_shipped(view: EntityView, request: Request) -> SavedFilterSpec | None:
    name = request.query_params.get("filter", "")
    if not name:
        return None
    saved = store.shipped(view.comptoir_entity, name)
    if saved is None:
        known = ", ".join(f.name for f in view.comptoir_entity.list.saved_filters) or "aucun"
        raise HTTPException(400, f"Filtre enregistré « {name} » inconnu (filtres fournis : {known})")
    return saved


def chosen_columns(view: EntityView, request: Request) -> list[str]:
    raw = request.query_params.get("columns", "")
    allowed = selectable(view.comptoir_entity)
    if raw:
        names = [n for n in dict.fromkeys(raw.split(",")) if n in allowed]
        if names:
            return names
    saved = current_shipped(view, request)
    if saved is not None and saved.columns:
        return [n for n in saved.columns if n in allowed]
    return list(view._list_prop_names)  # noqa: SLF001 - the configured columns


def _user_id(request: Request) -> int | None:
    principal = current_principal(request)
    return principal.user_id if principal is not None else None


def narrow(view: EntityView, request: Request, stmt: Select[Any]) -> Select[Any]:
    """The shipped filter's condition, and the links of extra columns loaded with the page."""
    saved = current_shipped(view, request)
    if saved is not None:
        clause = store.shipped_clause(view.comptoir_rt, view.comptoir_entity, saved, _user_id(request))
        if clause is not None:
            stmt = stmt.where(clause)
    loaded = set(view._list_relation_names)  # noqa: SLF001 - sqladmin loads those already
    for name in chosen_columns(view, request):
        f = view.comptoir_entity.fields.get(name)
        if f is not None and f.is_link and name not in loaded:
            stmt = stmt.options(selectinload(getattr(view.model, name)))
    return stmt


def sort_query(view: EntityView, request: Request, stmt: Select[Any]) -> Select[Any] | None:
    """The shipped filter's sort when the user did not click a column; None: the usual sort."""
    if request.query_params.get("sortBy"):
        return None
    saved = current_shipped(view, request)
    if saved is None or not saved.sort:
        return None
    column = getattr(view.model, column_spec(view.comptoir_entity, saved.sort.lstrip("-")).column_name)
    return stmt.order_by(column.desc() if saved.sort.startswith("-") else column.asc())


# --- the page ----------------------------------------------------------------------------------


def _list_url(view: EntityView, request: Request) -> str:
    return str(request.url_for("admin:list", identity=view.identity))


def _sort_params(view: EntityView, sort: str | None) -> list[tuple[str, str]]:
    if not sort or sort.lstrip("-") not in view._sort_fields:  # noqa: SLF001
        return []
    return [("sortBy", sort.lstrip("-")), ("sort", "desc" if sort.startswith("-") else "asc")]


def user_filter_url(view: EntityView, request: Request, saved: store.UserFilter) -> str:
    params = list(saved.conditions)
    if saved.columns:
        params.append(("columns", ",".join(saved.columns)))
    params += _sort_params(view, saved.sort)
    params.append(("saved", str(saved.id)))
    return f"{_list_url(view, request)}?{urlencode(params)}"


async def list_context(view: EntityView, request: Request) -> dict[str, Any]:
    rt, entity = view.comptoir_rt, view.comptoir_entity
    user_id = _user_id(request)
    columns = chosen_columns(view, request)

    def load() -> list[store.UserFilter]:
        with rt.session() as session:
            return store.visible(rt, session, entity.name, user_id)

    mine_and_public = await anyio.to_thread.run_sync(load)
    params = request.query_params
    active_saved, active_shipped = params.get("saved", ""), params.get("filter", "")
    base = _list_url(view, request)
    selector = Selector(save_url=str(request.url_for("admin:comptoir_saved_filter_save", identity=view.identity)))
    for saved in entity.list.saved_filters:
        active = not active_saved and active_shipped == saved.name
        selector.choices.append(Choice(saved.label.fr, f"{base}?{urlencode({'filter': saved.name})}", "shipped", active))
    for saved in mine_and_public:
        mine = saved.user_id == user_id
        delete_url = (
            str(request.url_for("admin:comptoir_saved_filter_delete", identity=view.identity, pk=saved.id)) if mine else None
        )
        selector.choices.append(
            Choice(
                saved.name,
                user_filter_url(view, request, saved),
                "mine" if mine else "public",
                active_saved == str(saved.id),
                owner=saved.owner,
                delete_url=delete_url,
                public=saved.public,
            )
        )
    selector.current = next((c.label for c in selector.choices if c.active), "")
    selector.query = urlencode([(k, v) for k, v in params.multi_items() if k not in ("page", "saved", "error")])
    labels = view._column_labels  # noqa: SLF001
    shown = [ColumnChoice(n, labels.get(n, n), True) for n in columns]
    rest = [ColumnChoice(n, labels.get(n, n), False) for n in selectable(entity) if n not in columns]
    selector.columns = shown + rest
    return {
        "comptoir_columns": columns,
        "comptoir_legend": view.comptoir_colours.legend(),
        "comptoir_selector": selector,
    }


# --- saving and deleting -----------------------------------------------------------------------


def _back(view: EntityView, request: Request, query: str = "", error: str | None = None) -> Response:
    params = parse_qsl(query, keep_blank_values=True)
    if error:
        params = [(k, v) for k, v in params if k != "error"] + [("error", error)]
    url = _list_url(view, request) + (f"?{urlencode(params)}" if params else "")
    return RedirectResponse(url, status_code=303)


def _guarded(admin: Any, work: Callable[[EntityView, Request, int], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        await authenticate(admin.runtime, request)
        principal = current_principal(request)
        if principal is None or principal.user_id is None:
            return RedirectResponse(str(request.url_for("admin:login")), status_code=303)
        view = admin._find_model_view(request.path_params["identity"])  # noqa: SLF001 - 404 when unknown
        if not principal.can(view.comptoir_rt.spec, view.comptoir_entity.name, "read"):
            raise HTTPException(403, "Accès refusé")
        response: Response = await work(view, request, principal.user_id)
        return response

    return endpoint


async def _save(view: EntityView, request: Request, user_id: int) -> Response:
    form = await request.form()
    query = str(form.get("query") or "")
    params = parse_qsl(query, keep_blank_values=True)
    columns = [str(c) for c in form.getlist("columns")]
    by = dict(params)
    sort_by = by.get("sortBy")
    sort = (("-" if by.get("sort") == "desc" else "") + sort_by) if sort_by else None
    rt, entity = view.comptoir_rt, view.comptoir_entity

    def run() -> int:
        with rt.session() as session:
            saved_id = store.save(
                rt,
                session,
                entity,
                user_id,
                name=str(form.get("name") or ""),
                public=form.get("public") in ("1", "on", "true"),
                conditions=params,
                columns=columns or None,
                sort=sort,
            )
            session.commit()
            return saved_id

    try:
        saved_id = await anyio.to_thread.run_sync(run)
    except store.SavedFilterError as exc:
        return _back(view, request, query, exc.message)

    def reread() -> store.UserFilter | None:
        with rt.session() as session:
            return store.find(rt, session, entity.name, user_id, str(saved_id))

    saved = await anyio.to_thread.run_sync(reread)
    if saved is None:  # deleted meanwhile from another tab
        return _back(view, request, query)
    return RedirectResponse(user_filter_url(view, request, saved), status_code=303)


async def _delete(view: EntityView, request: Request, user_id: int) -> Response:
    rt, entity, pk = view.comptoir_rt, view.comptoir_entity, int(request.path_params["pk"])

    def run() -> bool:
        with rt.session() as session:
            done = store.remove(rt, session, entity.name, user_id, pk)
            session.commit()
            return done

    if not await anyio.to_thread.run_sync(run):
        return _back(view, request, error="Ce filtre n'est pas l'un des vôtres : seul son auteur peut le supprimer.")
    return _back(view, request)


def saved_filter_routes(admin: Any) -> list[Route]:
    return [
        Route("/_saved_filters/{identity}", _guarded(admin, _save), methods=["POST"], name="comptoir_saved_filter_save"),
        Route(
            "/_saved_filters/{identity}/{pk:int}/delete",
            _guarded(admin, _delete),
            methods=["POST"],
            name="comptoir_saved_filter_delete",
        ),
    ]
