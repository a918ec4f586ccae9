"""The Starlette application: the admin under /admin/, the REST API under /api/v1/."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from app.engine.migrate import migrate
from app.engine.runtime import Runtime, build_runtime, default_config_dir, default_database_url
from app.spec.loader import load_spec_or_raise
from app.spec.model import AppSpec

log = logging.getLogger("comptoir")

SESSION_COOKIE = "comptoir_session"


def secret_key() -> str:
    key = os.environ.get("COMPTOIR_SECRET_KEY")
    if key:
        return key
    log.warning("COMPTOIR_SECRET_KEY is not set: sessions will not survive a restart")
    return secrets.token_urlsafe(32)


def load_runtime(
    config_dir: Path | None = None, database_url: str | None = None, *, spec: AppSpec | None = None
) -> Runtime:
    """Validate the configuration (raising SpecInvalid with every error), build and migrate."""
    spec = spec or load_spec_or_raise(config_dir or default_config_dir())
    rt = build_runtime(spec, database_url or default_database_url())
    migrate(rt)
    return rt


def create_app(
    *,
    config_dir: Path | None = None,
    database_url: str | None = None,
    runtime: Runtime | None = None,
    key: str | None = None,
) -> Starlette:
    from app.engine.admin import mount_admin
    from app.engine.api import api_routes
    from app.engine.jobs_admin import mount_jobs_admin
    from app.engine.scheduler import lifespan as scheduler_lifespan
    from app.web.agenda import mount_agenda

    rt = runtime or load_runtime(config_dir, database_url)

    async def home(request: Request) -> Response:
        return RedirectResponse("/admin/", status_code=302)

    from app.documents.sending_api import mail_routes
    from app.engine.followup_api import follow_up_routes

    app = Starlette(
        # follow-up and mail routes first: /api/v1/{entity}/{id}/follow-up (app/engine/followup_api.py)
        # and /api/v1/{entity}/{id}/mail (« Envoyer par e-mail », app/documents/sending_api.py)
        routes=[Route("/", home), *follow_up_routes(rt), *mail_routes(rt), Mount("/api/v1", routes=api_routes(rt))],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=key or secret_key(),
                session_cookie=SESSION_COOKIE,
                same_site="strict",
                https_only=False,
            )
        ],
        lifespan=scheduler_lifespan(rt),  # this process's job scheduler (app/engine/scheduler.py)
    )
    app.state.runtime = rt
    mount_admin(app, rt)
    mount_jobs_admin(app.state.admin, rt)  # /admin/jobs: the jobs and their runs
    from app.web.dunning import mount_dunning

    mount_dunning(app.state.admin, rt)  # /admin/dunning (« Relances ») and the follow-up panel of record pages
    from app.web.sending import mount_sending

    mount_sending(app.state.admin, rt)  # /admin/_mail/{entity}/{pk}: « Envoyer par e-mail »
    mount_agenda(app, rt)  # /admin/agenda (docs/agenda.md)
    return app
