"""Build the groups of groups.yaml and check that their rights name real entities and actions."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from app.spec.errors import SpecError
from app.spec.model import BASE_ACTIONS, GroupSpec
from app.spec.suggest import did_you_mean
from app.spec.values import label_of, mapping, str_items
from app.spec.yamlpos import YamlDoc

ALL = "*"


def build_groups(doc: YamlDoc) -> dict[str, GroupSpec]:
    result: dict[str, GroupSpec] = {}
    for name, raw in mapping(doc.data).items():
        data = mapping(raw)
        rights = {
            entity: tuple(action for _, action in str_items(actions))
            for entity, actions in mapping(data.get("rights")).items()
        }
        result[name] = GroupSpec(name, label_of(data.get("label"), name), rights, doc.key_at((name,)))
    return result


def check_rights(
    groups: Mapping[str, GroupSpec],
    doc: YamlDoc,
    known: Collection[str],
    transitions: Mapping[str, Collection[str]] | None,
) -> list[SpecError]:
    """Unknown entities and actions in rights; `transitions`: the transition names of each
    entity's workflow, None when workflows.yaml could not be read (actions are not checked)."""
    errors: list[SpecError] = []
    every_transition: set[str] = set().union(*map(set, transitions.values())) if transitions else set()
    for group in groups.values():
        raw_group = mapping(mapping(doc.data).get(group.name))
        for entity, actions in mapping(raw_group.get("rights")).items():
            path = (group.name, "rights", entity)
            if entity != ALL and entity not in known:
                hint = did_you_mean(entity, known)
                errors.append(SpecError(doc.key_at(path), f"unknown entity '{entity}'{hint}"))
                continue
            if transitions is None:
                continue
            extra = every_transition if entity == ALL else set(transitions.get(entity, ()))
            allowed = [*BASE_ACTIONS, *sorted(extra), ALL]
            for i, action in str_items(actions):
                if action not in allowed:
                    hint = did_you_mean(action, allowed) or f" (expected one of: {', '.join(allowed)})"
                    errors.append(SpecError(doc.at((*path, i)), f"unknown action '{action}' for '{entity}'{hint}"))
    return errors
