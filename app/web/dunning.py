"""The dunning screen (/admin/dunning, « Relances ») and the follow-up panel of record pages.

The screen lists the followed records of an entity with a due date (the invoices of the
shipped configuration), filtered by a due-date range: rows blue (not due), orange (due within
`warn_days`), red (overdue), overdue rows pre-selected, the next step computed by the SQL scan.
Its bulk action sends the computed step of each selected record — the step's mail (the user's
own template when they wrote one) to the client, then the step in the follow-up log — after an
optional dry run showing exactly what would be sent, to whom. Everything posts with the CSRF
token (checked by the admin's middleware).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

import anyio.to_thread
from jinja2 import ChoiceLoader, FileSystemLoader
from sqladmin import BaseView, expose
from sqladmin.flash import flash
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.documents.mail import MailError
from app.engine.admin.auth import authenticate, current_principal
from app.engine.admin.formatting import date, money
from app.engine.followup import follow_up_of, followed_entities, save_user_template, user_template
from app.engine.followup_api import add_manual_entry, follow_up_document
from app.engine.followup_mail import compose, deliver, mail_environment
from app.engine.followup_scan import Forecast, forecast, scan
from app.engine.permissions import Principal
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError
from app.spec.expressions import today
from app.spec.followup import FollowUpSpec, StepSpec

TEMPLATES = Path(__file__).parent / "templates"
ROW_LIMIT = 500
PANEL_ROUTE = "comptoir_follow_up_entry"


def _date(raw: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def screen_entities(rt: Runtime) -> list[FollowUpSpec]:
    """The follow-ups shown on the screen: those with a due date."""
    return [f for f in followed_entities(rt.spec) if f.due_date]


def _template_source(rt: Runtime, step: StepSpec) -> tuple[str, str]:
    if not step.template:
        return "", ""
    source, _, _ = mail_environment(rt).loader.get_source(mail_environment(rt), step.template)  # type: ignore[union-attr]
    first, _, rest = source.lstrip().partition("\n")
    return first.split(":", 1)[1].strip() if ":" in first else first, rest.lstrip("\n")


def make_dunning_view(rt: Runtime, identities: dict[str, str]) -> type[BaseView]:
    class DunningView(BaseView):
        name = "Relances"
        icon = "fa-solid fa-bell"
        identity = "dunning"

        def is_accessible(self, request: Request) -> bool:
            principal = current_principal(request)
            return principal is not None and any(principal.can(rt.spec, f.entity, "read") for f in screen_entities(rt))

        def is_visible(self, request: Request) -> bool:
            return bool(screen_entities(rt))

        @expose("/dunning", methods=["GET", "POST"], identity="dunning")
        async def dunning(self, request: Request) -> Response:
            principal = current_principal(request)
            if principal is None:
                return RedirectResponse(str(request.url_for("admin:login")), status_code=303)
            form = await request.form() if request.method == "POST" else None
            params = dict(request.query_params)
            if form is not None:
                params.update({k: str(v) for k, v in form.items() if k in ("entity", "due_from", "due_to")})
            context = await anyio.to_thread.run_sync(lambda: _screen(rt, request, principal, params, form, identities))
            return await self.templates.TemplateResponse(request, "dunning/screen.html", context)  # type: ignore[no-any-return]

    return DunningView


def _screen(rt: Runtime, request: Request, principal: Principal, params: dict[str, str], form: Any, identities: dict[str, str]) -> dict[str, Any]:
    specs = [f for f in screen_entities(rt) if principal.can(rt.spec, f.entity, "read")]
    chosen = next((f for f in specs if f.entity == params.get("entity")), specs[0] if specs else None)
    day = today()
    context: dict[str, Any] = {
        "title": "Relances", "specs": specs, "spec": chosen, "today": day, "rows": [], "previews": [], "results": [],
        "errors": [], "templates": [], "due_from": params.get("due_from", ""), "due_to": params.get("due_to", ""),
        "entity_label": rt.spec.entities[chosen.entity].plural.fr if chosen else "", "limit": ROW_LIMIT,
    }
    if chosen is None:
        return context
    due_from, due_to = _date(context["due_from"]), _date(context["due_to"])
    for key, value in (("due_from", due_from), ("due_to", due_to)):
        if context[key] and value is None:
            context["errors"].append(f"Date invalide « {context[key]} » : attendu AAAA-MM-JJ.")
    action = str(form.get("action") or "") if form is not None else ""
    selected = {int(v) for v in (form.getlist("ids") if form is not None else []) if str(v).isdigit()}
    can_send = principal.can(rt.spec, chosen.entity, "edit")
    with rt.session() as session:
        if action == "save_template":
            _save_template(rt, session, principal, chosen, form, context)
        elif action in ("dry_run", "send"):
            if not can_send:
                context["errors"].append(f"Droit « edit » sur « {chosen.entity} » refusé à {principal.login}.")
            elif not selected:
                context["errors"].append("Aucune ligne cochée.")
            else:
                _bulk(rt, session, principal, chosen, sorted(selected), day, action == "send", context)
        session.commit()
        rows = scan(rt, session, chosen, day, due_from=due_from, due_to=due_to, display=True, limit=ROW_LIMIT)
        context["rows"] = [_row(request, chosen, f, day, identities, selected if action == "dry_run" else None) for f in rows]
        context["templates"] = [_template_row(rt, session, principal, chosen, s) for s in chosen.sequence if s.template]
    context["can_send"] = can_send
    return context


def _row(request: Request, spec: FollowUpSpec, f: Forecast, day: dt.date, identities: dict[str, str], selected: set[int] | None) -> dict[str, Any]:
    identity = identities.get(spec.entity)
    url = str(request.url_for("admin:details", identity=identity, pk=f.record_id)) if identity else ""
    band = f.band or "not_due"
    return {
        "id": f.record_id, "title": f.title, "url": url, "client": f.client or "", "due_date": f.due_date,
        "amount": f.amount, "band": band, "colour": spec.colours.get(band, "#206bc4"),
        "step": f.step, "step_date": f.date, "late": f.is_late(day), "last_step": f.last_step, "last_date": f.last_date,
        "checked": (f.record_id in selected) if selected is not None else (band == "overdue" and f.step is not None),
    }


def _template_row(rt: Runtime, session: Any, principal: Principal, spec: FollowUpSpec, step: StepSpec) -> dict[str, Any]:
    own = user_template(session, rt.models.metadata, principal.login, spec.entity, step.code)
    subject, body = (own.subject, own.body) if own is not None else _template_source(rt, step)
    return {"step": step, "subject": subject, "body": body, "own": own is not None}


def _save_template(rt: Runtime, session: Any, principal: Principal, spec: FollowUpSpec, form: Any, context: dict[str, Any]) -> None:
    code = str(form.get("step") or "")
    step = spec.step(code)
    if step is None or step.manual:
        context["errors"].append(f"Étape inconnue « {code} ».")
        return
    subject, body = str(form.get("subject") or ""), str(form.get("body") or "")
    if body.strip():
        try:
            env = mail_environment(rt)
            env.from_string(subject)
            env.from_string(body)
        except Exception as exc:  # a Jinja syntax error: nothing saved, the message says where
            context["errors"].append(f"Modèle non enregistré : {exc}")
            return
    save_user_template(session, rt.models.metadata, principal.login, spec.entity, code, subject, body)
    context["results"].append({"ok": True, "text": f"Modèle « {step.label.fr} » " + ("enregistré." if body.strip() else "remis par défaut.")})


def _bulk(rt: Runtime, session: Any, principal: Principal, spec: FollowUpSpec, ids: list[int], day: dt.date, really: bool, context: dict[str, Any]) -> None:
    for record_id in ids:
        found = forecast(rt, session, spec, record_id, day)
        if found is None or found.step is None:
            context["results"].append({"ok": False, "text": f"n° {record_id} : plus aucune étape à envoyer."})
            continue
        out = compose(rt, session, spec, record_id, found.step, day, principal.login)
        if not really:
            context["previews"].append(out)
            continue
        try:
            delivery = deliver(rt, session, out, day, login=principal.login, kind="manual")
        except MailError as exc:
            context["results"].append({"ok": False, "text": f"{out.title} : {found.step.label.fr} non envoyée — {exc}"})
            continue
        session.commit()
        context["results"].append({"ok": True, "text": f"{out.title} : {found.step.label.fr} envoyée à {', '.join(delivery.recipients)}."})


# --- the follow-up panel of record pages ------------------------------------------------------


def panel_function(rt: Runtime) -> Callable[[Request, Any], dict[str, Any] | None]:
    """`comptoir_follow_up(request, model)` for details.html: the record's follow-up or None."""

    def panel(request: Request, model: Any) -> dict[str, Any] | None:
        entity = getattr(getattr(model, "__entity__", None), "name", None)
        spec = follow_up_of(rt.spec, entity) if entity else None
        principal = current_principal(request)
        if spec is None or principal is None or getattr(model, "id", None) is None:
            return None
        with rt.session() as session:
            data = follow_up_document(Store(rt, session, principal), spec, int(model.id))
        data["post_url"] = str(request.url_for(f"admin:{PANEL_ROUTE}", entity=entity, pk=model.id))
        data["can_edit"] = principal.can(rt.spec, entity, "edit")
        return data

    return panel


