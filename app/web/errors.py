"""The one JSON error envelope of the API: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from app.engine.store import StoreError


class ApiError(StoreError):
    """A refusal raised inside the API layer (bad path, body or query), before the store."""


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(
    status: int, code: str, message: str, field: str | None = None, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, field), status_code=status, headers=headers)


# The schema of the envelope, referenced by the OpenAPI document.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string", "description": "stable machine code, e.g. `invalid`, `forbidden`"},
                "message": {"type": "string", "description": "French, then ' / ' and English"},
                "field": {
                    "type": ["string", "null"],
                    "description": "the field at fault, e.g. `siret` or `addresses[0].city`",
                },
            },
        }
    },
}
