"""A realistic French demo company: a Lyon plumbing, heating and maintenance business that also
trains ERP users and hosts web sites, with its accounts, contacts, worksites and catalogue.

`load_demo(create, today=...)` is deterministic (a fixed random seed) and knows nothing of the
database: `create(entity, values)` inserts one record and returns its id. Numbered codes
(`account.code`) are left to the engine. Identifiers are valid (SIREN/SIRET Luhn keys, VAT keys,
IBAN and RIB keys); e-mail and web domains use the reserved `.example` top-level domain and
phone numbers the ranges ARCEP keeps for fiction (04 65 71, 06 39 98), so nothing reaches a
real person.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from app.demo_activities import load_activities

Create = Callable[[str, dict[str, Any]], int]

SEED = 1905


def D(text: str) -> Decimal:
    return Decimal(text)


# --- identifiers -------------------------------------------------------------------------


def luhn_check_digit(digits: str) -> str:
    """The digit to append so that `digits + result` passes the Luhn check."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 0:  # doubled once the check digit is appended
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return str((10 - total % 10) % 10)


def make_siren(rng: random.Random) -> str:
    body = str(rng.randint(3, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    return body + luhn_check_digit(body)


def make_siret(siren: str, rng: random.Random) -> str:
    nic = f"{rng.choice((1, 1, 1, 2, 3, 4)):04d}"
    return siren + nic + luhn_check_digit(siren + nic)


def vat_number(siren: str) -> str:
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def make_iban(bank_code: str, branch_code: str, account_number: str) -> str:
    """A French IBAN: RIB key over bank/branch/account, then the ISO 7064 check digits."""
    rib_key = 97 - (89 * int(bank_code) + 15 * int(branch_code) + 3 * int(account_number)) % 97
    bban = f"{bank_code}{branch_code}{account_number}{rib_key:02d}"
    check = 98 - int(bban + "152700") % 97  # "FR00" with F=15, R=27
    return f"FR{check:02d}{bban}"


def make_ean13(rng: random.Random) -> str:
    body = "376" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in plain).split())


# --- reference data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Bank:
    code: str
    branch: str
    name: str
    bic: str


BANKS: dict[str, Bank] = {
    "lcl": Bank("30002", "00950", "LCL – Le Crédit Lyonnais, Lyon Part-Dieu", "CRLYFRPP"),
    "cera": Bank("13825", "00200", "Caisse d'Épargne Rhône Alpes, Lyon Croix-Rousse", "CEPAFRPP"),
    "bnp": Bank("30004", "00819", "BNP Paribas, Lyon Bellecour", "BNPAFRPP"),
    "ca": Bank("17806", "00300", "Crédit Agricole Centre-Est, Villeurbanne", "AGRIFRPP878"),
    "lbp": Bank("20041", "01007", "La Banque Postale, Lyon", "PSSTFRPP"),
    "cm": Bank("10278", "07300", "Crédit Mutuel, Lyon Brotteaux", "CMCIFR2A"),
    "cic": Bank("10096", "18000", "CIC Lyonnaise de Banque, Lyon Saxe", "CMCIFRPP"),
    "sg": Bank("30003", "01900", "Société Générale, Lyon Brotteaux", "SOGEFRPP"),
}

MALE = (
    "Jean", "Pierre", "Michel", "Philippe", "Alain", "Nicolas", "Christophe", "Laurent",
    "Stéphane", "Julien", "Thomas", "Mathieu", "Olivier", "David", "Sébastien", "Éric",
    "Franck", "Antoine", "Romain", "Hugo", "Yannick", "Bruno", "Patrick", "Jérôme", "Mehdi",
    "Lucas", "Rachid", "Vincent",
)
FEMALE = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Valérie", "Christine",
    "Céline", "Stéphanie", "Aurélie", "Émilie", "Julie", "Camille", "Laure", "Claire", "Hélène",
    "Anne", "Élodie", "Chloé", "Manon", "Fatima", "Nadia", "Agnès", "Martine", "Véronique",
    "Léa", "Inès",
)
LAST_NAMES = (
    "Martin", "Bernard", "Petit", "Robert", "Richard", "Dubois", "Moreau", "Simon", "Lefebvre",
    "Leroy", "Roux", "Bertrand", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert",
    "Fontaine", "Rousseau", "Vincent", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer",
    "Garnier", "Chevalier", "Gauthier", "Perrin", "Robin", "Clément", "Morin", "Masson",
    "Marchand", "Duval", "Dumont", "Lemaire", "Meunier", "Brun", "Blanchard", "Giraud", "Joly",
    "Rivière", "Brunet", "Gaillard", "Barbier", "Arnaud", "Roche", "Renard", "Colin", "Vidal",
    "Picard", "Fabre", "Aubert", "Renaud", "Dumas", "Lacroix", "Bourgeois", "Rey", "Guillot",
    "Berger", "Moulin", "Fleury", "Poirier", "Ménard", "Bouvier", "Le Gall", "Besson",
    "Nguyen", "Haddad", "Ferreira", "Rossi", "Diallo", "Bensaïd", "Perret", "Chauvin",
)
MAIL_PROVIDERS = ("orange.example", "free.example", "laposte.example", "sfr.example")


