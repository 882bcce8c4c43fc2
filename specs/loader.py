"""Find and load the project's OpenAPI specs, one folder per API under `specs/`."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from tbconform.specs.xmlsafe import is_xml_media

SPEC_ROOT = Path(__file__).resolve().parent
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

try:  # the C loader is ~10x faster on our large documents
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-python PyYAML
    _Loader = yaml.SafeLoader


class SpecError(Exception):
    """A spec file is missing, unreadable or not an OpenAPI document."""


@dataclass
class SpecDocument:
    """One OpenAPI document, e.g. `specs/oneroster/rostering.yaml`."""

    api: str
    name: str
    path: Path
    raw: dict[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.api}/{self.name}"

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s (`#/components/...`) until a concrete node is reached."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 32:
            node = self.pointer(node["$ref"])
            seen += 1
        return node

    def pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise SpecError(f"{self.label}: only local $ref is supported, got {ref!r}")
        node: Any = self.raw
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[part]
            except (KeyError, TypeError):
                raise SpecError(f"{self.label}: unresolvable $ref {ref!r}") from None
        return node


@dataclass
class Operation:
    """An operation with its path-level and operation-level parameters merged and resolved."""

    doc: SpecDocument = field(repr=False)
    method: str
    path: str
    raw: dict[str, Any] = field(repr=False)
    parameters: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def operation_id(self) -> str:
        return self.raw.get("operationId") or f"{self.method.upper()} {self.path}"

    @property
    def binding(self) -> dict[str, Any] | None:
        return self.raw.get("x-tb-binding")

    @property
    def behaviour(self) -> str | None:
        return self.raw.get("x-tb-behaviour")

    @property
    def security(self) -> list[dict[str, list[str]]]:
        return self.raw.get("security", self.doc.raw.get("security", []))

    def request_schema(self) -> dict[str, Any] | None:
        body = self.doc.resolve(self.raw.get("requestBody"))
        if not body:
            return None
        media = (body.get("content") or {}).get("application/json")
        return media.get("schema") if media else None

    @functools.cached_property
    def body_media_types(self) -> list[str]:
        """The media types the request body may be sent as (`application/json`, `application/xml`)."""
        body = self.doc.resolve(self.raw.get("requestBody")) or {}
        return list((body.get("content") or {}).keys())

    @functools.cached_property
    def accepts_xml(self) -> bool:
        """An `application/xml` request body: the sandbox parses it (hardened) for the behaviour."""
        return any(is_xml_media(m) for m in self.body_media_types)

    @functools.cached_property
    def xml_member(self) -> str | None:
        """`x-tb-xml-member: xml`: a JSON body's member holding an XML document (Timeback's
        `{"format": "xml", "xml": "<qti-...>"}`), parsed like an XML body when present."""
        member = self.raw.get("x-tb-xml-member")
        return member if isinstance(member, str) else None

    @property
    def body_required(self) -> bool:
        body = self.doc.resolve(self.raw.get("requestBody")) or {}
        return bool(body.get("required"))


def available_apis(root: Path = SPEC_ROOT) -> list[str]:
    """API folders that hold at least one YAML spec."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.yaml")))


@functools.lru_cache(maxsize=None)
def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = yaml.load(handle, Loader=_Loader)
    except OSError as exc:
        raise SpecError(f"cannot read spec {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"spec {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "openapi" not in data or "paths" not in data:
        raise SpecError(f"spec {path} is not an OpenAPI document (no 'openapi' or 'paths')")
    return data


def load_api(api: str, root: Path = SPEC_ROOT) -> list[SpecDocument]:
    folder = root / api
    files = sorted(folder.glob("*.yaml"))
    if not files:
        known = ", ".join(available_apis(root)) or "none"
        raise SpecError(f"no spec for API {api!r} (known: {known})")
    return [SpecDocument(api, f.stem, f, _read(f)) for f in files]


def load_all(apis: list[str] | None = None, root: Path = SPEC_ROOT) -> list[SpecDocument]:
    """The specs of `apis` (all when None) and of every API they build on: a spec's root
    `x-tb-requires: [oneroster, caliper]` (EduBridge enrolls into OneRoster and reads Caliper's
    events) pulls those in too, so a sandbox of one API never lacks the collections it uses (the
    harness's catalog still tests only the APIs asked for)."""
    docs: list[SpecDocument] = []
    wanted = list(apis or available_apis(root))
    seen: set[str] = set()
    while wanted:
        api = wanted.pop(0)
        if api in seen:
            continue
        seen.add(api)
        loaded = load_api(api, root)
        docs.extend(loaded)
        for doc in loaded:
            needs = doc.raw.get("x-tb-requires", [])
            if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
                raise SpecError(f"{doc.label}: x-tb-requires must be a list of API names, got {needs!r}")
            wanted.extend(n for n in needs if n not in seen)
    return docs


def iter_operations(doc: SpecDocument) -> Iterator[Operation]:
    for path, item in doc.raw.get("paths", {}).items():
        item = doc.resolve(item)
        shared = [doc.resolve(p) for p in item.get("parameters", [])]
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            own = [doc.resolve(p) for p in raw.get("parameters", [])]
            names = {(p["name"], p["in"]) for p in own}
            params = [p for p in shared if (p["name"], p["in"]) not in names] + own
            yield Operation(doc, method.upper(), path, raw, params)
