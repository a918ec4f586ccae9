"""One sqladmin ModelView per non-embedded entity, generated from the spec.

The options are checked first (check_admin_spec: every problem with its file and line), and
only then are the classes built with types.new_class, so that no sqladmin assertion ever
reaches a configurator. Reads use sqladmin's queries; every write goes through Store, so the
admin obeys the same rules (required, unique, links, numbering, versions, rights) as the API.
"""

from __future__ import annotations

import types
from typing import Any, Callable, ClassVar, TypeVar

import anyio.to_thread
from sqladmin import ModelView
from sqlalchemy import func, select
from sqlalchemy.sql import operators
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Select
from starlette.requests import Request
from wtforms import Form

from app.documents.pdf_admin import pdf_links
from app.engine.admin import children as child_tables
from app.engine.admin.actions import record_panels
from app.engine.admin import saved_filters as list_filters
from app.engine.admin.auth import current_principal
from app.engine.admin.bulk import bulk_buttons
from app.engine.admin.documents import documents_panel
from app.engine.admin.colours import LegendEntry, RowColours
from app.engine.admin.errors import AdminFormError, french
from app.engine.admin.figures import ROUTE_NAME as PREVIEW_ROUTE
from app.engine.admin.figures import blank_figures, fixed_values, page_figures
from app.engine.admin.filters import SpecFilter, apply_filters, build_filters, filter_kind
from app.engine.admin.formatting import date as format_date
from app.engine.admin.formatting import choice_label, display, input_value, list_formatter
from app.engine.admin.forms import RESERVED_NAMES, build_form, initial_data, store_values
from app.engine.admin.layout import Layout, audit_line, build_layout, column_spec, detail_sections
from app.engine.admin.lookup import LinkLoader
from app.engine.admin.uploads import UploadConfig, UploadRefused, pending_uploads, remove_written, write_upload
from app.engine.fieldtypes import FIELD_TYPES
from app.engine.models import Record
from app.engine.permissions import Principal
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError
from app.engine.workflow import machine_of
from app.spec.errors import SpecError, SpecInvalid
from app.spec.model import AppSpec, EntitySpec, FieldSpec, Location

SUMMARY = "L'enregistrement est refusé : corrigez les champs signalés."
STATE_ERRORS = "comptoir_form_errors"
PAGE_SIZES = (10, 25, 50, 100)
EDIT_FORM = "__comptoir_edit_form__"  # the rules sqladmin passes to scaffold_form for the edit form
T = TypeVar("T")


