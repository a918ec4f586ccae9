"""Field rules declared in YAML and checked on every save through the Store:

- `frozen: true` — the value may be given on creation, never changed afterwards
  (`check_frozen`, on updates only: a conversion creates its record with the value set);
- `match: {their_field: our_field}` on a link — the linked record must agree with this one,
  e.g. `contact: {type: link, to: contact, match: {account: account}}`: the contact belongs to
  the document's client (`check_matches`, on creates and updates, once every value is known).

Generic over the spec: no entity is named here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from app.engine.models import Record
from app.spec.model import EntitySpec, FieldSpec

if TYPE_CHECKING:  # store.py imports this module: StoreError is imported where it is raised
    from app.engine.runtime import Runtime
    from app.engine.store import StoreError


def _m(fr: str, en: str) -> str:
    return f"{fr} / {en}"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _same(field: FieldSpec, old: Any, new: Any) -> bool:
    if _empty(old) or _empty(new):
        return _empty(old) and _empty(new)
    if field.type == "multichoice" and isinstance(old, list) and isinstance(new, list):
        return sorted(map(str, old)) == sorted(map(str, new))
    return bool(old == new)


def same_value(field: FieldSpec, old: Any, new: Any) -> bool:
    """Whether a parsed value `new` is the stored `old` (empty values are all the same)."""
    return _same(field, old, new)


def _shown(session: Session, rt: Runtime, field: FieldSpec, value: Any) -> str:
    """A value as a user reads it: a linked record by its title, an empty value as a dash."""
    if _empty(value):
        return "—"
    if field.is_link and field.to in rt.models.classes:
        linked = session.get(rt.models.cls(field.to), value)
        if linked is not None:
            return str(linked)
    return str(value)


# --- frozen ---------------------------------------------------------------------------------------


def check_frozen(entity: EntitySpec, obj: Record, values: Mapping[str, Any]) -> None:
    """Refuse an update (`values`: parsed, by field name) that changes a frozen field of `obj`;
    giving the same value again is fine (forms send every field)."""
    for name, new in values.items():
        field = entity.fields.get(name)
        if field is None or not field.frozen:
            continue
        old = getattr(obj, field.column_name)
        if _same(field, old, new):
            continue
        current = _current(obj, field, old)
        from app.engine.store import StoreError

        raise StoreError(
            422,
            "frozen",
            _m(
                f"« {field.label.fr} » ne peut pas changer après la création "
                f"(valeur actuelle : « {current} »)",
                f"'{field.label.en}' cannot change once the record is created (current value: '{current}')",
            ),
            field=name,
        )


def _current(obj: Record, field: FieldSpec, value: Any) -> str:
    """The stored value as a user reads it: a linked record by its title (its relationship)."""
    if _empty(value):
        return "—"
    linked = getattr(obj, field.name, None) if field.is_link else None
    return str(linked) if isinstance(linked, Record) else str(value)


# --- match ----------------------------------------------------------------------------------------


def values_after(entity: EntitySpec, obj: Record | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every field's value once `values` (parsed, by field name) are saved on `obj` (None: a new
    record, whose missing fields are empty)."""
    result: dict[str, Any] = {}
    for name, field in entity.fields.items():
        if name in values:
            result[name] = values[name]
        elif obj is not None and field.type != "password":
            result[name] = getattr(obj, field.column_name)
        else:
            result[name] = None
    return result


def check_matches(
    session: Session,
    rt: Runtime,
    entity: EntitySpec,
    values_after: Mapping[str, Any],
    *,
    changed: Collection[str] | None = None,
) -> None:
    """Refuse a record whose linked records do not agree with it (`match` of its link fields).
    `values_after`: every field's value after the save (see `values_after`); `changed`: the
    fields given in this save — a constraint none of whose fields changed is not checked again
    (None: check all). A constraint holds when our field is empty (nothing to agree with)."""
    for link in entity.matched_links:
        target_id = values_after.get(link.name)
        if target_id is None:
            continue
        if changed is not None and link.name not in changed and not any(o in changed for o in link.match.values()):
            continue
        target_spec = rt.spec.entities[link.to or ""]
        linked = session.get(rt.models.cls(target_spec.name), target_id)
        if linked is None:
            continue  # a link to nothing is refused by the link check
        for theirs_name, ours_name in link.match.items():
            ours, theirs = entity.fields[ours_name], target_spec.fields[theirs_name]
            expected = values_after.get(ours_name)
            if _empty(expected):
                continue
            actual = getattr(linked, theirs.column_name)
            if _same(ours, actual, expected):
                continue
            raise _mismatch(session, rt, link, linked, ours, theirs, expected, actual)


def _mismatch(
    session: Session,
    rt: Runtime,
    link: FieldSpec,
    linked: Record,
    ours: FieldSpec,
    theirs: FieldSpec,
    expected: Any,
    actual: Any,
) -> StoreError:
    from app.engine.store import StoreError

    name = str(linked)
    want, got = _shown(session, rt, ours, expected), _shown(session, rt, theirs, actual)
    if ours.is_link:
        fr = f"{link.label.fr} : « {name} » n'appartient pas à « {want} » ({ours.label.fr})"
        en = f"{link.label.en}: '{name}' does not belong to '{want}' ({ours.label.en})"
        if _empty(actual):
            fr, en = f"{fr} : {theirs.label.fr} non renseigné", f"{en}: {theirs.label.en} not set"
        else:
            fr, en = f"{fr} mais à « {got} »", f"{en} but to '{got}'"
    else:
        fr = (
            f"{link.label.fr} : « {name} » ne correspond pas : {theirs.label.fr} « {got} » "
            f"au lieu de « {want} » ({ours.label.fr})"
        )
        en = f"{link.label.en}: '{name}' does not match: {theirs.label.en} '{got}' instead of '{want}' ({ours.label.en})"
    return StoreError(422, "mismatch", _m(fr, en), field=link.name)
