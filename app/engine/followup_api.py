"""GET / POST /api/v1/{entity}/{id}/follow-up: a record's follow-up log and its forecast.

GET answers `{"entity", "id", "followed", "next": {step, label, date, late, colour} | null,
"log": [...], "steps": [...]}`; `late` is true once the next step's date has passed (today()
is the fixed clock of tests and jobs). POST `{"step", "note"?, "date"?}` records a manual
entry (the edit right on the entity); the answer is the same document, 201.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.engine.api import RecordApi, _path_id
from app.engine.followup import entries, follow_up_of, record_step
from app.engine.followup_scan import forecast
from app.engine.runtime import Runtime
from app.engine.store import Store
from app.spec.expressions import today
from app.spec.followup import FollowUpSpec
from app.web.errors import ApiError

PATH = "/api/v1/{entity}/{id}/follow-up"
NOTE_LIMIT = 2000


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _spec(store: Store, entity: str) -> FollowUpSpec:
    follow_up = follow_up_of(store.spec, entity)
    if follow_up is None:
        raise ApiError(404, "no_follow_up", _m(f"« {entity} » n'a pas de suivi (follow_up: dans workflows.yaml)", f"'{entity}' has no follow-up (follow_up: in workflows.yaml)"))
    return follow_up


def follow_up_document(store: Store, follow_up: FollowUpSpec, record_id: int) -> dict[str, Any]:
    """The JSON of a record's follow-up (also the admin panel's data)."""
    rt, day = store.rt, today()
    found = forecast(rt, store.session, follow_up, record_id, day)
    next_step = None
    if found is not None and found.step is not None:
        step = found.step
        next_step = {
            "step": step.code, "label": {"fr": step.label.fr, "en": step.label.en},
            "date": found.date.isoformat() if found.date else None, "late": found.is_late(day),
            "due": found.is_due(day), "colour": step.colour,
        }
    labels = {s.code: s.label for s in follow_up.steps}
    log = []
    for entry in entries(store.session, rt.models.metadata, follow_up.entity, record_id):
        item = entry.as_json()
        label = labels.get(entry.step)
        item["label"] = {"fr": label.fr, "en": label.en} if label else {"fr": entry.step, "en": entry.step}
        log.append(item)
    return {
        "entity": follow_up.entity, "id": record_id, "followed": found is not None, "today": day.isoformat(),
        "next": next_step, "log": log,
        "steps": [{"step": s.code, "label": {"fr": s.label.fr, "en": s.label.en}, "manual": s.manual, "colour": s.colour} for s in follow_up.steps],
    }


def add_manual_entry(store: Store, follow_up: FollowUpSpec, record_id: int, data: Any) -> None:
    """Validate and record a manual entry {step, note?, date?} (StoreError naming the field)."""
    if not isinstance(data, dict):
        raise ApiError(400, "bad_body", _m("le corps doit être un objet JSON", "the body must be a JSON object"))
    unknown = sorted(set(data) - {"step", "note", "date"})
    if unknown:
        raise ApiError(422, "unknown_field", _m(f"champ inconnu « {unknown[0]} » (step, note, date)", f"unknown field '{unknown[0]}' (step, note, date)"), field=unknown[0])
    step = data.get("step")
    codes = [s.code for s in follow_up.steps]
    if not isinstance(step, str) or step not in codes:
        raise ApiError(422, "invalid", _m(f"étape inconnue {step!r} (étapes : {', '.join(codes)})", f"unknown step {step!r} (steps: {', '.join(codes)})"), field="step")
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > NOTE_LIMIT or "\x00" in note):
        raise ApiError(422, "invalid", _m(f"la note doit être un texte d'au plus {NOTE_LIMIT} caractères", f"the note must be a text of at most {NOTE_LIMIT} characters"), field="note")
    raw_date = data.get("date")
    on = today()
    if raw_date is not None:
        try:
            on = dt.date.fromisoformat(str(raw_date))
        except ValueError:
            raise ApiError(422, "invalid", _m(f"date invalide {raw_date!r} (AAAA-MM-JJ)", f"invalid date {raw_date!r} (YYYY-MM-DD)"), field="date") from None
    record_step(store.session, store.rt.models.metadata, entity=follow_up.entity, record_id=record_id, step=step, on=on, kind="manual", login=store.principal.login, note=note)


def follow_up_routes(rt: Runtime) -> list[Route]:
    api = RecordApi(rt)

    def read(store: Store, entity: str, raw_id: str) -> Response:
        follow_up = _spec(store, entity)
        obj = store.get(entity, _path_id(store, entity, raw_id, "read"))
        return JSONResponse(follow_up_document(store, follow_up, int(obj.id)))

    def write(store: Store, entity: str, raw_id: str, body: bytes | ApiError) -> Response:
        if isinstance(body, ApiError):
            raise body
        follow_up = _spec(store, entity)
        record_id = _path_id(store, entity, raw_id, "edit")
        store.require(entity, "edit")
        obj = store.get(entity, record_id)
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "bad_json", _m("JSON invalide", "invalid JSON")) from None
        add_manual_entry(store, follow_up, int(obj.id), data)
        store.session.flush()
        return JSONResponse(follow_up_document(store, follow_up, int(obj.id)), status_code=201)

    return [record_route(api, PATH, read, write)]


def record_route(
    api: RecordApi,
    path: str,
    read: Callable[[Store, str, str], Response],
    write: Callable[[Store, str, str, bytes | ApiError], Response],
) -> Route:
    """A GET / POST route of one record (`{entity}` and `{id}` in `path`), in the API's session
    with its token, rights and error envelope; other methods answer 405."""

    async def endpoint(request: Request) -> Response:
        entity, raw_id = request.path_params["entity"], request.path_params["id"]
        if request.method in ("GET", "HEAD"):
            return await api._run(request, entity, lambda store: read(store, entity, raw_id))
        if request.method == "POST":
            body = await api._body(request)
            return await api._run(request, entity, lambda store: write(store, entity, raw_id, body))
        response = JSONResponse({"error": {"code": "method_not_allowed", "message": _m("méthode non permise (GET, POST)", "method not allowed (GET, POST)"), "field": None}}, status_code=405)
        response.headers["allow"] = "GET, POST"
        return response

    return Route(path, endpoint, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])

