"""Load a configuration folder into an AppSpec, collecting every error of every file.

Stages, each returning its errors as values (never stopping at the first one):
read YAML with positions (yamlpos) → JSON Schema (schema_check) → build picklists, groups and
entities with their own checks (picklists, groups, entities) → computes and workflows, which
bind each status field to its generated picklist (workflows) → checks across files
(references, group rights) → merge the built-in user entities and picklists (builtin).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.spec.builtin import USER_ENTITY, builtin_picklists, user_entities
from app.spec.entities import build_entity
from app.spec.errors import SpecError, SpecInvalid
from app.spec.files import FILES_FILE, build_files
from app.spec.jobs import JobSpec, build_jobs
from app.spec.groups import build_groups, check_rights
from app.spec.list_rules import check_codes as check_list_codes
from app.spec.model import AppSpec, EntitySpec, GroupSpec, Location, Picklist
from app.spec.pdf_templates import with_pdf_specs
from app.spec.picklists import build_picklists
from app.spec.references import check_references
from app.spec.schema_check import FileKind, schema_errors
from app.spec.workflow_model import WorkflowSpec
from app.spec.workflows import (
    build_computes,
    build_workflows,
    check_status_fields,
    picklist_conflicts,
    status_picklists,
    with_status_fields,
)
from app.spec.yamlpos import YamlDoc, read_yaml

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SCHEMA_DIR = "schema"
PICKLISTS_FILE = "picklists.yaml"
GROUPS_FILE = "groups.yaml"
WORKFLOWS_FILE = "workflows.yaml"


def format_errors(errors: Iterable[SpecError]) -> str:
    """One `file:line:col: message` per line."""
    return "\n".join(str(e) for e in errors)


def load_spec_or_raise(root: Path) -> AppSpec:
    spec, errors = load_spec(root)
    if spec is None:
        raise SpecInvalid(errors)
    return spec


def declare_plugin_verbs() -> None:
    """Import the business verb modules (app/verbs/), some of which declare their verbs
    (`app.spec.verbs.declare`) when imported: the checks below must know them."""
    from app.engine.verbs import load_plugins  # lazy: the engine imports this package

    load_plugins()


def load_spec(root: Path) -> tuple[AppSpec | None, list[SpecError]]:
    """The whole configuration under `root`, or None and every error, sorted by file and line."""
    root = Path(root)
    declare_plugin_verbs()
    if not root.is_dir():
        return None, [SpecError(Location(root.as_posix(), 1, 1), "configuration folder not found")]
    errors: list[SpecError] = []
    builtin_entities = user_entities()

    picklists_doc = _read_optional(root, PICKLISTS_FILE, "picklists", errors)
    groups_doc = _read_optional(root, GROUPS_FILE, "groups", errors)
    workflows_doc = _read_optional(root, WORKFLOWS_FILE, "workflows", errors)
    files, files_errors = build_files(_read_optional(root, FILES_FILE, "files", errors))
    errors.extend(files_errors)
    entity_docs, known = _read_entities(root, builtin_entities, errors)

    groups: dict[str, GroupSpec] = build_groups(groups_doc) if groups_doc is not None else {}
    builtin_lists = builtin_picklists(groups)
    picklists: dict[str, Picklist] | None = None
    if picklists_doc is not None:
        configured, picklist_errors = build_picklists(picklists_doc, builtin_lists)
        errors.extend(picklist_errors)
        picklists = {**configured, **builtin_lists}

    configured_entities: dict[str, EntitySpec] = {}
    for name, doc in entity_docs.items():
        spec, entity_errors = build_entity(name, doc, picklists)
        errors.extend(entity_errors)
        if spec is not None:
            configured_entities[name] = spec
    entities = {**configured_entities, **builtin_entities}

    entities, compute_errors = build_computes(entities, entity_docs, known, picklists)
    errors.extend(compute_errors)
    workflows: dict[str, WorkflowSpec] = {}
    jobs: dict[str, JobSpec] = {}
    if workflows_doc is not None:
        checked_groups = groups if groups_doc is not None else None
        workflows, workflow_errors = build_workflows(workflows_doc, entities, known, checked_groups, picklists, root)
        errors.extend(workflow_errors)
        jobs, job_errors = build_jobs(workflows_doc, entities, workflows)  # `jobs:` (app/spec/jobs.py)
        errors.extend(job_errors)
    errors.extend(check_status_fields(entities, entity_docs, workflows))
    entities = with_status_fields(entities, workflows)
    if picklists is not None and picklists_doc is not None:
        generated = status_picklists(entities, workflows)
        errors.extend(picklist_conflicts(generated, picklists_doc))
        picklists = {**picklists, **generated}

    errors.extend(check_references(entities, entity_docs, known, picklists))
    errors.extend(check_list_codes(entities, entity_docs, picklists))
    entities, pdf_errors = with_pdf_specs(entities, entity_docs, root)
    errors.extend(pdf_errors)
    if groups_doc is not None:
        transitions = {name: list(w.transitions) for name, w in workflows.items()} if workflows_doc is not None else None
        errors.extend(check_rights(groups, groups_doc, known, transitions))

    errors = sorted(set(errors), key=lambda e: (e.location.file, e.location.line, e.location.column, e.message))
    if errors or picklists is None or workflows_doc is None:
        return None, errors
    return (
        AppSpec(
            root=root,
            entities=_with_child_labels(entities, entity_docs),
            picklists=picklists,
            groups=groups,
            workflows=workflows,
            files=files,
            jobs=jobs,
        ),
        [],
    )


def _read(path: Path, file: str, kind: FileKind, errors: list[SpecError]) -> YamlDoc | None:
    """The parsed, schema-checked file; None when its YAML cannot be read at all."""
    doc, read_errors = read_yaml(path, file)
    errors.extend(read_errors)
    if doc is None:
        return None
    if doc.data is None:
        if kind == "entity":
            errors.append(SpecError(Location(file, 1, 1), "the file is empty: an entity needs at least 'fields'"))
            return None
        doc.data = {}  # an empty picklists/groups/workflows file declares nothing
    errors.extend(schema_errors(doc, kind))
    return doc


def _read_optional(root: Path, name: str, kind: FileKind, errors: list[SpecError]) -> YamlDoc | None:
    path = root / name
    if not path.exists():
        return YamlDoc(name, {})
    return _read(path, name, kind, errors)


def _read_entities(
    root: Path, builtin: dict[str, EntitySpec], errors: list[SpecError]
) -> tuple[dict[str, YamlDoc], set[str]]:
    """Entity docs by name (only those worth building) and every entity name that exists."""
    docs: dict[str, YamlDoc] = {}
    known = set(builtin)
    folder = root / SCHEMA_DIR
    if not folder.is_dir():
        return docs, known
    for path in sorted(folder.glob("*.yml")):
        file = path.relative_to(root).as_posix()
        errors.append(SpecError(Location(file, 1, 1), f"entity files end in .yaml: rename it {path.stem}.yaml"))
    for path in sorted(folder.glob("*.yaml")):
        file, name = path.relative_to(root).as_posix(), path.stem
        known.add(name)
        if name in builtin:
            hint = f" (other entities may link to it with `to: {name}`)" if name == USER_ENTITY else ""
            message = f"entity '{name}' is built in and cannot be redefined: remove {file}{hint}"
            errors.append(SpecError(Location(file, 1, 1), message))
            continue
        if not NAME_RE.match(name):
            message = f"invalid entity name '{name}': rename the file with a snake_case name (lowercase letters, digits and _)"
            errors.append(SpecError(Location(file, 1, 1), message))
            continue
        doc = _read(path, file, "entity", errors)
        if doc is not None and isinstance(doc.data, dict):
            docs[name] = doc
    return docs, known


def _with_child_labels(entities: dict[str, EntitySpec], docs: dict[str, YamlDoc]) -> dict[str, EntitySpec]:
    """A child collection without a label takes its child entity's plural."""
    result: dict[str, EntitySpec] = {}
    for name, entity in entities.items():
        raw_children: Any = docs[name].data.get("children") if name in docs else None
        children = tuple(
            dataclasses.replace(child, label=entities[child.entity].plural)
            if isinstance(raw_children, dict) and "label" not in raw_children.get(child.name, {})
            else child
            for child in entity.children
        )
        result[name] = dataclasses.replace(entity, children=children) if children != entity.children else entity
    return result