@dataclass(frozen=True)
class AccountSeed:
    key: str
    name: str
    type: str
    street: str
    postcode: str
    city: str
    jobs: tuple[str, ...]  # one contact per job title; "f:"/"m:" picks the civility
    legal: bool = True  # has a SIREN/SIRET/VAT number
    domain: str | None = None
    is_supplier: bool = False
    is_partner: bool = False
    is_media: bool = False
    terms: str = "days_30"
    mode: str = "transfer"
    credit: str | None = None
    bank: str | None = None  # bank details kept (SEPA debit clients, suppliers we pay)
    manager: str | None = None  # key of the syndic or régie
    people: tuple[tuple[str, str, str], ...] = ()  # private clients: (civility, first, last)
    notes: str | None = None


ACCOUNTS: tuple[AccountSeed, ...] = (
    # Property managers first: the buildings they manage link to them.
    AccountSeed(
        "bellecour", "Régie Bellecour Immobilier", "client", "12 place Bellecour", "69002", "Lyon",
        ("f:Gestionnaire de copropriétés", "m:Gestionnaire de copropriétés", "f:Assistante de gestion",
         "m:Comptable mandants"),
        domain="regie-bellecour.example", terms="days_45_eom", credit="15000.00",
        notes="Syndic professionnel. Les factures sont établies au nom de chaque copropriété, "
        "aux bons soins de la régie, avec le numéro d'ordre de service.",
    ),
    AccountSeed(
        "croix_rousse", "Cabinet Croix-Rousse Syndic", "client", "8 boulevard de la Croix-Rousse",
        "69004", "Lyon", ("f:Gestionnaire de copropriétés", "m:Responsable technique"),
        domain="croixrousse-syndic.example", terms="days_45_eom", credit="10000.00",
        notes="Bon de commande obligatoire au-delà de 500 € HT.",
    ),
    AccountSeed(
        "tilleuls", "Copropriété Le Clos des Tilleuls", "client", "41 avenue Jean Jaurès", "69007",
        "Lyon", ("m:Président du conseil syndical", "m:Gardien"), legal=False, manager="bellecour",
        terms="days_45_eom", credit="25000.00",
    ),
    AccountSeed(
        "fourviere", "Résidence Les Terrasses de Fourvière", "client", "5 montée du Chemin-Neuf",
        "69005", "Lyon", ("f:Présidente du conseil syndical",), legal=False, manager="bellecour",
        terms="days_45_eom",
    ),
    AccountSeed(
        "garibaldi", "Copropriété 14 rue Garibaldi", "client", "14 rue Garibaldi", "69006", "Lyon",
        ("m:Membre du conseil syndical",), legal=False, manager="croix_rousse", terms="days_45_eom",
    ),
    AccountSeed(
        "montchat", "Résidence Parc de Montchat", "prospect", "22 rue Ferdinand-Buisson", "69003",
        "Lyon", ("f:Gardienne",), legal=False, manager="croix_rousse", terms="days_45_eom",
    ),
    AccountSeed(
        "pain_dore", "Boulangerie Au Pain Doré", "client", "3 rue de la Charité", "69002", "Lyon",
        ("m:Gérant",), domain="aupaindore.example", terms="on_receipt", mode="cheque",
    ),
    AccountSeed(
        "celestins", "Hôtel des Célestins", "client", "4 rue des Archers", "69002", "Lyon",
        ("f:Directrice", "m:Responsable technique", "f:Comptable"), domain="hotel-celestins.example",
        credit="8000.00", bank="bnp", mode="sepa_debit",
    ),
    AccountSeed(
        "canuts", "Le Bouchon des Canuts", "client", "19 rue Belfort", "69004", "Lyon",
        ("m:Gérant", "m:Chef de cuisine"), domain="bouchon-canuts.example", terms="days_30_eom",
    ),
    AccountSeed(
        "veto", "Clinique vétérinaire des Monts d'Or", "client", "15 avenue de Lanessan", "69410",
        "Champagne-au-Mont-d'Or", ("f:Vétérinaire associée", "f:Secrétaire médicale"),
        domain="veto-montsdor.example", mode="sepa_debit", bank="ca",
        notes="Cliente hébergement web : site, messagerie et sauvegardes.",
    ),
    AccountSeed(
        "imprimerie", "Imprimerie du Parc", "client", "31 rue Francis-de-Pressensé", "69100",
        "Villeurbanne", ("m:Directeur", "f:Responsable PAO", "f:Comptable"),
        domain="imprimerie-du-parc.example", is_supplier=True, is_partner=True,
        terms="days_30_eom", bank="cic",
        notes="À la fois client (maintenance), fournisseur (imprimés) et partenaire.",
    ),
    AccountSeed(
        "glycines", "EHPAD Les Glycines", "client", "12 rue Pasteur", "69300", "Caluire-et-Cuire",
        ("f:Directrice", "m:Responsable maintenance", "f:Responsable des achats"),
        domain="ehpad-glycines.example", terms="days_60", credit="20000.00",
    ),
    AccountSeed(
        "tassin", "Mairie de Tassin-la-Demi-Lune", "client", "Place de la Mairie", "69160",
        "Tassin-la-Demi-Lune",
        ("m:Directeur des services techniques", "f:Gestionnaire des marchés publics",
         "m:Agent de maintenance des bâtiments"),
        domain="mairie-tassin.example", credit="30000.00",
        notes="Factures déposées sur Chorus Pro avec le numéro d'engagement juridique.",
    ),
    AccountSeed(
        "rive_gauche", "Cabinet d'architectes Rive Gauche", "client", "60 avenue Berthelot", "69007",
        "Lyon", ("f:Architecte associée", "m:Architecte"), domain="archi-rivegauche.example",
        is_partner=True, notes="Prescripteur : nous recommande sur ses chantiers de rénovation.",
    ),
    AccountSeed(
        "garage", "Garage Martin Automobiles", "client", "118 route de Vienne", "69008", "Lyon",
        ("m:Gérant",), domain="garage-martin.example", mode="cheque",
    ),
    AccountSeed(
        "pharmacie", "Pharmacie de la Saône", "client", "7 quai Saint-Vincent", "69001", "Lyon",
        ("f:Pharmacienne titulaire", "m:Préparateur en pharmacie"),
        domain="pharmacie-saone.example", mode="sepa_debit", bank="lbp",
    ),
    AccountSeed(
        "creche", "Crèche Les P'tits Loups", "client", "6 rue Jean-Moulin", "69500", "Bron",
        ("f:Directrice",), domain="ptits-loups.example",
    ),
    AccountSeed(
        "camping", "Camping Les Berges du Rhône", "client", "Chemin du Bac", "38200", "Vienne",
        ("m:Gérant", "m:Responsable entretien"), domain="camping-berges-rhone.example",
    ),
    AccountSeed(
        "arc_en_ciel", "Centre de formation Arc-en-Ciel", "client", "44 cours Gambetta", "69007",
        "Lyon", ("f:Responsable pédagogique", "f:Assistante administrative"),
        domain="cf-arcenciel.example", notes="Sous-traitance de sessions de formation ERP-CRM.",
    ),
    AccountSeed(
        "gones", "Les Ateliers Gones Numériques", "client", "10 rue de la Villette", "69003", "Lyon",
        ("m:Gérant", "f:Développeuse"), domain="gones-numeriques.example", mode="sepa_debit",
        bank="cm", notes="Agence web : revend nos hébergements à ses propres clients.",
    ),
    AccountSeed(
        "durand", "M. et Mme Durand", "client", "8 rue des Acacias", "69130", "Écully", (),
        legal=False, terms="on_receipt", mode="cheque",
        people=(("mr", "Michel", "Durand"), ("mrs", "Nicole", "Durand")),
    ),
    AccountSeed(
        "lefevre", "Mme Sophie Lefèvre", "prospect", "27 avenue de la République", "69200",
        "Vénissieux", (), legal=False, terms="on_receipt", mode="card",
        people=(("mrs", "Sophie", "Lefèvre"),),
    ),
    AccountSeed(
        "benali", "M. Karim Benali", "client", "3 impasse des Lilas", "69330", "Meyzieu", (),
        legal=False, terms="on_receipt", mode="cheque", people=(("mr", "Karim", "Benali"),),
        notes="Dossier MaPrimeRénov' en cours pour la pompe à chaleur.",
    ),
    AccountSeed(
        "marronniers", "SCI Les Marronniers", "prospect", "17 chemin de Montessuy", "69300",
        "Caluire-et-Cuire", ("m:Gérant",), domain="sci-marronniers.example",
    ),
    AccountSeed(
        "lanterne", "Brasserie La Lanterne", "prospect", "2 place des Terreaux", "69001", "Lyon",
        ("m:Directeur", "f:Cheffe de cuisine"), domain="brasserie-lanterne.example",
    ),
    AccountSeed(
        "dentiste", "Cabinet dentaire du Dr Morel", "prospect", "30 rue de Créqui", "69006", "Lyon",
        ("m:Chirurgien-dentiste", "f:Assistante dentaire"), domain="dr-morel-dentiste.example",
    ),
    AccountSeed(
        "auto_ecole", "Auto-école Presqu'île", "prospect", "52 rue Mercière", "69002", "Lyon",
        ("f:Gérante",), domain="autoecole-presquile.example",
    ),
    AccountSeed(
        "sanitaires", "Sanitaires Distribution Rhône-Alpes", "other",
        "150 avenue Franklin-Roosevelt", "69500", "Bron",
        ("m:Attaché commercial", "f:Administration des ventes", "m:Responsable d'agence"),
        domain="sdra-negoce.example", is_supplier=True, terms="days_45_eom", bank="sg",
    ),
    AccountSeed(
        "thermique", "Thermique Pro Négoce", "other", "5 rue du Dauphiné", "69800", "Saint-Priest",
        ("m:Technico-commercial", "f:Responsable comptabilité", "m:Responsable d'agence"),
        domain="thermique-pro.example", is_supplier=True, terms="days_30_eom", bank="ca",
    ),
    AccountSeed(
        "datacentre", "DataCentre Lyonnais", "other", "3 rue Marius-Berliet", "69008", "Lyon",
        ("f:Chargée de clientèle",), domain="datacentre-lyonnais.example", is_supplier=True,
        bank="bnp", notes="Fournisseur des serveurs de l'offre d'hébergement.",
    ),
    AccountSeed(
        "journal", "Le Journal de la Croix-Rousse", "other", "9 rue d'Austerlitz", "69004", "Lyon",
        ("f:Rédactrice en chef", "m:Régie publicitaire"), domain="journal-croixrousse.example",
        is_media=True,
    ),
    AccountSeed(
        "federation", "Fédération des plombiers-chauffagistes du Rhône", "other",
        "40 avenue Lacassagne", "69003", "Lyon", ("f:Déléguée générale",),
        domain="fpc-rhone.example", is_partner=True,
    ),
)


