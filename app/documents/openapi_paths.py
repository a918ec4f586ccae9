"""OpenAPI paths of the printed documents of an entity with a `pdf:` section:
GET /{entity}/{id}/pdf (?template, ?format) and, with `pdf.facturx`, GET /{entity}/{id}/ubl."""

from __future__ import annotations

from typing import Any

from app.spec.model import EntitySpec


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


def document_paths(entity: EntitySpec, id_param: dict[str, Any]) -> dict[str, Any]:
    if entity.pdf is None:
        return {}
    names = list(entity.pdf.templates)
    template = {
        "name": "template", "in": "query", "required": False,
        "description": "Modèle PDF (par défaut : le premier dont la condition est vraie) / PDF template",
        "schema": {"type": "string", "enum": names},
    }
    fmt = {"name": "format", "in": "query", "required": False, "description": "pdf (défaut) ou ubl", "schema": {"type": "string", "enum": ["pdf", "ubl"]}}
    paths: dict[str, Any] = {
        f"/{entity.name}/{{id}}/pdf": {
            "parameters": [id_param],
            "get": {
                "operationId": f"pdf_{entity.name}",
                "tags": [entity.name],
                "summary": f"PDF : {entity.label.fr} / {entity.label.en}",
                "description": "Brouillon : filigrane SPECIMEN ; document validé : rendu une fois, conservé, Factur-X. "
                "/ Draft: SPECIMEN watermark; validated: rendered once, stored, Factur-X.",
                "parameters": [template, fmt],
                "responses": {
                    "200": {"description": "Le PDF / The PDF", "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                    **_errors("400", "401", "403", "404"),
                },
            },
        }
    }
    paths[f"/{entity.name}/export"] = export_path(entity, names)
    if entity.pdf.facturx is not None:
        paths[f"/{entity.name}/{{id}}/ubl"] = {
            "parameters": [id_param],
            "get": {
                "operationId": f"ubl_{entity.name}",
                "tags": [entity.name],
                "summary": f"UBL 2.1 (EN 16931) : {entity.label.fr} / {entity.label.en}",
                "responses": {
                    "200": {"description": "Le XML UBL / The UBL XML", "content": {"application/xml": {"schema": {"type": "string"}}}},
                    **_errors("401", "403", "404", "409"),
                },
            },
        }
    return paths


def export_path(entity: EntitySpec, templates: list[str]) -> dict[str, Any]:
    """POST /{entity}/export: several records as one PDF or a zip (app/documents/export.py)."""
    body = {
        "type": "object",
        "required": ["ids"],
        "additionalProperties": False,
        "properties": {
            "ids": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 500},
            "format": {"type": "string", "enum": ["pdf", "zip"], "default": "pdf"},
            "template": {"type": "string", "enum": templates},
        },
    }
    return {
        "post": {
            "operationId": f"export_{entity.name}",
            "tags": [entity.name],
            "summary": f"Export de plusieurs documents : {entity.label.fr} / Multi-document export",
            "description": "Un PDF (pour impression, dans l'ordre des ids) ou un zip des PDF séparés (avec leur Factur-X). "
            "/ One PDF (for printing, in the ids' order) or a zip of the separate PDFs (with their Factur-X).",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": {
                    "description": "Le fichier / The file",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                        "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **_errors("400", "401", "403", "404", "422"),
            },
        }
    }
