"""The OpenAPI 3.1 document of the REST API, generated from the spec.

One schema per entity (field types from fieldtypes.FIELD_TYPES, enums from picklists, child
collections nested), one pair of paths per entity that is not embedded, bearer tokens, and
the error envelope. Built once per runtime and served at /api/v1/openapi.json.
"""

from __future__ import annotations

import copy
from typing import Any

from app.documents.openapi_paths import document_paths
from app.engine.fieldtypes import FIELD_TYPES
from app.documents.sending_openapi import follow_up_paths
from app.engine.batch_openapi import batch_paths, batch_schemas
from app.engine.files_openapi import file_paths, file_schemas
from app.spec.model import AppSpec, EntitySpec, FieldSpec, Label
from app.web.errors import ERROR_SCHEMA

OPENAPI_VERSION = "3.1.0"
OPERATORS = ("ne", "gt", "gte", "lt", "lte", "contains", "in", "null")
_ERRORS = {
    "400": "Requête invalide (JSON, filtre, paramètre) / Bad request",
    "401": "Jeton absent ou invalide / Missing or invalid token",
    "403": "Droit refusé / Forbidden",
    "404": "Entité ou enregistrement introuvable / Not found",
    "409": "Conflit de version ou valeur déjà utilisée / Version conflict or duplicate",
    "422": "Valeur refusée ; `field` nomme le champ / Invalid value; `field` names it",
}


# the records an action created (conversions), in an action's answer
CREATED: dict[str, Any] = {
    "type": "array",
    "description": "Documents créés par l'action (conversions) / records the action created",
    "items": {
        "type": "object",
        "required": ["entity", "id", "url"],
        "properties": {"entity": {"type": "string"}, "id": {"type": "integer"}, "url": {"type": "string"}},
    },
}

def _label(label: Label) -> str:
    return label.fr if label.fr == label.en else f"{label.fr} / {label.en}"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def field_schema(spec: AppSpec, field: FieldSpec, *, parent_link: bool = False) -> dict[str, Any]:
    schema = copy.deepcopy(FIELD_TYPES[field.type].json_schema)
    schema["title"] = _label(field.label)
    if field.help is not None:
        schema["description"] = _label(field.help)
    picklist = spec.picklists.get(field.picklist or "")
    if field.type in ("choice", "status", "multichoice") and picklist is not None:
        codes: list[Any] = picklist.codes()
        target = schema if field.type != "multichoice" else schema.setdefault("items", {"type": "string"})
        target["enum"] = codes
    if field.type == "link" and field.to:
        schema["description"] = (schema.get("description", "") + f" Identifiant (id) d'un enregistrement « {field.to} ».").strip()
        schema["x-comptoir-link"] = field.to
        schema["minimum"] = 1
    if field.type == "integer":
        if field.min is not None:
            schema["minimum"] = int(field.min)
        if field.max is not None:
            schema["maximum"] = int(field.max)
    if schema.get("type") == "string" and field.length and field.type not in ("choice", "status", "password"):
        schema["maxLength"] = field.length
    if field.readonly or parent_link:
        schema["readOnly"] = True
    if field.type == "password":
        schema["writeOnly"] = True
    if field.type in ("decimal", "money", "percent"):
        schema["description"] = (
            schema.get("description", "")
            + " Chaîne décimale en sortie (\"1234.50\") ; en entrée aussi un nombre ou « 1 234,50 »."
        ).strip()
    return _nullable(schema)


def _system_properties() -> dict[str, Any]:
    stamp = {"type": "string", "format": "date-time", "readOnly": True}
    who = {"type": ["string", "null"], "readOnly": True}
    return {
        "version": {
            "type": "integer",
            "description": "Version pour le verrouillage optimiste (renvoyez-la, ou If-Match) / optimistic locking version",
        },
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": who,
        "updated_by": who,
    }


def _parent_links(spec: AppSpec) -> dict[str, set[str]]:
    """For each embedded child entity, its link fields pointing to a parent (set by the API)."""
    links: dict[str, set[str]] = {}
    for parent in spec.entities.values():
        for child in parent.children:
            links.setdefault(child.entity, set()).add(child.via)
    return links


LINKS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "readOnly": True,
    "description": (
        "Documents liés : `child` créé depuis celui-ci, `parent` dont celui-ci est issu. "
        "/ Linked documents: `child` made from this one, `parent` this one was made from."
    ),
    "items": {
        "type": "object",
        "required": ["entity", "id", "kind"],
        "properties": {
            "entity": {"type": "string"},
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["child", "parent"]},
            "transition": {"type": ["string", "null"]},
            "title": {"type": ["string", "null"]},
        },
    },
}