@dataclass(frozen=True)
class CategorySeed:
    key: str
    code: str
    name: str
    account: str
    parent: str | None = None


CATEGORIES: tuple[CategorySeed, ...] = (
    CategorySeed("plb", "PLB", "Plomberie", "707100"),
    CategorySeed("san", "SAN", "Sanitaires", "707110", "plb"),
    CategorySeed("chf", "CHF", "Chauffage", "707200"),
    CategorySeed("cha", "CHA", "Chaudières et pompes à chaleur", "707210", "chf"),
    CategorySeed("pdt", "PDT", "Pièces détachées chauffage", "707220", "chf"),
    CategorySeed("mnt", "MNT", "Maintenance et contrats d'entretien", "706100"),
    CategorySeed("mo", "MO", "Main-d'œuvre et déplacements", "706200"),
    CategorySeed("for", "FOR", "Formation", "706300"),
    CategorySeed("web", "WEB", "Hébergement web", "706400"),
    CategorySeed("dom", "DOM", "Noms de domaine et certificats", "706410", "web"),
)


@dataclass(frozen=True)
class ProductSeed:
    code: str
    name: str
    kind: str
    category: str
    unit: str
    price: str
    cost: str | None
    vat: str = "20"
    months: int | None = None
    description: str | None = None
    components: tuple[tuple[str, str], ...] = ()  # (component code, quantity) for kits


