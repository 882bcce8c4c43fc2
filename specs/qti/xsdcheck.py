"""Validation against the official QTI 3.0 XSD, when the user has a copy (`--qti-xsd DIR`).

The ASI XSD is too large to ship, and it imports other schemas. What `load(dir)` does:

* finds every `*.xsd` under DIR whose targetNamespace is the QTI 3.0 ASI namespace and that
  declares a root element (qti-assessment-item, -test, -section, -stimulus) globally; the partial
  XSDs 1EdTech also publishes (outcome declarations only, response processing only) do not, and
  a folder holding only those is a ValueError that says so. Among them `imsqti_asiv3p0_v1p0.xsd`
  comes first, then `imsqti_asiv3p0p1_v1p0.xsd`, then the others by path;
* follows each schema's xs:include/xs:import/xs:redefine/xs:override BEFORE compiling it and
  refuses any that is not a local file that exists (no network, ever: libxml2 would otherwise try
  an http schemaLocation), then compiles with a parser that has no network and no DTD;
* compiles the first at once (a broken one is a ValueError: the CLI's exit 2); the others only
  when a document's root is declared by them and not by the first;
* caches the result per folder; `validate` is locked, as an lxml schema's error log is shared.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree

from tbconform.specs.qti.vocabulary import QTI_NS, ROOTS

PREFERRED = ("imsqti_asiv3p0_v1p0.xsd", "imsqti_asiv3p0p1_v1p0.xsd")
MAX_PROBLEMS = 100  # XSD errors reported per document; a wrong root can produce hundreds
_XS = "{http://www.w3.org/2001/XMLSchema}"
_LINKS = tuple(_XS + t for t in ("include", "import", "redefine", "override"))
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_ROOTS = frozenset(ROOTS)
_CACHE: dict[Path, "QtiSchemas"] = {}
_CACHE_LOCK = threading.Lock()


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False,
                           dtd_validation=False, huge_tree=True)


@dataclass
class _Candidate:
    path: Path
    roots: frozenset[str]  # global element names it declares
    schema: etree.XMLSchema | None = None


@dataclass
class QtiSchemas:
    folder: Path
    candidates: list[_Candidate]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _for(self, local: str) -> _Candidate:
        """The schema declaring `local` (the default first), compiled on first need."""
        chosen = next((c for c in self.candidates if local in c.roots), self.candidates[0])
        if chosen.schema is None:
            try:
                chosen.schema = _compile(chosen.path)
            except ValueError:
                self.candidates.remove(chosen)  # never usable: the default judges instead
                return self._for(local)
        return chosen

    def validate(self, root: etree._Element) -> list[tuple[int, str, str]]:
        """(line, message, path) of every XSD error of the document `root` heads (at most 100)."""
        local = etree.QName(root).localname
        with self.lock:
            candidate = self._for(local)
            schema = candidate.schema
            assert schema is not None
            if schema.validate(root):
                return []
            errors = [(e.line or 0, e.message, e.path or "/") for e in schema.error_log]
        if len(errors) > MAX_PROBLEMS:
            errors = errors[:MAX_PROBLEMS] + [(errors[MAX_PROBLEMS][0],
                                               f"... and {len(errors) - MAX_PROBLEMS} more XSD errors", "/")]
        return errors


def load(folder: Path) -> QtiSchemas:
    """The QTI 3.0 schemas in `folder` (cached), or ValueError saying why there are none usable."""
    try:
        key = folder.expanduser().resolve()
    except OSError as exc:
        raise ValueError(f"{folder}: cannot read ({exc})") from None
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _CACHE[key] = _load(key, folder)
    return cached


def _load(folder: Path, shown: Path) -> QtiSchemas:
    if not folder.is_dir():
        raise ValueError(f"{shown}: no such folder (give the folder holding the QTI 3.0 XSD)")
    candidates = []
    for path in sorted(folder.rglob("*.xsd")):
        try:
            doc = etree.parse(str(path), _parser()).getroot()
        except (etree.XMLSyntaxError, OSError):
            continue  # not parseable: not a candidate
        if doc.get("targetNamespace") == QTI_NS:
            roots = frozenset(e.get("name") for e in doc.iterchildren(_XS + "element") if e.get("name"))
            candidates.append(_Candidate(path, roots))
    if not candidates:
        raise ValueError(f"{shown}: no XSD with targetNamespace {QTI_NS} (the QTI 3.0 ASI schema, "
                         f"e.g. {PREFERRED[0]})")
    complete = [c for c in candidates if c.roots & _ROOTS]
    if not complete:
        names = ", ".join(c.path.name for c in candidates[:4])
        raise ValueError(f"{shown}: no XSD there declares {' or '.join(sorted(_ROOTS))} (found only "
                         f"partial QTI schemas: {names}); add the ASI schema, e.g. {PREFERRED[0]}")
    rank = {name: i for i, name in enumerate(PREFERRED)}
    complete.sort(key=lambda c: (rank.get(c.path.name, len(rank)), str(c.path)))
    complete[0].schema = _compile(complete[0].path)  # a broken preferred schema is an error
    return QtiSchemas(folder, complete)


def _compile(path: Path) -> etree.XMLSchema:
    _check_local(path, set())
    try:
        return etree.XMLSchema(etree.parse(str(path), _parser()))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        raise ValueError(f"{path}: not a usable XSD ({_first_line(exc)})") from None


def _check_local(path: Path, seen: set[Path]) -> None:
    """Every schema `path` pulls in is a local file that exists (checked before libxml2 looks)."""
    if path in seen:
        return
    seen.add(path)
    try:
        doc = etree.parse(str(path), _parser()).getroot()
    except (etree.XMLSyntaxError, OSError) as exc:
        raise ValueError(f"{path}: not a usable XSD ({_first_line(exc)})") from None
    for link in doc.iter(*_LINKS):
        location = (link.get("schemaLocation") or "").strip()
        if not location:
            continue
        if _SCHEME.match(location):
            parsed = urlparse(location)
            if parsed.scheme != "file":
                raise ValueError(f"{path.name} imports {location}: only local files are read (no "
                                 f"network); put a copy next to it and point schemaLocation there")
            target = Path(unquote(parsed.path))
        else:
            target = (path.parent / unquote(location)).resolve()
        if not target.is_file():
            raise ValueError(f"{path.name} imports {location}, which is not at {target}")
        _check_local(target, seen)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


__all__ = ["PREFERRED", "QtiSchemas", "load"]
