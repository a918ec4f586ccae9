"""« Envoyer par e-mail »: a document mailed to its client with its PDF, then marked sent.

    preview = mail_preview(store, "invoice", 12)                # recipients, subject, body, files
    result = send_document(store, "invoice", 12, to=["compta@dupont.fr"], files=[3])

What is sent comes from the entity's `follow_up:` in workflows.yaml, as for the dunning mails:
its `recipients` (the contact's address first, by default), and its step `sent` with the step's
mail template (templates/mail/). The user may change the recipients, add copies, edit the
subject and body, choose the PDF template and add files of the record's document area. The PDF
is the record's (a validated document's stored copy). Once the mail is accepted by the server
(or written to the outbox), the transition `send` runs when the record's state allows it (the
document becomes « envoyé ») and the follow-up log records « document sent » with the message id
and recipients. A refused mail changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from app.documents.mail import Attachment, MailError, new_message, send
from app.engine.followup import follow_up_of, record_step
from app.engine.followup_mail import attach_pdf, compose, has_pdf
from app.engine.store import Store, StoreError
from app.engine.workflow import condition_holds, machine_of, run_transition
from app.spec.expressions import today
from app.spec.followup import FollowUpSpec, StepSpec

SENT_STEP = "sent"
SEND_TRANSITION = "send"
MAX_RECIPIENTS = 20
_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


@dataclass(frozen=True)
class Preview:
    to: tuple[str, ...]
    subject: str
    body: str
    pdf: bool  # the record's PDF is attached
    files: tuple[dict[str, Any], ...]  # the record's document area: {id, name, folder, size}
    transition: str | None  # run after sending, None when the state does not allow it
    problem: str | None


@dataclass(frozen=True)
class Sent:
    to: tuple[str, ...]
    cc: tuple[str, ...]
    message_id: str
    attachments: tuple[str, ...]
    transition: str | None
    kind: str  # smtp or outbox


def _setup(store: Store, entity: str, record_id: int) -> tuple[FollowUpSpec, StepSpec]:
    follow_up = follow_up_of(store.spec, entity)
    step = next((s for s in follow_up.steps if s.code == SENT_STEP), None) if follow_up is not None else None
    if follow_up is None or step is None:
        raise StoreError(
            404, "no_mail",
            _m(f"« {entity} » ne s'envoie pas par e-mail (ajoutez à son follow_up: de workflows.yaml une étape « {SENT_STEP} » avec son modèle)",
               f"'{entity}' is not sent by e-mail (add a '{SENT_STEP}' step with its template to its follow_up: in workflows.yaml)"),
        )
    store.get(entity, record_id)  # rights and 404
    return follow_up, step


def _send_transition(store: Store, entity: str, record_id: int) -> str | None:
    """`send` when the record's state and the user's rights allow it, else None (already sent…)."""
    obj = store.get(entity, record_id)
    machine = machine_of(obj)
    transition = machine.spec.transitions.get(SEND_TRANSITION) if machine is not None else None
    if machine is None or transition is None:
        return None
    state = getattr(obj, machine.status_column)
    if "*" not in transition.sources and state not in transition.sources:
        return None
    if not store.principal.can(store.spec, entity, SEND_TRANSITION) or not condition_holds(store, machine, transition, obj):
        return None
    return SEND_TRANSITION


def _files(store: Store, entity: str, record_id: int) -> tuple[dict[str, Any], ...]:
    from app.engine.files import list_files

    return tuple(
        {"id": row.id, "name": row.original_name, "folder": row.folder, "size": row.size}
        for row in list_files(store.session, store.rt, entity, record_id)
    )


def mail_preview(store: Store, entity: str, record_id: int) -> Preview:
    follow_up, step = _setup(store, entity, record_id)
    out = compose(store.rt, store.session, follow_up, record_id, step, today(), store.principal.login)
    return Preview(
        to=out.to, subject=out.subject, body=out.body, pdf=has_pdf(store.rt, entity),
        files=_files(store, entity, record_id), transition=_send_transition(store, entity, record_id),
        problem=out.problem,
    )


def _addresses(raw: Any, field: str, *, required: bool) -> tuple[str, ...]:
    if raw is None or raw == "":
        items: list[Any] = []
    elif isinstance(raw, str):
        items = [a for a in re.split(r"[,;\s]+", raw) if a]
    elif isinstance(raw, (list, tuple)):
        items = list(raw)
    else:
        raise StoreError(422, "invalid", _m("liste d'adresses e-mail attendue", "a list of e-mail addresses is expected"), field=field)
    found: list[str] = []
    for item in items:
        if not isinstance(item, str) or not _ADDRESS.match(item.strip()):
            raise StoreError(422, "invalid", _m(f"adresse e-mail invalide : « {item} »", f"invalid e-mail address: '{item}'"), field=field)
        if item.strip() not in found:
            found.append(item.strip())
    if required and not found:
        raise StoreError(422, "required", _m("aucun destinataire : saisissez une adresse e-mail", "no recipient: enter an e-mail address"), field=field)
    if len(found) > MAX_RECIPIENTS:
        raise StoreError(422, "invalid", _m(f"{MAX_RECIPIENTS} adresses au plus", f"at most {MAX_RECIPIENTS} addresses"), field=field)
    return tuple(found)


def _text(raw: Any, field: str, default: str, limit: int) -> str:
    if raw is None:
        return default
    if not isinstance(raw, str) or len(raw) > limit or "\x00" in raw:
        raise StoreError(422, "invalid", _m(f"texte d'au plus {limit} caractères attendu", f"a text of at most {limit} characters is expected"), field=field)
    return raw


def send_document(
    store: Store,
    entity: str,
    record_id: int,
    *,
    to: Any = None,
    cc: Any = None,
    subject: Any = None,
    body: Any = None,
    template: str | None = None,
    files: Sequence[Any] = (),
) -> Sent:
    """Mail the record (see the module docstring); the caller commits. Raises StoreError (named
    field) on bad input and MailError when the server refuses: nothing is changed then."""
    from app.engine.files import FileRefused, find_file, read_content

    follow_up, step = _setup(store, entity, record_id)
    store.require(entity, "read")
    out = compose(store.rt, store.session, follow_up, record_id, step, today(), store.principal.login)
    recipients = _addresses(to, "to", required=True) if to not in (None, "", []) else out.to
    if not recipients:
        raise StoreError(422, "required", _m("aucune adresse e-mail (ni du contact, ni du client) : saisissez un destinataire", "no e-mail address (contact or client): enter a recipient"), field="to")
    copies = _addresses(cc, "cc", required=False)
    subject_text = _text(subject, "subject", out.subject, 300).strip()
    body_text = _text(body, "body", out.body, 20_000)
    if not subject_text:
        raise StoreError(422, "required", _m("l'objet du message est vide", "the subject is empty"), field="subject")
    if out.problem and (not subject_text or not body_text):
        raise StoreError(422, "invalid", out.problem, field="body")
    attachments: list[Attachment] = []
    if has_pdf(store.rt, entity):
        if template:
            from app.documents.pdf import document_pdf

            result = document_pdf(store, entity, record_id, template)
            attachments.append(Attachment(result.filename, result.content, "application/pdf"))
        else:
            pdf = attach_pdf(store.rt, store.session, entity, record_id)
            if pdf is not None:
                attachments.append(pdf)
    if not isinstance(files, (list, tuple)):
        raise StoreError(422, "invalid", _m("liste d'identifiants de fichiers attendue", "a list of file ids is expected"), field="files")
    for file_id in files:
        try:
            row = find_file(store.session, store.rt, entity, record_id, file_id)
        except FileRefused:
            raise StoreError(422, "invalid", _m(f"fichier n° {file_id} inconnu pour ce document", f"no file {file_id} on this record"), field="files") from None
        attachments.append(Attachment(row.original_name, read_content(row), row.mime_type))
    transition = _send_transition(store, entity, record_id)
    message = new_message(to=list(recipients), cc=list(copies), subject=subject_text, text=body_text, attachments=attachments)
    delivery = send(message)  # MailError: nothing recorded, nothing moved
    if transition is not None:
        run_transition(store, entity, record_id, transition, {"mail": {"message_id": delivery.message_id, "recipients": delivery.recipients}})
    else:
        record_step(
            store.session, store.rt.models.metadata, entity=entity, record_id=record_id, step=SENT_STEP, on=today(),
            kind="manual", login=store.principal.login, message_id=delivery.message_id, recipients=delivery.recipients,
        )
    return Sent(recipients, copies, delivery.message_id, tuple(a.filename for a in attachments), transition, delivery.kind)


__all__ = ["MailError", "Preview", "Sent", "mail_preview", "send_document"]