_P, _S = "product", "service"
_MONTHLY_YEARLY = "Prix mensuel, facturé à l'année (×12)."

PRODUCTS: tuple[ProductSeed, ...] = (
    ProductSeed("SAN-MIT-LAV", "Mitigeur de lavabo chromé, cartouche céramique", _P, "san", "unit", "89.00", "52.40"),
    ProductSeed("SAN-MIT-THD", "Mitigeur thermostatique de douche", _P, "san", "unit", "189.00", "112.00"),
    ProductSeed("SAN-WC-SUSP", "Pack WC suspendu avec bâti-support", _P, "san", "unit", "389.00", "231.00"),
    ProductSeed("SAN-VAS-60", "Meuble vasque 60 cm avec miroir", _P, "san", "unit", "329.00", "196.00"),
    ProductSeed("SAN-RDD-90", "Receveur de douche extra-plat 90 × 90 cm", _P, "san", "unit", "219.00", "128.00"),
    ProductSeed("PLB-CET-200", "Chauffe-eau électrique 200 L vertical", _P, "plb", "unit", "549.00", "342.00"),
    ProductSeed("PLB-MUL-16", "Tube multicouche Ø 16 mm", _P, "plb", "linear_metre", "4.90", "2.10"),
    ProductSeed("PLB-RED-2027", "Réducteur de pression 20/27", _P, "plb", "unit", "64.00", "31.00"),
    ProductSeed("PLB-GRP-SEC", "Groupe de sécurité pour chauffe-eau", _P, "plb", "unit", "39.00", "18.50"),
    ProductSeed("PLB-ADO-25", "Adoucisseur d'eau 25 L", _P, "plb", "unit", "1190.00", "720.00"),
    ProductSeed("CHA-GAZ-25", "Chaudière murale gaz à condensation 25 kW", _P, "cha", "unit", "2890.00", "1920.00"),
    ProductSeed(
        "CHA-PAC-08", "Pompe à chaleur air/eau 8 kW", _P, "cha", "unit", "7450.00", "5100.00", "5.5",
        description="Taux réduit de 5,5 % : équipement d'économie d'énergie posé dans un logement de plus de deux ans.",
    ),
    ProductSeed("CHF-RAD-1000", "Radiateur acier à eau 1 000 W", _P, "chf", "unit", "219.00", "128.00"),
    ProductSeed("CHF-THE-CNX", "Thermostat d'ambiance connecté", _P, "chf", "unit", "189.00", "104.00"),
    ProductSeed("PDT-ROB-THE", "Robinet thermostatique de radiateur (corps et tête)", _P, "pdt", "unit",
                "42.00", "19.50"),
    ProductSeed("PDT-VEX-08", "Vase d'expansion 8 L", _P, "pdt", "unit", "48.00", "22.00"),
    ProductSeed("PDT-CIR-HE", "Circulateur haute efficacité", _P, "pdt", "unit", "265.00", "158.00"),
    ProductSeed("CHF-POS-CHA", "Pose d'une chaudière murale", _S, "chf", "lump_sum", "850.00", "420.00", "10"),
    ProductSeed("CHF-DES", "Désembouage d'un circuit de chauffage", _S, "chf", "lump_sum", "480.00", "190.00", "10"),
    ProductSeed("MNT-ENT-GAZ", "Entretien annuel de chaudière gaz", _S, "mnt", "year", "149.00", "62.00", "10",
                description="Visite annuelle obligatoire, attestation d'entretien remise au client."),
    ProductSeed("MNT-ENT-PAC", "Entretien annuel de pompe à chaleur", _S, "mnt", "year", "220.00", "95.00", "10"),
    ProductSeed("MNT-CTR-MEN", "Contrat d'entretien chaudière, mensualité", _S, "mnt", "month", "13.90", "5.50", "10",
                months=12, description=_MONTHLY_YEARLY),
    ProductSeed("MNT-CTR-COL", "Maintenance de chaufferie collective", _S, "mnt", "month", "385.00", "160.00", "10",
                months=3, description="Prix mensuel, facturé au trimestre (×3)."),
    ProductSeed("MNT-RAM", "Ramonage de conduit de fumée", _S, "mnt", "unit", "75.00", "30.00", "10"),
    ProductSeed("MNT-DEP", "Dépannage en urgence hors contrat", _S, "mnt", "lump_sum", "95.00", "40.00"),
    ProductSeed("MO-COMP", "Heure de compagnon qualifié", _S, "mo", "hour", "52.00", "31.00"),
    ProductSeed("MO-CHEF", "Heure de chef d'équipe", _S, "mo", "hour", "62.00", "38.00"),
    ProductSeed("MO-APP", "Heure d'apprenti", _S, "mo", "hour", "28.00", "14.00"),
    ProductSeed("MO-DEP-Z1", "Déplacement zone 1 (Lyon, Villeurbanne)", _S, "mo", "lump_sum", "35.00", "15.00"),
    ProductSeed("MO-DEP-Z2", "Déplacement zone 2 (métropole de Lyon)", _S, "mo", "lump_sum", "55.00", "25.00"),
    ProductSeed(
        "FOR-ERP-30H", "Formation ERP-CRM : gestion clientèle et facturation (30 h)", _S, "for", "lump_sum",
        "1500.00", "600.00", "0",
        description="De 5 à 15 participants, à Lyon ou sur site. Cours et travaux pratiques, "
        "évaluation par QCM. Exonérée de TVA (article 261-4-4° du CGI).",
    ),
    ProductSeed("FOR-JOUR-INTRA", "Journée de formation intra-entreprise", _S, "for", "day", "950.00", "380.00", "0"),
    ProductSeed("FOR-HEURE-DIST", "Heure de formation individuelle à distance", _S, "for", "hour",
                "85.00", "35.00", "0"),
    ProductSeed("WEB-MUT-PRO", "Hébergement mutualisé Pro", _S, "web", "month", "9.90", "3.20", months=12,
                description=_MONTHLY_YEARLY),
    ProductSeed("WEB-VPS-4G", "Serveur privé virtuel (VPS) 4 Go", _S, "web", "month", "29.00", "12.00", months=1,
                description="Prix mensuel, facturé chaque mois."),
    ProductSeed("WEB-MAIL-50", "Boîte e-mail professionnelle 50 Go", _S, "web", "month", "4.00", "1.10", months=12,
                description=_MONTHLY_YEARLY),
    ProductSeed("WEB-SAUV-100", "Sauvegarde externalisée 100 Go", _S, "web", "month", "15.00", "6.00", months=12,
                description=_MONTHLY_YEARLY),
    ProductSeed("WEB-INST", "Installation et paramétrage du logiciel chez l'hébergeur", _S, "web", "lump_sum",
                "350.00", "120.00"),
    ProductSeed("DOM-FR", "Nom de domaine .fr (1 an)", _S, "dom", "year", "12.00", "6.50"),
    ProductSeed("DOM-SSL", "Certificat SSL à validation d'organisation (1 an)", _S, "dom", "year", "49.00", "22.00"),
    # Kits: their cost price is the sum of their components' cost.
    ProductSeed(
        "KIT-SDE", "Rénovation de salle d'eau clé en main", _P, "san", "lump_sum", "3950.00", None, "10",
        description="Dépose de l'existant, douche extra-plate, WC suspendu, meuble vasque, "
        "raccordements et main-d'œuvre.",
        components=(("SAN-MIT-THD", "1"), ("SAN-WC-SUSP", "1"), ("SAN-VAS-60", "1"), ("SAN-RDD-90", "1"),
                    ("PLB-MUL-16", "12"), ("MO-COMP", "24"), ("MO-DEP-Z1", "3")),
    ),
    ProductSeed(
        "KIT-CHA-CEM", "Remplacement de chaudière clé en main", _P, "cha", "lump_sum", "4290.00", None, "10",
        components=(("CHA-GAZ-25", "1"), ("CHF-POS-CHA", "1"), ("PDT-ROB-THE", "6"), ("PDT-VEX-08", "1"),
                    ("CHF-DES", "1"), ("MO-DEP-Z1", "1")),
    ),
    ProductSeed(
        "KIT-WEB-VIT", "Pack site vitrine (1 an)", _S, "web", "lump_sum", "289.00", None,
        description="Hébergement mutualisé, nom de domaine .fr, certificat SSL et trois boîtes e-mail.",
        components=(("WEB-MUT-PRO", "1"), ("DOM-FR", "1"), ("DOM-SSL", "1"), ("WEB-MAIL-50", "3")),
    ),
)


