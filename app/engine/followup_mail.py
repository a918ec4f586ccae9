"""The mail of a follow-up step: composed from its template (or the user's own), sent through
app/documents/mail.py, recorded in the follow-up log.

A template is a Jinja file of templates/mail/ whose first line is `Subject: ...`; the rest is
the body. In context: `document` (the record's fields), each linked record under its link
field's name (e.g. `company`), `client` and `contact` (the follow-up's links), `step`,
`penalties` (on a step with `penalties:`), `today` and `pdf_attached`. Filters: `money`, `date`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy.orm import Session

from app.documents.mail import Attachment, Delivery, MailError, new_message, send
from app.domain.dunning import PenaltyStatement, penalty_statement
from app.engine.followup import record_step, user_template
from app.engine.runtime import Runtime
from app.spec.followup import MAIL_DIR, FollowUpSpec, StepSpec
from app.spec.model import EntitySpec


def has_pdf(rt: Runtime, entity: str) -> bool:
    """True when the entity has PDF templates (`pdf:` of its YAML): its mails carry the PDF."""
    return rt.spec.entities[entity].pdf is not None


def attach_pdf(rt: Runtime, session: Session, entity: str, record_id: int) -> Attachment | None:
    """The record's PDF (its default template; a validated document's stored copy), rendered
    only when the mail really goes — a dry run shows the file name without rendering it. None
    for an entity without PDF templates: its mail then says the PDF is not attached."""
    if not has_pdf(rt, entity):
        return None
    from app.documents.pdf import document_pdf
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    result = document_pdf(Store(rt, session, SYSTEM), entity, record_id)
    return Attachment(result.filename, result.content, "application/pdf")


def _money(value: Any) -> str:
    if value is None or value == "":
        return ""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",") + " €"


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else ("" if value is None else str(value))


def _environment(root: Path) -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=FileSystemLoader(str(root.joinpath(*MAIL_DIR))), autoescape=False, undefined=Undefined, keep_trailing_newline=True)
    env.filters["money"] = _money
    env.filters["date"] = _date
    return env


_ENVS: dict[Path, SandboxedEnvironment] = {}


def mail_environment(rt: Runtime) -> SandboxedEnvironment:
    root = Path(rt.spec.root)
    if root not in _ENVS:
        _ENVS[root] = _environment(root)
    return _ENVS[root]


def split_subject(text: str) -> tuple[str, str]:
    """(`Subject: ...` first line, the rest) of a rendered template."""
    first, _, rest = text.lstrip().partition("\n")
    subject = first.split(":", 1)[1].strip() if first.lower().startswith("subject:") else first.strip()
    return subject, rest.lstrip("\n")


@dataclass
class Outgoing:
    """One mail to send (or shown by the dry run): `problem` says why it cannot go."""

    entity: str
    record_id: int
    step: StepSpec
    title: str
    to: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    penalties: PenaltyStatement | None = None
    own_template: bool = False
    attachment: Attachment | None = None
    pdf: bool = False  # the record's PDF goes with the mail (attached when delivered)
    problem: str | None = None
    context: dict[str, Any] = field(default_factory=dict, repr=False)


def _values(entity: EntitySpec, obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.column_name) for f in entity.fields.values() if f.type != "password"} | {"id": obj.id}


def _linked(rt: Runtime, session: Session, entity: EntitySpec, obj: Any) -> dict[str, dict[str, Any] | None]:
    result: dict[str, dict[str, Any] | None] = {}
    for f in entity.fields.values():
        if not f.is_link or f.to not in rt.spec.entities:
            continue
        target_id = getattr(obj, f.column_name)
        target = session.get(rt.models.cls(f.to or ""), target_id) if target_id is not None else None
        result[f.name] = _values(rt.spec.entities[f.to or ""], target) if target is not None else None
    return result


def recipients(follow_up: FollowUpSpec, document: dict[str, Any], linked: dict[str, dict[str, Any] | None]) -> tuple[str, ...]:
    """The first non-empty address among `recipients` (`field` or `link.field`)."""
    for ref in follow_up.recipients:
        link, dot, name = ref.partition(".")
        value = (linked.get(link) or {}).get(name) if dot else document.get(ref)
        if isinstance(value, str) and value.strip():
            return (value.strip(),)
    return ()


def compose(
    rt: Runtime, session: Session, follow_up: FollowUpSpec, record_id: int, step: StepSpec, today: dt.date,
    login: str | None,
) -> Outgoing:
    entity = rt.spec.entities[follow_up.entity]
    obj = session.get(rt.models.cls(entity.name), record_id)
    if obj is None:
        raise KeyError(f"{entity.name} {record_id}")
    document = _values(entity, obj)
    linked = _linked(rt, session, entity, obj)
    title = str(document.get(entity.title) or f"{entity.label.fr} n° {record_id}")
    out = Outgoing(entity.name, record_id, step, title)
    if step.penalties is not None:
        out.penalties = penalty_statement(
            document.get(follow_up.amount or "") if follow_up.amount else None,
            document.get(follow_up.due_date or "") if follow_up.due_date else None,
            today, step.penalties.rate, step.penalties.indemnity,
        )
    out.pdf = has_pdf(rt, entity.name)  # rendered by `deliver`, not for a dry run
    penalties = None
    if out.penalties is not None:
        p = out.penalties
        penalties = {"rate": format(p.rate, "f").replace(".", ","), "days_late": p.days_late, "amount": p.amount, "penalty": p.penalty, "indemnity": p.indemnity, "total": p.total}
    context: dict[str, Any] = {
        **linked,
        "document": document,
        "client": linked.get(follow_up.client or "") if follow_up.client else None,
        "contact": linked.get(follow_up.contact or "") if follow_up.contact else None,
        "step": {"code": step.code, "label": step.label.fr},
        "penalties": penalties,
        "today": today,
        "pdf_attached": out.pdf,
    }
    out.context = context
    out.to = recipients(follow_up, document, linked)
    if not out.to:
        out.problem = "aucune adresse e-mail (contact ni client) / no e-mail address"
    own = user_template(session, rt.models.metadata, login, entity.name, step.code) if login else None
    env = mail_environment(rt)
    try:
        if own is not None:
            out.own_template = True
            out.subject = env.from_string(own.subject).render(context).strip()
            out.body = env.from_string(own.body).render(context)
        elif step.template:
            out.subject, out.body = split_subject(env.get_template(step.template).render(context))
        else:
            out.problem = out.problem or "pas de modèle de mail pour cette étape / no mail template for this step"
    except TemplateError as exc:
        out.problem = f"modèle de mail invalide / invalid mail template: {exc}"
    return out


def deliver(rt: Runtime, session: Session, out: Outgoing, today: dt.date, *, login: str | None, kind: str) -> Delivery:
    """Send the mail, then record the step with its message id and recipients (same session)."""
    if out.problem is not None:
        raise MailError(out.problem)
    if out.pdf and out.attachment is None:
        out.attachment = attach_pdf(rt, session, out.entity, out.record_id)
    message = new_message(to=list(out.to), subject=out.subject, text=out.body, attachments=[out.attachment] if out.attachment else ())
    delivery = send(message)
    record_step(
        session, rt.models.metadata, entity=out.entity, record_id=out.record_id, step=out.step.code, on=today,
        kind=kind, login=login, message_id=delivery.message_id, recipients=delivery.recipients,
    )
    return delivery
