"""Many records in one request, all or nothing (app/engine/batch.py):

- POST /api/v1/{entity}/batch, body `{"records": [{...}, ...]}`: creates them all; 201
  `{"records": [each record as GET gives it]}`;
- POST /api/v1/{entity}/actions/{name}, body `{"ids": [12, 13]}`: runs the transition on each
  record in that order; 200 `{"results": [{"id", "from", "to", "created", "warnings"}, ...]}`.

Same bearer tokens, rights and error envelope as the one-record endpoints (app/engine/api.py);
the first refusal rolls everything back and is answered as the one-record endpoint would
answer it (409 with `allowed`, 422 with `field`...).
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.engine.api import MAX_ID, RecordApi, _method_not_allowed, _object, record_path, with_workflow
from app.engine.batch import create_many, run_transition_many
from app.engine.batch_rights import forbidden, may_run_on_selection, transition_of
from app.engine.store import Store
from app.web.errors import ApiError

EVERY = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def batch_routes(api: RecordApi) -> list[BaseRoute]:
    """Placed before /{entity}/{id}: `batch` and `actions` are never record ids."""
    return [
        Route("/{entity}/batch", partial(create_batch, api), methods=EVERY),
        Route("/{entity}/actions/{name}", partial(transition_batch, api), methods=EVERY),
    ]


async def create_batch(api: RecordApi, request: Request) -> Response:
    entity = request.path_params["entity"]
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    body = await api._body(request)
    return await api._run(request, entity, lambda store: _create(store, entity, body))


async def transition_batch(api: RecordApi, request: Request) -> Response:
    entity, name = request.path_params["entity"], request.path_params["name"]
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    body = await api._body(request)
    return await api._run(request, entity, lambda store: _transition(store, entity, name, body))


# --- operations (run in the worker thread, in the request's session) -------------------------


def _create(store: Store, entity: str, raw: bytes | ApiError) -> Response:
    store.require(entity, "create")
    rows = _list_of(_object(raw), "records", "des enregistrements", "records")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ApiError(
                422,
                "invalid",
                _m(f"« records[{index}] » : objet JSON attendu", f"'records[{index}]': a JSON object is expected"),
                field=f"records[{index}]",
            )
    created = create_many(store, entity, rows)
    store.session.flush()
    records = with_workflow(store, created, [store.serialize(obj) for obj in created])
    return JSONResponse({"records": records}, status_code=201)


def _transition(store: Store, entity: str, name: str, raw: bytes | ApiError) -> Response:
    transition = transition_of(store.spec, entity, name)
    if transition is not None and not may_run_on_selection(store.principal, store.spec, entity, transition):
        raise forbidden(store.principal, entity, transition)
    ids = _ids(_object(raw))
    # an unknown transition is refused by the engine (404, naming the entity's actions)
    results = run_transition_many(store, entity, ids, name)
    return JSONResponse(
        {
            "results": [
                {
                    "id": result.record.id,
                    "from": result.from_state,
                    "to": result.to_state,
                    "created": [{"entity": e, "id": i, "url": record_path(e, i)} for e, i in result.created],
                    "warnings": [f"{w.fr} / {w.en}" for w in result.warnings],
                }
                for result in results
            ]
        }
    )


# --- bodies ----------------------------------------------------------------------------------


def _list_of(body: dict[str, Any], key: str, what_fr: str, what_en: str) -> list[Any]:
    """`body[key]`, a non-empty list, the only key of the body."""
    for other in body:
        if other != key:
            raise ApiError(
                422,
                "unknown_field",
                _m(f"« {other} » inattendu : le corps est {{\"{key}\": [...]}}", f"unexpected '{other}': the body is {{\"{key}\": [...]}}"),
                field=other,
            )
    value = body.get(key)
    if not isinstance(value, list):
        raise ApiError(
            422,
            "invalid" if key in body else "required",
            _m(f"« {key} » : liste {what_fr} attendue", f"'{key}': a list of {what_en} is expected"),
            field=key,
        )
    if not value:
        raise ApiError(
            422,
            "invalid",
            _m(f"« {key} » : liste vide, au moins un élément attendu", f"'{key}': empty list, at least one item is expected"),
            field=key,
        )
    return value


def _shown(value: Any) -> str:
    """A JSON value as the client wrote it, shortened."""
    text = str(value) if isinstance(value, Decimal) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def _ids(body: dict[str, Any]) -> list[int]:
    ids = _list_of(body, "ids", "d'identifiants", "ids")
    seen: set[int] = set()
    for index, value in enumerate(ids):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise ApiError(
                422,
                "invalid",
                _m(
                    f"« ids[{index}] » : identifiant attendu (entier de 1 à {MAX_ID}), reçu {_shown(value)}",
                    f"'ids[{index}]': an id is expected (a whole number from 1 to {MAX_ID}), got {_shown(value)}",
                ),
                field=f"ids[{index}]",
            )
        if value in seen:
            raise ApiError(
                422,
                "duplicate",
                _m(f"« ids[{index}] » : identifiant {value} déjà donné", f"'ids[{index}]': id {value} given twice"),
                field=f"ids[{index}]",
            )
        seen.add(value)
    return ids
