"""The admin's « Envoyer par e-mail » page: /admin/_mail/{entity}/{pk} (GET the proposed mail,
POST + CSRF to send it), and the button of record pages (`comptoir_mail_url`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import anyio.to_thread
from jinja2 import ChoiceLoader, FileSystemLoader
from sqladmin.flash import flash
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.documents.mail import MailError
from app.documents.sending import SENT_STEP, mail_preview, send_document
from app.engine.admin.auth import authenticate, current_principal
from app.engine.followup import follow_up_of
from app.engine.runtime import Runtime
from app.engine.store import Store, StoreError

TEMPLATES = Path(__file__).parent / "templates"
ROUTE = "comptoir_mail"


def sendable(rt: Runtime, entity: str) -> bool:
    follow_up = follow_up_of(rt.spec, entity)
    return follow_up is not None and any(s.code == SENT_STEP for s in follow_up.steps)


def _pdf_templates(rt: Runtime, entity: str) -> list[dict[str, str]]:
    pdf = rt.spec.entities[entity].pdf
    return [{"name": t.name, "label": t.label.fr} for t in pdf.templates.values()] if pdf is not None else []


def mail_page(rt: Runtime, admin: Any, identities: dict[str, str]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if not await authenticate(rt, request):
            return RedirectResponse(str(request.url_for("admin:login")), status_code=303)
        principal = current_principal(request)
        entity, pk = request.path_params["entity"], int(request.path_params["pk"])
        identity = identities.get(entity)
        if principal is None or identity is None or not sendable(rt, entity):
            return Response("Ce document ne s'envoie pas par e-mail.", status_code=404)
        back = str(request.url_for("admin:details", identity=identity, pk=pk))
        form = await request.form() if request.method == "POST" else None

        def run() -> tuple[str | None, dict[str, Any]]:
            with rt.session() as session:
                store = Store(rt, session, principal)
                try:
                    preview = mail_preview(store, entity, pk)
                    title = str(store.get(entity, pk))
                except StoreError as exc:
                    return exc.message, {}
                values = {"to": ", ".join(preview.to), "cc": "", "subject": preview.subject, "body": preview.body,
                          "template": (_pdf_templates(rt, entity) or [{"name": ""}])[0]["name"], "files": []}
                error = None
                if form is not None:
                    values = {k: str(form.get(k) or "") for k in ("to", "cc", "subject", "body", "template")}
                    values["files"] = [str(v) for v in form.getlist("files")]
                    try:
                        store.require(entity, "edit")
                        sent = send_document(
                            store, entity, pk, to=values["to"], cc=values["cc"], subject=values["subject"],
                            body=values["body"], template=values["template"] or None, files=values["files"],
                        )
                        session.commit()
                        return None, {"sent": sent}
                    except StoreError as exc:
                        session.rollback()
                        error = exc.message
                    except MailError as exc:
                        session.rollback()
                        error = f"Le message n'a pas pu être envoyé : {exc}"
                return error, {"preview": preview, "values": values, "title": title}

        error, context = await anyio.to_thread.run_sync(run)
        if "sent" in context:
            sent = context["sent"]
            moved = " ; le document est marqué envoyé" if sent.transition else ""
            flash(request, f"Message envoyé à {', '.join(sent.to)} avec {', '.join(sent.attachments) or 'aucune pièce jointe'}{moved}.", "success")
            return RedirectResponse(back, status_code=303)
        if "preview" not in context:
            flash(request, error or "Envoi impossible.", "danger")
            return RedirectResponse(back, status_code=303)
        page = {"request": request, "error": error, "back": back, "pdf_templates": _pdf_templates(rt, entity), **context}
        response: Response = await admin.templates.TemplateResponse(request, "mail/send.html", page)
        if error:
            response.status_code = 422
        return response

    return endpoint


def mount_sending(admin: Any, rt: Runtime) -> None:
    """The page and the `comptoir_mail_url(entity, pk)` global of the record page's button."""
    identities = {v.comptoir_entity.name: v.identity for v in admin.views if hasattr(v, "comptoir_entity")}
    env = admin.templates.env
    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])

    def mail_url(request: Request, entity: str, pk: Any) -> str | None:
        return str(request.url_for(f"admin:{ROUTE}", entity=entity, pk=pk)) if sendable(rt, entity) else None

    env.globals["comptoir_mail_url"] = mail_url
    route = Route("/_mail/{entity}/{pk:int}", mail_page(rt, admin, identities), methods=["GET", "POST"], name=ROUTE)
    admin.admin.router.routes.insert(0, route)
