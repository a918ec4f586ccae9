"""Refusals shown on admin forms: the French half of engine messages, and field-level errors."""

from __future__ import annotations

from app.engine.store import StoreError

SEPARATOR = " / "


def french(message: str) -> str:
    """The French part of an engine message written "français / English".

    Both halves quote the same user input, so when the input itself contains " / " the
    separator count is odd-times-two: the French half is the first half of the pieces.
    """
    parts = message.split(SEPARATOR)
    if len(parts) < 2:
        return message
    if len(parts) % 2 == 0:
        return SEPARATOR.join(parts[: len(parts) // 2])
    return parts[0]


class AdminFormError(Exception):
    """Raised from insert/update/delete so that sqladmin re-renders the form with the input kept.

    `errors` maps a form field name (or a child cell path such as "addresses[0].iban") to
    its French message; str() is the message shown at the top of the form.
    """

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})
        self.status = status

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_store(cls, exc: StoreError) -> AdminFormError:
        message = french(exc.message)
        if exc.code == "conflict":
            return cls(message, {"version": message}, status=exc.status)
        errors = {exc.field: message} if exc.field else {}
        return cls(message, errors, status=exc.status)
