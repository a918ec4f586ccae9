"""The REST API under /api/v1: list, create, read, update and delete records of any entity,
and run workflow transitions (POST /{entity}/{id}/actions/{name}); the same on many records at
once in app/engine/batch_api.py.

Every request authenticates with `Authorization: Bearer <token>` and goes through the Store,
so parsing, permissions and locking are the admin's. Database work runs in a worker thread,
one session per request: committed on success, rolled back on any error. Errors are always
the JSON envelope of app/web/errors.py; bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.engine.auth import principal_from_token
from app.engine.figures import FigureSubject, figures_json, figures_of
from app.engine.files_api import file_routes
from app.engine.links import describe, linkable, links_of
from app.engine import saved_filters
from app.engine.openapi import openapi_document
from app.engine.runtime import Runtime
from app.engine.store import MAX_PAGE_SIZE, Store, StoreError
from app.engine.workflow import TransitionRefused, allowed_actions, run_transition
from app.web.errors import ApiError, error_body, error_response

log = logging.getLogger("comptoir.api")

# Query parameters that are not filters.
LIST_PARAMETERS = ("q", "sort", "page", "page_size")
MAX_PAGE = 1_000_000
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL
MAX_BODY = 5 * 1024 * 1024
DERIVED = ("links", "allowed_actions")  # added to records by `with_workflow`

Work = Callable[[Store], Response]


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def api_routes(rt: Runtime) -> list[BaseRoute]:
    from app.engine.batch_api import batch_routes  # it builds on this module

    api = RecordApi(rt)
    every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    return [
        Route("/openapi.json", api.openapi, methods=["GET"]),
        Route("/{entity}", api.collection, methods=every),
        Route("/{entity}/export", api.export, methods=every),  # app/documents/export_api.py
        *batch_routes(api),  # /{entity}/batch, /{entity}/actions/{name}: app/engine/batch_api.py
        Route("/{entity}/{id}", api.item, methods=every),
        Route("/{entity}/{id}/figures", api.figures, methods=every),
        Route("/{entity}/{id}/pdf", api.pdf, methods=every),  # app/documents/pdf_api.py
        Route("/{entity}/{id}/ubl", api.ubl, methods=every),
        Route("/{entity}/{id}/actions/{name}", api.action, methods=every),
        *file_routes(api),  # the document area (app/engine/files_api.py)
        Route("/{rest:path}", api.not_found, methods=every),
    ]


def record_path(entity: str, record_id: int) -> str:
    return f"/api/v1/{entity}/{record_id}"


class RecordApi:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._openapi: dict[str, Any] | None = None

    # --- endpoints ---------------------------------------------------------------------

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            self._openapi = openapi_document(self.rt.spec)
        return JSONResponse(self._openapi)

    async def not_found(self, request: Request) -> Response:
        return error_response(
            404, "not_found", _m(f"adresse inconnue « {request.url.path} »", f"unknown path '{request.url.path}'")
        )

    async def collection(self, request: Request) -> Response:
        entity = request.path_params["entity"]
        if request.method in ("GET", "HEAD"):
            return await self._run(request, entity, lambda store: self._list(store, entity, request))
        if request.method == "POST":
            body = await self._body(request)
            return await self._run(request, entity, lambda store: self._create(store, entity, body))
        return _method_not_allowed(request, "GET, POST")

    async def item(self, request: Request) -> Response:
        entity = request.path_params["entity"]
        raw_id = request.path_params["id"]
        if request.method in ("GET", "HEAD"):
            return await self._run(request, entity, lambda store: self._get(store, entity, raw_id))
        if request.method == "PATCH":
            body = await self._body(request)
            if_match = request.headers.get("if-match")
            return await self._run(
                request, entity, lambda store: self._update(store, entity, raw_id, body, if_match)
            )
        if request.method == "DELETE":
            return await self._run(request, entity, lambda store: self._delete(store, entity, raw_id))
        return _method_not_allowed(request, "GET, PATCH, DELETE")

    async def action(self, request: Request) -> Response:
        entity = request.path_params["entity"]
        if request.method != "POST":
            return _method_not_allowed(request, "POST")
        raw_id, name = request.path_params["id"], request.path_params["name"]
        body = await self._body(request)
        return await self._run(request, entity, lambda store: self._transition(store, entity, raw_id, name, body))

    async def figures(self, request: Request) -> Response:
        entity = request.path_params["entity"]
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed(request, "GET")
        raw_id = request.path_params["id"]
        return await self._run(request, entity, lambda store: self._figures(store, entity, raw_id))

    async def pdf(self, request: Request) -> Response:
        """The record's PDF (?template=NAME), or its UBL with ?format=ubl: app/documents/pdf_api.py."""
        from app.documents.pdf_api import document_response

        return await self._document(request, document_response)

    async def export(self, request: Request) -> Response:
        """Several records as one PDF or a zip of PDFs: app/documents/export_api.py."""
        from app.documents.export_api import export_response

        entity = request.path_params["entity"]
        if request.method != "POST":
            return _method_not_allowed(request, "POST")
        body = await self._body(request)
        return await self._run(request, entity, lambda store: export_response(store, entity, _object(body)))

    async def ubl(self, request: Request) -> Response:
        from app.documents.pdf_api import ubl_response

        return await self._document(request, ubl_response)

    async def _document(self, request: Request, respond: Callable[..., Response]) -> Response:
        entity = request.path_params["entity"]
        if request.method not in ("GET", "HEAD"):
            return _method_not_allowed(request, "GET")
        raw_id, query = request.path_params["id"], dict(request.query_params)
        return await self._run(
            request, entity, lambda store: respond(store, entity, _path_id(store, entity, raw_id, "read"), query)
        )

    # --- plumbing ----------------------------------------------------------------------

    async def _body(self, request: Request) -> bytes | ApiError:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return ApiError(413, "too_large", _m("requête trop volumineuse", "request body too large"))
        return raw

    async def _run(self, request: Request, entity: str, work: Work) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized(_m("jeton d'API manquant (en-tête Authorization: Bearer)", "missing API token (Authorization: Bearer header)"))
        return await run_in_threadpool(self._in_session, token.strip(), entity, work)

    def _in_session(self, token: str, entity_name: str, work: Work) -> Response:
        session = self.rt.session()
        try:
            principal = principal_from_token(self.rt, session, token)
            if principal is None:
                return _unauthorized(_m("jeton d'API invalide ou utilisateur inactif", "invalid API token or inactive user"))
            store = Store(self.rt, session, principal)
            self._check_entity(entity_name)
            response = work(store)
            session.commit()
            return response
        except TransitionRefused as exc:
            session.rollback()
            body = error_body(exc.code, exc.message, exc.field)
            body["error"]["allowed"] = exc.allowed
            return JSONResponse(body, status_code=exc.status)
        except (StoreError, ApiError) as exc:
            session.rollback()
            return error_response(exc.status, exc.code, exc.message, exc.field)
        except Exception:
            session.rollback()
            log.exception("API error on %s", entity_name)
            return error_response(
                500, "internal", _m("erreur interne, consignée dans le journal", "internal error, logged")
            )
        finally:
            session.close()

    def _check_entity(self, name: str) -> None:
        entity = self.rt.spec.entities.get(name)
        if entity is None:
            raise ApiError(404, "unknown_entity", _m(f"entité inconnue « {name} »", f"unknown entity '{name}'"))
        if entity.embedded:
            parents = [
                f"{p.name}.{c.name}"
                for p in self.rt.spec.entities.values()
                for c in p.children
                if c.entity == name
            ]
            where = ", ".join(parents) or "?"
            raise ApiError(
                404,
                "unknown_entity",
                _m(
                    f"« {name} » ne s'atteint qu'à travers son parent ({where})",
                    f"'{name}' is only reachable through its parent ({where})",
                ),
            )

    # --- operations (run in the worker thread) -----------------------------------------

    def _list(self, store: Store, entity: str, request: Request) -> Response:
        filters: dict[str, str] = {}
        options: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if _unstorable_text([key, value]) is not None:
                raise ApiError(400, "bad_filter", _m("caractère nul interdit", "NUL character not allowed"), field=key)
            target = options if key in LIST_PARAMETERS else filters
            if key in target:
                raise ApiError(
                    400,
                    "bad_filter",
                    _m(f"paramètre « {key} » répété (utilisez {key}__in=a,b)", f"repeated parameter '{key}' (use {key}__in=a,b)"),
                    field=key,
                )
            target[key] = value
        page = _positive_int(options.get("page"), "page", MAX_PAGE) or 1
        page_size = _positive_int(options.get("page_size"), "page_size", MAX_PAGE_SIZE)
        where = None
        if "filter" in filters and "filter" not in store.entity(entity).fields:  # a saved filter (app/engine/saved_filters.py)
            store.require(entity, "read")
            try:
                where = saved_filters.apply_for_api(
                    self.rt, store.session, store.entity(entity), store.principal.user_id, filters.pop("filter"), filters, options
                )
            except saved_filters.SavedFilterError as exc:
                raise ApiError(400, "bad_filter", exc.message, field="filter") from None
        result = store.list(
            entity,
            filters=filters,
            search=options.get("q") or None,
            sort=options.get("sort") or None,
            page=page,
            page_size=page_size,
            where=where,
        )
        items = with_workflow(store, result.rows, [store.serialize(row, with_children=False) for row in result.rows])
        return JSONResponse(
            {"items": items, "total": result.total, "page": result.page, "page_size": result.page_size}
        )

    def _get(self, store: Store, entity: str, raw_id: str) -> Response:
        obj = store.get(entity, _path_id(store, entity, raw_id, "read"))
        return _record_response(record_out(store, obj), 200)

    def _create(self, store: Store, entity: str, body: bytes | ApiError) -> Response:
        data = _object(body)
        obj = store.create(entity, data)
        store.session.flush()
        response = _record_response(record_out(store, obj), 201)
        response.headers["location"] = record_path(entity, obj.id)
        return response

    def _update(
        self, store: Store, entity: str, raw_id: str, body: bytes | ApiError, if_match: str | None
    ) -> Response:
        record_id = _path_id(store, entity, raw_id, "edit")
        # What a GET adds to a record (derived, never stored) may come back in a PATCH of the
        # record as read: it is ignored, as the system columns are by the Store.
        spec = store.entity(entity)
        own = {*spec.fields, *(c.name for c in spec.children)}
        data = {k: v for k, v in _object(body).items() if k not in DERIVED or k in own}
        expected = _expected_version(data.get("version"), if_match)
        obj = store.update(entity, record_id, data, expected_version=expected)
        store.session.flush()
        return _record_response(record_out(store, obj), 200)

    def _figures(self, store: Store, entity: str, raw_id: str) -> Response:
        """`{"entity", "id", "groups": [...]}`: the key figures of app/engine/figures.py."""
        obj = store.get(entity, _path_id(store, entity, raw_id, "read"))
        groups = figures_of(FigureSubject(store, store.entity(entity), obj))
        return JSONResponse({"entity": entity, "id": obj.id, "groups": figures_json(groups)})

    def _transition(self, store: Store, entity: str, raw_id: str, name: str, body: bytes | ApiError) -> Response:
        """`{"record": the record after the transition, "created": [{entity, id, url}, ...],
        "warnings": ["fr / en", ...]}` (warnings: the transition ran, but the user should know)."""
        record_id = _path_id(store, entity, raw_id, "read")
        params = _action_params(store, entity, body)
        result = run_transition(store, entity, record_id, name, params)
        record = record_out(store, result.record)
        created: list[dict[str, Any]] = [{"entity": e, "id": i, "url": record_path(e, i)} for e, i in result.created]
        warnings = [f"{w.fr} / {w.en}" for w in result.warnings]
        response = JSONResponse({"record": record, "created": created, "warnings": warnings}, headers={"etag": f'"{record.get("version")}"'})
        if created:
            response.headers["location"] = str(created[0]["url"])
        return response

    def _delete(self, store: Store, entity: str, raw_id: str) -> Response:
        store.delete(entity, _path_id(store, entity, raw_id, "delete"))
        return Response(status_code=204)


