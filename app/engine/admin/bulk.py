"""The list page's actions on the ticked rows: one button per `bulk: true` transition the user
may run (« Valider (3) »), beside the export buttons.

    POST /admin/_bulk/{entity}/{name}   form: csrf_token, ids=1,2,3, query (the list's filters)

The form asks the transition's `confirm` text first (templates/comptoir/_bulk_actions.html),
then the transition runs on every ticked record in one transaction (app/engine/batch.py
`run_transition_many`): all or nothing. The result, or the refusal naming the record at
fault, is flashed on the list, which keeps its filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from sqladmin.flash import flash
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from app.engine.admin.auth import current_principal, signed_in, to_login
from app.engine.admin.errors import french
from app.engine.admin.exports import parse_ids
from app.engine.batch import run_transition_many
from app.engine.batch_rights import bulk_transitions, forbidden, may_run_on_selection, transition_of
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError
from app.engine.workflow import TransitionResult, machine_of
from app.spec.model import EntitySpec
from app.spec.workflow_model import TransitionSpec

ROUTE_NAME = "comptoir_bulk"
NAMED = 10  # records named in the result message; the others are counted


@dataclass(frozen=True)
class BulkButton:
    name: str
    label: str
    confirm: str
    url: str


def bulk_buttons(rt: Runtime, request: Request, entity: EntitySpec) -> list[BulkButton]:
    """The buttons of the list page of `entity` for the user of the request."""
    principal = current_principal(request)
    if principal is None:
        return []
    return [
        BulkButton(
            name=t.name,
            label=t.label.fr,
            confirm=t.confirm.fr if t.confirm is not None else "",
            url=str(request.url_for(f"admin:{ROUTE_NAME}", entity=entity.name, name=t.name)),
        )
        for t in bulk_transitions(principal, rt.spec, entity.name)
    ]


def how_many(entity: EntitySpec, count: int) -> str:
    """« 1 facture », « 3 factures »."""
    label = entity.label if count == 1 else entity.plural
    return f"{count} {label.fr.lower()}"


def outcome(entity: EntitySpec, transition: TransitionSpec, results: list[TransitionResult]) -> str:
    """« « Valider » effectué sur 3 factures (FA2605-0001, FA2605-0002, FA2605-0003) : désormais « Validée ». »"""
    titles = [str(r.record) for r in results]
    named = ", ".join(titles[:NAMED]) + (f" et {len(titles) - NAMED} autres" if len(titles) > NAMED else "")
    machine = machine_of(results[0].record)
    states = dict.fromkeys(machine.state_label(r.to_state) if machine is not None else r.to_state for r in results)
    now = ", ".join(f"« {s} »" for s in states)
    message = f"« {transition.label.fr} » effectué sur {how_many(entity, len(results))} ({named}) : désormais {now}."
    created = sum(len(r.created) for r in results)
    if created:
        message += f" {created} document{'s' if created > 1 else ''} créé{'s' if created > 1 else ''}."
    return message


def bulk_endpoint(rt: Runtime, identities: dict[str, str]) -> Callable[[Request], Any]:
    """POST /admin/_bulk/{entity}/{name}: run the transition on the ticked records, flash the
    outcome, redirect (303) back to the list with its filters."""

    async def endpoint(request: Request) -> Response:
        principal = await signed_in(rt, request)
        if principal is None:
            return to_login(request)
        entity_name, name = request.path_params["entity"], request.path_params["name"]
        identity = identities.get(entity_name)
        transition = transition_of(rt.spec, entity_name, name)
        if identity is None or transition is None or not transition.bulk:
            return PlainTextResponse("Action sur une sélection inconnue.", status_code=404)
        if not may_run_on_selection(principal, rt.spec, entity_name, transition):
            return PlainTextResponse(french(forbidden(principal, entity_name, transition).message), status_code=403)
        form = await request.form()
        ids = parse_ids(str(form.get("ids") or ""))
        if ids is None:
            return PlainTextResponse("Sélection invalide : identifiants attendus.", status_code=422)
        query = urlencode([(k, v) for k, v in parse_qsl(str(form.get("query") or "")) if k != "error"])
        back = str(request.url_for("admin:list", identity=identity)) + (f"?{query}" if query else "")
        ids = list(dict.fromkeys(ids))
        if not ids:
            flash(request, "Cochez d'abord les lignes à traiter.", "warning")
            return RedirectResponse(back, status_code=303)
        entity = rt.spec.entities[entity_name]

        def run() -> tuple[str, list[str]]:
            with rt.session() as session:
                results = run_transition_many(Store(rt, session, principal), entity_name, ids, name)
                message = outcome(entity, transition, results)
                warnings = dict.fromkeys(f"{r.record} : {w.fr}" for r in results for w in r.warnings)
                session.commit()
                return message, list(warnings)

        try:
            message, warnings = await anyio.to_thread.run_sync(run)
        except StoreError as exc:
            flash(request, f"Rien n'a été modifié — {french(exc.message)}", "danger")
            return RedirectResponse(back, status_code=303)
        flash(request, message, "success")
        for warning in warnings:
            flash(request, warning, "warning")
        return RedirectResponse(back, status_code=303)

    return endpoint
