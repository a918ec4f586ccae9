"""French for sqladmin's own strings: our catalogue, compiled in memory at start-up.

sqladmin ships no French catalogue. We keep only the .po source (translated from sqladmin's
admin.pot) and compile it with Babel when the admin is mounted, so that a fresh
`pip install -e .` needs no build step and no binary file lives in the repository.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sqladmin import i18n as sqladmin_i18n
from sqladmin.i18n import I18nConfig

LOCALE = "fr"
CATALOGUE = Path(__file__).parent / "translations" / LOCALE / "LC_MESSAGES" / "admin.po"


def load_catalogue(path: Path = CATALOGUE) -> Translations:
    with path.open("rb") as source:
        catalog = read_po(source, locale=LOCALE)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="admin")


def register_french() -> I18nConfig:
    """Add French to sqladmin's catalogues; the interface is always French.

    Language negotiation (Accept-Language, cookie) is switched off: our own labels are
    French, and a page half in English would be worse than none.
    """
    if LOCALE not in sqladmin_i18n.translations:
        sqladmin_i18n.translations[LOCALE] = load_catalogue()
    if LOCALE not in sqladmin_i18n.SUPPORTED_LOCALES:
        sqladmin_i18n.SUPPORTED_LOCALES.append(LOCALE)
    return I18nConfig(default_locale=LOCALE, language_cookie_name=None, language_header_name=None)
