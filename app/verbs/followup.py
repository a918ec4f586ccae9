"""`record_follow_up`: an entry of the record's follow-up log, as an effect of a transition.

    workflows.yaml:   send:      effects: [..., {record_follow_up: {step: sent}}]
                      mark_paid: effects: [..., {record_follow_up: {step: payment_received}}]

The step is one of the entity's `follow_up.steps` (checked by the loader); the entry is dated
today() (the fixed clock of `jobs run --today` and of tests) and signed by the current user.
"""

from __future__ import annotations

from typing import Any, Mapping

from app.engine.followup import record_step
from app.engine.verbs import VerbContext
from app.spec.expressions import today


def record_follow_up(ctx: VerbContext, args: Mapping[str, Any]) -> None:
    store = ctx.store
    if getattr(ctx.record, "id", None) is None:
        store.session.flush()
    record_step(
        store.session,
        store.rt.models.metadata,
        entity=ctx.entity.name,
        record_id=int(ctx.record.id),
        step=str(args["step"]),
        on=today(),
        kind="auto",
        login=store.principal.login,
        note=str(args["note"]) if args.get("note") else None,
        # sent by « Envoyer par e-mail » (app/documents/sending.py): the mail's id and recipients
        message_id=(ctx.params.get("mail") or {}).get("message_id"),
        recipients=tuple((ctx.params.get("mail") or {}).get("recipients") or ()),
    )


VERBS = {"record_follow_up": record_follow_up}
