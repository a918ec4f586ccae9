"""Who may run a transition on a selection of records, decided before any record is read.

A transition on one record checks its state, the right named like it, its `groups` and its
condition (app/engine/workflow.py). On a selection, the right and the groups do not depend
on the record: the API answers 403 for the whole batch at once, and the admin list shows the
`bulk: true` transitions' buttons only to those who pass (app/engine/admin/bulk.py). The
state and the condition stay per record, checked by `run_transition_many`.
"""

from __future__ import annotations

from app.engine.permissions import Principal
from app.engine.store import StoreError
from app.spec.model import AppSpec
from app.spec.workflow_model import TransitionSpec


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def transition_of(spec: AppSpec, entity: str, name: str) -> TransitionSpec | None:
    workflow = spec.workflows.get(entity)
    return workflow.transitions.get(name) if workflow is not None else None


def may_run_on_selection(principal: Principal, spec: AppSpec, entity: str, transition: TransitionSpec) -> bool:
    """The right named like the transition and, when it has `groups`, one of them (as
    app/engine/workflow.py asks of each record)."""
    if not principal.can(spec, entity, transition.name):
        return False
    if not transition.groups:
        return True
    return bool(set(principal.groups) & set(transition.groups)) or ("*", "*") in principal.grants


def bulk_transitions(principal: Principal, spec: AppSpec, entity: str) -> list[TransitionSpec]:
    """The entity's `bulk: true` transitions this user may run, in declaration order."""
    workflow = spec.workflows.get(entity)
    if workflow is None:
        return []
    return [t for t in workflow.transitions.values() if t.bulk and may_run_on_selection(principal, spec, entity, t)]


def forbidden(principal: Principal, entity: str, transition: TransitionSpec) -> StoreError:
    return StoreError(
        403,
        "forbidden",
        _m(
            f"droit « {transition.name} » sur « {entity} » refusé à {principal.login}",
            f"{principal.login} may not {transition.name} {entity}",
        ),
    )
