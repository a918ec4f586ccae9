"""The client's outstanding ("encours") among the key figures of its documents.

A record has this group when one of its links points to an entity that keeps an outstanding
amount (an `outstanding` compute, e.g. the shipped account). The figures are that stored amount
and, when the record's workflow checks a credit limit (`check_credit_limit`), the limit and
what remains available under it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.engine.figures import Figure, FigureGroup, FigureSubject
from app.spec.model import AppSpec, EntitySpec, FieldSpec, Label


def _outstanding_field(spec: AppSpec, entity: EntitySpec | None) -> FieldSpec | None:
    if entity is None:
        return None
    compute = next((c for c in entity.computes if c.verb == "outstanding"), None)
    name = compute.args.get("field") if compute is not None else None
    return entity.fields.get(name) if isinstance(name, str) else None


def _limit_field(spec: AppSpec, entity: EntitySpec, link: FieldSpec, linked: EntitySpec) -> FieldSpec | None:
    """The credit limit field that the record's workflow checks through `link`, if any."""
    workflow = spec.workflows.get(entity.name)
    for transition in workflow.transitions.values() if workflow is not None else ():
        for effect in transition.effects:
            if effect.verb == "check_credit_limit" and effect.args.get("account") == link.name:
                found = linked.fields.get(str(effect.args.get("limit")))
                if found is not None:
                    return found
    return None


def client_figures(subject: FigureSubject) -> list[FigureGroup] | None:
    store, entity = subject.store, subject.entity
    for link in (f for f in entity.fields.values() if f.is_link and f.to != entity.name):
        linked = store.spec.entities.get(link.to or "")
        field = _outstanding_field(store.spec, linked)
        if linked is None or field is None:
            continue
        target_id = subject.value(link.name)
        if target_id is None or not store.principal.can(store.spec, linked.name, "read"):
            return None
        target: Any = store.session.get(store.rt.models.cls(linked.name), target_id)
        if target is None:
            return None
        outstanding = getattr(target, field.column_name)
        figures = [Figure("outstanding", Label(f"{field.label.fr} du client", f"Client {field.label.en.lower()}"), outstanding)]
        limit_field = _limit_field(store.spec, entity, link, linked)
        limit = getattr(target, limit_field.column_name) if limit_field is not None else None
        if limit_field is not None and limit is not None:
            figures.append(Figure("credit_limit", limit_field.label, limit))
            available = limit - (outstanding or Decimal(0))
            figures.append(
                Figure("credit_available", Label("Reste autorisé", "Credit available"), available, emphasis=available < 0)
            )
        title = Label(f"{link.label.fr} : {target}", f"{link.label.en}: {target}")
        return [FigureGroup("client", title, tuple(figures))]
    return None
