"""Build the state machines of workflows.yaml and the computes of entities, with their checks.

Each workflow is checked against its entity (its status field, the fields its effects name),
the groups of groups.yaml and the verb declarations (app/spec/verbs.py). Building is lenient:
the schema check has reported malformed values, so they are skipped and every further error
of the file can still be found. Then each status field is bound to its workflow: it gets the
generated picklist `<entity>_status` (the states, in order) and the initial state as default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from app.spec.errors import SpecError
from app.spec.jobs import is_job_key
from app.spec.followup import build_follow_up
from app.spec.model import BASE_ACTIONS, EntitySpec, FieldSpec, GroupSpec, Location, Picklist, PicklistValue
from app.spec.suggest import did_you_mean
from app.spec.values import flag, label_of, mapping, opt_int, opt_label, opt_str, str_items
from app.spec.verb_calls import NAME, CallChecker, expression_problems, record_names
from app.spec.verbs import VERBS, WORKFLOW_KINDS, Arg
from app.spec.linked_values import linked_workflow_errors
from app.spec.workflow_model import ComputeSpec, EffectSpec, StateSpec, TransitionSpec, WorkflowSpec
from app.spec.yamlpos import YamlDoc, YamlPath

ANY_STATE = "*"
STATUS = "status"


def status_picklist_name(entity: str) -> str:
    return f"{entity}_status"


def _hint(name: str, candidates: Collection[str], what: str) -> str:
    return did_you_mean(name, candidates) or (f" ({what}: {', '.join(candidates)})" if candidates else "")


class _WorkflowBuilder:
    def __init__(
        self,
        doc: YamlDoc,
        entities: Mapping[str, EntitySpec],
        known: Collection[str],
        groups: Mapping[str, GroupSpec] | None,
        picklists: Mapping[str, Picklist] | None,
        root: Path | None = None,
    ) -> None:
        self.root = root
        self.doc = doc
        self.entities = entities
        self.known = known
        self.groups = groups  # None when groups.yaml could not be read: groups are not checked
        self.picklists = picklists
        self.errors: list[SpecError] = []
        self.transition_refs: list[tuple[Location, str, str, str]] = []

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(SpecError(loc, message))

    def workflow(self, name: str, data: dict[str, Any]) -> WorkflowSpec:
        path: YamlPath = (name,)
        entity = self.entities.get(name)
        if name not in self.known:
            self.error(self.doc.key_at(path), f"unknown entity '{name}'{did_you_mean(name, self.known)}")
        status_field = opt_str(data.get("field"))
        if entity is not None and status_field is not None:
            self.check_status_field(entity, status_field, (*path, "field"))
        states = self.states(name, data.get("states"))
        initial = opt_str(data.get("initial"))
        if initial is not None and states and initial not in states:
            self.error(self.doc.at((*path, "initial")), f"unknown state '{initial}' as 'initial'{_hint(initial, states, 'states')}")
        mutable = str_items(data.get("mutable"))
        if entity is not None:
            for i, ref in mutable:
                message = self.mutable_problem(entity, ref)
                if message is not None:
                    self.error(self.doc.at((*path, "mutable", i)), message)
        checker = CallChecker(self.doc, entity, self.entities, self.known, self.picklists)
        transitions = {
            tname: self.transition(path, tname, mapping(raw), states, entity, checker)
            for tname, raw in mapping(data.get("transitions")).items()
        }
        self.errors.extend(checker.errors)
        self.transition_refs.extend(checker.transition_refs)
        return WorkflowSpec(
            entity=name,
            field=status_field or "",
            initial=initial if initial in states else next(iter(states), ""),
            states=states,
            transitions=transitions,
            mutable=tuple(ref for _, ref in mutable),
            location=self.doc.key_at(path),
            follow_up=build_follow_up(self.doc, name, data, entity, self.entities, self.root, self.errors),
        )

    def mutable_problem(self, entity: EntitySpec, ref: str) -> str | None:
        """A `mutable` entry: a field, or `collection.field` of a child collection (a locked
        order's lines may still receive the quantities delivered)."""
        collection, dot, child_field = ref.partition(".")
        if not dot:
            if ref in entity.fields:
                return None
            return f"unknown field '{ref}' of '{entity.name}' in 'mutable'{did_you_mean(ref, entity.fields)}"
        child = next((c for c in entity.children if c.name == collection), None)
        if child is None:
            names = [c.name for c in entity.children]
            return f"unknown child collection '{collection}' of '{entity.name}' in 'mutable'{_hint(collection, names, 'child collections')}"
        child_spec = self.entities.get(child.entity)
        if child_spec is None or child_field in child_spec.fields or not NAME.match(child_field):
            return None  # a malformed name is reported by the schema check
        return f"unknown field '{child_field}' of '{child_spec.name}' in 'mutable'{did_you_mean(child_field, child_spec.fields)}"

    def check_status_field(self, entity: EntitySpec, name: str, path: YamlPath) -> None:
        f = entity.fields.get(name)
        if f is None:
            statuses = [f.name for f in entity.fields.values() if f.type == STATUS]
            hint = did_you_mean(name, entity.fields) or (
                f" (its status field: {statuses[0]})" if statuses else f" — add `{name}: {{type: status}}` to {entity.file or entity.name}"
            )
            self.error(self.doc.at(path), f"unknown field '{name}' of '{entity.name}'{hint}")
        elif f.type != STATUS:
            message = f"'{entity.name}.{name}' is a {f.type} field: a workflow moves a field of type status"
            self.error(self.doc.at(path), message)

    def states(self, entity: str, raw: Any) -> dict[str, StateSpec]:
        result: dict[str, StateSpec] = {}
        for i, (code, value) in enumerate(mapping(raw).items()):
            data = mapping(value)
            order = opt_int(data.get("order"))
            result[code] = StateSpec(
                code=code,
                label=label_of(data.get("label"), code),
                colour=opt_str(data.get("colour")),
                editable=flag(data.get("editable"), default=True),
                final=flag(data.get("final")),
                order=order if order is not None else i + 1,
                location=self.doc.key_at((entity, "states", code)),
            )
        return result

    def transition(
        self,
        workflow: YamlPath,
        name: str,
        data: dict[str, Any],
        states: Mapping[str, StateSpec],
        entity: EntitySpec | None,
        checker: CallChecker,
    ) -> TransitionSpec:
        path: YamlPath = (*workflow, "transitions", name)
        if name in BASE_ACTIONS:
            message = f"transition name '{name}' is taken by the right of the same name ({', '.join(BASE_ACTIONS)}): choose another name"
            self.error(self.doc.key_at(path), message)
        target = opt_str(data.get("to"))
        if target is not None and states and target not in states:
            self.error(self.doc.at((*path, "to")), f"unknown state '{target}' in 'to'{_hint(target, states, 'states')}")
        condition = opt_str(data.get("condition"))
        if condition is not None and entity is not None:
            for problem in expression_problems(condition, record_names(entity)):
                self.error(self.doc.at((*path, "condition")), problem)
        groups = str_items(data.get("groups"))
        if self.groups is not None:
            for i, group in groups:
                if group not in self.groups:
                    self.error(self.doc.at((*path, "groups", i)), f"unknown group '{group}'{_hint(group, self.groups, 'groups')}")
        raw_effects = data.get("effects")
        effects: list[EffectSpec] = []
        for i, raw in enumerate(raw_effects if isinstance(raw_effects, list) else []):
            call = checker.call(raw, (*path, "effects", i), "effect")
            if call is not None:
                effects.append(EffectSpec(call.verb, call.args, call.location, call.when))
        return TransitionSpec(
            name=name,
            label=label_of(data.get("label"), name),
            sources=self.sources(path, data.get("from"), target, states),
            target=target,
            groups=tuple(g for _, g in groups),
            condition=condition,
            condition_message=opt_label(data.get("condition_message")),
            confirm=opt_label(data.get("confirm")),
            effects=tuple(effects),
            audit=flag(data.get("audit")),
            bulk=flag(data.get("bulk")),
            location=self.doc.key_at(path),
        )

    def sources(self, path: YamlPath, raw: Any, target: str | None, states: Mapping[str, StateSpec]) -> tuple[str, ...]:
        """The `from` states; "*" is expanded: every non-final state (every state without `to`)."""
        if raw == ANY_STATE:
            return tuple(code for code, s in states.items() if target is None or not s.final)
        if isinstance(raw, str):
            items: list[tuple[YamlPath, str]] = [((*path, "from"), raw)]
        else:
            items = [((*path, "from", i), code) for i, code in str_items(raw)]
        result: list[str] = []
        for where, code in items:
            state = states.get(code)
            if state is None:
                if states and NAME.match(code):  # else the schema check reported it
                    self.error(self.doc.at(where), f"unknown state '{code}' in 'from'{_hint(code, states, 'states')}")
            elif state.final and target is not None and target != code:
                self.error(self.doc.at(where), f"state '{code}' is final: no transition may leave it")
            result.append(code)
        return tuple(result)


def build_workflows(
    doc: YamlDoc,
    entities: Mapping[str, EntitySpec],
    known: Collection[str],
    groups: Mapping[str, GroupSpec] | None,
    picklists: Mapping[str, Picklist] | None,
    root: Path | None = None,
) -> tuple[dict[str, WorkflowSpec], list[SpecError]]:
    """The workflows by entity name (also for unknown entities, so that group rights naming
    their transitions are not reported twice) and their errors. `groups` / `picklists`: None
    when their file could not be read; `root`: the configuration folder (mail templates)."""
    builder = _WorkflowBuilder(doc, entities, known, groups, picklists, root)
    workflows = {
        name: builder.workflow(name, raw) for name, raw in mapping(doc.data).items()
        if isinstance(raw, dict) and not is_job_key(name)  # `jobs:` is app/spec/jobs.py's
    }
    for loc, entity, name, what in builder.transition_refs:  # transitions of other workflows
        workflow = workflows.get(entity)
        if workflow is None:
            builder.error(loc, f"'{entity}' has no workflow: {what} names a transition of it")
        elif name not in workflow.transitions:
            builder.error(loc, f"unknown transition '{name}' of '{entity}' in {what}{_hint(name, workflow.transitions, 'transitions')}")
    return workflows, builder.errors + workflow_arg_errors(doc, entities, workflows)


def _workflow_named(
    verb_arg: Arg, args: Mapping[str, Any], entity: EntitySpec, entities: Mapping[str, EntitySpec],
    workflows: Mapping[str, WorkflowSpec],
) -> WorkflowSpec | None:
    """The workflow whose transitions or states the argument names (None: reported elsewhere)."""
    if verb_arg.kind == "transition":
        return workflows.get(entity.name)
    via = args.get(verb_arg.via)
    if verb_arg.kind == "linked_transition":
        link = entity.fields.get(via) if isinstance(via, str) else None
        return workflows.get(link.to or "") if link is not None and link.is_link else None
    return workflows.get(via) if isinstance(via, str) and via in entities else None


def workflow_arg_errors(
    doc: YamlDoc, entities: Mapping[str, EntitySpec], workflows: Mapping[str, WorkflowSpec]
) -> list[SpecError]:
    """Effect arguments naming a transition or states of a workflow (maybe another entity's):
    checked once every workflow is built."""
    errors: list[SpecError] = []
    for name, workflow in workflows.items():
        entity = entities.get(name)
        raw_transitions = mapping(mapping(doc.data.get(name) if isinstance(doc.data, dict) else None).get("transitions"))
        for tname, raw_transition in raw_transitions.items():
            raw_effects = mapping(raw_transition).get("effects")
            for i, raw in enumerate(raw_effects if isinstance(raw_effects, list) and entity is not None else []):
                if not isinstance(raw, dict) or len(raw) != 1:
                    continue
                verb_name, args = next(iter(raw.items()))
                verb = VERBS.get(verb_name)
                if verb is None or not isinstance(args, dict) or entity is None:
                    continue
                for a in verb.args:
                    if a.kind not in WORKFLOW_KINDS or a.name not in args:
                        continue
                    target = _workflow_named(a, args, entity, entities, workflows)
                    where = (name, "transitions", tname, "effects", i, verb_name, a.name)
                    errors.extend(linked_workflow_errors(doc, where, a, args, entity, workflows))
                    if target is None:
                        continue
                    values = args[a.name] if isinstance(args[a.name], list) else [args[a.name]]
                    known = target.states if a.kind == "target_states" else target.transitions
                    what = "state" if a.kind == "target_states" else "transition"
                    for value in values:
                        if isinstance(value, str) and value not in known:
                            errors.append(SpecError(
                                doc.at(where),
                                f"unknown {what} '{value}' of '{target.entity}' in '{verb_name}.{a.name}'"
                                f"{_hint(value, known, what + 's')}",
                            ))
    return errors


def check_status_fields(
    entities: Mapping[str, EntitySpec], docs: Mapping[str, YamlDoc], workflows: Mapping[str, WorkflowSpec]
) -> list[SpecError]:
    """Every status field is the one field its entity's workflow names."""
    errors: list[SpecError] = []
    for name, doc in docs.items():
        entity = entities.get(name)
        workflow = workflows.get(name)
        if entity is None or (workflow is not None and _status_field(entities, workflow) is None):
            continue  # no entity, or a workflow whose `field` is wrong: reported already
        for f in entity.fields.values():
            if f.type != STATUS:
                continue
            if workflow is None:
                message = (
                    f"status field '{f.name}' needs a workflow: add '{name}:' to workflows.yaml "
                    f"with `field: {f.name}`, its states and transitions"
                )
            elif workflow.field != f.name:
                message = (
                    f"'{name}' has one status field, '{workflow.field}' (named by its workflow): "
                    f"make '{f.name}' a choice field"
                )
            else:
                continue
            errors.append(SpecError(doc.key_at(("fields", f.name)), message))
    return errors


def status_picklists(
    entities: Mapping[str, EntitySpec], workflows: Mapping[str, WorkflowSpec]
) -> dict[str, Picklist]:
    """`<entity>_status` for each workflow: its states as codes, in display order."""
    result: dict[str, Picklist] = {}
    for name, workflow in workflows.items():
        f = _status_field(entities, workflow)
        if f is None:
            continue
        values = sorted(
            (PicklistValue(s.code, s.label, s.colour, s.order, True) for s in workflow.states.values()),
            key=lambda v: v.order,
        )
        picklist_name = status_picklist_name(name)
        result[picklist_name] = Picklist(picklist_name, f.label, tuple(values), workflow.location)
    return result


def with_status_fields(
    entities: Mapping[str, EntitySpec], workflows: Mapping[str, WorkflowSpec]
) -> dict[str, EntitySpec]:
    """Bind each status field to its workflow: read-only, the generated picklist, the initial
    state as default (the quoted code, an expression like any default)."""
    result = dict(entities)
    for name, workflow in workflows.items():
        f = _status_field(entities, workflow)
        if f is None:
            continue
        bound = dataclasses.replace(
            f,
            readonly=True,
            picklist=status_picklist_name(name),
            default=f"'{workflow.initial}'" if workflow.initial else None,
        )
        entity = entities[name]
        result[name] = dataclasses.replace(entity, fields={**entity.fields, f.name: bound})
    return result


def _status_field(entities: Mapping[str, EntitySpec], workflow: WorkflowSpec) -> FieldSpec | None:
    entity = entities.get(workflow.entity)
    f = entity.fields.get(workflow.field) if entity is not None else None
    return f if f is not None and f.type == STATUS else None


def picklist_conflicts(generated: Collection[str], picklists_doc: YamlDoc) -> list[SpecError]:
    """A picklist of picklists.yaml named like a generated `<entity>_status`."""
    return [
        SpecError(
            picklists_doc.key_at((name,)),
            f"picklist '{name}' is generated from the workflow of '{name.removesuffix('_status')}' "
            "(workflows.yaml): choose another name",
        )
        for name in mapping(picklists_doc.data)
        if name in generated
    ]


def build_computes(
    entities: Mapping[str, EntitySpec],
    docs: Mapping[str, YamlDoc],
    known: Collection[str],
    picklists: Mapping[str, Picklist] | None,
) -> tuple[dict[str, EntitySpec], list[SpecError]]:
    """Entities with their `compute:` verbs, checked against the compute declarations."""
    result = dict(entities)
    errors: list[SpecError] = []
    for name, doc in docs.items():
        entity = entities.get(name)
        raw = doc.data.get("compute") if isinstance(doc.data, dict) else None
        if entity is None or not isinstance(raw, list):
            continue
        checker = CallChecker(doc, entity, entities, known, picklists)
        computes: list[ComputeSpec] = []
        for i, item in enumerate(raw):
            call = checker.call(item, ("compute", i), "compute")
            if call is not None:
                computes.append(ComputeSpec(call.verb, call.args, call.location))
        errors.extend(checker.errors)
        result[name] = dataclasses.replace(entity, computes=tuple(computes))
    return result, errors
