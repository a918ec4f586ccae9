"""OpenAPI entries of /{entity}/{id}/follow-up (app/engine/followup_api.py) and
/{entity}/{id}/mail (app/documents/sending_api.py), for the entities with a `follow_up:`."""

from __future__ import annotations

from typing import Any

from app.spec.model import AppSpec, EntitySpec

SENT_STEP = "sent"


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ADDRESSES = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 20}]}
MAIL_BODY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "Ce qui est omis prend la valeur proposée par GET / What is left out takes the value GET proposes",
    "properties": {
        "to": _ADDRESSES,
        "cc": _ADDRESSES,
        "subject": {"type": "string", "maxLength": 300},
        "body": {"type": "string", "maxLength": 20000},
        "template": {"type": "string", "description": "Modèle PDF joint / PDF template attached"},
        "files": {"type": "array", "items": {"type": "integer"}, "description": "Fichiers de l'espace documents / Document-area files"},
    },
}


def follow_up_paths(spec: AppSpec, entity: EntitySpec) -> dict[str, Any]:
    workflow = spec.workflows.get(entity.name)
    follow_up = getattr(workflow, "follow_up", None) if workflow is not None else None
    if follow_up is None:
        return {}
    name, tag = entity.name, [entity.name]
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    document = _json("Le suivi : journal et prochaine étape / The follow-up: log and next step", {"type": "object"})
    paths: dict[str, Any] = {
        f"/{name}/{{id}}/follow-up": {
            "parameters": [id_param],
            "get": {"operationId": f"follow_up_{name}", "tags": tag, "summary": "Suivi de l'enregistrement / The record's follow-up",
                    "responses": {"200": document, **_errors("401", "403", "404")}},
            "post": {
                "operationId": f"add_follow_up_{name}", "tags": tag, "summary": "Étape de suivi manuelle / A manual follow-up entry",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["step"], "additionalProperties": False,
                    "properties": {"step": {"type": "string"}, "note": {"type": "string", "maxLength": 2000}, "date": {"type": "string", "format": "date"}},
                }}}},
                "responses": {"201": document, **_errors("400", "401", "403", "404", "422")},
            },
        }
    }
    if any(s.code == SENT_STEP for s in follow_up.steps):
        paths[f"/{name}/{{id}}/mail"] = {
            "parameters": [id_param],
            "get": {"operationId": f"mail_preview_{name}", "tags": tag, "summary": "Le message proposé / The proposed mail",
                    "responses": {"200": _json("Destinataires, objet, message, pièces jointes / Recipients, subject, body, attachments", {"type": "object"}),
                                  **_errors("401", "403", "404")}},
            "post": {
                "operationId": f"mail_{name}", "tags": tag,
                "summary": "Envoyer par e-mail (PDF joint), marquer envoyé / Send by e-mail (PDF attached), mark sent",
                "requestBody": {"required": False, "content": {"application/json": {"schema": MAIL_BODY}}},
                "responses": {
                    "200": _json("Envoyé, et l'enregistrement / Sent, and the record", {"type": "object"}),
                    **_errors("400", "401", "403", "404", "422"),
                    "502": {"description": "Message refusé par le serveur de messagerie / Mail refused by the mail server",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            },
        }
    return paths
