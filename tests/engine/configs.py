"""Small configurations written from YAML snippets, for tests that need a tiny app of their own.

    root = write_config(tmp_path, {"thing": THING_YAML}, picklists=..., groups=...)
    rt = make_runtime(root)
"""

from __future__ import annotations

import textwrap
from pathlib import Path

HEADER = "# yaml-language-server: $schema=../app/spec/schemas/entity.schema.json\n"

DEFAULT_GROUPS = """
admin:
  label: {fr: Administrateurs, en: Administrators}
  rights: {"*": ["*"]}
readonly:
  label: {fr: Lecture seule, en: Read only}
  rights: {"*": [read]}
"""


def write_config(
    root: Path,
    entities: dict[str, str],
    *,
    picklists: str = "{}",
    groups: str = DEFAULT_GROUPS,
    workflows: str = "{}",
) -> Path:
    """Write schema/<name>.yaml for each snippet, plus picklists, groups and workflows files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "schema").mkdir(exist_ok=True)
    for name, text in entities.items():
        (root / "schema" / f"{name}.yaml").write_text(HEADER + textwrap.dedent(text).lstrip(), encoding="utf-8")
    for name, text in (("picklists", picklists), ("groups", groups), ("workflows", workflows)):
        (root / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip() + "\n", encoding="utf-8")
    (root / "templates" / "pdf").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "mail").mkdir(parents=True, exist_ok=True)
    return root


# An entity with one field of every type and a child collection, to exercise every path of
# the API and of the OpenAPI generator without depending on the shipped configuration.
SAMPLE_PICKLISTS = """
colour:
  label: {fr: Couleur, en: Colour}
  values:
    - {code: red, label: {fr: Rouge, en: Red}}
    - {code: blue, label: {fr: Bleu, en: Blue}}
    - {code: old, label: {fr: Ancienne, en: Old}, active: false}
"""

SAMPLE_ENTITIES = {
    "sample": """
        label: {fr: Échantillon, en: Sample}
        plural: {fr: Échantillons, en: Samples}
        title: name
        numbering:
          - field: code
            pattern: "S{yyyy}-{000}"
        fields:
          code: {type: string, label: Code, readonly: true, unique: true, length: 20}
          name: {type: string, label: {fr: Nom, en: Name}, required: true, length: 50}
          notes: {type: text, label: Notes}
          count: {type: integer, label: Nombre, min: 0, max: 1000}
          ratio: {type: decimal, label: Ratio, scale: 3}
          amount: {type: money, label: Montant}
          rate: {type: percent, label: Taux, default: "20"}
          day: {type: date, label: Jour}
          moment: {type: datetime, label: Moment}
          flag: {type: boolean, label: Drapeau, default: "false"}
          colour: {type: choice, picklist: colour, label: Couleur}
          colours: {type: multichoice, picklist: colour, label: Couleurs}
          owner: {type: link, to: user, label: Responsable}
          parent: {type: link, to: sample, label: Parent}
          email: {type: email, label: E-mail}
          phone: {type: phone, label: Téléphone}
          website: {type: url, label: Site}
          iban: {type: iban, label: IBAN}
          bic: {type: bic, label: BIC}
          siren: {type: siren, label: SIREN}
          siret: {type: siret, label: SIRET}
          vat_number: {type: vat_number, label: TVA}
          attachment: {type: file, label: Fichier}
          picture: {type: image, label: Image}
        list:
          columns: [code, name, colour]
          filters: [colour, flag]
          search: [name, code, count, day, colour, owner]
          sort: name
        children:
          parts:
            entity: sample_part
            via: sample
            label: {fr: Parties, en: Parts}
            order_by: position
    """,
    "sample_part": """
        label: {fr: Partie, en: Part}
        plural: {fr: Parties, en: Parts}
        title: label
        embedded: true
        fields:
          sample: {type: link, to: sample, label: Échantillon, required: true}
          position: {type: integer, label: Position, default: "0"}
          label: {type: string, label: Libellé, required: true}
          quantity: {type: decimal, label: Quantité, default: "1"}
        list:
          columns: [position, label, quantity]
    """,
}


def write_sample_config(root: Path) -> Path:
    return write_config(root, SAMPLE_ENTITIES, picklists=SAMPLE_PICKLISTS)