# --- helpers -------------------------------------------------------------------------------


def with_workflow(store: Store, rows: list[Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `links` (documents made from / into each record) and `allowed_actions` (the
    transitions this user may run now) to records of entities that have them."""
    if not rows:
        return items
    entity = rows[0].__entity__
    if entity.name in linkable(store.spec):
        described = describe(store, links_of(store, entity.name, [r.id for r in rows]))
        for row, item in zip(rows, items):
            item["links"] = described[row.id]
    if entity.name in store.spec.workflows:
        for row, item in zip(rows, items):
            item["allowed_actions"] = [t.name for t in allowed_actions(store, entity, row)]
    return items


def record_out(store: Store, obj: Any) -> dict[str, Any]:
    return with_workflow(store, [obj], [store.serialize(obj)])[0]



def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unstorable_text(value: Any) -> str | None:
    """A string of the value that no database accepts (NUL, lone surrogate), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return value.replace("\x00", "\\0")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("ascii")
        return None
    items: Any = ()
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    for item in items:
        found = _unstorable_text(item)
        if found is not None:
            return found
    return None


def _json(raw: bytes | ApiError) -> Any:
    if isinstance(raw, ApiError):
        raise raw
    if not raw.strip():
        raise ApiError(400, "bad_json", _m("corps JSON attendu", "a JSON body is expected"))
    try:
        body = json.loads(raw, parse_constant=_refuse_constant, parse_float=Decimal)
        bad = _unstorable_text(body)
    except (ValueError, RecursionError) as exc:
        detail = str(exc)[:200]
        raise ApiError(400, "bad_json", _m(f"JSON invalide : {detail}", f"malformed JSON: {detail}")) from None
    if bad is not None:
        raise ApiError(
            400,
            "bad_json",
            _m(
                f"caractère interdit dans « {bad[:50]} » (nul ou demi-paire UTF-16)",
                f"forbidden character in '{bad[:50]}' (NUL or lone surrogate)",
            ),
        )
    return body


def _object(raw: bytes | ApiError) -> dict[str, Any]:
    body = _json(raw)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", _m("objet JSON attendu", "a JSON object is expected"))
    return body


def _action_params(store: Store, entity: str, raw: bytes | ApiError) -> dict[str, list[int]]:
    """The optional body of an action: `{"<child collection>": [row ids]}` selects the source
    rows a conversion copies (e.g. a credit note of some lines); no body copies them all."""
    if not isinstance(raw, ApiError) and not raw.strip():
        return {}
    body = _object(raw)
    collections = [c.name for c in store.entity(entity).children]
    params: dict[str, list[int]] = {}
    for key, value in body.items():
        if key not in collections:
            raise ApiError(
                422,
                "unknown_field",
                _m(
                    f"« {key} » n'est pas une collection de lignes ({', '.join(collections) or 'aucune'})",
                    f"'{key}' is not a child collection ({', '.join(collections) or 'none'})",
                ),
                field=key,
            )
        ids = value if isinstance(value, list) else None
        if not ids or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
            raise ApiError(
                422,
                "invalid",
                _m(f"« {key} » : liste non vide d'identifiants de lignes attendue", f"'{key}': a non-empty list of row ids is expected"),
                field=key,
            )
        params[key] = list(dict.fromkeys(ids))
    return params


def _path_id(store: Store, entity: str, raw: str, action: str) -> int:
    """A record id from the path; anything else is the record's 404 (after the rights check)."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID:
        return int(text)
    store.require(entity, action)
    label = store.entity(entity).label
    raise ApiError(
        404,
        "not_found",
        _m(f"{label.fr} n° {raw} introuvable (identifiant invalide)", f"{label.en} {raw} not found (invalid id)"),
    )


def _positive_int(raw: str | None, name: str, limit: int) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10) or not 0 < int(text) <= limit:
        raise ApiError(
            400,
            "bad_request",
            _m(f"« {name} » doit être un entier entre 1 et {limit}", f"'{name}' must be a whole number from 1 to {limit}"),
            field=name,
        )
    return int(text)


def _version(raw: Any, source: str) -> int | None:
    if raw is None:
        return None
    text = raw if isinstance(raw, str) else (str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else "")
    text = text.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)
    raise ApiError(
        422 if source == "version" else 400,
        "invalid",
        _m(f"version invalide : « {raw} » (nombre entier attendu)", f"invalid version '{raw}' (a whole number is expected)"),
        field=source,
    )


def _expected_version(body_version: Any, if_match: str | None) -> int | None:
    from_body = _version(body_version, "version")
    from_header = _version(if_match, "If-Match") if if_match not in (None, "", "*") else None
    if from_body is not None and from_header is not None and from_body != from_header:
        raise ApiError(
            400,
            "bad_request",
            _m(
                f"versions contradictoires : {from_body} dans le corps, {from_header} dans If-Match",
                f"conflicting versions: {from_body} in the body, {from_header} in If-Match",
            ),
            field="version",
        )
    return from_header if from_header is not None else from_body


def _record_response(data: dict[str, Any], status: int) -> Response:
    return JSONResponse(data, status_code=status, headers={"etag": f'"{data.get("version")}"'})


def _unauthorized(message: str) -> Response:
    return error_response(401, "unauthorized", message, headers={"www-authenticate": "Bearer"})


def _method_not_allowed(request: Request, allowed: str) -> Response:
    return error_response(
        405,
        "method_not_allowed",
        _m(f"méthode {request.method} non permise (permises : {allowed})", f"method {request.method} not allowed ({allowed})"),
        headers={"allow": allowed},
    )