_LABEL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["fr", "en"],
    "properties": {"fr": {"type": "string"}, "en": {"type": "string"}},
    "additionalProperties": False,
}
_FIGURE_VALUE: dict[str, Any] = {
    "type": ["string", "null"],
    "description": "Chaîne décimale (\"2.48\"), texte pour `kind: text`, null si incalculable / decimal string",
}
_FIGURE_KIND: dict[str, Any] = {"type": "string", "enum": ["money", "percent", "number", "text"]}
FIGURES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Chiffres clés / Key figures",
    "required": ["entity", "id", "groups"],
    "additionalProperties": False,
    "properties": {
        "entity": {"type": "string"},
        "id": {"type": "integer"},
        "groups": {
            "type": "array",
            "description": (
                "Groupes de chiffres (totaux, TVA par taux, marge…), vides pour un enregistrement "
                "qui n'en a pas / figure groups, empty when the record has none"
            ),
            "items": {
                "type": "object",
                "required": ["key", "label", "columns", "value_label", "figures"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string"},
                    "label": _LABEL_SCHEMA,
                    "columns": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "label", "kind"],
                            "additionalProperties": False,
                            "properties": {"key": {"type": "string"}, "label": _LABEL_SCHEMA, "kind": _FIGURE_KIND},
                        },
                    },
                    "value_label": {"oneOf": [_LABEL_SCHEMA, {"type": "null"}]},
                    "figures": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "label", "kind", "value", "details"],
                            "additionalProperties": False,
                            "properties": {
                                "key": {"type": "string"},
                                "label": _LABEL_SCHEMA,
                                "kind": _FIGURE_KIND,
                                "value": _FIGURE_VALUE,
                                "details": {"type": "object", "additionalProperties": _FIGURE_VALUE},
                            },
                        },
                    },
                },
            },
        },
    },
}


def _figures_path(entity: EntitySpec, id_param: dict[str, Any]) -> dict[str, Any]:
    return {
        "parameters": [id_param],
        "get": {
            "operationId": f"figures_{entity.name}",
            "tags": [entity.name],
            "summary": f"Chiffres clés : {_label(entity.label)}",
            "description": (
                "Totaux, TVA par taux, marge… calculés comme à l'enregistrement ; montants en chaînes. "
                "/ Key figures computed as on save; amounts as strings."
            ),
            "responses": {
                "200": {
                    "description": "Les chiffres clés / The key figures",
                    "content": {"application/json": {"schema": _ref("Figures")}},
                },
                **_errors("401", "403", "404"),
            },
        },
    }


def _workflow_properties(spec: AppSpec, entity: EntitySpec) -> dict[str, Any]:
    from app.engine.links import linkable

    properties: dict[str, Any] = {}
    if entity.name in linkable(spec):
        properties["links"] = LINKS_SCHEMA
    workflow = spec.workflows.get(entity.name)
    if workflow is not None:
        properties["allowed_actions"] = {
            "type": "array",
            "readOnly": True,
            "description": "Actions que vous pouvez lancer maintenant / actions you may run now",
            "items": {"type": "string", "enum": list(workflow.transitions)},
        }
    return properties


def entity_schema(spec: AppSpec, entity: EntitySpec, parent_links: set[str]) -> dict[str, Any]:
    numbered = {n.field for n in entity.numbering}
    properties: dict[str, Any] = {"id": {"type": "integer", "readOnly": True}}
    required_input: list[str] = []
    for field in entity.fields.values():
        is_parent = field.name in parent_links
        schema = field_schema(spec, field, parent_link=is_parent)
        if field.name in numbered:
            schema["readOnly"] = True
        properties[field.name] = schema
        if field.required and field.default is None and field.name not in numbered and not field.readonly and not is_parent:
            required_input.append(field.name)
    for child in entity.children:
        properties[child.name] = {
            "type": "array",
            "title": _label(child.label),
            "description": (
                "Liste complète : une ligne avec `id` est modifiée, sans `id` créée, absente supprimée. "
                "/ Whole list: rows with `id` are updated, without are created, missing ones deleted."
            ),
            "items": _ref(child.entity),
        }
    properties.update(_system_properties())
    properties.update(_workflow_properties(spec, entity))
    result: dict[str, Any] = {
        "type": "object",
        "title": _label(entity.label),
        "properties": properties,
        "additionalProperties": False,
    }
    if required_input:
        result["required"] = required_input
    return result


