"""Checks across files: link targets, picklists, child collections, link `match` constraints
and required-link cycles."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from app.spec.errors import SpecError
from app.spec.model import SYSTEM_COLUMNS, ChildSpec, EntitySpec, FieldSpec, Picklist
from app.spec.suggest import did_you_mean
from app.spec.yamlpos import YamlDoc

_CHOICE_TYPES = ("choice", "multichoice")


def check_references(
    entities: Mapping[str, EntitySpec],
    docs: Mapping[str, YamlDoc],
    known: set[str],
    picklists: Mapping[str, Picklist] | None,
) -> list[SpecError]:
    """`entities`: every built entity (built-ins included); `docs`: the YAML of configured ones;
    `known`: every entity name, even of files too broken to build (so that links to them are
    not reported too); `picklists`: None when picklists.yaml could not be read."""
    errors: list[SpecError] = []
    for name, doc in docs.items():
        entity = entities.get(name)
        if entity is None:
            continue
        for f in entity.fields.values():
            errors.extend(_field_refs(f, doc, known, picklists))
            errors.extend(_match_refs(entity, f, doc, entities))
        for child in entity.children:
            errors.extend(_child_refs(entity, child, doc, entities, known))
    errors.extend(_required_cycles(entities, docs))
    return errors


def _field_refs(
    f: FieldSpec, doc: YamlDoc, known: set[str], picklists: Mapping[str, Picklist] | None
) -> list[SpecError]:
    errors: list[SpecError] = []
    if f.type == "link" and f.to is not None and f.to not in known:
        loc = doc.at(("fields", f.name, "to"))
        errors.append(SpecError(loc, f"unknown entity '{f.to}'{did_you_mean(f.to, known)}"))
    if f.type in _CHOICE_TYPES and f.picklist is not None and picklists is not None:
        if f.picklist not in picklists:
            loc = doc.at(("fields", f.name, "picklist"))
            hint = did_you_mean(f.picklist, picklists)
            errors.append(SpecError(loc, f"unknown picklist '{f.picklist}'{hint}"))
    return errors


def describe_field(f: FieldSpec) -> str:
    """`a link to 'account'`, `a choice field of picklist 'currency'`, `an integer field`."""
    if f.is_link:
        return f"a link to '{f.to}'"
    article = "an" if f.type[:1] in "aeiou" else "a"
    if f.type in _CHOICE_TYPES:
        return f"{article} {f.type} field of picklist '{f.picklist}'"
    return f"{article} {f.type} field"


def type_mismatch(
    ours: FieldSpec, our_entity: str, theirs: FieldSpec, their_entity: str, *, text_from_string: bool = False
) -> str | None:
    """Why a value of `theirs` cannot be compared with, or copied into, `ours` (None: it can).
    Same type, and for links the same target entity, for choices the same picklist;
    `text_from_string`: a copy where a text field may also receive a string field and a
    decimal field any number (money, percent, integer: the copy is parsed by the decimal field)."""
    same = ours.type == theirs.type and ours.to == theirs.to and (
        ours.type not in _CHOICE_TYPES or ours.picklist == theirs.picklist
    )
    widened = text_from_string and (
        (ours.type == "text" and theirs.type == "string")
        or (ours.type == "decimal" and theirs.type in ("money", "percent", "integer"))
    )
    if same or widened:
        return None
    return (
        f"'{our_entity}.{ours.name}' is {describe_field(ours)} but '{their_entity}.{theirs.name}' "
        f"is {describe_field(theirs)}"
    )


def _match_refs(entity: EntitySpec, f: FieldSpec, doc: YamlDoc, entities: Mapping[str, EntitySpec]) -> list[SpecError]:
    """`match: {their_field: our_field}` of a link: their fields exist on the linked entity and
    have the type of ours (our fields' existence is checked with the entity's file)."""
    target = entities.get(f.to or "")
    if not f.is_link or not f.match or target is None:
        return []
    errors: list[SpecError] = []
    for theirs_name, ours_name in f.match.items():
        path = ("fields", f.name, "match", theirs_name)
        theirs, ours = target.fields.get(theirs_name), entity.fields.get(ours_name)
        if theirs is None:
            hint = did_you_mean(theirs_name, target.fields)
            message = f"unknown field '{theirs_name}' of '{target.name}' in 'match' of '{f.name}'{hint}"
            errors.append(SpecError(doc.key_at(path), message))
        elif ours is not None:
            problem = type_mismatch(ours, entity.name, theirs, target.name)
            if problem is not None:
                message = f"{problem}: 'match' compares fields of the same type (links to the same entity)"
                errors.append(SpecError(doc.at(path), message))
    return errors


def _child_refs(
    parent: EntitySpec,
    child: ChildSpec,
    doc: YamlDoc,
    entities: Mapping[str, EntitySpec],
    known: set[str],
) -> list[SpecError]:
    path = ("children", child.name)
    if child.entity not in known:
        hint = did_you_mean(child.entity, known)
        return [SpecError(doc.at((*path, "entity")), f"unknown entity '{child.entity}'{hint}")]
    target = entities.get(child.entity)
    if target is None:
        return []  # its own file is broken and reported
    errors: list[SpecError] = []
    via = target.fields.get(child.via)
    if via is None:
        links = [f.name for f in target.fields.values() if f.is_link]
        hint = did_you_mean(child.via, links) or (
            f" (its links: {', '.join(links)})" if links else f" ('{child.entity}' has no link field)"
        )
        errors.append(SpecError(doc.at((*path, "via")), f"'{child.via}' is not a field of '{child.entity}'{hint}"))
    elif not via.is_link:
        message = f"'{child.entity}.{child.via}' is a {via.type} field, not a link to '{parent.name}'"
        errors.append(SpecError(doc.at((*path, "via")), message))
    elif via.to != parent.name:
        message = f"'{child.entity}.{child.via}' links to '{via.to}', not to '{parent.name}'"
        errors.append(SpecError(doc.at((*path, "via")), message))
    if child.order_by is not None:
        order = child.order_by.removeprefix("-")
        candidates = [*target.fields, *SYSTEM_COLUMNS]
        if order not in candidates:
            hint = did_you_mean(order, candidates)
            message = f"unknown field '{order}' of '{child.entity}' in 'order_by'{hint}"
            errors.append(SpecError(doc.at((*path, "order_by")), message))
    return errors


def _required_links(entity: EntitySpec, entities: Mapping[str, EntitySpec]) -> list[FieldSpec]:
    return [f for f in entity.fields.values() if f.is_link and f.required and f.to in entities]


def _path_back(start: str, goal: str, entities: Mapping[str, EntitySpec]) -> list[tuple[str, str]] | None:
    """Shortest chain of required links from `start` to `goal`, as (entity, field) steps."""
    if start == goal:
        return []
    previous: dict[str, tuple[str, str]] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for f in _required_links(entities[current], entities):
            target = str(f.to)
            if target in previous or target == start:
                continue
            previous[target] = (current, f.name)
            if target == goal:
                steps: list[tuple[str, str]] = []
                node = goal
                while node != start:
                    steps.append(previous[node])
                    node = previous[node][0]
                return steps[::-1]
            queue.append(target)
    return None


def _required_cycles(entities: Mapping[str, EntitySpec], docs: Mapping[str, YamlDoc]) -> list[SpecError]:
    """A required link A → B with a chain of required links back to A: such records could never
    be created (each needs the other to exist first)."""
    errors: list[SpecError] = []
    for name, doc in docs.items():
        entity = entities.get(name)
        if entity is None:
            continue
        for f in _required_links(entity, entities):
            back = _path_back(str(f.to), name, entities)
            if back is None:
                continue
            chain = " → ".join(f"{e}.{fname}" for e, fname in [(name, f.name), *back])
            message = (
                f"required links form a cycle: {chain} → {name}; such records could never be "
                "created — make one of these links optional"
            )
            errors.append(SpecError(doc.key_at(("fields", f.name)), message))
    return errors
