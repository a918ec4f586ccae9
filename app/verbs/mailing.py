"""`send_mail`: a transition effect mailing a template to people linked to the record, e.g.

    workflows.yaml, quote.accept:
      - send_mail: {template: quote_accepted.txt, recipients: [assigned_user], when: "assigned_user"}

The template (templates/mail/, first line `Subject: ...`) sees the record as `document`, each
linked record under its link's name (`account`, `assigned_user`…) and `today`. The mail goes to
the first recipient link whose record has an e-mail address (`email`, or the field named by
`email`). It is sent once the transaction is committed — a refused transition sends nothing —
and a mail server that refuses it is written to the application log, never undoing the
transition. The record's log says to whom the mail went.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from jinja2 import TemplateError
from sqlalchemy import event

from app.documents.mail import MailError, new_message, send
from app.engine.followup_mail import _linked, _values, mail_environment, split_subject
from app.engine.store import StoreError
from app.engine.verbs import VerbContext
from app.spec.expressions import today
from app.spec.model import Label
from app.spec.verbs import EFFECT, FIELD_LIST, TEXT, Arg, Verb, declare

log = logging.getLogger("comptoir.mail")

declare(
    Verb(
        "send_mail",
        EFFECT,
        "Mails a template of templates/mail/ to the first of the linked records (e.g. the assigned "
        "user, the contact) that has an e-mail address, once the transaction is committed.",
        (
            Arg("template", TEXT, help="A file of templates/mail/, first line `Subject: ...`, e.g. `quote_accepted.txt`."),
            Arg("recipients", FIELD_LIST, types=("link",), help="Link fields, in order, e.g. [assigned_user, contact]."),
            Arg("email", TEXT, required=False, help="The e-mail field of the linked records (default `email`)."),
        ),
    )
)


def send_mail(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    store, entity, obj = ctx.store, ctx.entity, ctx.record
    email_field = str(args.get("email") or "email")
    linked = _linked(store.rt, store.session, entity, obj)
    to = next(
        (str(target[email_field]).strip() for name in args["recipients"] if (target := linked.get(name)) and str(target.get(email_field) or "").strip()),
        None,
    )
    if to is None:
        ctx.warnings.append(Label("Aucun destinataire avec une adresse e-mail : pas de mail envoyé", "No recipient with an e-mail address: no mail sent"))
        return
    context = {**linked, "document": _values(entity, obj), "today": today()}
    try:
        subject, body = split_subject(mail_environment(store.rt).get_template(str(args["template"])).render(context))
    except TemplateError as exc:
        raise StoreError(422, "invalid", f"Modèle de mail « {args['template']} » : {exc} / mail template '{args['template']}': {exc}") from None
    message = new_message(to=[to], subject=subject, text=body)

    def deliver(_session: Any) -> None:
        try:
            send(message)
        except MailError as exc:
            log.warning("%s %s: mail « %s » to %s not sent: %s", entity.name, obj.id, subject, to, exc)

    event.listen(store.session, "after_commit", deliver, once=True)
    ctx.messages.append(Label(f"Mail « {subject} » envoyé à {to}", f"Mail '{subject}' sent to {to}"))


VERBS = {"send_mail": send_mail}
