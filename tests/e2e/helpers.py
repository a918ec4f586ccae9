"""Data and names shared by the browser tests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "admin-pass-1"

CITIES = ["Lyon", "Villeurbanne", "Grenoble", "Annecy", "Saint-Étienne", "Valence", "Chambéry", "Vienne"]
NAMES = [
    "Boulangerie Martin", "Garage des Alpes", "Menuiserie Favre", "Cabinet Rousseau", "Fromagerie Blanc",
    "Pharmacie du Parc", "Imprimerie Lambert", "Plomberie Girard", "Hôtel Bellevue", "Atelier Morel",
    "Librairie Fontaine", "Transports Chevalier", "Électricité Perrin", "Café de la Gare", "Syndic Dauphiné",
    "Boucherie Robin", "Agence Mercier", "Clinique Vétérinaire Roux", "Fleurs Gauthier", "Cave Bernard",
    "Maçonnerie Dumas", "Auto-école Lefèvre", "Studio Photo Garnier", "Restaurant Le Lys", "Bureau d'études Arnaud",
]


def seed(rt: Any) -> None:
    """A small demo-like dataset: a company, accounts, contacts, products, users."""
    from app.engine.permissions import SYSTEM
    from app.engine.store import Store

    with rt.session() as session:
        store = Store(rt, session, SYSTEM)
        store.create("user", {"login": ADMIN_LOGIN, "full_name": "Alice Admin", "groups": ["admin"], "password": ADMIN_PASSWORD})
        sales = [
            store.create("user", {"login": login, "full_name": name, "groups": ["sales"], "password": f"{login}-pass-1"})
            for login, name in (("claire", "Claire Moreau"), ("hugo", "Hugo Lambert"))
        ]
        store.create(
            "company",
            {"legal_name": "Atelier Comptoir SAS", "legal_form": "sas", "siren": "732829320", "city": "Lyon",
             "bank_profiles": [{"label": "Compte principal", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP"}]},
        )
        for i, name in enumerate(NAMES):
            kind = ("client", "prospect", "client", "other")[i % 4]
            account = store.create(
                "account",
                {"name": name, "type": kind, "city": CITIES[i % len(CITIES)], "is_supplier": i % 5 == 0,
                 "credit_limit": Decimal(1000 + 250 * i), "email": f"contact{i}@exemple.fr",
                 "assigned_user": sales[i % 2].id},
            )
            store.create("contact", {"account": account.id, "last_name": f"Durand{i}", "first_name": "Paul", "job_title": "Gérant"})
        store.create("product_category", {"name": "Services"})
        store.create("product", {"name": "Heure de main-d'œuvre", "sale_price": Decimal("55.00"), "vat_rate": Decimal("20")})
        session.commit()