@dataclass(frozen=True)
class WorksiteSeed:
    account: str
    name: str
    status: str
    start: int | None  # days from today
    end: int | None
    constraints: str
    access: str | None = None
    street: str | None = None  # defaults to the account's address


WORKSITES: tuple[WorksiteSeed, ...] = (
    WorksiteSeed(
        "tilleuls", "Rénovation de la chaufferie collective", "in_progress", -40, 20,
        "Chaufferie en sous-sol : deux chaudières gaz de 1998 (2 × 120 kW) remplacées par des "
        "chaudières à condensation. Coupure d'eau chaude annoncée 48 h à l'avance par affichage.",
        "Clé de la chaufferie chez le gardien (loge du bâtiment A), de 8 h à 12 h. "
        "Stationnement sur la contre-allée.",
    ),
    WorksiteSeed(
        "garibaldi", "Remplacement des colonnes d'eau froide", "planned", 15, 45,
        "Immeuble de 1930, colonnes en acier galvanisé. Dossier technique amiante (DTA) à obtenir "
        "du syndic avant l'ouverture des gaines.",
        "Digicode 4521B ; caves par la cour intérieure.",
    ),
    WorksiteSeed(
        "durand", "Salle d'eau clé en main", "completed", -120, -95,
        "Dépose de la baignoire, douche extra-plate ; chape à reprendre pour la pente. "
        "Évacuation existante en PVC Ø 40.",
        "Maison individuelle, propriétaires présents le matin.",
    ),
    WorksiteSeed(
        "canuts", "Mise aux normes des sanitaires et du bac à graisse", "planned", 30, 37,
        "Travaux pendant la fermeture annuelle uniquement. Bac à graisse à remplacer selon le "
        "règlement sanitaire départemental.",
        "Livraisons par la rue Belfort avant 10 h.",
    ),
    WorksiteSeed(
        "benali", "Installation d'une pompe à chaleur air/eau", "in_progress", -10, 5,
        "Remplacement d'une chaudière fioul ; cuve à dégazer et neutraliser. Unité extérieure à "
        "3 m au moins de la limite de propriété (bruit).",
        "Portail automatique, code remis par le client.",
    ),
    WorksiteSeed(
        "fourviere", "Remplacement des circulateurs de la chaufferie", "completed", -200, -196,
        "Deux circulateurs jumelés DN 40 ; vidange partielle du réseau.",
        "Accès par la montée du Chemin-Neuf, pente forte : pas de camion de plus de 3,5 t.",
    ),
    WorksiteSeed(
        "celestins", "Rénovation des salles de bains (12 chambres)", "in_progress", -25, 35,
        "Travaux par tranches de trois chambres pour maintenir l'exploitation. Aucun bruit avant 9 h.",
        "Monte-charge de service ; badge à retirer à la réception.",
    ),
    WorksiteSeed(
        "glycines", "Désembouage et équilibrage du réseau de chauffage", "suspended", -60, 10,
        "Établissement occupé par des personnes fragiles : aucune coupure de chauffage de plus de "
        "2 h entre octobre et avril.",
        "Parking du personnel ; se présenter à l'accueil.",
    ),
    WorksiteSeed(
        "pain_dore", "Chauffe-eau et adoucisseur du fournil", "completed", -300, -299,
        "Eau très calcaire (TH 32 °f) ; fournil en activité dès 4 h.",
        "Intervention entre 13 h et 16 h.",
    ),
    WorksiteSeed(
        "camping", "Remplacement des ballons d'eau chaude des sanitaires", "cancelled", None, None,
        "Trois ballons de 300 L dans le bloc sanitaire ; alimentation électrique à vérifier.",
        "Camping fermé d'octobre à mars.",
    ),
)