def _page_schema(entity: EntitySpec) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total", "page", "page_size"],
        "properties": {
            "items": {"type": "array", "items": _ref(entity.name)},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1},
        },
    }


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _record_response(entity: EntitySpec, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"ETag": {"description": "\"version\"", "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": _ref(entity.name)}},
    }


def _body(entity: EntitySpec) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(entity.name)}}}


def _list_parameters(spec: AppSpec, entity: EntitySpec) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Recherche / search"},
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string"},
            "description": "Champ de tri, `-champ` décroissant, séparés par des virgules / sort fields",
        },
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {
            "name": "page_size",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": entity.list.page_size},
        },
    ]
    shipped = [f"`{f.name}` ({f.label.fr})" for f in entity.list.saved_filters]
    params.append(
        {
            "name": "filter",
            "in": "query",
            "schema": {"type": "string"},
            "description": "Filtre enregistré : un filtre fourni ou le nom d'un filtre (le vôtre ou public) / saved filter"
            + (f" — fournis / shipped: {', '.join(shipped)}" if shipped else ""),
        }
    )
    for name in entity.list.filters:
        field = entity.fields.get(name)
        if field is None:
            continue
        schema: dict[str, Any] = {"type": "string"}
        picklist = spec.picklists.get(field.picklist or "")
        if field.type in ("choice", "status") and picklist is not None:
            schema["enum"] = picklist.codes()
        params.append(
            {"name": name, "in": "query", "schema": schema, "description": f"{_label(field.label)} (égal / equals)"}
        )
    return params


def _paths(spec: AppSpec, entity: EntitySpec) -> dict[str, Any]:
    name = entity.name
    plural = _label(entity.plural)
    ops = ", ".join(f"`champ__{op}`" for op in OPERATORS)
    collection = {
        "get": {
            "operationId": f"list_{name}",
            "tags": [name],
            "summary": f"Liste : {plural}",
            "description": (
                f"Tout champ filtre : `?champ=valeur` ou avec un opérateur {ops} "
                "(`__in` : valeurs séparées par des virgules ; `__null` : true/false). "
                "Les collections enfants ne figurent pas dans la liste : lisez l'enregistrement. "
                "/ Any field filters, with the operators above; child collections are left out of lists."
            ),
            "parameters": _list_parameters(spec, entity),
            "responses": {
                "200": {
                    "description": plural,
                    "content": {"application/json": {"schema": _ref(f"{name}.page")}},
                },
                **_errors("400", "401", "403"),
            },
        },
        "post": {
            "operationId": f"create_{name}",
            "tags": [name],
            "summary": f"Créer : {_label(entity.label)}",
            "requestBody": _body(entity),
            "responses": {
                "201": _record_response(entity, "Créé / Created"),
                **_errors("400", "401", "403", "409", "422"),
            },
        },
    }
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    item = {
        "parameters": [id_param],
        "get": {
            "operationId": f"get_{name}",
            "tags": [name],
            "summary": f"Lire : {_label(entity.label)}",
            "responses": {"200": _record_response(entity, "L'enregistrement / The record"), **_errors("401", "403", "404")},
        },
        "patch": {
            "operationId": f"update_{name}",
            "tags": [name],
            "summary": f"Modifier : {_label(entity.label)}",
            "description": (
                "Modification partielle. Verrouillage optimiste : `version` dans le corps ou l'en-tête "
                "If-Match ; 409 si l'enregistrement a changé. / Partial update; optimistic locking."
            ),
            "parameters": [
                {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}}
            ],
            "requestBody": _body(entity),
            "responses": {
                "200": _record_response(entity, "Modifié / Updated"),
                **_errors("400", "401", "403", "404", "409", "422"),
            },
        },
        "delete": {
            "operationId": f"delete_{name}",
            "tags": [name],
            "summary": f"Supprimer : {_label(entity.label)}",
            "responses": {"204": {"description": "Supprimé / Deleted"}, **_errors("401", "403", "404", "409")},
        },
    }
    paths = {f"/{name}": collection, f"/{name}/{{id}}": item, f"/{name}/{{id}}/figures": _figures_path(entity, id_param)}
    paths.update(_action_paths(spec, entity, id_param))
    paths.update(document_paths(entity, id_param))  # /pdf and /ubl: app/documents/openapi_paths.py
    return paths