class EntityView(ModelView):
    """Behaviour shared by every generated view; the class attributes are filled per entity."""

    comptoir_rt: ClassVar[Runtime]
    comptoir_entity: ClassVar[EntitySpec]
    comptoir_layout: ClassVar[Layout]
    comptoir_filters: ClassVar[list[SpecFilter]]
    comptoir_uploads: ClassVar[UploadConfig]
    comptoir_identities: ClassVar[dict[str, str]]  # entity name -> view identity
    comptoir_colours: ClassVar[RowColours]

    list_template = "comptoir/list.html"
    create_template = "comptoir/create.html"
    edit_template = "comptoir/edit.html"
    details_template = "comptoir/details.html"
    can_import = False
    export_types = ["csv"]
    use_pretty_export = True  # French headers and values (custom_export_cell)
    form_columns = ["id"]  # the form is ours (scaffold_form); sqladmin must not preload relations
    column_details_list = ["id"]

    def __init__(self) -> None:
        super().__init__()
        rt, entity = self.comptoir_rt, self.comptoir_entity
        loaders: dict[str, Any] = {}
        for name, options in self.form_ajax_refs.items():
            target = rt.spec.entities[entity.fields[name].to or ""]
            loader = LinkLoader(name, rt.models.cls(target.name), self, **options)
            loaders[name] = loader.bind(rt, target)
        self._form_ajax_refs = loaders
        self._ajax_relation_names = set(loaders)
        self._comptoir_forms: dict[bool, type[Form]] = {}  # by `editing`

    # --- access ---------------------------------------------------------------------------

    def is_accessible(self, request: Request) -> bool:
        principal = current_principal(request)
        return principal is not None and principal.can(self.comptoir_rt.spec, self.comptoir_entity.name, "read")

    def principal(self, request: Request) -> Principal:
        principal = current_principal(request)
        if principal is None:  # login_required ran before any of our hooks
            raise AdminFormError("Session expirée : reconnectez-vous.", status=401)
        return principal

    # --- list -----------------------------------------------------------------------------

    def get_filters(self) -> list[Any]:
        return list(self.comptoir_filters)

    def list_query(self, request: Request) -> Select[Any]:
        stmt = apply_filters(self.comptoir_filters, select(self.model), request.query_params)
        return list_filters.narrow(self, request, stmt)  # saved filter, columns' links

    async def list_context(self, request: Request) -> dict[str, Any]:
        context = await list_filters.list_context(self, request)
        context["comptoir_bulk"] = bulk_buttons(self.comptoir_rt, request, self.comptoir_entity)
        return context

    def row_colour(self, row: Any, request: Request) -> LegendEntry | None:
        principal = current_principal(request)
        return self.comptoir_colours.of(row, principal.user_id if principal is not None else None)

    def sort_query(self, stmt: Select[Any], request: Request) -> Select[Any]:
        # A unique last key keeps pages stable when many rows share the sorted value. It
        # follows the direction of the main key so that one index scan serves both.
        shipped = list_filters.sort_query(self, request, stmt)  # a shipped saved filter's sort
        stmt = shipped if shipped is not None else super().sort_query(stmt, request)
        clauses = stmt._order_by_clauses  # noqa: SLF001 - read-only look at what sqladmin built
        descending = bool(clauses) and getattr(clauses[0], "modifier", None) is operators.desc_op
        pk = self.model.id  # type: ignore[attr-defined]
        return stmt.order_by(pk.desc() if descending else pk.asc())

    async def count(self, request: Request, stmt: Select[Any] | None = None) -> int:
        """Count the filtered rows without the ORDER BY sqladmin wraps into its count."""
        if stmt is not None:
            froms = stmt.get_final_froms()
            inner = getattr(froms[0], "element", None) if len(froms) == 1 else None
            if isinstance(inner, Select):
                stmt = select(func.count()).select_from(inner.order_by(None).subquery())
        return await super().count(request, stmt)

    async def custom_export_cell(self, row: Any, name: str, value: Any) -> str | None:
        """CSV cells as French spreadsheets read them: labels, decimal comma, dd/mm/yyyy."""
        field = column_spec(self.comptoir_entity, name)
        if value is None:
            return ""
        if field.is_link:
            return str(value)
        if field.type in ("choice", "status"):
            return choice_label(self.comptoir_rt.spec, field, str(value))
        if field.type in ("multichoice", "boolean"):
            return str(display(self.comptoir_rt.spec, field, value))
        if field.type in ("date", "datetime"):
            return format_date(value)
        return input_value(field, value)

    def filter_params(self, request: Request, spec_filter: SpecFilter) -> list[tuple[str, str]]:
        """The other query parameters, kept as hidden inputs by a filter's own form."""
        mine = {spec_filter.parameter_name + s for s in ("", "__gte", "__lte", "__contains")}
        return [(k, v) for k, v in request.query_params.multi_items() if k not in mine and k not in ("page", "error")]

    # --- forms ----------------------------------------------------------------------------

    def _refresh_form_rules_cache(self) -> None:
        super()._refresh_form_rules_cache()
        # sqladmin asks for the edit form with these rules: the mark tells it from the create
        # form, whose frozen fields are still inputs.
        self._form_edit_rules = [EDIT_FORM]

    async def scaffold_form(self, rules: list[str] | None = None) -> type[Form]:
        editing = rules == [EDIT_FORM]
        if editing not in self._comptoir_forms:
            self._comptoir_forms[editing] = build_form(
                self.comptoir_rt.spec,
                self.comptoir_entity,
                self.comptoir_layout.order,
                self._form_ajax_refs,
                self.comptoir_rt.defaults,
                editing=editing,
            )
        return self._comptoir_forms[editing]

    async def get_form_data_for_edit(self, obj: Any) -> dict[str, Any]:
        return initial_data(self.comptoir_entity, obj)

    def form_errors(self, request: Request) -> dict[str, str]:
        return dict(getattr(request.state, STATE_ERRORS, {}))

    def upload_url(self, request: Request, obj: Any, field_name: str) -> str | None:
        if obj is None or not getattr(obj, field_name, None):
            return None
        return str(request.url_for("admin:comptoir_file", entity=self.comptoir_entity.name, pk=obj.id, field=field_name))

    def record_title(self, obj: Any) -> str:
        try:
            return str(obj)
        except Exception:  # a title that is a link cannot load on a closed session
            return f"{self.comptoir_entity.label.fr} n° {obj.id}"

    def file_name(self, obj: Any, field_name: str) -> str:
        stored = str(getattr(obj, field_name, "") or "")
        return stored.rsplit("/", 1)[-1].split("-", 1)[-1]

    def preview_url(self, request: Request, pk: Any = None) -> str:
        url = str(request.url_for(f"admin:{PREVIEW_ROUTE}", entity=self.comptoir_entity.name))
        return f"{url}?pk={pk}" if pk is not None else url

    async def create_context(self, request: Request) -> dict[str, Any]:
        rt, entity, principal = self.comptoir_rt, self.comptoir_entity, self.principal(request)

        def build(session: Session) -> dict[str, Any]:
            return {
                "comptoir_fixed": fixed_values(rt.spec, entity, None, editing=False),
                "comptoir_figures": blank_figures(rt, Store(rt, session, principal), entity),
                "comptoir_preview_url": self.preview_url(request),
            }

        context: dict[str, Any] = {"comptoir_children": await self._child_tables(request, None)}
        context.update(await self._in_session(build))
        return context

    async def edit_context(self, request: Request) -> dict[str, Any]:
        context: dict[str, Any] = {"comptoir_children": await self._child_tables(request, request.path_params["pk"])}
        context.update(await self._record_panels(request))
        return context

    async def _record_panels(self, request: Request) -> dict[str, Any]:
        rt, entity, principal = self.comptoir_rt, self.comptoir_entity, self.principal(request)

        def build(session: Session) -> dict[str, Any]:
            store = Store(rt, session, principal)
            obj = store.get(entity.name, request.path_params["pk"])
            return {
                **record_panels(rt, store, request, obj, self.comptoir_identities),
                "comptoir_fixed": fixed_values(rt.spec, entity, obj, editing=True),
                "comptoir_figures": page_figures(store, entity, obj),
                "comptoir_preview_url": self.preview_url(request, obj.id),
            }

        return await self._in_session(build)

    # --- locked records (workflow states that are not editable) ------------------------------

    def _locked(self, model: Any) -> bool:
        machine = machine_of(model) if isinstance(model, Record) else None
        return machine is not None and machine.locked(getattr(model, machine.status_column, None))

    async def check_can_delete(self, request: Request, model: Any) -> bool:
        return not self._locked(model) and bool(await super().check_can_delete(request, model))

    async def check_can_edit(self, request: Request, model: Any) -> bool:
        if self._locked(model) and not machine_of(model).mutable_columns:  # type: ignore[union-attr]
            return False
        return bool(await super().check_can_edit(request, model))

    async def _child_tables(self, request: Request, pk: Any) -> list[child_tables.ChildTable]:
        rt, entity = self.comptoir_rt, self.comptoir_entity
        form = await request.form() if request.method == "POST" else None
        principal = self.principal(request)

        def build(session: Session) -> list[child_tables.ChildTable]:
            if form is not None:
                tables = child_tables.tables_from_submission(rt, session, entity, form, {})
            elif pk is not None:
                store = Store(rt, session, principal)
                obj = store.get(entity.name, pk)
                tables = child_tables.tables_from_records(rt, session, entity, store.children(entity, obj), for_input=True)
            else:
                tables = child_tables.empty_tables(rt.spec, entity)
            for table in tables:
                # a collection of read-only fields only (rows written by a compute) is shown, not edited
                table.can_edit = principal.can(rt.spec, table.entity.name, "edit" if pk is not None else "create") and any(
                    not c.readonly for c in table.columns
                )
            return tables

        return await self._in_session(build)

    async def child_errors(self, request: Request, tables: list[child_tables.ChildTable]) -> list[child_tables.ChildTable]:
        """After a refused save, the submitted rows again, with each cell's error."""
        errors = self.form_errors(request)
        if request.method != "POST" or not errors:
            return tables
        form = await request.form()
        return await self._in_session(
            lambda session: child_tables.tables_from_submission(self.comptoir_rt, session, self.comptoir_entity, form, errors)
        )

    async def _in_session(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.comptoir_rt.session() as session:
                return work(session)

        return await anyio.to_thread.run_sync(run)

    # --- details --------------------------------------------------------------------------

    async def details_context(self, request: Request) -> dict[str, Any]:
        rt, entity = self.comptoir_rt, self.comptoir_entity
        principal = self.principal(request)

        def link_url(field: FieldSpec, target_id: int) -> str | None:
            identity = self.comptoir_identities.get(field.to or "")
            if identity is None or not principal.can(rt.spec, field.to or "", "read"):
                return None
            return str(request.url_for("admin:details", identity=identity, pk=target_id))

        def build(session: Session) -> dict[str, Any]:
            store = Store(rt, session, principal)
            obj = store.get(entity.name, request.path_params["pk"])
            rows = store.children(entity, obj)
            return {
                "comptoir_title": str(obj),
                "comptoir_sections": detail_sections(rt.spec, entity, self.comptoir_layout, obj, link_url),
                "comptoir_children": child_tables.tables_from_records(rt, session, entity, rows, for_input=False),
                "comptoir_audit": audit_line(obj),
                "comptoir_figures": page_figures(store, entity, obj),
                "comptoir_pdf": pdf_links(request, store, entity, obj),
                **record_panels(rt, store, request, obj, self.comptoir_identities),
                "comptoir_documents": documents_panel(store, request, obj),  # the document area
            }

        return await self._in_session(build)

    # --- writing through the Store --------------------------------------------------------

    async def insert_model(self, request: Request, data: dict[str, Any]) -> Any:
        values = {k: v for k, v in store_values(self.comptoir_entity, data).items() if v not in (None, "", [])}
        return await self._save(request, values, pk=None, version=None)

    async def update_model(self, request: Request, pk: str, data: dict[str, Any]) -> Any:
        values = store_values(self.comptoir_entity, data, editing=True)
        return await self._save(request, values, pk=pk, version=data.get("version") or None)

    async def _save(self, request: Request, values: dict[str, Any], *, pk: str | None, version: Any) -> Any:
        rt, entity, config = self.comptoir_rt, self.comptoir_entity, self.comptoir_uploads
        principal = self.principal(request)
        form = await request.form()
        errors: dict[str, str] = {}
        payload: dict[str, Any] = dict(values)
        for table in child_tables.empty_tables(rt.spec, entity):
            rows = child_tables.submitted(form, table)
            if rows is None:
                continue
            errors.update(child_tables.check_rows(rt.spec, table, rows))
            payload[table.name] = child_tables.store_rows(table, rows)
        try:
            uploads, cleared = await pending_uploads(config, entity, form)
        except UploadRefused as exc:
            errors[exc.field] = exc.message
            uploads, cleared = {}, set()
        if errors:
            raise self._refuse(request, AdminFormError(SUMMARY, errors))
        written: list[str] = []
        replaced: list[str] = []

        def run() -> Record:
            for name in cleared:
                payload[name] = None
            for name, pending in uploads.items():
                written.append(write_upload(config, entity, pending))
                payload[name] = written[-1]
            with rt.session() as session:
                store = Store(rt, session, principal)
                if pk is None:
                    obj = store.create(entity.name, payload)
                else:
                    before = store.get(entity.name, pk, action="edit")
                    replaced.extend(str(getattr(before, n)) for n in (*cleared, *uploads) if getattr(before, n, None))
                    obj = store.update(entity.name, pk, payload, expected_version=version)
                session.commit()
                return obj

        try:
            obj = await anyio.to_thread.run_sync(run)
        except StoreError as exc:
            remove_written(config, written)
            raise self._refuse(request, AdminFormError.from_store(exc)) from None
        remove_written(config, replaced)  # the files the saved record no longer points to
        return obj

    def _refuse(self, request: Request, error: AdminFormError) -> AdminFormError:
        setattr(request.state, STATE_ERRORS, error.errors)
        return error

    async def delete_model(self, request: Request, pk: Any) -> None:
        rt, entity = self.comptoir_rt, self.comptoir_entity
        principal = self.principal(request)

        def run() -> None:
            with rt.session() as session:
                Store(rt, session, principal).delete(entity.name, pk)
                session.commit()

        try:
            await anyio.to_thread.run_sync(run)
        except StoreError as exc:
            raise AdminFormError(french(exc.message), status=exc.status) from None


# --- generation ------------------------------------------------------------------------------


def _where(entity: EntitySpec, field: FieldSpec | None = None) -> Location:
    located = (field.location if field is not None else None) or entity.location
    return located or Location(entity.file or f"schema/{entity.name}.yaml", 1, 1)


def check_admin_spec(spec: AppSpec) -> list[SpecError]:
    """What the admin cannot draw, found before any sqladmin class is built."""
    errors: list[SpecError] = []
    for entity in spec.entities.values():
        for field in entity.fields.values():
            if field.name in RESERVED_NAMES:
                errors.append(SpecError(_where(entity, field), f"field name '{field.name}' is reserved by the admin forms; rename it"))
        for name in entity.list.filters:
            if name in entity.fields or name in ("id", "created_at", "updated_at", "created_by", "updated_by", "version"):
                kind = filter_kind(column_spec(entity, name))
                if kind == "unsupported":
                    errors.append(SpecError(_where(entity), f"field '{name}' of type {column_spec(entity, name).type} cannot be a list filter"))
        for name in (*entity.list.columns, *entity.list.filters, *entity.list.search):
            try:
                column_spec(entity, name)
            except KeyError:
                errors.append(SpecError(_where(entity), f"unknown field '{name}' in 'list'"))
    return errors


def _search_paths(spec: AppSpec, entity: EntitySpec) -> list[tuple[str, str]]:
    """(field, searched column) pairs; a link is searched on its target's title (sqladmin joins it)."""
    paths = []
    for name in entity.list.search:
        field = column_spec(entity, name)
        if field.is_link:
            target = spec.entities[field.to or ""]
            title = target.fields.get(target.title)
            if title is not None and FIELD_TYPES[title.type].textual:
                paths.append((name, f"{name}.{title.column_name}"))
        elif field.type != "password":
            paths.append((name, field.column_name))
    return paths


def _sort_key(entity: EntitySpec, name: str) -> str:
    return column_spec(entity, name).column_name


def _ajax_refs(spec: AppSpec, entity: EntitySpec) -> dict[str, dict[str, Any]]:
    refs = {}
    for field in entity.fields.values():
        if not field.is_link or field.readonly:
            continue
        target = spec.entities[field.to or ""]
        textual = [
            target.fields[n].column_name
            for n in dict.fromkeys((target.title, *target.list.search))
            if n in target.fields and FIELD_TYPES[target.fields[n].type].textual
        ]
        refs[field.name] = {"fields": textual or ["id"], "order_by": textual[:1] or ["id"], "limit": 20}
    return refs


def view_attributes(rt: Runtime, entity: EntitySpec, uploads: UploadConfig, identities: dict[str, str]) -> dict[str, Any]:
    spec = rt.spec
    columns = [n for n in entity.list.columns if column_spec(entity, n).type != "password"]
    sortable = [n for n in columns if not column_spec(entity, n).is_link and column_spec(entity, n).type != "multichoice"]
    labels = {name: column_spec(entity, name).label.fr for name in {*columns, "id"}}
    search = _search_paths(spec, entity)
    for name, path in search:
        labels.setdefault(path, column_spec(entity, name).label.fr)
    formatters = {
        n: list_formatter(spec, column_spec(entity, n)) for n in columns if not column_spec(entity, n).is_link
    }
    sort = entity.list.sort
    default_sort = [(_sort_key(entity, sort.lstrip("-")), sort.startswith("-"))] if sort else [("id", False)]
    list_size = entity.list.page_size
    return {
        "name": entity.label.fr,
        "name_plural": entity.plural.fr,
        "icon": entity.icon or "fa-solid fa-table",
        "category": entity.category.fr if entity.category else "",
        "column_list": columns,
        "column_labels": labels,
        "column_formatters": formatters,
        "column_searchable_list": [path for _, path in search],
        "column_sortable_list": sortable,
        "column_default_sort": default_sort,
        "column_export_list": columns,
        "page_size": list_size,
        "page_size_options": sorted({*PAGE_SIZES, list_size}),
        "form_ajax_refs": _ajax_refs(spec, entity),
        "comptoir_rt": rt,
        "comptoir_entity": entity,
        "comptoir_layout": build_layout(entity),
        "comptoir_filters": build_filters(rt, entity),
        "comptoir_uploads": uploads,
        "comptoir_identities": identities,
        "comptoir_colours": RowColours(entity),
        **list_filters.view_attributes(spec, entity, labels, formatters, sortable),
    }


def build_views(rt: Runtime, uploads: UploadConfig) -> list[type[EntityView]]:
    errors = check_admin_spec(rt.spec)
    if errors:
        raise SpecInvalid(errors)
    identities: dict[str, str] = {}
    views: list[type[EntityView]] = []
    for entity in rt.spec.entities.values():
        if entity.embedded:
            continue
        attrs = view_attributes(rt, entity, uploads, identities)
        model = rt.models.cls(entity.name)
        view: type[EntityView] = types.new_class(
            f"{model.__name__}Admin",
            (EntityView,),
            {"model": model},
            lambda ns, attrs=attrs: ns.update(attrs),  # type: ignore[misc]
        )
        identities[entity.name] = view.identity
        views.append(view)
    return views