# (code, name, rows: (label, percent, kind, days, end-of-month reading))
PAYMENT_TERMS: tuple[tuple[str, str, tuple[tuple[str, str, str, int, str | None], ...]], ...] = (
    ("on_receipt", "À réception", (("À réception", "100", "balance", 0, None),)),
    ("days_30", "30 jours", (("À 30 jours", "100", "balance", 30, None),)),
    ("days_30_eom", "30 jours fin de mois", (("À 30 jours fin de mois", "100", "balance", 30, "days_then_eom"),)),
    ("days_45_eom", "45 jours fin de mois", (("À 45 jours fin de mois", "100", "balance", 45, "days_then_eom"),)),
    ("days_60", "60 jours", (("À 60 jours", "100", "balance", 60, None),)),
    ("deposit_30_90_eom", "30 % à la signature, solde à 90 jours fin de mois", (
        ("Acompte à la signature", "30", "deposit", 0, None),
        ("Solde à 90 jours fin de mois", "70", "balance", 90, "days_then_eom"),
    )),
)


def _ledger_account(category_account: str, kind: str) -> str:
    """Goods go to a 707 account, services to a 706 one: the category's when it matches."""
    prefix = "707" if kind == "product" else "706"
    return category_account if category_account.startswith(prefix) else prefix + "000"


