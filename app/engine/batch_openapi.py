"""OpenAPI entries of the batch endpoints (app/engine/batch_api.py), added per entity by
app/engine/openapi.py: /{entity}/batch, and /{entity}/actions/{name} for each transition."""

from __future__ import annotations

from typing import Any

from app.engine.batch import MAX_BATCH
from app.spec.model import AppSpec, EntitySpec, Label


def _label(label: Label) -> str:
    return label.fr if label.fr == label.en else f"{label.fr} / {label.en}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


TOO_LARGE: dict[str, Any] = {
    "description": f"Plus de {MAX_BATCH} enregistrements, ou corps trop volumineux / More than {MAX_BATCH} records, or body too large",
    "content": {"application/json": {"schema": _ref("Error")}},
}
IDS_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["ids"],
                "additionalProperties": False,
                "properties": {
                    "ids": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 1},
                        "minItems": 1,
                        "maxItems": MAX_BATCH,
                        "uniqueItems": True,
                        "description": "Les enregistrements, dans l'ordre où l'action les traite / The records, in the order the action runs on them",
                    }
                },
            }
        }
    },
}


def batch_paths(spec: AppSpec, entity: EntitySpec) -> dict[str, Any]:
    name, tag = entity.name, [entity.name]
    paths: dict[str, Any] = {
        f"/{name}/batch": {
            "post": {
                "operationId": f"create_many_{name}",
                "tags": tag,
                "summary": f"Créer plusieurs : {_label(entity.plural)} / Create many",
                "description": (
                    "Tout ou rien, dans une transaction : au premier refus rien n'est créé et `field` nomme "
                    "l'enregistrement (`records[3].lines[0].quantity`). / All or nothing, in one transaction."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["records"],
                                "additionalProperties": False,
                                "properties": {"records": {"type": "array", "items": _ref(name), "minItems": 1, "maxItems": MAX_BATCH}},
                            }
                        }
                    },
                },
                "responses": {
                    "201": {"description": "Créés / Created", "content": {"application/json": {"schema": _ref(f"{name}.batch")}}},
                    "413": TOO_LARGE,
                    **_errors("400", "401", "403", "409", "422"),
                },
            }
        }
    }
    workflow = spec.workflows.get(name)
    for transition in workflow.transitions.values() if workflow is not None else ():
        target = f" → {transition.target}" if transition.target else ""
        paths[f"/{name}/actions/{transition.name}"] = {
            "post": {
                "operationId": f"{transition.name}_many_{name}",
                "tags": tag,
                "summary": f"{_label(transition.label)} : plusieurs {entity.plural.fr.lower()} / many {entity.plural.en.lower()}",
                "description": (
                    f"Depuis / from: {', '.join(transition.sources)}{target}. "
                    "Sur chaque enregistrement dans l'ordre, en une transaction, tout ou rien : le premier refus "
                    "est répondu comme par l'action d'un enregistrement et rien ne change. "
                    "/ On each record in order, in one transaction, all or nothing."
                ),
                "requestBody": IDS_BODY,
                "responses": {
                    "200": {
                        "description": "Un résultat par enregistrement, dans l'ordre / One result per record, in order",
                        "content": {"application/json": {"schema": _ref("BatchActionResult")}},
                    },
                    "409": {
                        "description": "Action impossible depuis l'état d'un enregistrement ; `allowed` liste ses actions possibles / Not allowed from a record's state",
                        "content": {"application/json": {"schema": _ref("TransitionRefused")}},
                    },
                    "413": TOO_LARGE,
                    **_errors("400", "401", "403", "404", "422"),
                },
            }
        }
    return paths


def batch_schemas(spec: AppSpec) -> dict[str, Any]:
    from app.engine.openapi import CREATED  # the single action's answer: same shape

    schemas: dict[str, Any] = {
        f"{e.name}.batch": {
            "type": "object",
            "required": ["records"],
            "properties": {"records": {"type": "array", "items": _ref(e.name)}},
        }
        for e in spec.entities.values()
        if not e.embedded
    }
    if any(name in spec.entities for name in spec.workflows):
        schemas["BatchActionResult"] = {
            "type": "object",
            "required": ["results"],
            "properties": {
                "results": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "from", "to", "created", "warnings"],
                        "properties": {
                            "id": {"type": "integer"},
                            "from": {"type": "string", "description": "L'état avant / The state before"},
                            "to": {"type": "string", "description": "L'état après / The state after"},
                            "created": CREATED,
                            "warnings": {"type": "array", "items": {"type": "string"}, "description": "« fr / en » : l'action a eu lieu / it ran"},
                        },
                    },
                }
            },
        }
    return schemas
