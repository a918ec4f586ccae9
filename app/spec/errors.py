"""Configuration errors as values: each one carries its file, line and column."""

from __future__ import annotations

from dataclasses import dataclass

from app.spec.model import Location


@dataclass(frozen=True)
class SpecError:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class SpecInvalid(Exception):
    """Raised when a configuration has errors; `errors` lists every one of them."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
