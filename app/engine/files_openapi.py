"""OpenAPI entries of the document area (app/engine/files_api.py), added per entity by
app/engine/openapi.py: /{entity}/{id}/files and /{entity}/{id}/files/{file_id}."""

from __future__ import annotations

from typing import Any

from app.spec.model import EntitySpec

FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Un fichier de l'espace documents d'un enregistrement / A file of a record's document area",
    "required": ["id", "entity", "record_id", "folder", "name", "size", "mime_type", "sha256", "source", "uploaded_at", "url"],
    "properties": {
        "id": {"type": "integer"},
        "entity": {"type": "string"},
        "record_id": {"type": "integer"},
        "folder": {"type": "string", "description": "Dossier (un niveau) / Folder (one level)"},
        "name": {"type": "string", "description": "Nom d'origine, nettoyé / Original name, sanitised"},
        "size": {"type": "integer", "description": "Octets / Bytes"},
        "mime_type": {"type": "string", "description": "Lu dans le contenu / Read from the content"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "source": {"type": "string", "enum": ["upload", "generated"]},
        "uploaded_by": {"type": ["string", "null"]},
        "uploaded_at": {"type": "string", "format": "date-time"},
        "url": {"type": "string", "description": "Téléchargement / Download"},
    },
}
FILE_LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/File"}}},
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {"$ref": f"#/components/responses/E{code}"} for code in codes}


def file_schemas() -> dict[str, Any]:
    return {"File": FILE_SCHEMA, "File.list": FILE_LIST_SCHEMA}


def file_paths(entity: EntitySpec) -> dict[str, Any]:
    name = entity.name
    tag = [name]
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    file_param = {"name": "file_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    listing = {"description": "Les fichiers / The files", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/File.list"}}}}
    return {
        f"/{name}/{{id}}/files": {
            "parameters": [id_param],
            "get": {
                "operationId": f"list_{name}_files",
                "tags": tag,
                "summary": "Documents de l'enregistrement / The record's files",
                "description": "Droit de lecture sur l'enregistrement. / Needs the read right on the record.",
                "responses": {"200": listing, **_errors("401", "403", "404")},
            },
            "post": {
                "operationId": f"upload_{name}_files",
                "tags": tag,
                "summary": "Déposer des fichiers / Upload files",
                "description": (
                    "multipart/form-data : une ou plusieurs parties `file`, `folder` facultatif (dossier par défaut : "
                    "le premier de files.yaml). Taille et types selon files.yaml, type vérifié sur le contenu ; "
                    "un seul fichier refusé refuse l'envoi entier. Droit de modification sur l'enregistrement. "
                    "/ One or more `file` parts and an optional `folder`; size and types from files.yaml, the type "
                    "read from the content; one refused file refuses the lot. Needs the edit right."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                    "folder": {"type": "string", "maxLength": 80},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {**listing, "description": "Fichiers enregistrés / Stored files"},
                    **_errors("400", "401", "403", "404", "422"),
                    "413": _error("Fichier trop volumineux / File too large"),
                    "415": _error("Type refusé ou contenu qui ne correspond pas au nom / Refused type or content not matching the name"),
                },
            },
        },
        f"/{name}/{{id}}/files/{{file_id}}": {
            "parameters": [id_param, file_param],
            "get": {
                "operationId": f"download_{name}_file",
                "tags": tag,
                "summary": "Télécharger un fichier / Download a file",
                "responses": {
                    "200": {"description": "Le contenu, sous son nom d'origine / The bytes, with the original name", "content": {"application/octet-stream": {}}},
                    **_errors("401", "403", "404"),
                },
            },
            "delete": {
                "operationId": f"delete_{name}_file",
                "tags": tag,
                "summary": "Supprimer un fichier / Delete a file",
                "description": (
                    "Droit de modification ; refusé (409) pour un fichier généré d'un enregistrement verrouillé. "
                    "/ Needs the edit right; refused (409) for a generated file of a locked record."
                ),
                "responses": {"204": {"description": "Supprimé / Deleted"}, **_errors("401", "403", "404", "409")},
            },
        },
    }
