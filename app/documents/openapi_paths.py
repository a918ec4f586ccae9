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
