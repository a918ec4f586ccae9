"""Who may do what: group rights from groups.yaml plus per-user grants and denials."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.spec.model import AppSpec


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request (admin session or API token)."""

    user_id: int | None
    login: str
    groups: tuple[str, ...] = ()
    kind: str = "internal"
    grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    denials: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def can(self, spec: AppSpec, entity: str, action: str) -> bool:
        for key in ((entity, action), (entity, "*"), ("*", action), ("*", "*")):
            if key in self.denials:
                return False
        for key in ((entity, action), (entity, "*"), ("*", action), ("*", "*")):
            if key in self.grants:
                return True
        return any(
            spec.groups[g].allows(entity, action) for g in self.groups if g in spec.groups
        )


SYSTEM = Principal(user_id=None, login="system", groups=(), grants=frozenset({("*", "*")}))
