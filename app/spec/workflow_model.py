"""Typed, read-only objects for workflows.yaml (statuses and transitions) and entity computes.

docs/workflows.md describes the YAML; the loader (app/spec/workflows.py) builds these objects;
the engine (app/engine/workflow.py) runs them. One state machine per entity, nothing beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from app.spec.model import Label, Location


@dataclass(frozen=True)
class StateSpec:
    code: str
    label: Label
    colour: str | None = None
    editable: bool = True  # False: the record is locked (flush-time guard) but for `mutable` fields
    final: bool = False
    order: int = 0
    location: Location | None = None


@dataclass(frozen=True)
class EffectSpec:
    """One verb with its arguments, e.g. {assign_number: {field: number, pattern: ...}}."""

    verb: str
    args: Mapping[str, Any]
    location: Location | None = None
    when: str | None = None  # an expression on the record: the effect runs only when it is true


@dataclass(frozen=True)
class TransitionSpec:
    name: str
    label: Label
    sources: tuple[str, ...]  # states it may start from ("from" in YAML; "*" means any)
    target: str | None  # state it ends in ("to"); None keeps the current state
    groups: tuple[str, ...] = ()  # if given, only these groups (on top of the entity right)
    condition: str | None = None  # an expression on the record; the transition is refused if false
    condition_message: Label | None = None  # shown when the condition is false
    confirm: Label | None = None  # confirmation text shown before running it
    effects: tuple[EffectSpec, ...] = ()
    audit: bool = False  # append an entry to the hash-chained audit log
    bulk: bool = False  # offered on a selection of the admin list (app/engine/admin/bulk.py)
    location: Location | None = None


@dataclass(frozen=True)
class WorkflowSpec:
    entity: str
    field: str  # the entity's field of type `status`
    initial: str
    states: Mapping[str, StateSpec]  # in declaration order
    transitions: Mapping[str, TransitionSpec]
    mutable: tuple[str, ...] = ()  # fields that may still change while the state is not editable
    location: Location | None = None
    follow_up: Any = None  # app.spec.followup.FollowUpSpec: follow-up steps and dunning (`follow_up:`)

    def allowed_from(self, state: str) -> list[TransitionSpec]:
        return [t for t in self.transitions.values() if "*" in t.sources or state in t.sources]


@dataclass(frozen=True)
class ComputeSpec:
    """A verb run on every save of the entity, before the flush (e.g. document totals)."""

    verb: str
    args: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = None
