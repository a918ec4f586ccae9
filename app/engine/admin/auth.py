"""Who is logged in to the admin (session) and what they may do (the same rights as the API).

Login checks the password with app.engine.auth.check_password, refuses for a while after
repeated failures (LoginThrottle), and stores only the user id in the session. Every request
reloads the user's Principal, so a deactivated user or a changed right applies at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqladmin.authentication import AuthenticationBackend
from sqladmin.authorization import Action, AuthorizationBackend
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from app.engine.admin.csrf import rotate_token
from app.engine.auth import LoginThrottle, check_password, load_principal
from app.engine.permissions import Principal
from app.engine.runtime import Runtime

if TYPE_CHECKING:
    from sqladmin.application import BaseAdmin

SESSION_USER = "user_id"
EXTERNAL = -1  # _check's answer for a right password of an external user
ADDRESS_FAILURES = 50
STATE_PRINCIPAL = "comptoir_principal"

BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
EXTERNAL_REFUSED = (
    "Les utilisateurs externes (clients, fournisseurs) n'ont pas accès à l'administration : "
    "utilisez l'API ou le portail client. / External users cannot use the admin."
)
THROTTLED = (
    "Trop de tentatives de connexion échouées : la connexion est bloquée pendant "
    "{minutes} minutes. Réessayez plus tard ou demandez à un administrateur."
)

# sqladmin action -> our right
ACTION_RIGHTS: dict[str, str] = {
    Action.LIST: "read",
    Action.DETAILS: "read",
    Action.EXPORT: "read",
    Action.CREATE: "create",
    Action.EDIT: "edit",
    Action.DELETE: "delete",
    Action.IMPORT: "create",
}


def current_principal(conn: HTTPConnection) -> Principal | None:
    principal = getattr(conn.state, STATE_PRINCIPAL, None)
    return principal if isinstance(principal, Principal) else None


class SessionAuth(AuthenticationBackend):
    """Session login against the built-in `user` entity."""

    def __init__(self, rt: Runtime, throttle: LoginThrottle, address_throttle: LoginThrottle | None = None) -> None:
        # No SessionMiddleware of our own: the application's (HttpOnly, SameSite=strict) is used.
        self.middlewares = []
        self.rt = rt
        self.throttle = throttle  # per login
        # Per client address, with more room: behind a proxy every user shares one address.
        self.address_throttle = address_throttle or LoginThrottle(max_failures=ADDRESS_FAILURES)
        self.admin: BaseAdmin | None = None

    async def login(self, request: Request) -> Response | bool:
        form = await request.form()
        login = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        client = request.client.host if request.client else "unknown"
        login_key, address_key = f"admin-login:{login.lower()}", f"admin-ip:{client}"
        if self.throttle.blocked(login_key) or self.address_throttle.blocked(address_key):
            minutes = max(1, round(self.throttle.lockout / 60))
            return await self._login_page(request, THROTTLED.format(minutes=minutes), 429)
        user_id = await anyio.to_thread.run_sync(self._check, login, password)
        if user_id == EXTERNAL:
            return await self._login_page(request, EXTERNAL_REFUSED, 403)
        if user_id is None:
            self.throttle.failure(login_key)
            self.address_throttle.failure(address_key)
            return await self._login_page(request, BAD_CREDENTIALS, 400)
        self.throttle.success(login_key)
        request.session.clear()
        request.session[SESSION_USER] = user_id
        rotate_token(request)
        return True

    def _check(self, login: str, password: str) -> int | None:
        with self.rt.session() as session:
            user = check_password(self.rt, session, login, password)
            if user is not None and getattr(user, "kind", "internal") == "external":
                return EXTERNAL
            return None if user is None else int(user.id)

    async def _login_page(self, request: Request, error: str, status: int) -> Response:
        if self.admin is None:
            return Response(error, status_code=status, media_type="text/plain; charset=utf-8")
        return await self.admin.templates.TemplateResponse(
            request, "sqladmin/login.html", {"error": error}, status_code=status
        )

    async def logout(self, request: Request) -> Response | bool:
        request.session.clear()
        return True

    async def authenticate(self, request: Request) -> Response | bool:
        return await authenticate(self.rt, request)

    async def get_user_id(self, request: Request) -> Any:
        return request.session.get(SESSION_USER)


async def authenticate(rt: Runtime, request: Request) -> bool:
    """Load the Principal of the session's user onto request.state; False when there is none."""
    if current_principal(request) is not None:
        return True
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        return False

    def load() -> Principal | None:
        with rt.session() as session:
            return load_principal(rt, session, user_id)

    principal = await anyio.to_thread.run_sync(load)
    if principal is None or principal.kind == "external":
        request.session.clear()
        return False
    setattr(request.state, STATE_PRINCIPAL, principal)
    return True


class SpecAuthorization(AuthorizationBackend):
    """sqladmin asks about views and actions; we answer with Principal.can on the entity."""

    def __init__(self, rt: Runtime, identities: dict[str, str]) -> None:
        self.rt = rt
        self.identities = identities  # sqladmin view identity -> entity name

    def has_permission(self, request: Request, identity: str, action: str, obj: Any | None = None) -> bool:
        principal = current_principal(request)
        entity = self.identities.get(identity)
        right = ACTION_RIGHTS.get(action)
        if principal is None or entity is None or right is None:
            return False
        return principal.can(self.rt.spec, entity, right)


async def signed_in(rt: Runtime, request: Request) -> Principal | None:
    """The session's user, or None: the caller then answers `to_login(request)`."""
    if not await authenticate(rt, request):
        return None
    return current_principal(request)  # put there by authenticate()


def to_login(request: Request) -> Response:
    return RedirectResponse(str(request.url_for("admin:login")), status_code=303)
