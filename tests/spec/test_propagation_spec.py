"""`comptoir check` on the arguments of the issue-4 verbs (`propagate`, `compute_field`): every
wrong name, expression or value reported with its file:line:col, on a tiny configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.spec.loader import load_spec

from .conftest import MakeConfig

FILES: dict[str, str] = {
"picklists.yaml": """
kind:
  values:
    - {code: prospect}
    - {code: client}
""",
"schema/party.yaml": """
title: name
fields:
  name: {type: string}
  kind: {type: choice, picklist: kind}
""",
"schema/deal.yaml": """
title: name
fields:
  name: {type: string}
  phase: {type: status}
  party: {type: link, to: party}
  follow_up: {type: date}
""",
"schema/offer.yaml": """
title: ref
fields:
  ref: {type: string}
  status: {type: status}
  deal: {type: link, to: deal}
  party: {type: link, to: party}
  total: {type: money}
compute:
  - compute_field: {field: totl, value: "total"}
  - compute_field: {field: ref, value: "refs", only_if_empty: 'yes'}
  - compute_field: {field: status, value: "'sent'"}
  - propagate: {link: deal, transition: win}
""",
"workflows.yaml": """
deal:
  field: phase
  initial: open
  mutable: [follow_up]
  states: {open: {}, won: {editable: false}}
  transitions:
    win: {from: [open], to: won}
offer:
  field: status
  initial: draft
  states: {draft: {}, sent: {}}
  transitions:
    send:
      from: [draft]
      to: sent
      effects:
        - propagate: {link: deal, transition: wim, set: {follow_upp: "today()"}}
        - propagate: {link: party, transition: make_client}
        - propagate: {link: party, set: {kind: client}}
        - propagate: {link: total, set: {phase: "'won'"}}
        - propagate: {link: deal, set: {phase: "'won'"}}
        - propagate: {link: deal, only_if: "totl > 0", when_all: "stat == 'sent'", strict: 1}
        - propagate: {link: deal, set: {follow_up: "today() +"}, tranistion: win}
        - compute_field: {field: ref, value: "'x'"}
        - propagate: {link: deal, transition: win, set: {follow_up: "today()", name: "ref"}}