# --- loader ------------------------------------------------------------------------------


class _Loader:
    def __init__(self, create: Create, today: dt.date) -> None:
        self.create_record = create
        self.today = today
        self.rng = random.Random(SEED)
        self.counts: dict[str, int] = {}
        self.sirens: set[str] = set()
        self.phones: set[str] = set()
        self.names: set[tuple[str, str]] = set()

    def create(self, entity: str, values: dict[str, Any]) -> int:
        clean = {k: v for k, v in values.items() if v is not None}
        record_id = self.create_record(entity, clean)
        self.counts[entity] = self.counts.get(entity, 0) + 1
        return record_id

    # identifiers, unique within the demo
    def siren(self) -> str:
        while (siren := make_siren(self.rng)) in self.sirens:
            pass
        self.sirens.add(siren)
        return siren

    def phone(self, prefix: str) -> str:
        while (number := f"{prefix} {self.rng.randint(0, 99):02d} {self.rng.randint(0, 99):02d}") in self.phones:
            pass
        self.phones.add(number)
        return number

    def landline(self) -> str:
        return self.phone("04 65 71")

    def mobile(self) -> str:
        return self.phone("06 39 98")

    def iban(self, bank: Bank) -> str:
        number = "".join(str(self.rng.randint(0, 9)) for _ in range(11))
        return make_iban(bank.code, bank.branch, number)

    def person(self, gender: str) -> tuple[str, str]:
        first_names = FEMALE if gender == "f" else MALE
        while True:
            name = (self.rng.choice(first_names), self.rng.choice(LAST_NAMES))
            if name not in self.names:
                self.names.add(name)
                return name

    def run(self) -> dict[str, int]:
        self.load_company()
        self.load_payment_terms()
        self.load_catalogue()
        accounts = self.load_accounts()
        self.load_worksites(accounts)
        load_activities(self.create, accounts, self.today)  # events, tasks, liaison book
        return dict(self.counts)

    def load_payment_terms(self) -> None:
        """The usual French templates; `self.terms` maps the seeds' codes to their ids."""
        self.terms: dict[str, int] = {}
        for code, name, rows in PAYMENT_TERMS:
            self.terms[code] = self.create("payment_terms", {
                "name": name,
                "rows": [
                    {"position": i, "label": label, "percent": D(percent), "kind": kind, "base": "document_date",
                     "days": days, **({"end_of_month_mode": eom} if eom else {})}
                    for i, (label, percent, kind, days, eom) in enumerate(rows, start=1)
                ],
            })
            self.counts["payment_term_row"] = self.counts.get("payment_term_row", 0) + len(rows)

    def load_company(self) -> None:
        siren = self.siren()
        company = self.create("company", {
            "legal_name": "Berthier Services SAS",
            "trade_name": "Berthier Services",
            "legal_form": "sas",
            "capital": D("50000.00"),
            "siren": siren,
            "siret": make_siret(siren, self.rng),
            "rcs_city": "Lyon",
            "vat_number": vat_number(siren),
            "address": "27 rue Paul-Bert",
            "postcode": "69003",
            "city": "Lyon",
            "country": "France",
            "email": "contact@berthier-services.example",
            "phone": self.landline(),
            "website": "https://www.berthier-services.example",
        })
        for label, bank, default in (
            ("Compte courant", BANKS["lcl"], True),
            ("Compte des prélèvements SEPA", BANKS["cera"], False),
        ):
            self.create("company_bank_profile", {
                "company": company,
                "label": label,
                "bank_name": bank.name,
                "iban": self.iban(bank),
                "bic": bank.bic,
                "is_default": default,
            })

    def load_catalogue(self) -> None:
        categories: dict[str, int] = {}
        for cat in CATEGORIES:
            categories[cat.key] = self.create("product_category", {
                "name": cat.name,
                "code": cat.code,
                "parent": categories[cat.parent] if cat.parent else None,
                "accounting_account": cat.account,
            })
        ledger = {cat.key: cat.account for cat in CATEGORIES}
        ids: dict[str, int] = {}
        costs: dict[str, Decimal] = {}
        for p in PRODUCTS:
            if p.cost is not None:
                cost = D(p.cost)
            else:
                cost = sum(
                    (costs[code] * D(qty) for code, qty in p.components), Decimal("0")
                ).quantize(Decimal("0.01"))
            # a monthly price sold over several months costs as many months
            costs[p.code] = cost * (p.months or 1)
            is_goods = p.kind == "product" and not p.components
            ids[p.code] = self.create("product", {
                "code": p.code,
                "name": p.name,
                "kind": p.kind,
                "category": categories[p.category],
                "description": p.description,
                "unit": p.unit,
                "months_billed": p.months,
                "sale_price": D(p.price),
                "cost_price": cost,
                "vat_rate": D(p.vat),
                "accounting_account": _ledger_account(ledger[p.category], p.kind),
                "barcode": make_ean13(self.rng) if is_goods else None,
                "active": True,
            })
            for code, qty in p.components:
                self.create("product_component", {
                    "product": ids[p.code],
                    "component": ids[code],
                    "quantity": D(qty),
                })

    def load_accounts(self) -> dict[str, int]:
        ids: dict[str, int] = {}
        by_key = {a.key: a for a in ACCOUNTS}
        for a in ACCOUNTS:
            values: dict[str, Any] = {
                "name": a.name,
                "type": a.type,
                "is_supplier": a.is_supplier,
                "is_partner": a.is_partner,
                "is_media": a.is_media,
                "address": a.street,
                "postcode": a.postcode,
                "city": a.city,
                "country": "France",
                "phone": self.landline() if a.domain else self.mobile() if a.people else None,
                "payment_terms": self.terms[a.terms],
                "payment_mode": a.mode,
                "credit_limit": D(a.credit) if a.credit else None,
                "property_manager": ids[a.manager] if a.manager else None,
                "notes": a.notes,
            }
            if a.legal:
                siren = self.siren()
                values.update(siren=siren, siret=make_siret(siren, self.rng), vat_number=vat_number(siren))
            if a.domain:
                values.update(email=f"contact@{a.domain}", website=f"https://www.{a.domain}")
            elif a.people:
                first, last = a.people[0][1], a.people[0][2]
                values["email"] = f"{slug(first)}.{slug(last)}@{self.rng.choice(MAIL_PROVIDERS)}"
            if a.bank:
                bank = BANKS[a.bank]
                values.update(iban=self.iban(bank), bic=bank.bic)
            ids[a.key] = self.create("account", values)
            self.load_contacts(a, ids[a.key], values.get("email"))
        self.load_addresses(ids, by_key)
        return ids

    def load_contacts(self, a: AccountSeed, account_id: int, account_email: str | None) -> None:
        people: list[tuple[str, str, str, str | None]] = [
            (civ, first, last, None) for civ, first, last in a.people
        ]
        for job in a.jobs:
            gender, title = job.split(":", 1)
            first, last = self.person(gender)
            people.append(("mrs" if gender == "f" else "mr", first, last, title))
        for index, (civility, first, last, title) in enumerate(people):
            if a.domain:
                email = f"{slug(first)}.{slug(last)}@{a.domain}"
            elif index == 0 and account_email:
                email = account_email
            else:
                email = f"{slug(first)}.{slug(last)}@{self.rng.choice(MAIL_PROVIDERS)}"
            self.create("contact", {
                "account": account_id,
                "civility": civility,
                "first_name": first,
                "last_name": last,
                "job_title": title,
                "email": email,
                "phone": self.landline() if a.domain and self.rng.random() < 0.6 else None,
                "mobile": self.mobile() if self.rng.random() < 0.7 or not a.domain else None,
                "is_primary": index == 0,
            })

    def load_addresses(self, ids: dict[str, int], by_key: dict[str, AccountSeed]) -> None:
        for a in ACCOUNTS:
            if a.manager:  # buildings are billed care of their property manager
                manager = by_key[a.manager]
                self.create("account_address", {
                    "account": ids[a.key],
                    "kind": "billing",
                    "label": "Facturation chez le syndic",
                    "attention_of": f"{manager.name}, service copropriétés",
                    "street": manager.street,
                    "postcode": manager.postcode,
                    "city": manager.city,
                    "country": "France",
                })
        extra = (
            ("celestins", "delivery", "Entrée de service", "Réception des livraisons",
             "Entrée de service, quai des Célestins", "69002", "Lyon"),
            ("glycines", "billing", "Siège de l'association gestionnaire", "Service comptabilité",
             "18 rue Duquesne", "69006", "Lyon"),
            ("imprimerie", "delivery", "Atelier de façonnage", "Chef d'atelier",
             "12 rue Anatole-France", "69100", "Villeurbanne"),
            ("tassin", "billing", "Service financier", "Direction des finances",
             "Hôtel de ville, place de la Mairie", "69160", "Tassin-la-Demi-Lune"),
        )
        for key, kind, label, attention, street, postcode, city in extra:
            self.create("account_address", {
                "account": ids[key],
                "kind": kind,
                "label": label,
                "attention_of": attention,
                "street": street,
                "postcode": postcode,
                "city": city,
                "country": "France",
            })

    def load_worksites(self, accounts: dict[str, int]) -> None:
        by_key = {a.key: a for a in ACCOUNTS}
        for w in WORKSITES:
            client = by_key[w.account]
            self.create("worksite", {
                "name": w.name,
                "account": accounts[w.account],
                "address": w.street or client.street,
                "postcode": client.postcode,
                "city": client.city,
                "start_date": self.today + dt.timedelta(days=w.start) if w.start is not None else None,
                "end_date": self.today + dt.timedelta(days=w.end) if w.end is not None else None,
                "status": w.status,
                "technical_constraints": w.constraints,
                "access_notes": w.access,
            })


def load_demo(create: Create, *, today: dt.date) -> dict[str, int]:
    """Create the demo records through `create`; return how many records of each entity."""
    return _Loader(create, today).run()
