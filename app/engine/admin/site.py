"""The sqladmin Admin, adjusted: raw form data (our uploads), a menu without empty groups,
a French dashboard, and our routes (link lookups, file downloads, static files)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqladmin import Admin
from sqladmin._menu import CategoryMenu, ViewMenu
from sqladmin.authentication import login_required
from sqladmin.models import BaseView, ModelView
from sqlalchemy import func, select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app.documents.pdf_admin import pdf_endpoint
from app.engine.admin.auth import current_principal
from app.engine.admin.errors import AdminFormError
from app.engine.admin.exports import export_routes
from app.engine.admin.lookup import lookup_endpoint
from app.engine.admin.saved_filters import saved_filter_routes
from app.engine.admin.uploads import UploadConfig, download_endpoint
from app.engine.runtime import Runtime

STATIC_DIR = Path(__file__).parent / "static"


class GroupMenu(CategoryMenu):
    """A menu group shown only when the user may open one of its entries."""

    def is_accessible(self, request: Request) -> bool:
        return any(c.is_visible(request) and c.is_accessible(request) for c in self.children)


class _QuietRefusals(logging.Filter):
    """sqladmin logs every exception of a save with its traceback; a refused form is no error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else record.msg
        return not isinstance(exc, AdminFormError)


async def _close_uploads(request: Request) -> None:
    """Starlette leaves a request's uploaded files open; sqladmin never closes them."""
    if request.method == "POST":
        form = await request.form()
        await form.close()


@dataclass
class DashboardEntry:
    name: str
    icon: str
    url: str
    count: int


class ComptoirAdmin(Admin):
    def __init__(self, *args: Any, runtime: Runtime, uploads: UploadConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runtime = runtime
        routes = [
            Route("/_lookup/{entity}", lookup_endpoint(runtime), name="comptoir_lookup"),
            Route("/_files/{entity}/{pk:int}/{field}", download_endpoint(runtime, uploads), name="comptoir_file"),
            Route("/_pdf/{entity}/{pk:int}", pdf_endpoint(runtime), name="comptoir_pdf"),  # app/documents/pdf_admin.py
            Mount("/_static", app=StaticFiles(directory=STATIC_DIR), name="comptoir_static"),
            *saved_filter_routes(self),
            *export_routes(self),  # multi-document export: app/engine/admin/exports.py
        ]
        self.admin.router.routes[0:0] = routes
        sqladmin_log = logging.getLogger("sqladmin.application")
        if not any(isinstance(f, _QuietRefusals) for f in sqladmin_log.filters):
            sqladmin_log.addFilter(_QuietRefusals())

    async def create(self, request: Request) -> Response:
        try:
            response: Response = await super().create(request)
            return response
        finally:
            await _close_uploads(request)

    async def edit(self, request: Request) -> Response:
        try:
            response: Response = await super().edit(request)
            return response
        finally:
            await _close_uploads(request)

    @staticmethod
    async def _handle_form_data(request: Request, obj: Any = None) -> FormData:
        # sqladmin rewrites empty uploads from the stored value as if it were a storage object;
        # our file fields keep a plain path and uploads.py decides, so the form passes unchanged.
        return await request.form()

    def _build_menu(self, view: ModelView | BaseView) -> None:
        if not view.category:
            super()._build_menu(view)
            return
        group = GroupMenu(name=view.category, icon=view.category_icon)
        group.add_child(ViewMenu(view=view, name=view.name, icon=view.icon))
        self._menu.add(group)

    @login_required
    async def index(self, request: Request) -> Response:
        principal = current_principal(request)
        rt = self.runtime
        readable = [
            v
            for v in self.views
            if isinstance(v, ModelView) and principal is not None and v.is_accessible(request)
        ]

        def count_all() -> list[int]:
            with rt.session() as session:
                return [int(session.scalar(select(func.count()).select_from(v.model)) or 0) for v in readable]

        counts = await anyio.to_thread.run_sync(count_all)
        groups: dict[str, list[DashboardEntry]] = {}
        for view, count in zip(readable, counts):
            entry = DashboardEntry(
                view.name_plural, view.icon, str(request.url_for("admin:list", identity=view.identity)), count
            )
            groups.setdefault(view.category or "Général", []).append(entry)
        context = {"title": "Tableau de bord", "groups": groups, "principal": principal}
        return await self.templates.TemplateResponse(request, "comptoir/index.html", context)