def _action_paths(spec: AppSpec, entity: EntitySpec, id_param: dict[str, Any]) -> dict[str, Any]:
    workflow = spec.workflows.get(entity.name)
    if workflow is None:
        return {}
    paths: dict[str, Any] = {}
    for transition in workflow.transitions.values():
        sources = ", ".join(transition.sources)
        target = f" → {transition.target}" if transition.target else ""
        details = [f"Depuis / from: {sources}{target}."]
        if transition.condition:
            details.append(f"Condition : `{transition.condition}`.")
        if transition.groups:
            details.append(f"Groupes / groups: {', '.join(transition.groups)}.")
        # the collections copied by copy_to: the body may select some of their rows
        copied = sorted({str(c) for e in transition.effects if e.verb == "copy_to" for c in (e.args.get("children") or {}).values()})
        body: dict[str, Any] = {}
        if copied:
            body = {
                "requestBody": {
                    "required": False,
                    "description": "Sans corps : toutes les lignes sont copiées ; sinon les seules lignes choisies "
                    "/ No body: every row is copied; else only the rows selected",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    c: {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}
                                    for c in copied
                                },
                            }
                        }
                    },
                }
            }
        paths[f"/{entity.name}/{{id}}/actions/{transition.name}"] = {
            "parameters": [id_param],
            "post": {
                "operationId": f"{transition.name}_{entity.name}",
                "tags": [entity.name],
                "summary": f"{_label(transition.label)} : {_label(entity.label)}",
                "description": " ".join(details),
                **body,
                "responses": {
                    "200": {
                        "description": "L'enregistrement après l'action, et ceux qu'elle a créés / The record, and those created",
                        "content": {"application/json": {"schema": _ref("ActionResult." + entity.name)}},
                    },
                    "409": {
                        "description": "Action impossible depuis l'état actuel ; `allowed` liste les possibles / Not allowed from the current state",
                        "content": {"application/json": {"schema": _ref("TransitionRefused")}},
                    },
                    **_errors("401", "403", "404", "422"),
                },
            },
        }
    return paths


def _action_schemas(spec: AppSpec) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name in spec.workflows:
        if name not in spec.entities:
            continue
        schemas[f"ActionResult.{name}"] = {
            "type": "object",
            "required": ["record", "created", "warnings"],
            "properties": {
                "record": _ref(name),
                "warnings": {
                    "type": "array",
                    "description": "Avertissements : l'action a eu lieu, mais à lire (encours dépassé…) / "
                    "warnings: the action ran, but read them (credit limit exceeded…)",
                    "items": {"type": "string"},
                },
                "created": CREATED,
            },
        }
    if schemas:
        refused = copy.deepcopy(ERROR_SCHEMA)
        inner = refused["properties"]["error"]
        inner["required"] = [*inner["required"], "allowed"]
        inner["properties"]["allowed"] = {"type": "array", "items": {"type": "string"}}
        schemas["TransitionRefused"] = refused
    return schemas


def _self_path() -> dict[str, Any]:
    return {
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "Ce document / This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            }
        }
    }


def openapi_document(spec: AppSpec, *, server_url: str = "/api/v1") -> dict[str, Any]:
    parent_links = _parent_links(spec)
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA, "Figures": FIGURES_SCHEMA}
    paths: dict[str, Any] = _self_path()
    for entity in spec.entities.values():
        schemas[entity.name] = entity_schema(spec, entity, parent_links.get(entity.name, set()))
        if entity.embedded:
            continue
        schemas[f"{entity.name}.page"] = _page_schema(entity)
        paths.update(_paths(spec, entity))
        paths.update(batch_paths(spec, entity))  # many records at once: app/engine/batch_api.py
        paths.update(file_paths(entity))  # the document area
        paths.update(follow_up_paths(spec, entity))  # follow-up log and « send by e-mail »
    schemas.update(_action_schemas(spec))
    schemas.update(batch_schemas(spec))
    schemas.update(file_schemas())
    responses = {
        f"E{code}": {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
        for code, text in _ERRORS.items()
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Comptoir",
            "version": "1",
            "description": (
                "API REST générée depuis la configuration YAML. Montants en chaînes décimales, "
                "liens par identifiant, erreurs `{\"error\": {\"code\", \"message\", \"field\"}}`. "
                "/ REST API generated from the YAML configuration."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "tags": [
            {"name": e.name, "description": _label(e.plural)} for e in spec.entities.values() if not e.embedded
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Jeton donné par `comptoir token LOGIN` / token from `comptoir token LOGIN`",
                }
            },
        },
    }
