"""Key figures on the admin's record pages, their live preview while a form is edited, and the
text of the fields a form shows without an input (read-only, and frozen ones when editing).

The figures come from the providers of app/engine/figures.py. While lines are typed, the page
posts its form (debounced, with the CSRF token) to POST /admin/{entity}/totals-preview, which
builds the record and its rows *in memory* from the submission — never added to the session,
never saved — and answers the panel drawn by the same template and the same Python totals, so
no rounding is done in JavaScript.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import anyio.to_thread
from jinja2 import Environment
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.engine.admin import children as child_tables
from app.engine.admin.auth import authenticate, current_principal
from app.engine.admin.errors import french
from app.engine.admin.formatting import money, number
from app.engine.admin.layout import field_display
from app.engine.fieldtypes import FieldError, parse_value
from app.engine.figures import FigureGroup, FigureKind, FigureSubject, figures_json, figures_of
from app.engine.models import Record
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError
from app.spec.model import EntitySpec, FieldSpec

ROUTE_NAME = "comptoir_totals_preview"
PANEL_TEMPLATE = "comptoir/_figures_body.html"
NOT_INPUT = ("file", "image", "password", "status")


def figure_text(value: Any, kind: FigureKind = "money") -> str:
    """A figure as French staff read it: « 1 234,50 € », « 35,48 % »; a dash when unknown."""
    if value is None or value == "":
        return "—"
    if kind == "text" or not isinstance(value, (Decimal, int)):
        return str(value)
    if kind == "money":
        return money(Decimal(value))
    if kind == "percent":
        return f"{number(Decimal(value))}\u00a0%"
    return number(value)


def page_figures(store: Store, entity: EntitySpec, record: Record) -> list[FigureGroup]:
    return figures_of(FigureSubject(store, entity, record))


def blank_figures(rt: Runtime, store: Store, entity: EntitySpec) -> list[FigureGroup]:
    """The figures of a new, empty record (the create page before anything is typed)."""
    record = rt.models.cls(entity.name)()
    return figures_of(FigureSubject(store, entity, record, children={}, preview=True))


def fixed_values(spec: Any, entity: EntitySpec, obj: Record | None, *, editing: bool) -> dict[str, Markup | str]:
    """The text of each field drawn without an input: read-only fields, and frozen ones on an
    edit form (a link by its target's title, amounts and dates in French)."""
    values: dict[str, Markup | str] = {}
    for field in entity.fields.values():
        if not (field.readonly or (editing and field.frozen)):
            continue
        values[field.name] = field_display(spec, field, obj) if obj is not None else ""
    return values


# --- the preview -----------------------------------------------------------------------------


def _raw(form: FormData, field: FieldSpec) -> Any:
    return form.getlist(field.name) if field.type == "multichoice" else form.get(field.name)


def _copy(entity: EntitySpec, source: Record | None, target: Record) -> None:
    if source is None:
        return
    for field in entity.fields.values():
        setattr(target, field.column_name, getattr(source, field.column_name, None))


def _defaults(store: Store, entity: EntitySpec, values: dict[str, Any]) -> dict[str, Any]:
    """The defaults the Store would give a new record (an expression that fails is left out)."""
    given = dict(values)
    try:
        store._apply_defaults(entity, given)  # noqa: SLF001 - the Store's own rule, not a copy of it
    except StoreError:
        return values
    return given


def _fill(
    store: Store, entity: EntitySpec, target: Record, raw: dict[str, Any], *, new: bool, skip_frozen: bool, prefix: str, errors: dict[str, str]
) -> None:
    """Parse the submitted values of `entity` onto `target`; a bad value is reported, not set."""
    values: dict[str, Any] = {}
    refused: list[str] = []
    for field in entity.fields.values():
        if field.readonly or field.type in NOT_INPUT or (skip_frozen and field.frozen) or field.name not in raw:
            continue
        text = raw[field.name]
        if new and text in ("", None, []):
            continue  # left blank on a new record: the default applies, as on save
        try:
            values[field.name] = parse_value(field, text, store.spec)
        except FieldError as exc:
            errors[f"{prefix}{field.name}"] = french(exc.message)
            refused.append(field.name)
    if new:
        values = _defaults(store, entity, values)
    for name in refused:  # counts for nothing (not even its default) until it is corrected
        values[name] = None
    for name, value in values.items():
        setattr(target, entity.fields[name].column_name, value)


def preview_figures(rt: Runtime, store: Store, entity: EntitySpec, form: FormData, pk: int | None) -> tuple[list[FigureGroup], dict[str, str]]:
    """The figures of the record as the form stands (nothing saved), and the cells refused."""
    store.require(entity.name, "read")
    stored = store.get(entity.name, pk) if pk is not None else None
    errors: dict[str, str] = {}
    header = rt.models.cls(entity.name)()
    _copy(entity, stored, header)
    raw = {f.name: _raw(form, f) for f in entity.fields.values() if f.name in form}
    _fill(store, entity, header, raw, new=stored is None, skip_frozen=stored is not None, prefix="", errors=errors)
    stored_rows = store.children(entity, stored) if stored is not None else {}
    rows_by_child: dict[str, list[Any]] = {}
    for table in child_tables.empty_tables(rt.spec, entity):
        submitted = child_tables.submitted(form, table)
        if submitted is None:  # the collection is not on the page: the stored rows count
            rows_by_child[table.name] = list(stored_rows.get(table.name, []))
            continue
        by_id = {str(r.id): r for r in stored_rows.get(table.name, [])}
        rows = []
        for index, row in enumerate(submitted):
            line = rt.models.cls(table.entity.name)()
            existing = by_id.get(str(row.get("id") or ""))
            _copy(table.entity, existing, line)
            _fill(
                store, table.entity, line, row, new=existing is None, skip_frozen=existing is not None,
                prefix=f"{table.name}[{index}].", errors=errors,
            )
            rows.append(line)
        rows_by_child[table.name] = rows
    subject = FigureSubject(store, entity, header, children=rows_by_child, preview=True)
    return figures_of(subject), errors


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


def preview_endpoint(rt: Runtime, env: Callable[[], Environment]) -> Callable[[Request], Any]:
    """POST /admin/{entity}/totals-preview[?pk=ID]: `{"html", "groups", "errors"}`, nothing saved."""

    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return _json_error(401, "Session expirée : reconnectez-vous.")
        principal = current_principal(request)
        entity = rt.spec.entities.get(request.path_params["entity"])
        if principal is None or entity is None or entity.embedded:
            return _json_error(404, "Page introuvable.")
        raw_pk = request.query_params.get("pk", "")
        pk = int(raw_pk) if raw_pk.isascii() and raw_pk.isdigit() else None
        form = await request.form()

        def run() -> tuple[list[FigureGroup], dict[str, str]]:
            with rt.session() as session:
                try:
                    return preview_figures(rt, Store(rt, session, principal), entity, form, pk)
                finally:
                    session.rollback()  # nothing of a preview is ever written

        try:
            groups, errors = await anyio.to_thread.run_sync(run)
        except StoreError as exc:
            return _json_error(exc.status, french(exc.message))
        finally:
            await form.close()
        template = env().get_template(PANEL_TEMPLATE)
        context = {"groups": groups}
        html = await template.render_async(context) if template.environment.is_async else template.render(context)
        return JSONResponse({"html": html, "groups": figures_json(groups), "errors": errors})

    return endpoint
