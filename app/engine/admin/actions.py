"""Workflow transitions in the admin: one POST form per allowed transition on a record's pages
(with the CSRF token and the `confirm` text, asked by JavaScript), the endpoint running it
through the Store, its result flashed in French; and the linked documents and the record's
log shown beside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import anyio.to_thread
from sqladmin.flash import flash
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.engine.admin.auth import signed_in, to_login
from app.engine.admin.errors import french
from app.engine.admin.formatting import date as format_date
from app.engine.links import CHILD, describe, linkable, links_of
from app.engine.models import Record
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError
from app.engine.workflow import allowed_actions, log_entries, machine_of, record_name, run_transition

ROUTE_NAME = "comptoir_action"


@dataclass(frozen=True)
class ActionButton:
    name: str
    label: str
    confirm: str
    url: str


@dataclass(frozen=True)
class LinkedDocument:
    relation: str  # « Créé depuis » / « A donné »
    entity: str
    title: str
    url: str | None


@dataclass(frozen=True)
class LogLine:
    at: str
    login: str
    text: str
    change: str  # « Brouillon → Validée », empty when the state stayed


def buttons(store: Store, request: Request, obj: Record) -> list[ActionButton]:
    entity = obj.__entity__
    return [
        ActionButton(
            name=t.name,
            label=t.label.fr,
            confirm=t.confirm.fr if t.confirm is not None else "",
            url=str(request.url_for(f"admin:{ROUTE_NAME}", entity=entity.name, pk=obj.id, name=t.name)),
        )
        for t in allowed_actions(store, entity, obj)
    ]


def linked_documents(
    store: Store, request: Request, obj: Record, identities: dict[str, str]
) -> list[LinkedDocument]:
    entity = obj.__entity__
    if entity.name not in linkable(store.spec):
        return []
    result = []
    for link in describe(store, links_of(store, entity.name, [obj.id]))[obj.id]:
        target = store.spec.entities.get(link["entity"])
        identity = identities.get(link["entity"])
        readable = target is not None and link["title"] is not None
        url = str(request.url_for("admin:details", identity=identity, pk=link["id"])) if identity and readable else None
        result.append(
            LinkedDocument(
                relation="A donné" if link["kind"] == CHILD else "Créé depuis",
                entity=target.label.fr if target is not None else link["entity"],
                title=link["title"] if readable else f"n° {link['id']}",
                url=url,
            )
        )
    return result


def log_lines(store: Store, obj: Record) -> list[LogLine]:
    machine = machine_of(obj)
    if machine is None:
        return []
    lines = []
    for entry in log_entries(store, obj.__entity__, obj.id):
        change = ""
        if entry.from_state != entry.to_state:
            change = f"{machine.state_label(entry.from_state)} → {machine.state_label(entry.to_state)}"
        lines.append(LogLine(format_date(entry.at) if entry.at else "", entry.login or "", entry.message.fr, change))
    return lines


def record_panels(
    rt: Runtime, store: Store, request: Request, obj: Record, identities: dict[str, str]
) -> dict[str, Any]:
    """Template context: the action buttons, the linked documents and the log of a record."""
    return {
        "comptoir_actions": buttons(store, request, obj),
        "comptoir_links": linked_documents(store, request, obj, identities),
        "comptoir_log": log_lines(store, obj),
    }


def action_endpoint(rt: Runtime, identities: dict[str, str]) -> Callable[[Request], Any]:
    """POST /admin/_action/{entity}/{pk}/{name}: run the transition, flash, redirect (303) to
    the document it created, else back to the record."""

    async def endpoint(request: Request) -> Response:
        principal = await signed_in(rt, request)
        if principal is None:
            return to_login(request)
        entity_name = request.path_params["entity"]
        pk, name = request.path_params["pk"], request.path_params["name"]
        identity = identities.get(entity_name)
        back = str(request.url_for("admin:details", identity=identity, pk=pk)) if identity else "/admin/"

        def run() -> tuple[str, list[tuple[str, int, str]], list[str]]:
            with rt.session() as session:
                store = Store(rt, session, principal)
                result = run_transition(store, entity_name, pk, name)
                machine = machine_of(result.record)
                state = machine.state_label(result.to_state) if machine is not None else result.to_state
                message = f"« {result.transition.label.fr} » effectué : {record_name(result.record)} est « {state} »."
                created = []
                for target, target_id in result.created:
                    created.append((target, target_id, record_name(store.get(target, target_id))))
                session.commit()
                return message, created, [w.fr for w in result.warnings]

        try:
            message, created, warnings = await anyio.to_thread.run_sync(run)
        except StoreError as exc:
            flash(request, french(exc.message), "danger")
            return RedirectResponse(back, status_code=303)
        for _, _, title in created:
            message += f" Document créé : {title}."
        flash(request, message, "success")
        for warning in warnings:
            flash(request, warning, "warning")
        for target, target_id, _ in created:
            target_identity = identities.get(target)
            if target_identity is not None and principal.can(rt.spec, target, "read"):
                return RedirectResponse(str(request.url_for("admin:details", identity=target_identity, pk=target_id)), status_code=303)
        return RedirectResponse(back, status_code=303)

    return endpoint
