"""Field types: the column, the parsing/validation and the JSON shape of each YAML field type.

Each type is registered once in FIELD_TYPES; the models, the forms, the API and the OpenAPI
document all read from here. Messages are French (the interface language) with the English
after a " / ".
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, String, Text
from sqlalchemy.types import TypeEngine

from app.domain.money import round_amount
from app.engine.coltypes import ExactDecimal
from app.spec.model import AppSpec, FieldSpec


class FieldError(ValueError):
    """A value refused for a field; `message` is shown to the user next to the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _msg(fr: str, en: str) -> str:
    return f"{fr} / {en}"


# --- parsers -------------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_decimal(value: Any) -> Decimal:
    """Accept Decimal, int, str with a dot or a French comma and spaces ("1 234,50")."""
    if isinstance(value, bool):
        raise FieldError(_msg("nombre attendu", "a number is expected"))
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:  # the usual "12.5" as it is (Decimal ignores the spaces around it)
            result = Decimal(value)
        except InvalidOperation:
            result = _french_decimal(value)
    else:
        raise FieldError(_msg("nombre attendu", "a number is expected"))
    if not result.is_finite():
        raise FieldError(_msg("nombre attendu", "a number is expected"))
    return result


def _french_decimal(value: str) -> Decimal:
    """A number as a French user writes it: "1 234,50", "1.234,50", "1'234.5"."""
    text = _SPACES.sub("", value.strip())
    if "," in text:
        if "." in text:  # "1.234,50": the dot groups thousands
            text = text.replace(".", "")
        text = text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise FieldError(_msg(f"« {value} » n'est pas un nombre", f"'{value}' is not a number")) from None


# Integer columns are 32-bit on PostgreSQL (ids and links too).
MAX_INT = 2**31 - 1


def _too_large() -> FieldError:
    return FieldError(_msg("nombre trop grand", "number too large"))


def _parse_int(value: Any, field: FieldSpec) -> int:
    number = parse_decimal(value)
    if abs(number) > MAX_INT:
        raise _too_large()
    if number != number.to_integral_value():
        raise FieldError(_msg("nombre entier attendu", "a whole number is expected"))
    return int(number)


@functools.lru_cache(maxsize=None)
def _scaled(scale: int, precision: int = 18) -> Callable[[Any, FieldSpec], Decimal]:
    quantum = Decimal(1).scaleb(-scale)
    largest = precision - scale  # digits before the point that NUMERIC(precision, scale) holds

    def parse(value: Any, field: FieldSpec) -> Decimal:
        number = parse_decimal(value)
        if number and number.adjusted() >= largest:  # would overflow NUMERIC(precision, scale)
            raise FieldError(
                _msg(f"nombre trop grand ({largest} chiffres au plus avant la virgule)", "number too large")
            )
        quantized = number.quantize(quantum)
        if number != quantized:
            raise FieldError(
                _msg(f"{scale} décimales au plus", f"at most {scale} decimal places")
            )
        return quantized

    return parse


def _parse_decimal_field(value: Any, field: FieldSpec) -> Decimal:
    return _scaled(field.scale if field.scale is not None else 4)(value, field)


def _parse_bool(value: Any, field: FieldSpec) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "oui", "yes", "on", "y"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "0", "non", "no", "off", "n", ""}:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FieldError(_msg("oui ou non attendu", "true or false is expected"))


def _parse_date(value: Any, field: FieldSpec) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
    raise FieldError(_msg(f"date invalide : « {value} » (AAAA-MM-JJ ou JJ/MM/AAAA)", f"invalid date '{value}'"))


def _parse_datetime(value: Any, field: FieldSpec) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y"):
            try:
                return dt.datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise FieldError(_msg(f"date et heure invalides : « {value} »", f"invalid date-time '{value}'"))


def _parse_str(value: Any, field: FieldSpec) -> str:
    if isinstance(value, (dict, list, bool)):
        raise FieldError(_msg("texte attendu", "text is expected"))
    text = str(value).strip()
    limit = field.length or {"text": None, "email": 254}.get(field.type, 255)
    if limit is not None and len(text) > limit:
        raise FieldError(_msg(f"{limit} caractères au plus", f"at most {limit} characters"))
    return text


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ().\-]{6,25}$")
_URL = re.compile(r"^https?://[^\s/$.?#].[^\s]*$", re.IGNORECASE)


