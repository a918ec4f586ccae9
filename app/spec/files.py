"""files.yaml: the document area's settings (size limit, accepted types, offered folders).

The file is optional; without it every default of FilesSpec applies. The JSON Schema
(schemas/files.schema.json) words unknown keys and type names with a suggestion; this module
adds the checks a schema cannot make (folders equal but for case or spaces).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.spec.errors import SpecError
from app.spec.model import Location
from app.spec.values import mapping
from app.spec.yamlpos import YamlDoc

FILES_FILE = "files.yaml"
MEGABYTE = 1024 * 1024

# Type name -> the file name extensions it may carry (the content decides, app/engine/files.py).
FILE_TYPES: dict[str, tuple[str, ...]] = {
    "pdf": (".pdf",),
    "png": (".png",),
    "jpeg": (".jpg", ".jpeg", ".jpe"),
    "gif": (".gif",),
    "webp": (".webp",),
    "docx": (".docx",),
    "xlsx": (".xlsx",),
    "pptx": (".pptx",),
    "odt": (".odt",),
    "ods": (".ods",),
    "odp": (".odp",),
    "doc": (".doc",),
    "xls": (".xls",),
    "ppt": (".ppt",),
    "txt": (".txt", ".text", ".md"),
    "csv": (".csv",),
}
FAMILIES: dict[str, tuple[str, ...]] = {
    "pdf": ("pdf",),
    "images": ("png", "jpeg", "gif", "webp"),
    "office": ("docx", "xlsx", "pptx", "odt", "ods", "odp", "doc", "xls", "ppt"),
    "text": ("txt", "csv"),
}
DEFAULT_ALLOWED = ("pdf", "images", "office", "text")
DEFAULT_FOLDERS = ("Documents", "Photos avant", "Photos après", "Fiches techniques", "Dossiers de présentation", "PDF")


def expand(names: tuple[str, ...]) -> frozenset[str]:
    """Type names of a list of families and types."""
    return frozenset(t for name in names for t in FAMILIES.get(name, (name,)) if t in FILE_TYPES)


@dataclass(frozen=True)
class FilesSpec:
    max_bytes: int = 20 * MEGABYTE
    allowed: frozenset[str] = field(default_factory=lambda: expand(DEFAULT_ALLOWED))
    folders: tuple[str, ...] = DEFAULT_FOLDERS
    location: Location | None = None

    @property
    def default_folder(self) -> str:
        return self.folders[0]

    @property
    def max_megabytes(self) -> float:
        return self.max_bytes / MEGABYTE


def folder_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def build_files(doc: YamlDoc | None) -> tuple[FilesSpec, list[SpecError]]:
    """The settings of files.yaml (already schema-checked), or the defaults without the file."""
    if doc is None:
        return FilesSpec(), []
    data = mapping(doc.data)
    errors: list[SpecError] = []
    spec = FilesSpec(location=Location(doc.file, 1, 1))
    size = data.get("max_size_mb")
    if isinstance(size, (int, float)) and not isinstance(size, bool) and 0 < size <= 1024:
        spec = FilesSpec(max_bytes=int(size * MEGABYTE), location=spec.location)
    allowed = data.get("allowed")
    types = spec.allowed
    if isinstance(allowed, list) and allowed and all(isinstance(a, str) for a in allowed):
        types = expand(tuple(allowed)) or spec.allowed
    folders = spec.folders
    raw_folders = data.get("folders")
    if isinstance(raw_folders, list) and raw_folders and all(isinstance(f, str) for f in raw_folders):
        seen: dict[str, int] = {}
        kept: list[str] = []
        for i, name in enumerate(raw_folders):
            key = folder_key(name)
            loc = doc.at(("folders", i))
            if key in seen:
                errors.append(
                    SpecError(loc, f"folder '{name}' is the same as item {seen[key] + 1} of 'folders' (case and spaces aside)")
                )
                continue
            seen[key] = i
            kept.append(" ".join(name.split()))
        folders = tuple(kept) or folders
    return FilesSpec(max_bytes=spec.max_bytes, allowed=types, folders=folders, location=spec.location), errors
