"""The demo's activities (app/demo.py calls load_activities): a fortnight of agenda around
today — appointments, calls, visit reports, quote follow-ups — tasks with due dates, and a
few liaison book entries still open. Dates follow `today`; datetimes travel as ISO strings.

The demo users are created after the demo data (app/cli.py), so these records have no owner
and show in the agenda's "everyone" view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Create = Callable[[str, dict[str, Any]], int]


@dataclass(frozen=True)
class EventSeed:
    day: int  # days from today
    start: str  # "HH:MM"; "" for an all-day event
    minutes: int
    type: str
    title: str
    account: str | None = None
    status: str | None = None  # default: planned (done when in the past)
    location: str | None = None
    notes: str | None = None


EVENTS: tuple[EventSeed, ...] = (
    EventSeed(-9, "09:30", 90, "visit_report", "Visite de la chaufferie collective", "tilleuls",
              location="41 avenue Jean Jaurès, Lyon",
              notes="Deux chaudières de 1998 à remplacer ; relevé des diamètres de fumées fait. "
              "Le conseil syndical souhaite un devis avant l'assemblée générale."),
    EventSeed(-8, "14:00", 30, "call", "Appel du gestionnaire : planning des travaux", "bellecour"),
    EventSeed(-7, "10:00", 60, "quote_follow_up", "Relance du devis d'entretien annuel", "celestins",
              notes="Le directeur attend la validation du siège ; rappeler la semaine prochaine."),
    EventSeed(-6, "", 0, "training", "Formation gaz (habilitation PG)", None, location="Centre AFPA de Vénissieux"),
    EventSeed(-5, "08:30", 120, "site_visit", "Dépannage ballon d'eau chaude", "pain_dore", location="3 rue de la Charité, Lyon"),
    EventSeed(-4, "11:00", 45, "appointment", "Rendez-vous : contrat de maintenance", "veto"),
    EventSeed(-3, "16:00", 30, "invoice_follow_up", "Relance téléphonique facture échue", "canuts", status="done"),
    EventSeed(-2, "09:00", 60, "meeting", "Réunion de chantier hebdomadaire", "tilleuls"),
    EventSeed(-1, "15:30", 60, "visit_report", "Visite technique avant devis", "glycines",
              notes="Remplacement de la production d'eau chaude sanitaire ; accès par le parking du personnel."),
    EventSeed(0, "09:00", 60, "meeting", "Point équipe hebdomadaire", None, location="Atelier"),
    EventSeed(0, "14:30", 90, "appointment", "Rendez-vous : rénovation de la salle de bain", "rive_gauche"),
    EventSeed(1, "10:00", 30, "call", "Rappeler la mairie : appel d'offres chauffage", "tassin"),
    EventSeed(1, "14:00", 120, "site_visit", "Mise en service de la pompe à chaleur", "creche"),
    EventSeed(2, "09:30", 60, "quote_follow_up", "Relance du devis de climatisation", "imprimerie"),
    EventSeed(3, "11:00", 60, "appointment", "Rendez-vous syndic : assemblée générale", "croix_rousse"),
    EventSeed(4, "", 0, "other", "Salon Interclima (visite)", None, location="Paris Nord Villepinte"),
    EventSeed(5, "08:00", 240, "site_visit", "Intervention sur chantier : dépose des chaudières", "tilleuls"),
    EventSeed(6, "10:30", 45, "call", "Appel fournisseur : délais de livraison", None),
    EventSeed(8, "14:00", 60, "appointment", "Rendez-vous : extension du camping (sanitaires)", "camping"),
    EventSeed(9, "09:00", 60, "meeting", "Réunion de chantier hebdomadaire", "tilleuls", status="cancelled"),
)


@dataclass(frozen=True)
class TaskSeed:
    day: int
    title: str
    account: str | None = None
    done: bool = False


TASKS: tuple[TaskSeed, ...] = (
    TaskSeed(-3, "Envoyer le compte rendu de visite au conseil syndical", "tilleuls", done=True),
    TaskSeed(-1, "Commander les vannes thermostatiques", None, done=True),
    TaskSeed(0, "Préparer le devis de l'EHPAD", "glycines"),
    TaskSeed(1, "Relancer l'assurance pour le sinistre dégât des eaux", "garibaldi"),
    TaskSeed(2, "Mettre à jour les attestations d'entretien chaudière", "pharmacie"),
    TaskSeed(4, "Constituer le dossier de candidature de la mairie", "tassin"),
    TaskSeed(7, "Planifier les entretiens annuels de mars", None),
)


@dataclass(frozen=True)
class LiaisonSeed:
    day: int
    time: str
    kind: str
    service: str
    classification: str
    subject: str
    account: str | None = None
    caller: str | None = None
    message: str | None = None
    due: int | None = None  # days from today


LIAISON: tuple[LiaisonSeed, ...] = (
    LiaisonSeed(-4, "08:45", "call", "technical", "intervention", "Plus d'eau chaude au 3e étage", "fourviere",
                caller="Mme Perret (locataire)", message="Radiateurs froids depuis hier soir, bâtiment B.", due=-3),
    LiaisonSeed(-2, "11:20", "request", "sales", "quote_request", "Devis pour un adoucisseur d'eau", "pain_dore", due=3),
    LiaisonSeed(-1, "16:05", "call", "accounting", "billing", "Demande de duplicata de facture", "bellecour",
                caller="Service comptabilité mandants", due=1),
    LiaisonSeed(0, "09:10", "call", "management", "complaint", "Retard sur le chantier de la chaufferie", "tilleuls",
                message="Le président du conseil syndical demande un rappel du gérant.", due=0),
    LiaisonSeed(0, "10:40", "request", "technical", "information", "Horaires d'accès au local technique", "celestins"),
)


def _moment(day: dt.date, hhmm: str) -> str:
    return f"{day.isoformat()}T{hhmm}:00"


def load_activities(create: Create, accounts: dict[str, int], today: dt.date) -> None:
    """Create the demo events, tasks and liaison book entries through `create`."""
    for e in EVENTS:
        day = today + dt.timedelta(days=e.day)
        status = e.status or ("done" if e.day < 0 else "planned")
        values: dict[str, Any] = {"title": e.title, "type": e.type, "status": status}
        if e.start:
            hours, minutes = (int(part) for part in e.start.split(":"))
            begin = dt.datetime(day.year, day.month, day.day, hours, minutes)
            values.update(start=begin.isoformat(), end=(begin + dt.timedelta(minutes=e.minutes)).isoformat())
        else:
            values.update(start=_moment(day, "00:00"), all_day=True)
        if e.account:
            values["account"] = accounts[e.account]
        if e.location:
            values["location"] = e.location
        if e.notes:
            values["description"] = e.notes
        create("event", values)
    for t in TASKS:
        task: dict[str, Any] = {"title": t.title, "due_date": today + dt.timedelta(days=t.day), "done": t.done}
        if t.account:
            task["account"] = accounts[t.account]
        create("task", task)
    for entry in LIAISON:
        day = today + dt.timedelta(days=entry.day)
        row: dict[str, Any] = {
            "kind": entry.kind,
            "received_at": _moment(day, entry.time),
            "service": entry.service,
            "classification": entry.classification,
            "subject": entry.subject,
        }
        if entry.account:
            row["account"] = accounts[entry.account]
        if entry.caller:
            row["caller"] = entry.caller
        if entry.message:
            row["description"] = entry.message
        if entry.due is not None:
            row["due_date"] = today + dt.timedelta(days=entry.due)
        create("liaison_entry", row)
