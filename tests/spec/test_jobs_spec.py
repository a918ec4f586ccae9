"""The `jobs:` key of workflows.yaml: what the loader builds and every mistake it names with
file:line:col (a copy of the shipped configuration whose jobs block is replaced)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from app.spec.jobs import cron_problem
from app.spec.loader import load_spec

MARK = "\njobs:\n"


def with_jobs(config: Path, block: str) -> tuple[Path, int]:
    """Replace the shipped jobs block by `block` (YAML under `jobs:`); returns the config and
    the line number of `jobs:`."""
    path = config / "workflows.yaml"
    text = path.read_text(encoding="utf-8")
    head = text[: text.index(MARK)] if MARK in text else text
    path.write_text(head + MARK + textwrap.indent(textwrap.dedent(block).strip("\n"), "  ") + "\n", encoding="utf-8")
    return config, head.count("\n") + 2


def errors_of(config: Path) -> list[str]:
    spec, errors = load_spec(config)
    assert spec is None
    return [str(e) for e in errors]


def test_shipped_jobs_are_built(config_copy: Path) -> None:
    spec, errors = load_spec(config_copy)
    assert errors == [] and spec is not None
    assert "jobs" not in spec.workflows  # a reserved key, never a workflow
    expiry = spec.jobs["quote_expiry"]
    assert (expiry.cron, expiry.verb, expiry.enabled) == ("0 6 * * *", "run_transition", True)
    assert expiry.args["transition"] == "mark_no_answer" and expiry.label.fr.startswith("Devis")
    assert spec.jobs["next_step_reminders"].args["entity"] == "opportunity"
    assert (spec.jobs["dunning"].verb, spec.jobs["dunning"].cron) == ("dunning", "0 8 * * mon-fri")


def test_a_job_with_defaults_and_enabled_false(config_copy: Path) -> None:
    config, _ = with_jobs(
        config_copy,
        """
        nightly:
          cron: "30 2 * * *"
          verb: run_transition
          enabled: false
          args: {entity: quote, transition: mark_no_answer}
        """,
    )
    spec, errors = load_spec(config)
    assert errors == [] and spec is not None
    job = spec.jobs["nightly"]
    assert job.enabled is False and job.label.fr == "nightly" and job.args == {"entity": "quote", "transition": "mark_no_answer"}


def test_unknown_verb_and_bad_cron_field_are_located(config_copy: Path) -> None:
    config, line = with_jobs(
        config_copy,
        """
        relances:
          cron: "0 25 * * *"
          verb: dunnig
        """,
    )
    errors = errors_of(config)
    assert len(errors) == 2, errors
    assert errors[0].startswith(f"workflows.yaml:{line + 2}:11: invalid cron expression '0 25 * * *': hour '25'")
    assert "higher than the maximum value (23)" in errors[0]
    assert errors[1].startswith(f"workflows.yaml:{line + 3}:11: unknown job verb 'dunnig'")
    assert "did you mean 'dunning'?" in errors[1]


def test_unknown_verb_suggests_the_nearest(config_copy: Path) -> None:
    config, line = with_jobs(config_copy, 'expiry:\n  cron: "0 6 * * *"\n  verb: run_transitoin\n')
    assert errors_of(config) == [
        f"workflows.yaml:{line + 3}:11: unknown job verb 'run_transitoin' — did you mean 'run_transition'?"
    ]


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 6 * *", "expected 5 fields (minute hour day month day_of_week), got 4"),
        ("61 6 * * *", "minute '61'"),
        ("0 6 32 * *", "day '32'"),
        ("0 6 * 13 *", "month '13'"),
        ("0 6 * * 1-5", "write the days of the week as names (mon, tue, wed, thu, fri, sat, sun)"),
        ("0 6 * * lun", "day_of_week 'lun'"),
    ],
)
def test_cron_problems_name_the_field(cron: str, expected: str) -> None:
    problem = cron_problem(cron)
    assert problem is not None and expected in problem


def test_valid_cron_expressions() -> None:
    for cron in ("0 6 * * *", "*/15 * * * *", "0 7 * * mon-fri", "0 8 1 * *", "0 0 * * sun"):
        assert cron_problem(cron) is None, cron


def test_arguments_are_checked_against_the_declaration(config_copy: Path) -> None:
    config, line = with_jobs(
        config_copy,
        """
        expiry:
          cron: "0 6 * * *"
          verb: run_transition
          args: {entity: quote, transition: mark_no_anwser, wher: "x"}
        reminders:
          cron: "0 7 * * mon-fri"
          verb: next_step_reminders
          args:
            entity: opportunity
            date_field: next_step
            user_field: account_name
            where: "phase == 'won' and tody()"
        other:
          cron: "0 7 * * *"
          verb: run_transition
          args: {entity: quotes}
        """,
    )
    errors = errors_of(config)
    expected = [
        (line + 4, "unknown argument 'wher' of job verb 'run_transition' — did you mean 'where'?"),
        (line + 4, "unknown transition 'mark_no_anwser' of 'quote' — did you mean 'mark_no_answer'?"),
        (line + 10, "'opportunity.next_step' is a choice field: 'date_field' needs date or datetime"),
        (line + 11, "unknown field 'account_name' of 'opportunity' in 'user_field'"),
        (line + 12, "unknown name 'tody' in expression — did you mean 'today'?"),
        (line + 16, "job verb 'run_transition' needs the argument 'transition'"),
        (line + 16, "unknown entity 'quotes' — did you mean 'quote'?"),
    ]
    found = [(int(e.split(":")[1]), e.split(": ", 1)[1]) for e in errors]
    assert len(found) == len(expected), errors
    for eline, emessage in expected:
        assert any(fline == eline and emessage in message for fline, message in found), (eline, emessage, errors)


def test_schema_errors_of_a_job(config_copy: Path) -> None:
    config, line = with_jobs(
        config_copy,
        """
        expiry:
          cronn: "0 6 * * *"
          verb: run_transition
          enabled: "yes"
          args: {entity: quote, transition: mark_no_answer}
        """,
    )
    errors = errors_of(config)
    assert any(re.match(rf"workflows.yaml:{line + 1}:3: missing required key 'cron'", e) for e in errors), errors
    assert any(e.startswith(f"workflows.yaml:{line + 2}:5: unknown key 'cronn' — did you mean 'cron'?") for e in errors), errors
    assert any(e.startswith(f"workflows.yaml:{line + 4}:14: expected a boolean for 'enabled'") for e in errors), errors