def entry_endpoint(rt: Runtime, identities: dict[str, str]) -> Callable[[Request], Any]:
    """POST /admin/_follow_up/{entity}/{pk}: a manual entry, then back to the record page."""

    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return RedirectResponse(str(request.url_for("admin:login")), status_code=303)
        principal = current_principal(request)
        entity, pk = request.path_params["entity"], request.path_params["pk"]
        identity = identities.get(entity)
        back = str(request.url_for("admin:details", identity=identity, pk=pk)) if identity else "/admin/"
        form = await request.form()
        data = {k: str(form.get(k)) for k in ("step", "note", "date") if form.get(k)}

        def run() -> str | None:
            spec = follow_up_of(rt.spec, entity)
            if spec is None or principal is None:
                return "Pas de suivi pour ce type de fiche."
            with rt.session() as session:
                store = Store(rt, session, principal)
                try:
                    store.require(entity, "edit")
                    obj = store.get(entity, pk)
                    add_manual_entry(store, spec, int(obj.id), data)
                except StoreError as exc:
                    return exc.message
                session.commit()
            return None

        error = await anyio.to_thread.run_sync(run)
        flash(request, error or "Étape de suivi enregistrée.", "danger" if error else "success")
        return RedirectResponse(back, status_code=303)

    return endpoint


def mount_dunning(admin: Any, rt: Runtime) -> None:
    """The dunning screen in the admin menu, the follow-up panel and its manual-entry route."""
    identities = {v.comptoir_entity.name: v.identity for v in admin.views if hasattr(v, "comptoir_entity")}
    env = admin.templates.env
    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])
    env.globals["comptoir_follow_up"] = panel_function(rt)
    env.filters["comptoir_money"] = lambda v: money(v) if v is not None else ""
    env.filters["comptoir_date"] = lambda v: date(v) if v is not None else ""
    admin.add_view(make_dunning_view(rt, identities))
    route = Route("/_follow_up/{entity}/{pk:int}", entry_endpoint(rt, identities), methods=["POST"], name=PANEL_ROUTE)
    admin.admin.router.routes.insert(0, route)