def _pattern(regex: re.Pattern[str], fr: str, en: str) -> Callable[[Any, FieldSpec], str]:
    def parse(value: Any, field: FieldSpec) -> str:
        text = _parse_str(value, field)
        if not regex.match(text):
            raise FieldError(_msg(f"{fr} : « {text} »", f"{en}: '{text}'"))
        return text

    return parse


def _stdnum(module_name: str, fr: str, en: str) -> Callable[[Any, FieldSpec], str]:
    def parse(value: Any, field: FieldSpec) -> str:
        import importlib

        from stdnum.exceptions import ValidationError

        module = importlib.import_module(f"stdnum.{module_name}")
        text = _parse_str(value, field)
        try:
            return str(module.validate(text))
        except ValidationError as exc:
            raise FieldError(
                _msg(f"{fr} invalide : « {text} » ({_stdnum_reason_fr(exc)})", f"invalid {en} '{text}' ({exc})")
            ) from None

    return parse


def _stdnum_reason_fr(exc: Exception) -> str:
    name = type(exc).__name__
    return {
        "InvalidChecksum": "la clé de contrôle est fausse",
        "InvalidLength": "le nombre de chiffres est faux",
        "InvalidFormat": "le format est faux",
        "InvalidComponent": "une partie du numéro est fausse",
    }.get(name, "numéro incorrect")


def _parse_iban(value: Any, field: FieldSpec) -> str:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    text = _parse_str(value, field)
    try:
        return str(IBAN(text).compact)
    except SchwiftyException as exc:
        raise FieldError(_msg(f"IBAN invalide : « {text} » ({_schwifty_reason_fr(exc)})", f"invalid IBAN '{text}' ({exc})")) from None


def _parse_bic(value: Any, field: FieldSpec) -> str:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    text = _parse_str(value, field)
    try:
        return str(BIC(text).compact)
    except SchwiftyException as exc:
        raise FieldError(_msg(f"BIC invalide : « {text} » ({_schwifty_reason_fr(exc)})", f"invalid BIC '{text}' ({exc})")) from None


def _schwifty_reason_fr(exc: Exception) -> str:
    name = type(exc).__name__
    return {
        "InvalidChecksumDigits": "la clé de contrôle est fausse",
        "InvalidLength": "la longueur est fausse",
        "InvalidStructure": "la structure est fausse",
        "InvalidCountryCode": "le code pays est inconnu",
        "InvalidBankCode": "le code banque est faux",
        "InvalidAccountCode": "le numéro de compte est faux",
        "InvalidBBANChecksum": "la clé RIB est fausse",
    }.get(name, "numéro incorrect")


def _parse_choice(value: Any, field: FieldSpec, spec: AppSpec) -> str:
    text = _parse_str(value, field)
    picklist = spec.picklists[field.picklist or ""]
    if text not in picklist.codes():
        allowed = ", ".join(picklist.codes(active_only=True))
        raise FieldError(_msg(f"valeur inconnue « {text} » (valeurs : {allowed})", f"unknown value '{text}' (allowed: {allowed})"))
    return text


def _parse_multichoice(value: Any, field: FieldSpec, spec: AppSpec) -> list[str]:
    if isinstance(value, str):
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, (list, tuple)):
        raise FieldError(_msg("liste de valeurs attendue", "a list of values is expected"))
    return [_parse_choice(v, field, spec) for v in value]


def _parse_link(value: Any, field: FieldSpec) -> int:
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    if isinstance(value, bool):
        raise FieldError(_msg("identifiant attendu", "an id is expected"))
    try:
        number = int(str(value).strip())
    except ValueError:
        raise FieldError(_msg(f"identifiant invalide : « {value} »", f"invalid id '{value}'")) from None
    if not 0 < number <= MAX_INT:
        raise FieldError(_msg(f"identifiant invalide : « {value} »", f"invalid id '{value}'"))
    return number


def _parse_password(value: Any, field: FieldSpec) -> str:
    text = str(value)
    if len(text) < 8:
        raise FieldError(_msg("8 caractères au moins", "at least 8 characters"))
    return hash_password(text)


