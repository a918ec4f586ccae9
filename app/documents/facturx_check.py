"""`comptoir facturx check FILE.pdf`: extract the Factur-X XML of a PDF and check it.

Checks, each problem printed on its own line as `RULE: message`:
- the PDF carries a Factur-X XML attachment and XMP metadata of PDF/A-3 with the Factur-X
  conformance level of the XML;
- the XML is valid against the Factur-X EN 16931 XSD;
- the EN 16931 rules on totals, implemented here: BR-CO-10 to BR-CO-18, BR-S-08 (the base of
  each rate from the lines, charges and allowances), BR-DEC (two decimals);
- mandatory elements (BR-01 … BR-08, BR-16) and the French rules we follow: seller SIREN with
  scheme 0002, the PMT/PMD/AAB notes, the operation nature (BT-23), the invoice a credit note
  corrects.
Exit status 0 when there is no problem, 1 otherwise (2: the file cannot be read at all).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from app.documents.facturx import NSMAP, xsd_problems
from app.domain.money import round_amount

TOLERANCE = Decimal("0.01")
NATURE_CODES = ("B1", "S1", "M1", "B2", "S2", "M2", "B4", "S4", "M4", "S5", "S6", "B7", "S7")


@dataclass(frozen=True)
class Problem:
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def extract(pdf: bytes) -> tuple[bytes | None, list[Problem]]:
    """The embedded XML and the problems of the PDF container itself."""
    import logging

    from facturx import get_xml_from_pdf

    logging.getLogger("factur-x").setLevel(logging.CRITICAL)  # we print the problems ourselves
    if not pdf.startswith(b"%PDF-"):
        return None, [Problem("PDF", "le fichier n'est pas un PDF / the file is not a PDF")]
    try:
        name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:  # the library raises bare exceptions on broken files
        return None, [Problem("PDF", f"PDF illisible / unreadable PDF: {exc}")]
    if not xml:
        return None, [Problem("FX-01", "aucun XML Factur-X joint au PDF / no Factur-X XML attached to the PDF")]
    problems = []
    if name != "factur-x.xml":
        problems.append(Problem("FX-02", f"la pièce jointe s'appelle « {name} », attendu factur-x.xml / attachment named '{name}'"))
    problems += _xmp_problems(pdf)
    return xml, problems


def _xmp_problems(pdf: bytes) -> list[Problem]:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    stream = reader.trailer["/Root"].get("/Metadata")
    if stream is None:
        return [Problem("FX-03", "pas de métadonnées XMP / no XMP metadata (PDF/A-3 needs them)")]
    xmp = stream.get_object().get_data().decode("utf-8", "replace")
    problems = []
    if "pdfaid:part>3<" not in xmp.replace('pdfaid:part="3"', "pdfaid:part>3<"):
        problems.append(Problem("FX-03", "le XMP ne déclare pas PDF/A-3 / the XMP does not declare PDF/A-3"))
    if "EN 16931" not in xmp:
        problems.append(Problem("FX-04", "le XMP ne déclare pas le niveau EN 16931 / the XMP does not declare level EN 16931"))
    return problems


class _Xml:
    def __init__(self, root: etree._Element) -> None:
        self.root = root

    def all(self, path: str, node: Any = None) -> list[Any]:
        return list((node if node is not None else self.root).xpath(path, namespaces=NSMAP))

    def text(self, path: str, node: Any = None) -> str | None:
        found = self.all(path, node)
        if not found:
            return None
        value = found[0] if isinstance(found[0], str) else found[0].text
        return None if value is None else str(value).strip()

    def amount(self, path: str, node: Any = None) -> Decimal | None:
        value = self.text(path, node)
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:
            return None

    def amounts(self, path: str, node: Any = None) -> list[Decimal]:
        result = []
        for element in self.all(path, node):
            try:
                result.append(Decimal(str(element.text).strip()))
            except InvalidOperation:
                pass
        return result


SETTLEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
AGREEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"
LINES = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem"


def _equal(rule: str, what: str, found: Decimal | None, expected: Decimal, problems: list[Problem], *, tolerance: Decimal = Decimal(0)) -> None:
    if found is None:
        problems.append(Problem(rule, f"{what} manquant / missing"))
    elif abs(found - expected) > tolerance:
        problems.append(Problem(rule, f"{what} = {found}, attendu / expected {expected}"))


def total_problems(xml: bytes) -> list[Problem]:
    """The EN 16931 business rules on amounts and the mandatory elements we check ourselves."""
    try:
        x = _Xml(etree.fromstring(xml))
    except etree.XMLSyntaxError as exc:
        return [Problem("XML", f"XML illisible / unreadable XML: {exc}")]
    problems: list[Problem] = []
    mandatory = {
        "BR-02": ("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID", "numéro de facture (BT-1)"),
        "BR-03": ("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString", "date d'émission (BT-2)"),
        "BR-04": ("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode", "type de document (BT-3)"),
        "BR-05": (f"{SETTLEMENT}/ram:InvoiceCurrencyCode", "devise (BT-5)"),
        "BR-06": (f"{AGREEMENT}/ram:SellerTradeParty/ram:Name", "nom du vendeur (BT-27)"),
        "BR-07": (f"{AGREEMENT}/ram:BuyerTradeParty/ram:Name", "nom de l'acheteur (BT-44)"),
        "BR-09": (f"{AGREEMENT}/ram:SellerTradeParty/ram:PostalTradeAddress/ram:CountryID", "pays du vendeur (BT-40)"),
    }
    for rule, (path, what) in mandatory.items():
        if not x.text(path):
            problems.append(Problem(rule, f"{what} manquant / missing"))
    if not x.all(LINES):
        problems.append(Problem("BR-16", "aucune ligne de facture / no invoice line"))

    line_nets = x.amounts(f"{LINES}/ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    charges = x.amounts(f"{SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='true']/ram:ActualAmount")
    allowances = x.amounts(f"{SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/udt:Indicator='false']/ram:ActualAmount")
    line_total = x.amount(f"{SUMMATION}/ram:LineTotalAmount")
    charge_total = x.amount(f"{SUMMATION}/ram:ChargeTotalAmount") or Decimal(0)
    allowance_total = x.amount(f"{SUMMATION}/ram:AllowanceTotalAmount") or Decimal(0)
    basis_total = x.amount(f"{SUMMATION}/ram:TaxBasisTotalAmount")
    tax_total = x.amount(f"{SUMMATION}/ram:TaxTotalAmount")
    grand_total = x.amount(f"{SUMMATION}/ram:GrandTotalAmount")
    prepaid = x.amount(f"{SUMMATION}/ram:TotalPrepaidAmount") or Decimal(0)
    rounding = x.amount(f"{SUMMATION}/ram:RoundingAmount") or Decimal(0)
    due = x.amount(f"{SUMMATION}/ram:DuePayableAmount")

    _equal("BR-CO-10", "total des lignes / sum of line nets (BT-106)", line_total, sum(line_nets, Decimal(0)), problems)
    _equal("BR-CO-11", "total des remises / allowances total (BT-107)", allowance_total, sum(allowances, Decimal(0)), problems)
    _equal("BR-CO-12", "total des frais / charges total (BT-108)", charge_total, sum(charges, Decimal(0)), problems)
    if line_total is not None:
        _equal("BR-CO-13", "total HT / tax basis total (BT-109)", basis_total, line_total - allowance_total + charge_total, problems)
    breakdown = x.all(f"{SETTLEMENT}/ram:ApplicableTradeTax")
    if not breakdown:
        problems.append(Problem("BR-CO-18", "aucune ventilation de TVA / no VAT breakdown (BG-23)"))
    category_taxes = [x.amount("ram:CalculatedAmount", node) or Decimal(0) for node in breakdown]
    _equal("BR-CO-14", "total TVA / VAT total (BT-110)", tax_total, sum(category_taxes, Decimal(0)), problems)
    if basis_total is not None and tax_total is not None:
        _equal("BR-CO-15", "total TTC / grand total (BT-112)", grand_total, basis_total + tax_total, problems)
    if grand_total is not None:
        _equal("BR-CO-16", "net à payer / amount due (BT-115)", due, grand_total - prepaid + rounding, problems)
    for node in breakdown:
        problems += _category_problems(x, node)
    for path in (f"{SUMMATION}/*", f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:CalculatedAmount", f"{SETTLEMENT}/ram:ApplicableTradeTax/ram:BasisAmount"):
        for element in x.all(path):
            value = str(element.text or "").strip()
            if "." in value and len(value.split(".")[1]) > 2:
                problems.append(Problem("BR-DEC", f"{etree.QName(element).localname} = {value}: deux décimales au plus / at most two decimals"))
    problems += _french_problems(x)
    return problems


def _category_problems(x: _Xml, node: Any) -> list[Problem]:
    problems: list[Problem] = []
    category = x.text("ram:CategoryCode", node) or "?"
    rate = x.amount("ram:RateApplicablePercent", node) or Decimal(0)
    basis = x.amount("ram:BasisAmount", node)
    tax = x.amount("ram:CalculatedAmount", node)
    label = f"TVA {category} {rate} %"
    if basis is not None:
        _equal("BR-CO-17", f"{label} : montant / amount", tax, round_amount(basis * rate / 100), problems, tolerance=TOLERANCE)

    cond = f"ram:CategoryCode='{category}' and number(ram:RateApplicablePercent)={rate}"
    nets = "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
    lines = x.amounts(f"{LINES}/ram:SpecifiedLineTradeSettlement[ram:ApplicableTradeTax[{cond}]]/{nets}")
    levels = f"{SETTLEMENT}/ram:SpecifiedTradeAllowanceCharge[ram:CategoryTradeTax[{cond}]]"
    charges = x.amounts(f"{levels}[ram:ChargeIndicator/udt:Indicator='true']/ram:ActualAmount")
    allowances = x.amounts(f"{levels}[ram:ChargeIndicator/udt:Indicator='false']/ram:ActualAmount")
    rule = {"S": "BR-S-08", "E": "BR-E-08", "Z": "BR-Z-08"}.get(category, "BR-CO-17")
    expected = sum(lines, Decimal(0)) + sum(charges, Decimal(0)) - sum(allowances, Decimal(0))
    _equal(rule, f"{label} : base / taxable amount", basis, expected, problems)
    return problems


def _french_problems(x: _Xml) -> list[Problem]:
    problems: list[Problem] = []
    scheme = x.text(f"{AGREEMENT}/ram:SellerTradeParty/ram:SpecifiedLegalOrganization/ram:ID/@schemeID")
    if scheme != "0002":
        problems.append(Problem("BR-FR-10", "SIREN du vendeur (schéma 0002) manquant / seller SIREN with scheme 0002 missing"))
    subjects = {s for s in (e.text for e in x.all("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IncludedNote/ram:SubjectCode")) if s}
    for code, what in (("PMT", "indemnité forfaitaire de 40 €"), ("PMD", "pénalités de retard"), ("AAB", "escompte")):
        if code not in subjects:
            problems.append(Problem("BR-FR-05", f"note {code} ({what}) manquante / note {code} missing"))
    nature = x.text("/rsm:CrossIndustryInvoice/rsm:ExchangedDocumentContext/ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID")
    if nature not in NATURE_CODES:
        problems.append(Problem("BR-FR-08", f"cadre de facturation (BT-23) « {nature} » invalide, attendu B1, S1, M1… / invalid business process"))
    if x.text("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == "381" and not x.text(f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID"):
        problems.append(Problem("BR-FR-CO-04", "un avoir doit citer la facture d'origine (BT-25) / a credit note must reference its invoice"))
    return problems


def check_pdf(pdf: bytes) -> tuple[bytes | None, list[Problem]]:
    xml, problems = extract(pdf)
    if xml is None:
        return None, problems
    problems += [Problem("XSD", p) for p in xsd_problems(xml)]
    problems += total_problems(xml)
    return xml, problems


def cmd_facturx_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        content = path.read_bytes()
    except OSError as exc:
        print(f"{path}: lecture impossible / cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    xml, problems = check_pdf(content)
    for problem in problems:
        print(f"{path}: {problem}")
    if args.xml and xml is not None:
        Path(args.xml).write_bytes(xml)
    if problems:
        print(f"{path}: {len(problems)} problème(s) / problem(s)", file=sys.stderr)
        return 1
    print(f"{path}: Factur-X EN 16931 valide / valid")
    return 0


def add_facturx_parser(sub: Any) -> None:
    """The `facturx` command group of `comptoir` (hooked from app/cli.py)."""
    facturx = sub.add_parser("facturx", help="factures électroniques Factur-X / Factur-X e-invoices")
    actions = facturx.add_subparsers(dest="facturx_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="extraire et valider le XML d'un PDF / extract and validate a PDF's XML")
    check.add_argument("file", metavar="FICHIER.pdf")
    check.add_argument("--xml", metavar="SORTIE.xml", help="écrire aussi le XML extrait / also write the extracted XML")
    check.set_defaults(func=cmd_facturx_check)