""",
}

W, O = "workflows.yaml", "schema/offer.yaml"
EXPECTED = [
    (O, 9, 28, "unknown field 'totl' of 'offer' in 'compute_field.field' — did you mean 'total'?"),
    (O, 10, 40, "unknown name 'refs' in expression — did you mean 'ref'?"),
    (O, 10, 63, "expected true or false for 'compute_field.only_if_empty', got 'yes'"),
    (O, 11, 28, "the status field 'status' changes only by transitions (their 'to'), not by 'compute_field.field'"),
    (O, 12, 5, "verb 'propagate' is a transition effect, not a compute (entity `compute:`)"),
    (W, 17, 47, "unknown transition 'wim' of 'deal' in 'propagate.transition' — did you mean 'win'?"),
    (W, 17, 58, "unknown field 'follow_upp' of 'deal' in 'propagate.set' — did you mean 'follow_up'?"),
    (W, 18, 48, "'party' has no workflow: 'propagate.transition' names a transition of it (to change its fields, use 'propagate.set')"),
    (W, 19, 48, "unknown name 'client' in expression — to give the code, quote it: \"'client'\""),
    (W, 20, 29, "'total' is a money field; 'propagate.link' needs a link field"),
    (W, 21, 41, "the status field 'deal.phase' changes only by transitions: give 'propagate.transition'"),
    (W, 22, 44, "unknown name 'totl' in expression (on 'deal')"),
    (W, 22, 66, "unknown name 'stat' in expression — did you mean 'status'?"),
    (W, 22, 92, "expected true or false for 'propagate.strict', got 1"),
    (W, 23, 52, "invalid expression 'today() +': unexpected 'end of expression'"),
    (W, 23, 66, "unknown argument 'tranistion' of 'propagate' — did you mean 'transition'?"),
    (W, 24, 11, "verb 'compute_field' is a compute (entity `compute:`), not a transition effect"),
    (W, 25, 80, "'deal.name' cannot change once 'win' has made it 'won' (a locked state): add it to the `mutable` fields of the 'deal' workflow, or do not set it"),
]


def test_every_wrong_argument_is_reported_with_file_line_and_column(make_config: MakeConfig) -> None:
    spec, errors = load_spec(make_config(FILES))
    assert spec is None
    found = [(e.location.file, e.location.line, e.location.column, e.message) for e in errors]
    assert found == EXPECTED, "\n".join(str(e) for e in errors)


def test_the_fixed_configuration_loads_with_its_arguments(make_config: MakeConfig) -> None:
    fixed = {
        **FILES,
        "schema/offer.yaml": FILES["schema/offer.yaml"].split("compute:")[0]
        + "compute:\n  - compute_field: {field: total, value: \"total or 0\", when: \"ref\", only_if_empty: true}\n",
        "workflows.yaml": FILES["workflows.yaml"].split("      effects:")[0]
        + "      effects:\n"
        + "        - propagate: {link: deal, transition: win, set: {follow_up: \"today() + days(7)\"}, only_if: \"name\"}\n"
        + "        - propagate: {link: party, set: {kind: \"'client'\"}, when_all: \"status == 'sent'\", strict: false}\n",
    }
    spec, errors = load_spec(make_config(fixed))
    assert errors == [] and spec is not None
    first, second = spec.workflows["offer"].transitions["send"].effects
    assert (first.verb, first.args) == (
        "propagate", {"link": "deal", "transition": "win", "set": {"follow_up": "today() + days(7)"}, "only_if": "name"}
    )
    assert second.args["set"] == {"kind": "'client'"} and second.args["strict"] is False
    (rule,) = spec.entity("offer").computes
    assert (rule.verb, rule.args["only_if_empty"]) == ("compute_field", True)


def test_the_shipped_rules_are_checked_too(config_copy: Path) -> None:
    """A typo in the shipped propagation rules of workflows.yaml is reported where it is."""
    path = config_copy / "workflows.yaml"
    text = path.read_text(encoding="utf-8")
    old = "            transition: win  # gagnée"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "            transition: won  # gagnée").replace(
        "set: {type: \"'client'\"}", "set: {typ: \"'client'\"}"), encoding="utf-8")
    line = text[: text.index(old)].count("\n") + 1
    client_line = text[: text.index("set: {type: \"'client'\"}")].count("\n") + 1
    _, errors = load_spec(config_copy)
    found = [(e.location.file, e.location.line, e.message) for e in errors]
    assert found == [
        ("workflows.yaml", line, "unknown transition 'won' of 'opportunity' in 'propagate.transition' — did you mean 'win'?"),
        ("workflows.yaml", client_line, "unknown field 'typ' of 'account' in 'propagate.set' — did you mean 'type'?"),
    ], found


def test_comptoir_check_knows_the_verbs_declared_by_their_modules(config_copy: Path, tmp_path: Path) -> None:
    """`comptoir check` in a fresh process: `propagate` and `compute_field` are declared when
    their modules are imported, which the loader does first — not "unknown verb"."""
    root = Path(__file__).resolve().parents[2]
    path = config_copy / "workflows.yaml"
    text = path.read_text(encoding="utf-8")
    old = "            transition: send_offer  #"
    path.write_text(text.replace(old, "            transition: send_ofer  #"), encoding="utf-8")
    line = text[: text.index(old)].count("\n") + 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPTOIR_")}
    env.update(COMPTOIR_CONFIG_DIR=str(config_copy), COMPTOIR_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-m", "app.cli", "check"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"workflows.yaml:{line}:25: unknown transition 'send_ofer' of 'opportunity' in 'propagate.transition'" in done.stdout, done.stdout
    assert "unknown verb" not in done.stdout
