"""Checks of a LINKED_VALUES argument: `{field of the linked record: expression on this record}`,
e.g. the `set` of `propagate` (app/verbs/propagation.py):

    - propagate: {link: account, set: {type: "'client'"}}

Each key must be a field of the entity the link points to that a verb may write (not its status
field, not a password); each value an expression on this record. An unquoted picklist code of
the linked field gets the hint to quote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.spec.errors import SpecError
from app.spec.model import EntitySpec, Location
from app.spec.suggest import did_you_mean, show
from app.spec.values import expression_source
from app.spec.verbs import VERBS

if TYPE_CHECKING:
    from app.spec.verb_calls import CallChecker
    from app.spec.verbs import Arg
    from app.spec.workflow_model import WorkflowSpec
    from app.spec.yamlpos import YamlDoc, YamlPath

_CHOICE_TYPES = ("choice", "multichoice")


def linked_value(
    checker: CallChecker, a: Arg, key: str, item: Any, locs: tuple[Location, Location],
    linked: EntitySpec | None, what: str,
) -> str | None:
    """The expression source of one `their_field: expression` (None when it is not one)."""
    from app.spec.verb_calls import expression_problems, record_names

    key_loc, item_loc = locs
    codes: list[str] = []
    if linked is not None:
        f = linked.fields.get(key)
        if f is None:
            checker.error(key_loc, f"unknown field '{key}' of '{linked.name}' in {what}{did_you_mean(key, linked.fields)}")
        elif f.type == "status":
            checker.error(
                key_loc,
                f"the status field '{linked.name}.{key}' changes only by transitions: give {what.rsplit('.', 1)[0]}.transition'",
            )
        elif f.type == "password":
            checker.error(key_loc, f"'{linked.name}.{key}' is a password field: {what} cannot write it")
        elif f.type in _CHOICE_TYPES and f.picklist and checker.picklists is not None and f.picklist in checker.picklists:
            codes = checker.picklists[f.picklist].codes()
    source = expression_source(item)
    if source is None:
        checker.error(item_loc, f"expected an expression for '{key}' in {what}, got {show(item)}")
    elif checker.entity is not None:
        for problem in expression_problems(source, record_names(checker.entity), codes):
            checker.error(item_loc, problem)
    return source


def linked_workflow_errors(
    doc: YamlDoc, where: YamlPath, a: Arg, args: Mapping[str, Any], entity: EntitySpec,
    workflows: Mapping[str, WorkflowSpec],
) -> list[SpecError]:
    """Checks of a LINKED_TRANSITION once every workflow is built: the linked entity has a
    workflow, and the fields the verb's LINKED_VALUES argument sets after the transition stay
    writable in the (locked) state it leads to. The link itself, when wrong, is reported by
    its own argument."""
    if a.kind != "linked_transition":
        return []
    link = entity.fields.get(args.get(a.via)) if isinstance(args.get(a.via), str) else None
    if link is None or not link.is_link or not link.to:
        return []
    verb_name = str(where[-2])
    verb = VERBS.get(verb_name)
    setter = next((v.name for v in verb.args if v.kind == "linked_values"), None) if verb is not None else None
    workflow = workflows.get(link.to)
    if workflow is None:
        hint = f" (to change its fields, use '{verb_name}.{setter}')" if setter else ""
        return [SpecError(doc.at(where), f"'{link.to}' has no workflow: '{verb_name}.{a.name}' names a transition of it{hint}")]
    transition = workflow.transitions.get(args.get(a.name)) if isinstance(args.get(a.name), str) else None
    if transition is None or not transition.target:
        return []
    state = workflow.states.get(transition.target)
    values = args.get(setter) if setter else None
    if state is None or state.editable or not isinstance(values, dict):
        return []
    return [
        SpecError(
            doc.key_at((*where[:-1], setter, name)),
            f"'{link.to}.{name}' cannot change once '{transition.name}' has made it '{state.code}' (a locked state):"
            f" add it to the `mutable` fields of the '{link.to}' workflow, or do not set it",
        )
        for name in values
        if isinstance(name, str) and name not in workflow.mutable
    ]
