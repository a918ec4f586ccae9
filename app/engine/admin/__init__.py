"""The generated admin under /admin/: sqladmin views built from the spec, in French,
with session login, CSRF protection and the same rights and rules as the API."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from app.engine.admin.actions import ROUTE_NAME, action_endpoint
from app.engine.admin.auth import SessionAuth, SpecAuthorization
from app.engine.admin.bulk import ROUTE_NAME as BULK_ROUTE
from app.engine.admin.bulk import bulk_endpoint
from app.engine.admin.csrf import CSRFMiddleware, csrf_input, csrf_token
from app.engine.admin.documents import document_routes
from app.engine.admin.figures import ROUTE_NAME as PREVIEW_ROUTE
from app.engine.admin.figures import figure_text, preview_endpoint
from app.engine.admin.i18n import register_french
from app.engine.admin.site import ComptoirAdmin
from app.engine.admin.uploads import UploadConfig
from app.engine.admin.views import build_views
from app.engine.auth import LoginThrottle
from app.engine.runtime import Runtime

__all__ = ["mount_admin"]

TEMPLATES = Path(__file__).parent / "templates"
TITLE = "Comptoir"
FORM_OVERHEAD = 1024 * 1024  # room for the text fields around an upload


def mount_admin(app: Starlette, rt: Runtime) -> None:
    """Mount the admin on `app` (which must already have the session middleware);
    the Admin object is left in app.state.admin."""
    i18n = register_french()
    throttle = getattr(app.state, "login_throttle", None)
    if not isinstance(throttle, LoginThrottle):
        throttle = LoginThrottle()
        app.state.login_throttle = throttle
    uploads = UploadConfig.from_env()
    views = build_views(rt, uploads)  # raises SpecInvalid before sqladmin sees anything
    authentication = SessionAuth(rt, throttle)
    admin = ComptoirAdmin(
        app,
        session_maker=sessionmaker(bind=rt.engine, expire_on_commit=False),
        base_url="/admin",
        title=TITLE,
        templates_dir=str(TEMPLATES),
        # a document-area upload without JavaScript is held whole by the CSRF check
        middlewares=[Middleware(CSRFMiddleware, max_body=max(uploads.max_bytes, rt.spec.files.max_bytes) + FORM_OVERHEAD)],
        authentication_backend=authentication,
        authorization_backend=SpecAuthorization(rt, {v.identity: v.comptoir_entity.name for v in views}),
        i18n_config=i18n,
        runtime=rt,
        uploads=uploads,
    )
    authentication.admin = admin
    admin.templates.env.globals["csrf_token"] = csrf_token
    admin.templates.env.globals["csrf_input"] = csrf_input
    admin.templates.env.globals["comptoir_figure_text"] = figure_text
    for view in views:
        admin.add_view(view)
    identities = {v.comptoir_entity.name: v.identity for v in views}
    route = Route("/_action/{entity}/{pk:int}/{name}", action_endpoint(rt, identities), methods=["POST"], name=ROUTE_NAME)
    admin.admin.router.routes.insert(0, route)
    bulk = Route("/_bulk/{entity}/{name}", bulk_endpoint(rt, identities), methods=["POST"], name=BULK_ROUTE)
    admin.admin.router.routes.insert(0, bulk)  # the list's actions on the ticked rows
    preview = Route("/{entity}/totals-preview", preview_endpoint(rt, lambda: admin.templates.env), methods=["POST"], name=PREVIEW_ROUTE)
    admin.admin.router.routes.insert(0, preview)
    admin.admin.router.routes[0:0] = document_routes(rt, identities)
    app.state.admin = admin
