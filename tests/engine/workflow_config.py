"""A tiny app with a state machine, for the workflow, guard, audit, API and admin tests.

`bill` (a document with lines, numbered per `firm` at validation, locked once validated,
audited) converts into a `job` (another document, without workflow) by `copy_to`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from tests.engine.configs import write_config

PICKLISTS = """
unit:
  label: {fr: Unités, en: Units}
  values:
    - {code: h, label: {fr: Heure, en: Hour}}
    - {code: u, label: {fr: Unité, en: Unit}}
"""

GROUPS = """
admin:
  label: {fr: Administrateurs, en: Administrators}
  rights: {"*": ["*"]}
sales:
  label: {fr: Ventes, en: Sales}
  rights:
    firm: [read]
    bill: [read, create, edit, delete, validate, convert]
    bill_line: [read, create, edit, delete]
    job: [read, create]
    job_line: [read, create]
clerk:
  label: {fr: Saisie, en: Clerks}
  rights:
    firm: [read]
    bill: [read, create, edit]
    bill_line: [read, create, edit, delete]
manager:
  label: {fr: Direction, en: Managers}
  rights: {bill: [read, cancel]}
readonly:
  label: {fr: Lecture seule, en: Read only}
  rights: {"*": [read]}
"""

ENTITIES = {
    "firm": """
        label: {fr: Société, en: Firm}
        title: name
        fields:
          name: {type: string, required: true}
        list: {columns: [name]}
    """,
    "bill": """
        label: {fr: Facture, en: Bill}
        plural: {fr: Factures, en: Bills}
        title: number
        fields:
          number: {type: string, label: {fr: Numéro, en: Number}, readonly: true, length: 30}
          status: {type: status, label: {fr: État, en: Status}}
          firm: {type: link, to: firm, label: {fr: Société, en: Firm}, required: true}
          date: {type: date, label: {fr: Date, en: Date}, required: true, default: "today()"}
          title: {type: string, label: {fr: Objet, en: Title}}
          note: {type: text, label: {fr: Suivi, en: Follow-up}}
          validated_on: {type: date, label: {fr: Validée le, en: Validated on}, readonly: true}
          shipping_cost: {type: money, label: {fr: Port, en: Shipping}}
          shipping_vat_rate: {type: percent, label: {fr: TVA port, en: Shipping VAT}, default: "20"}
          total_net: {type: money, label: {fr: Total HT, en: Total excl. VAT}, readonly: true}
          total_vat: {type: money, label: {fr: Total TVA, en: Total VAT}, readonly: true}
          total_gross: {type: money, label: {fr: Total TTC, en: Total incl. VAT}, readonly: true}
          amount_due: {type: money, label: {fr: Net à payer, en: Amount due}, readonly: true}
        list: {columns: [number, date, title, total_gross, status], filters: [status]}
        children:
          lines: {entity: bill_line, via: bill, label: {fr: Lignes, en: Lines}, order_by: position}
        compute:
          - document_totals: {lines: lines}
    """,
    "bill_line": """
        label: {fr: Ligne, en: Line}
        title: description
        embedded: true
        fields:
          bill: {type: link, to: bill, required: true}
          position: {type: integer, default: "0"}
          description: {type: string}
          unit: {type: choice, picklist: unit}
          quantity: {type: decimal, scale: 4, default: "1"}
          unit_price: {type: decimal, scale: 4}
          discount_percent: {type: percent, default: "0"}
          vat_rate: {type: percent, default: "20"}
          total_net: {type: money, readonly: true}
        list: {columns: [description, quantity, unit_price, vat_rate, total_net]}
    """,
    "job": """
        label: {fr: Commande, en: Job}
        plural: {fr: Commandes, en: Jobs}
        title: title
        fields:
          bill: {type: link, to: bill, label: {fr: Facture d'origine, en: Source bill}, readonly: true}
          firm: {type: link, to: firm, required: true}
          date: {type: date}
          title: {type: string}
          note: {type: text}
          total_net: {type: money, readonly: true}
          total_vat: {type: money, readonly: true}
          total_gross: {type: money, readonly: true}
        list: {columns: [title, total_gross]}
        children:
          lines: {entity: job_line, via: job, label: {fr: Lignes, en: Lines}, order_by: position}
        compute:
          - document_totals: {lines: lines}
    """,
    "job_line": """
        label: {fr: Ligne de commande, en: Job line}
        title: description
        embedded: true
        fields:
          job: {type: link, to: job, required: true}
          position: {type: integer, default: "0"}
          description: {type: string}
          quantity: {type: decimal, scale: 4}
          unit_price: {type: decimal, scale: 4}
          discount_percent: {type: percent}
          vat_rate: {type: percent}
          total_net: {type: money, readonly: true}
        list: {columns: [description, quantity, total_net]}
    """,
}

WORKFLOWS = """
# yaml-language-server: $schema=app/spec/schemas/workflows.schema.json
bill:
  field: status
  initial: draft
  mutable: [note]
  states:
    draft: {label: {fr: Brouillon, en: Draft}, colour: "#6c757d"}
    validated: {label: {fr: Validée, en: Validated}, colour: "#2fb344", editable: false}
    converted: {label: {fr: Convertie, en: Converted}, colour: "#206bc4", editable: false}
    cancelled: {label: {fr: Annulée, en: Cancelled}, colour: "#d63939", editable: false, final: true}
  transitions:
    validate:
      from: [draft]
      to: validated
      label: {fr: Valider, en: Validate}
      condition: "total_gross > 0"
      condition_message: {fr: La facture est vide., en: The bill is empty.}
      confirm: {fr: "Valider cette facture ? Son numéro sera définitif.", en: "Validate? The number becomes final."}
      audit: true
      effects:
        - assign_number: {field: number, pattern: "FA{yy}-{0000}", date_field: date, series: firm}
        - set: {field: validated_on, value: "today()"}
        - log: {message: {fr: Facture validée, en: Bill validated}}
    convert:
      from: [validated]
      to: converted
      label: {fr: Créer la commande, en: Create the job}
      effects:
        - copy_to: {entity: job, link: bill, children: {lines: lines}, fields: {title: "'Depuis ' ~ number"}}
    cancel:
      from: [validated, converted]
      to: cancelled
      label: {fr: Annuler, en: Cancel}
      groups: [manager]
      audit: true
    touch:
      from: [draft]
      label: {fr: Marquer, en: Touch}
      effects:
        - set: {field: note, value: "'vu'"}
    broken:
      from: [draft]
      to: validated
      label: {fr: Cassée, en: Broken}
      effects:
        - assign_number: {field: number, pattern: "FA{yy}-{0000}", date_field: date, series: firm}
        - set: {field: date, value: "'pas une date'"}
"""


def write_workflow_config(root: Path) -> Path:
    return write_config(root, ENTITIES, picklists=PICKLISTS, groups=GROUPS, workflows=WORKFLOWS)


def make_workflow_runtime(make_runtime: Callable[..., Any], tmp_path: Path) -> Any:
    return make_runtime(write_workflow_config(tmp_path / "wf"))


LINE = {"description": "Pose", "quantity": "1", "unit_price": "1.24", "vat_rate": "10"}
