"""Check one use of a verb — a transition effect or an entity compute — against its declaration
(app/spec/verbs.py): the verb exists, its arguments are the declared ones, and each names a real
field, child collection, entity or state, or is a valid expression, label or pattern.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.numbering import placeholders, reset_problems, unknown_placeholders
from app.spec.errors import SpecError
from app.spec.expressions import EXPRESSION_NAMES, ExpressionError, compile_expression, uncalled_functions
from app.spec.model import SYSTEM_COLUMNS, EntitySpec, FieldSpec, Location, Picklist
from app.spec.references import type_mismatch
from app.spec.suggest import did_you_mean, show
from app.spec.values import expression_source, label_of
from app.spec.verbs import VERBS, Arg, Verb, VerbKind, verbs_for
from app.spec.yamlpos import YamlDoc, YamlPath
from app.spec.linked_values import linked_value

_COUNTER = re.compile(r"^0+$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CHOICE_TYPES = ("choice", "multichoice")
_KIND_WORDS: dict[VerbKind, str] = {"effect": "a transition effect", "compute": "a compute (entity `compute:`)"}
WHEN = "when"  # beside an effect's arguments: an expression on the record; false skips the effect


def record_names(entity: EntitySpec) -> list[str]:
    """Names an expression on a record may read: its fields, system columns, child collections."""
    return [*entity.fields, *SYSTEM_COLUMNS, *(c.name for c in entity.children)]


def expression_problems(source: str, allowed: Collection[str], codes: Collection[str] = ()) -> list[str]:
    """What is wrong with an expression: syntax, unknown names, functions used without `()`.
    `codes`: picklist codes that a configurator may have forgotten to quote."""
    try:
        names = compile_expression(source).names
    except ExpressionError as exc:
        return [str(exc)]
    known = set(EXPRESSION_NAMES) | set(allowed)
    problems: list[str] = []
    for unknown in sorted(names - known):
        hint = f" — to give the code, quote it: \"'{unknown}'\"" if unknown in codes else did_you_mean(unknown, known)
        problems.append(f"unknown name '{unknown}' in expression{hint}")
    for func in sorted(uncalled_functions(source)):
        call = f"{func}()" if func in ("today", "now") else f"{func}(n)"
        problems.append(f"'{func}' is a function: write '{call}'")
    return problems


def number_pattern_problems(pattern: str) -> list[str]:
    problems = [
        f"unknown placeholder '{{{p}}}' in number pattern"
        f"{did_you_mean(p, ['yyyy', 'yy', 'mm', 'dd', '0000'], wrap=chr(39) + '{{{}}}' + chr(39))}"
        " (use {yyyy} {yy} {mm} {dd} {0000})"
        for p in unknown_placeholders(pattern)
    ]
    counters = sum(1 for p in placeholders(pattern) if _COUNTER.match(p))
    if counters != 1:
        problems.append(f"number pattern '{pattern}' needs exactly one counter such as {{0000}}, found {counters}")
    return problems


def _names_hint(name: str, candidates: Collection[str], what: str) -> str:
    return did_you_mean(name, candidates) or (f" ({what}: {', '.join(candidates)})" if candidates else f" (no {what})")


@dataclass
class VerbCall:
    """A checked use of a verb: its name, its arguments (labels as Label, expressions as text)."""

    verb: str
    args: dict[str, Any]
    location: Location
    when: str | None = None  # effects only: run the verb only when this expression is true


@dataclass
class CallChecker:
    """Checks the verb calls of one entity; `entity` is None when its file could not be built."""

    doc: YamlDoc
    entity: EntitySpec | None
    entities: Mapping[str, EntitySpec]
    known: Collection[str]
    picklists: Mapping[str, Picklist] | None = None
    errors: list[SpecError] = field(default_factory=list)
    # (where, entity, transition, what): transitions of other workflows, checked once all are read
    transition_refs: list[tuple[Location, str, str, str]] = field(default_factory=list)

    def error(self, loc: Location, message: str) -> None:
        self.errors.append(SpecError(loc, message))

    def call(self, raw: Any, path: YamlPath, kind: VerbKind) -> VerbCall | None:
        """The call written at `path` (`{verb: {args}}` or the verb's name), None if unusable."""
        raw_args: Any
        if isinstance(raw, str):
            name, raw_args, verb_path = raw, {}, path
        elif isinstance(raw, dict) and len(raw) == 1:
            name, raw_args = next(iter(raw.items()))
            verb_path = (*path, name)
        else:
            return None  # reported by the schema check
        if raw_args is None:
            raw_args = {}
        if not isinstance(raw_args, dict) or not NAME.match(name):
            return None  # reported by the schema check
        loc = self.doc.key_at(verb_path)
        verb = VERBS.get(name)
        if verb is None:
            candidates = verbs_for(kind)
            self.error(loc, f"unknown verb '{name}'{_names_hint(name, list(candidates), 'verbs')}")
            return None
        if kind not in verb.kinds:
            self.error(loc, f"verb '{name}' is {_KIND_WORDS[verb.kinds[0]]}, not {_KIND_WORDS[kind]}")
            return None
        when: str | None = None
        if kind == "effect" and WHEN in raw_args and verb.arg(WHEN) is None:
            raw_args = dict(raw_args)
            when = self.when(raw_args.pop(WHEN), (*verb_path, WHEN))
        args = self.args(verb, raw_args, verb_path)
        return VerbCall(name, args, self.doc.at(path), when)

    def when(self, value: Any, path: YamlPath) -> str | None:
        """The `when:` of an effect: an expression on the record (the effect is skipped if false)."""
        source = expression_source(value)
        if source is None:
            self.error(self.doc.at(path), f"expected an expression for 'when', got {show(value)}")
        elif self.entity is not None:
            for problem in expression_problems(source, record_names(self.entity)):
                self.error(self.doc.at(path), problem)
        return source

    def args(self, verb: Verb, raw: dict[str, Any], path: YamlPath) -> dict[str, Any]:
        declared = [a.name for a in verb.args]
        for key in raw:
            if key not in declared:
                hint = _names_hint(key, declared, "arguments")
                self.error(self.doc.key_at((*path, key)), f"unknown argument '{key}' of '{verb.name}'{hint}")
        for a in verb.args:
            if a.required and a.name not in raw:
                self.error(self.doc.key_at(path), f"'{verb.name}' needs the argument '{a.name}'")
        target: EntitySpec | None = None
        targets: dict[str, EntitySpec | None] = {}
        result: dict[str, Any] = {}
        # the target entity first: the arguments naming its fields or children need it
        for a in sorted((a for a in verb.args if a.name in raw), key=lambda arg: arg.kind != "entity"):
            value, where = raw[a.name], (*path, a.name)
            if a.kind.startswith("scoped_"):
                continue  # once the line entities are known, below
            if a.kind == "entity":
                target = targets[a.name] = self.target(a, value, where)
            checker = self.of_rows(raw.get(a.of)) if a.of else self
            if checker is None:  # the child collection is wrong: reported on its own argument
                result[a.name] = value
                continue
            of = checker.other_entity(a, raw, targets, target)
            result[a.name] = checker.value(verb, a, value, where, of, checker.codes(raw.get("field")))
            if a.kind == "reset" and isinstance(value, str) and value:
                pattern = next((raw.get(p.name) for p in verb.args if p.kind == "pattern"), None)
                for problem in reset_problems(pattern if isinstance(pattern, str) else "", value):
                    if isinstance(pattern, str) or problem.startswith("unknown"):
                        self.error(self.doc.at(where), problem)
        result.update(self.scoped_args(verb, raw, path, target))
        return {name: result[name] for name in raw if name in result}

    # -- line-level (scoped) arguments ------------------------------------------------------

    def scopes(self, verb: Verb, raw: Mapping[str, Any], target: EntitySpec | None) -> list[dict[str, EntitySpec]]:
        """The entities of SCOPES, one mapping per pair of line collections (copy_to may copy
        several); names that do not resolve are reported by their own argument's check."""
        contexts: list[dict[str, EntitySpec]] = []
        entity = self.entity
        if entity is None:
            return contexts
        for a in verb.args:
            value = raw.get(a.name)
            if a.kind == "child" and isinstance(value, str):
                line = self.child_entity(entity, value)
                if line is not None:
                    contexts.append({"line": line})
            elif a.kind == "target_children" and isinstance(value, dict) and target is not None:
                for theirs, ours in value.items():
                    line, target_line = self.child_entity(entity, ours), self.child_entity(target, theirs)
                    if line is not None and target_line is not None:
                        contexts.append({"line": line, "target_line": target_line})
        source = next((a for a in verb.args if a.kind == "scoped_field" and a.scope == "line" and a.types == ("link",)), None)
        for context in contexts:
            link = context["line"].fields.get(raw.get(source.name)) if source is not None and isinstance(raw.get(source.name), str) else None
            source_line = self.entities.get(link.to or "") if link is not None and link.is_link else None
            if source_line is not None:
                context["source_line"] = source_line
                parent = next((e for e in self.entities.values() if any(c.entity == source_line.name for c in e.children)), None)
                if parent is not None:
                    context["source_document"] = parent
        return contexts

    def child_entity(self, entity: EntitySpec, name: Any) -> EntitySpec | None:
        child = next((c for c in entity.children if c.name == name), None)
        return self.entities.get(child.entity) if child is not None else None

    def scoped_args(self, verb: Verb, raw: Mapping[str, Any], path: YamlPath, target: EntitySpec | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        scoped = [a for a in verb.args if a.name in raw and a.kind.startswith("scoped_")]
        if not scoped:
            return result
        contexts = self.scopes(verb, raw, target)
        base = next((a.name for a in verb.args if a.kind in ("child", "target_children")), None)
        if not contexts and base is not None and base not in raw:
            for a in scoped:
                self.error(self.doc.key_at((*path, a.name)), f"'{verb.name}.{a.name}' works on lines: give '{base}' too")
        for a in scoped:
            value, where = raw[a.name], (*path, a.name)
            result[a.name] = self.scoped_value(verb, a, value, where, contexts)
        if "then" in raw and "complete" not in raw and verb.arg("complete") is not None:
            self.error(self.doc.key_at((*path, "then")), f"'{verb.name}.then' needs 'complete' (when is a line complete?)")
        return result

    def scoped_value(self, verb: Verb, a: Arg, value: Any, path: YamlPath, contexts: list[dict[str, EntitySpec]]) -> Any:
        loc, what = self.doc.at(path), f"'{verb.name}.{a.name}'"
        if a.kind == "scoped_fields":
            if not isinstance(value, dict):
                self.error(loc, f"expected a mapping for {what}, got {show(value)}")
                return {}
            result: dict[str, Any] = {}
            for key, item in value.items():
                source = expression_source(item)
                result[key] = source
                key_loc, item_loc = self.doc.key_at((*path, key)), self.doc.at((*path, key))
                if source is None:
                    self.error(item_loc, f"expected an expression for '{key}' in {what}, got {show(item)}")
                for context in contexts:
                    if a.key_scope in context:
                        self.scoped_field(a, key, key_loc, context[a.key_scope], what, context, writes=True)
                    if source is not None and a.scope in context:
                        self.once(item_loc, expression_problems(source, record_names(context[a.scope])))
            return result
        if a.kind == "scoped_expression":
            source = expression_source(value)
            if source is None:
                self.error(loc, f"expected an expression for {what}, got {show(value)}")
            for context in contexts:
                if source is not None and a.scope in context:
                    self.once(loc, expression_problems(source, record_names(context[a.scope])))
            return source
        if not isinstance(value, str) or not value:
            self.error(loc, f"expected text for {what}, got {show(value)}")
            return value
        for context in contexts:
            if a.scope not in context:
                continue
            if a.kind == "scoped_field":
                self.scoped_field(a, value, loc, context[a.scope], what, context)
            elif a.kind == "scoped_transition":
                self.transition_refs.append((loc, context[a.scope].name, value, what))
        return value

    def once(self, loc: Location, problems: list[str]) -> None:
        for problem in problems:
            if SpecError(loc, problem) not in self.errors:
                self.error(loc, problem)

    def scoped_field(
        self, a: Arg, name: str, loc: Location, of: EntitySpec, what: str,
        context: Mapping[str, EntitySpec], writes: bool = False,
    ) -> None:
        f = of.fields.get(name)
        problems: list[str] = []
        if f is None:
            problems.append(f"unknown field '{name}' of '{of.name}' in {what}{did_you_mean(name, of.fields)}")
        elif a.types and f.type not in a.types:
            problems.append(f"'{of.name}.{name}' is a {f.type} field; {what} needs a {' or '.join(a.types)} field")
        elif writes and f.type in ("status", "password"):
            problems.append(f"'{of.name}.{name}' is a {f.type} field: {what} cannot write it")
        elif a.to and a.to in context and f.to != context[a.to].name:
            problems.append(f"'{of.name}.{name}' links to '{f.to}', not to '{context[a.to].name}' ({what})")
        self.once(loc, problems)

    # -- one argument --------------------------------------------------------------------

    def other_entity(
        self, a: Arg, raw: Mapping[str, Any], targets: Mapping[str, EntitySpec | None], target: EntitySpec | None
    ) -> EntitySpec | None:
        """The entity whose names the argument gives: linked, child's, or the (named) target."""
        if a.kind in ("linked_fields", "linked_field", "linked_expression", "linked_transition", "linked_values"):
            return self.linked(raw.get(a.via))
        if a.kind == "child_field":
            child = next((c for c in self.entity.children if c.name == raw.get(a.via)), None) if self.entity else None
            return self.entities.get(child.entity) if child is not None else None
        if a.via:
            return targets.get(a.via)
        return target

    def codes(self, field_name: Any) -> list[str]:
        """Codes of the picklist of the field a verb writes (an unquoted code gets a hint)."""
        f = self.entity.fields.get(field_name) if self.entity is not None and isinstance(field_name, str) else None
        if f is None or f.picklist is None or self.picklists is None or f.type not in _CHOICE_TYPES:
            return []
        picklist = self.picklists.get(f.picklist)
        return picklist.codes() if picklist is not None else []

    def value(
        self, verb: Verb, a: Arg, value: Any, path: YamlPath, target: EntitySpec | None, codes: list[str]
    ) -> Any:
        loc, what = self.doc.at(path), f"'{verb.name}.{a.name}'"
        if a.kind == "label":
            if not (isinstance(value, str) and value) and not (isinstance(value, dict) and value.keys() & {"fr", "en"}):
                self.error(loc, f"expected a label (text, or {{fr: ..., en: ...}}) for {what}, got {show(value)}")
            return label_of(value, "")
        if a.kind in ("expression", "linked_expression", "target_expression"):
            source = expression_source(value)
            on = self.entity if a.kind == "expression" else target
            if source is None:
                self.error(loc, f"expected an expression for {what}, got {show(value)}")
            elif on is not None:
                for problem in expression_problems(source, record_names(on), codes if on is self.entity else ()):
                    self.error(loc, problem + (f" (on '{on.name}')" if on is not self.entity else ""))
            return source
        if a.kind == "flag":
            if not isinstance(value, bool):
                self.error(loc, f"expected true or false for {what}, got {show(value)}")
            return value
        if a.kind == "target_states":
            names = value if isinstance(value, list) else [value]
            if not names or not all(isinstance(n, str) and NAME.match(n) for n in names):
                self.error(loc, f"expected a state or a list of states for {what}, got {show(value)}")
            return [n for n in names if isinstance(n, str)]
        if a.kind in ("target_children", "target_fields", "field_map", "linked_fields", "linked_values"):
            if not isinstance(value, dict):
                self.error(loc, f"expected a mapping for {what}, got {show(value)}")
                return {}
            return self.mapping_arg(a, value, path, what, target)
        if a.kind == "field_list":
            if not isinstance(value, list) or not value:
                self.error(loc, f"expected a list of field names for {what}, got {show(value)}")
                return []
            for index, item in enumerate(value):
                if not isinstance(item, str) or not item:
                    self.error(self.doc.at((*path, index)), f"expected a field name in {what}, got {show(item)}")
                elif self.entity is not None:
                    self.own_field(a, item, self.doc.at((*path, index)), what)
            return list(value)
        if not isinstance(value, str) or not value:
            self.error(loc, f"expected text for {what}, got {show(value)}")
            return value
        if a.kind == "child_field":
            if target is not None:
                self.child_field(a, value, loc, what, target)
            return value
        if a.kind == "field" and self.entity is not None:
            self.own_field(a, value, loc, what)
        elif a.kind == "child" and self.entity is not None:
            self.own_child(value, loc, what)
        elif a.kind == "target_link" and target is not None and self.entity is not None:
            self.target_link(value, loc, target)
        elif a.kind in ("linked_field", "target_field") and target is not None:
            self.other_field(a, value, loc, what, target)
        elif a.kind == "pattern":
            for problem in number_pattern_problems(value):
                self.error(loc, problem)
        return value

    def target(self, a: Arg, value: Any, path: YamlPath) -> EntitySpec | None:
        if not isinstance(value, str):
            return None
        if value not in self.known:
            self.error(self.doc.at(path), f"unknown entity '{value}'{did_you_mean(value, self.known)}")
        return self.entities.get(value)

    def of_rows(self, child_name: Any) -> CallChecker | None:
        """A checker of the rows of a child collection of this entity (arguments with `of`);
        its errors are this checker's. None when the collection is unknown."""
        child = next((c for c in self.entity.children if c.name == child_name), None) if self.entity else None
        rows = self.entities.get(child.entity) if child is not None else None
        if rows is None:
            return None
        return CallChecker(self.doc, rows, self.entities, self.known, self.picklists, self.errors)

    def linked(self, link_name: Any) -> EntitySpec | None:
        """The entity a link field of this entity points to (None if it is not one: reported)."""
        f = self.entity.fields.get(link_name) if self.entity is not None and isinstance(link_name, str) else None
        return self.entities.get(f.to or "") if f is not None and f.is_link else None

    def child_field(self, a: Arg, name: str, loc: Location, what: str, rows: EntitySpec) -> None:
        f = rows.fields.get(name)
        if f is None:
            self.error(loc, f"unknown field '{name}' of '{rows.name}' in {what}{did_you_mean(name, rows.fields)}")
        elif a.types and f.type not in a.types:
            self.error(loc, f"'{rows.name}.{name}' is a {f.type} field; {what} needs a {' or '.join(a.types)} field")

    def own_field(self, a: Arg, name: str, loc: Location, what: str) -> FieldSpec | None:
        assert self.entity is not None
        f = self.entity.fields.get(name)
        if f is None:
            message = f"unknown field '{name}' of '{self.entity.name}' in {what}"
            self.error(loc, message + did_you_mean(name, self.entity.fields))
            return None
        if a.types and f.type not in a.types:
            self.error(loc, f"'{name}' is a {f.type} field; {what} needs a {' or '.join(a.types)} field")
        elif a.writes and f.type == "status":
            self.error(loc, f"the status field '{name}' changes only by transitions (their 'to'), not by {what}")
        return f

    def other_field(self, a: Arg, name: str, loc: Location, what: str, other: EntitySpec) -> None:
        f = other.fields.get(name)
        if f is None:
            self.error(loc, f"unknown field '{name}' of '{other.name}' in {what}{did_you_mean(name, other.fields)}")
        elif a.types and f.type not in a.types:
            self.error(loc, f"'{other.name}.{name}' is a {f.type} field; {what} needs a {' or '.join(a.types)} field")
        elif a.writes and f.type == "status":
            self.error(loc, f"the status field '{other.name}.{name}' changes only by transitions, not by {what}")

    def own_child(self, name: str, loc: Location, what: str) -> None:
        assert self.entity is not None
        children = [c.name for c in self.entity.children]
        if name not in children:
            hint = _names_hint(name, children, "child collections")
            self.error(loc, f"unknown child collection '{name}' of '{self.entity.name}' in {what}{hint}")

    def target_link(self, name: str, loc: Location, target: EntitySpec) -> None:
        assert self.entity is not None
        f = target.fields.get(name)
        if f is None:
            links = [f.name for f in target.fields.values() if f.is_link and f.to == self.entity.name]
            hint = _names_hint(name, links, f"links to '{self.entity.name}'")
            self.error(loc, f"'{name}' is not a field of '{target.name}'{hint}")
        elif not f.is_link:
            self.error(loc, f"'{target.name}.{name}' is a {f.type} field, not a link to '{self.entity.name}'")
        elif f.to != self.entity.name:
            self.error(loc, f"'{target.name}.{name}' links to '{f.to}', not to '{self.entity.name}'")

    def mapping_arg(
        self, a: Arg, value: dict[str, Any], path: YamlPath, what: str, target: EntitySpec | None
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, item in value.items():
            key_loc, item_loc = self.doc.key_at((*path, key)), self.doc.at((*path, key))
            if a.kind == "target_fields":
                source = expression_source(item)
                result[key] = source
                if source is None:
                    self.error(item_loc, f"expected an expression for '{key}' in {what}, got {show(item)}")
                elif self.entity is not None:
                    for problem in expression_problems(source, record_names(self.entity)):
                        self.error(item_loc, problem)
                if target is not None:
                    self.target_field(key, key_loc, target, what)
                continue
            if a.kind == "linked_values":
                result[key] = linked_value(self, a, key, item, (key_loc, item_loc), target, what)
                continue
            if a.kind == "linked_fields":
                result[key] = item
                self.linked_field(a, key, item, (key_loc, item_loc), target, what)
                continue
            result[key] = item
            if not isinstance(item, str):
                self.error(item_loc, f"expected a name for '{key}' in {what}, got {show(item)}")
            elif a.kind == "field_map" and self.entity is not None:
                self.own_field(a, item, item_loc, what)
            elif a.kind == "target_children" and self.entity is not None:
                self.own_child(item, item_loc, what)
            if a.kind == "target_children" and target is not None:
                theirs = [c.name for c in target.children]
                if key not in theirs:
                    hint = _names_hint(key, theirs, "child collections")
                    self.error(key_loc, f"unknown child collection '{key}' of '{target.name}' in {what}{hint}")
        return result

    def linked_field(
        self, a: Arg, ours_name: str, theirs_name: Any, locs: tuple[Location, Location], linked: EntitySpec | None, what: str
    ) -> None:
        """One `our_field: their_field` of a LINKED_FIELDS argument (`linked`: None when the link
        argument is wrong, which is reported on its own)."""
        key_loc, item_loc = locs
        ours = self.own_field(a, ours_name, key_loc, what) if self.entity is not None else None
        if not isinstance(theirs_name, str):
            self.error(item_loc, f"expected a field name for '{ours_name}' in {what}, got {show(theirs_name)}")
            return
        if linked is None:
            return
        theirs = linked.fields.get(theirs_name)
        if theirs is None:
            hint = did_you_mean(theirs_name, linked.fields)
            self.error(item_loc, f"unknown field '{theirs_name}' of '{linked.name}' in {what}{hint}")
        elif theirs.type == "password" or (ours is not None and ours.type == "password"):
            self.error(item_loc, f"password fields are never copied ({what})")
        elif ours is not None and self.entity is not None:
            problem = type_mismatch(ours, self.entity.name, theirs, linked.name, text_from_string=True)
            if problem is not None:
                self.error(item_loc, f"{problem}: {what} copies between fields of the same type")

    def target_field(self, name: str, loc: Location, target: EntitySpec, what: str) -> None:
        f = target.fields.get(name)
        if f is None:
            self.error(loc, f"unknown field '{name}' of '{target.name}' in {what}{did_you_mean(name, target.fields)}")
        elif f.type == "status":
            self.error(loc, f"the status field '{name}' of '{target.name}' starts in its initial state; it cannot be copied")