def hash_password(text: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(text)


# --- registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    name: str
    column: Callable[[FieldSpec], TypeEngine[Any]]
    parse: Callable[[Any, FieldSpec], Any]
    json_schema: dict[str, Any]
    numeric: bool = False
    textual: bool = False  # searchable with LIKE


def _string_col(default: int) -> Callable[[FieldSpec], TypeEngine[Any]]:
    return lambda f: String(f.length or default)


FIELD_TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType("string", _string_col(255), _parse_str, {"type": "string"}, textual=True),
        FieldType("text", lambda f: Text(), _parse_str, {"type": "string"}, textual=True),
        FieldType("integer", lambda f: Integer(), _parse_int, {"type": "integer"}, numeric=True),
        FieldType(
            "decimal",
            lambda f: ExactDecimal(18, f.scale if f.scale is not None else 4),
            _parse_decimal_field,
            {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"},
            numeric=True,
        ),
        FieldType("money", lambda f: ExactDecimal(18, 2), _scaled(2), {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d{1,2})?$"}, numeric=True),
        FieldType("percent", lambda f: ExactDecimal(9, 4), _scaled(4, 9), {"type": "string", "format": "decimal"}, numeric=True),
        FieldType("date", lambda f: Date(), _parse_date, {"type": "string", "format": "date"}),
        FieldType("datetime", lambda f: DateTime(timezone=False), _parse_datetime, {"type": "string", "format": "date-time"}),
        FieldType("boolean", lambda f: Boolean(), _parse_bool, {"type": "boolean"}),
        FieldType("choice", lambda f: String(50), _parse_str, {"type": "string"}),
        # a workflow's state (picklist `<entity>_status`); written only by transitions
        FieldType("status", lambda f: String(50), _parse_str, {"type": "string"}),
        # none_as_null: no choice is SQL NULL, however the row is written (not the JSON `null`)
        FieldType("multichoice", lambda f: JSON(none_as_null=True), _parse_str, {"type": "array", "items": {"type": "string"}}),
        FieldType("link", lambda f: Integer(), _parse_link, {"type": "integer"}),
        FieldType("email", _string_col(254), _pattern(_EMAIL, "adresse e-mail invalide", "invalid e-mail address"), {"type": "string", "format": "email"}, textual=True),
        FieldType("phone", _string_col(30), _pattern(_PHONE, "numéro de téléphone invalide", "invalid phone number"), {"type": "string"}, textual=True),
        FieldType("url", _string_col(500), _pattern(_URL, "adresse web invalide (http:// ou https://)", "invalid URL"), {"type": "string", "format": "uri"}, textual=True),
        FieldType("iban", _string_col(34), _parse_iban, {"type": "string"}, textual=True),
        FieldType("bic", _string_col(11), _parse_bic, {"type": "string"}, textual=True),
        FieldType("siren", _string_col(9), _stdnum("fr.siren", "SIREN", "SIREN"), {"type": "string", "pattern": r"^\d{9}$"}, textual=True),
        FieldType("siret", _string_col(14), _stdnum("fr.siret", "SIRET", "SIRET"), {"type": "string", "pattern": r"^\d{14}$"}, textual=True),
        FieldType("vat_number", _string_col(20), _stdnum("eu.vat", "numéro de TVA", "VAT number"), {"type": "string"}, textual=True),
        FieldType("file", _string_col(500), _parse_str, {"type": "string"}),
        FieldType("image", _string_col(500), _parse_str, {"type": "string"}),
        FieldType("password", _string_col(255), _parse_password, {"type": "string", "writeOnly": True}),
    )
}


def parse_value(field: FieldSpec, value: Any, spec: AppSpec) -> Any:
    """Turn user input (JSON value or form text) into the Python value stored; raise FieldError.

    Empty input ("" or None) is None. Bounds (min/max) are checked here too.
    """
    if value is None or (isinstance(value, str) and value.strip() == "" and field.type != "password"):
        return None
    if field.type == "password" and value == "":
        return None
    if field.type in ("choice", "status"):
        result: Any = _parse_choice(value, field, spec)
    elif field.type == "multichoice":
        result = _parse_multichoice(value, field, spec)
    else:
        result = FIELD_TYPES[field.type].parse(value, field)
    _check_bounds(field, result)
    return result


def _check_bounds(field: FieldSpec, value: Any) -> None:
    if field.min is None and field.max is None:
        return
    if isinstance(value, (dt.date, dt.datetime)):
        low, high = field.date_bounds
        value = value.date() if isinstance(value, dt.datetime) else value
    elif isinstance(value, (int, Decimal)):
        low, high = field.number_bounds
    else:
        return
    if low is not None and value < low:
        raise FieldError(_msg(f"doit être au moins {field.min}", f"must be at least {field.min}"))
    if high is not None and value > high:
        raise FieldError(_msg(f"doit être au plus {field.max}", f"must be at most {field.max}"))


def to_json(field: FieldSpec, value: Any) -> Any:
    """The JSON form of a stored value: Decimal and dates as strings, never floats."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        if field.type == "money":  # "0.00" whether the value was computed in memory or read back
            return str(round_amount(value))
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
