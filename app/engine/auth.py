"""Users: password checks (argon2), login throttling, API tokens, and the Principal of a user.

The user entity is the engine's built-in one (app/spec/builtin.py).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine.fieldtypes import hash_password
from app.engine.models import Record
from app.engine.permissions import Principal
from app.engine.runtime import Runtime
from app.spec.builtin import USER_ENTITY, USER_RIGHT_ENTITY

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the login is unknown, so that timing does not tell;
    made on first use (hashing takes a noticeable part of a second, at every start)."""
    return _HASHER.hash("not-a-real-password")


@dataclass
class LoginThrottle:
    """Refuses logins for `lockout` seconds after `max_failures` failures within `window`.

    Counted per login and per client address, in this process.
    """

    max_failures: int = 5
    window: float = 15 * 60
    lockout: float = 15 * 60
    clock: Any = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> list[float]:
        return [t for t in self._failures.get(key, []) if now - t < max(self.window, self.lockout)]

    def blocked(self, *keys: str) -> bool:
        now = self.clock()
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if len(recent) >= self.max_failures and now - recent[-1] < self.lockout:
                    return True
        return False

    def failure(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._failures[key] = [*self._recent(key, now), now]

    def success(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def find_user(rt: Runtime, session: Session, login: str) -> Record | None:
    cls = rt.models.cls(USER_ENTITY)
    return session.scalars(select(cls).where(cls.login == login)).first()  # type: ignore[attr-defined]


def check_password(rt: Runtime, session: Session, login: str, password: str) -> Record | None:
    """The active user with this login and password, else None."""
    user = find_user(rt, session, login.strip())
    stored = getattr(user, "password", None) if user is not None else None
    try:
        _HASHER.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or not getattr(user, "active", False):
        return None
    return user


def principal_for(rt: Runtime, session: Session, user: Record) -> Principal:
    right_cls = rt.models.cls(USER_RIGHT_ENTITY)
    rights = session.scalars(select(right_cls).where(right_cls.user_id == user.id)).all()  # type: ignore[attr-defined]
    grants = frozenset((r.entity, r.action) for r in rights if r.effect == "grant")  # type: ignore[attr-defined]
    denials = frozenset((r.entity, r.action) for r in rights if r.effect == "deny")  # type: ignore[attr-defined]
    return Principal(
        user_id=user.id,
        login=user.login,  # type: ignore[attr-defined]
        groups=tuple(getattr(user, "groups", None) or ()),
        kind=getattr(user, "kind", None) or "internal",
        grants=grants,
        denials=denials,
    )


def load_principal(rt: Runtime, session: Session, user_id: int) -> Principal | None:
    user = session.get(rt.models.cls(USER_ENTITY), user_id)
    if user is None or not getattr(user, "active", False):
        return None
    return principal_for(rt, session, user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(rt: Runtime, session: Session, user: Record) -> str:
    """A new API token for the user; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.execute(rt.models.tokens.insert().values(user_id=user.id, token_hash=_token_hash(token)))
    return token


def principal_from_token(rt: Runtime, session: Session, token: str) -> Principal | None:
    table = rt.models.tokens
    user_id = session.execute(
        select(table.c.user_id).where(table.c.token_hash == _token_hash(token))
    ).scalar()
    if user_id is None:
        return None
    return load_principal(rt, session, int(user_id))


def set_password(user: Record, password: str) -> None:
    user.password = hash_password(password)  # type: ignore[attr-defined]
