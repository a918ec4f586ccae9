"""Default values: the spec's expressions compiled once at start-up, evaluated per record."""

from __future__ import annotations

from typing import Any, Mapping

from app.spec.model import AppSpec


def compile_defaults(spec: AppSpec) -> dict[tuple[str, str], Any]:
    from app.spec.expressions import compile_expression

    return {
        (entity.name, field.name): compile_expression(field.default)
        for entity in spec.entities.values()
        for field in entity.fields.values()
        if field.default is not None
    }


def evaluate_default(compiled: Any, context: Mapping[str, Any]) -> Any:
    from app.spec.expressions import evaluate

    return evaluate(compiled, context)
