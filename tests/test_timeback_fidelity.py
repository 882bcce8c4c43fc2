"""The sandbox's answers validate against Timeback's own published response schemas.

For every Timeback OpenAPI file in the shared reference folder whose paths the sandbox routes,
every GET operation both sides share is called (path ids taken from real listings) and its JSON
answer is validated against Timeback's 200 schema. The only errors tolerated are those at a
location that one of our specs' `x-tb-differences` entries names in `ignore` (a Timeback schema
location `Component.field.sub`, see `schema_location`): a deliberate difference must be written
down, with its reason, before the sandbox may diverge. A second test writes records through our
plain creates (a seeded record echoed back, then with one optional field left out or set to null)
and reads each accepted one back through Timeback's GET-one path, so created records stay as
faithful as seeded ones. A later API inherits both tests as soon as its Timeback file and our spec
share a path.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from tbconform.mocks.model import CompiledOperation
from tbconform.mocks.sandbox import Sandbox, SandboxConfig
from tbconform.mocks.testing import RunningSandbox, run_sandbox

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PARAM = re.compile(r"\{([^}]+)\}")
# RFC 3986 `URI` (absolute, with a scheme); a relative reference is not one. Written out here
# so that the test does not depend on which optional format packages jsonschema finds.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")
FORMATS = FormatChecker()
FORMATS.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.match(value)))
CANDIDATES = 8  # parent records tried per nested path, looking for a non-empty answer


def openapi_files(shared: Path) -> list[Path]:
    folder = shared / "reference" / "timeback"
    return sorted(p for p in folder.glob("*.yaml") if p.read_text(encoding="utf-8")[:200].lstrip().startswith("openapi"))


def without_nullable(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` as JSON Schema: add "null" to the type (or allow null)."""
    if isinstance(node, list):
        return [without_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: without_nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        elif kind is None:
            out = {"anyOf": [out, {"type": "null"}]}
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def template_segments(path: str) -> list[str]:
    """A Timeback path template as router segments (any non-empty value matches a parameter)."""
    return [_PARAM.sub("x", s) for s in path.strip("/").split("/")]


def shared_gets(sandbox: Sandbox, doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], CompiledOperation]]:
    """(Timeback path, its 200 JSON schema, our operation) for every GET both sides serve."""
    for path, item in doc.get("paths", {}).items():
        content = (((item.get("get") or {}).get("responses") or {}).get("200") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        match = sandbox.router.match("GET", template_segments(path))
        if schema is not None and match is not None and match.operation is not None:
            yield path, schema, match.operation


def schema_location(error: ValidationError, root: dict[str, Any], components: dict[str, Any],
                    inline: str = "<response>", wrapped: bool = True) -> str:
    """Where in Timeback's schemas an error sits: `Schema.field.sub`.

    The schema path is walked from the response schema, following each `$ref`, so the location
    names the last component entered and the properties below it; `items` and combinators are
    skipped. Timeback inlines most entities in list answers: there `Schema` is `inline` (our
    entity schema's name) and the wrapper key is dropped. A missing required property is located
    at the property itself.
    """
    node: Any = root
    name, fields = "<response>", []
    keys = list(error.absolute_schema_path)
    i = 0
    while i < len(keys):
        key = keys[i]
        while isinstance(node, dict) and "$ref" in node and key not in node:  # jsonschema omits `$ref`
            name, fields = node["$ref"].rsplit("/", 1)[1], []
            node = components["schemas"][name]
        if key == "properties" and i + 1 < len(keys):
            fields.append(str(keys[i + 1]))
            node = node["properties"][keys[i + 1]]
            i += 1
        elif key == "$ref":
            name, fields = node["$ref"].rsplit("/", 1)[1], []
            node = components["schemas"][name]
        elif i < len(keys) - 1:
            node = node[key]
        i += 1
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        fields.append(missing.group(1) if missing else "?")
    if name == "<response>" and fields:  # an unwrapped answer (`responseKeys: [$]`) has no key to drop
        name, fields = inline, fields[1:] if wrapped else fields
    return ".".join([name, *fields])


def allowed(location: str, ignores: set[str]) -> bool:
    return any(location == i or location.startswith(i + ".") for i in ignores)


ID_FIELDS = ("sourcedId", "identifier", "id")  # OneRoster's key, QTI's, Timeback's own records'


def row_id(row: Any) -> str | None:
    """A listed record's id, whichever key its API uses."""
    return next((row[k] for k in ID_FIELDS if isinstance(row, dict) and isinstance(row.get(k), str)), None)


def first_rows(body: Any) -> list[Any]:
    return next((v for v in body.values() if isinstance(v, list)), []) if isinstance(body, dict) else []


class Caller:
    """GETs against the running sandbox, with path ids drawn from real listings."""

    def __init__(self, running: RunningSandbox) -> None:
        self.http = running.client()
        self.sandbox = running.sandbox
        self._ids: dict[str, list[str]] = {}

    def ids(self, collection: str) -> list[str]:
        if collection not in self._ids:
            root = next((op for op in self.sandbox.operations if (op.binding or {}).get("action") == "list"
                         and op.binding["collection"] == collection and not op.binding.get("scope")
                         and not op.binding.get("via") and not op.path_names), None)
            got = self.http.get(root.op.path, params={"limit": 50}).json() if root else {}
            self._ids[collection] = [row_id(r) for r in first_rows(got)
                                     if r.get("status", "active") == "active" and row_id(r)]
        return self._ids[collection]

    def param_collections(self, op: CompiledOperation, path: str) -> dict[str, str]:
        """Which collection each of Timeback's path parameters names, read from our binding.

        Parameters pair up by position (the names differ: `{sourcedId}` vs `{classSourcedId}`);
        a behaviour without a binding falls back to the collection named by the segment before.
        """
        binding = op.binding or {}
        named = dict(binding.get("requires") or {})
        if binding.get("id"):
            named[binding["id"]] = binding["collection"]
        theirs: dict[str, str] = {}
        segments = path.strip("/").split("/")
        for ours_name, index in zip(op.path_names, [i for i, s in enumerate(segments) if s.startswith("{")]):
            previous = segments[index - 1]
            theirs[segments[index][1:-1]] = named.get(ours_name) or (previous if previous in self.sandbox.collections else "")
        return theirs

    def listing_ids(self, op: CompiledOperation, path: str) -> list[str]:
        """Ids of an item operation's own listing (same path minus the id), so scopes hold."""
        parent = path.rsplit("/", 1)[0]
        match = self.sandbox.router.match("GET", template_segments(parent))
        if "{" in parent or match is None or match.operation is None:
            return []
        got = self.http.get(parent, params={"limit": CANDIDATES}).json()
        return [i for i in map(row_id, first_rows(got)) if i]

    def rows_at(self, prefix: str) -> list[str]:
        """Ids listed at a filled-in path prefix: records nested in another (a QTI test's parts),
        which no collection of their own lists."""
        got = self.http.get(prefix, params={"limit": CANDIDATES})
        return [i for i in map(row_id, first_rows(got.json())) if i] if got.status_code == 200 else []

    def get(self, op: CompiledOperation, path: str) -> tuple[str, Any] | None:
        """The first answer with data (else the first 200), and the URL it came from; None when a
        behaviour's path names a key no listing offers."""
        params = self.param_collections(op, path)
        last = path.rsplit("/", 1)[1]
        choices = {name: (self.listing_ids(op, path) if last == "{" + name + "}" else []) or self.ids(coll)
                   for name, coll in params.items()}
        first: tuple[str, Any] | None = None
        for n in range(CANDIDATES):
            url = path
            for name, ids in choices.items():  # in path order: a nested id is listed below its parent's
                ids = ids or self.rows_at(url.split("{" + name + "}", 1)[0].rstrip("/"))
                if not ids and not params[name] and op.behaviour:
                    return None  # a behaviour's key that nothing lists (QTI's lessonId): nothing to read
                if not ids:
                    pytest.fail(f"{path}: no {params[name] or name} to fill {{{name}}} with")
                url = url.replace("{" + name + "}", ids[n % len(ids)])
            response = self.http.get(url)
            if response.status_code == 200:
                body = response.json()
                if first is None:
                    first = (url, body)
                if any(v for v in body.values() if isinstance(v, (list, dict))):
                    return url, body
            if not params:
                break
        if first is None:
            pytest.fail(f"{path}: no 200 answer with ids from listings")
        return first


def entity_name(sandbox: Sandbox, op: CompiledOperation) -> str:
    """Our entity schema for the operation's collection (names Timeback's inline schemas)."""
    name = (op.binding or {}).get("collection")
    coll = sandbox.collections.get(name or "")
    return coll.doc.raw["x-tb-collections"][coll.name]["schema"] if coll else "<response>"


def wrapped(op: CompiledOperation) -> bool:
    """Whether the answer wraps its record in a key (`{user: {...}}`) rather than being the record."""
    return (op.binding or {}).get("responseKeys") != ["$"]


def differences(sandbox: Sandbox) -> set[str]:
    """Every Timeback schema location a spec's `x-tb-differences` allows to differ."""
    return {loc for doc in sandbox.docs for entry in doc.raw.get("x-tb-differences", [])
            for loc in entry.get("ignore", [])}


def violations(running: RunningSandbox, path: Path) -> list[str]:
    doc = without_nullable(yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader))
    components = doc.get("components", {})
    ignores = differences(running.sandbox)
    caller = Caller(running)
    shared = list(shared_gets(running.sandbox, doc))
    problems: dict[tuple[str, str], str] = {}  # one line per (operation, location)
    for tb_path, schema, op in shared:
        got = caller.get(op, tb_path)
        if got is None:
            continue
        url, body = got
        validator = Draft202012Validator({**schema, "components": components}, format_checker=FORMATS)
        inline = entity_name(running.sandbox, op)
        for error in validator.iter_errors(body):
            location = schema_location(error, schema, components, inline, wrapped(op))
            if not allowed(location, ignores):
                problems.setdefault((tb_path, location), f"GET {url}: {location}: {error.message[:160]}")
    return list(problems.values()) if shared else [f"{path.name}: no shared GET operation (routing broken?)"]


def served(shared_dir: Path) -> list[Path]:
    probe = Sandbox(SandboxConfig())
    out = []
    for path in openapi_files(shared_dir):
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        if any(True for _ in shared_gets(probe, doc)):
            out.append(path)
    return out


def _nullable(schema: Any, resolve: Any) -> bool:
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind) or None in (schema.get("enum") or []):
        return True
    return any(_nullable(alt, resolve) for alt in schema.get("anyOf") or schema.get("oneOf") or [])


def merged(schema: Any, resolve: Any) -> dict[str, Any]:
    """An object schema with its `allOf` parts folded in (properties, required, anyOf)."""
    schema = resolve(schema)
    out = {"properties": dict(schema.get("properties") or {}), "required": list(schema.get("required") or []),
           "anyOf": list(schema.get("anyOf") or [])}
    for part in schema.get("allOf") or []:
        inner = merged(part, resolve)
        out["properties"].update(inner["properties"])
        out["required"] += inner["required"]
        out["anyOf"] += inner["anyOf"]
    return out


def plain_create(sandbox: Sandbox, collection: str) -> CompiledOperation | None:
    return next((op for op in sandbox.operations if (op.binding or {}).get("action") == "create"
                 and op.binding["collection"] == collection and not op.path_names
                 and not op.binding.get("scope") and not op.binding.get("many")), None)


def write_bodies(create: CompiledOperation, seed: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(variant, create item) built from a seeded record as read.

    `echo` sends the record back as read (absolute hrefs and all); `without F` leaves out one
    field that the write schema does not require; `F=null` sends null for one field the write
    schema lets be null. Whatever such a write the sandbox accepts must read back in a shape
    Timeback's read schema accepts (the sandbox may refuse it instead).
    """
    resolve = create.op.doc.resolve
    key = create.binding.get("bodyKey") or ""
    key = key[0] if isinstance(key, list) else key
    whole = merged(create.op.request_schema() or {}, resolve)
    write = whole if key == "$" else merged(whole["properties"].get(key, {}), resolve)
    props = write["properties"]
    required = set(write["required"])
    for alternative in write["anyOf"][:1]:
        required |= set(alternative.get("required") or [])
    coll = create.op.doc.raw.get("x-tb-collections", {}).get(create.binding["collection"], {})
    own = {coll.get("key", "sourcedId"), *(coll.get("stamps") or {"modified": "dateLastModified"}).values()}
    echo = {k: v for k, v in seed.items() if k not in own}
    yield "echo", echo
    for name in sorted(props):
        if name in echo and name not in required and name != "status":
            yield f"without {name}", {k: v for k, v in echo.items() if k != name}
        if name not in required and _nullable(props[name], resolve):
            yield f"{name}=null", {**echo, name: None}


def written_violations(running: RunningSandbox, path: Path) -> list[str] | None:
    """Records written through our plain creates, read back through Timeback's GET-one paths."""
    doc = without_nullable(yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader))
    components = doc.get("components", {})
    sandbox, ignores, caller = running.sandbox, differences(running.sandbox), Caller(running)
    problems: dict[tuple[str, str], str] = {}
    done: set[str] = set()
    for tb_path, schema, op in shared_gets(sandbox, doc):
        binding = op.binding or {}
        collection = binding.get("collection", "")
        if binding.get("action") != "get" or binding.get("scope") or binding.get("via") \
                or len(op.path_names) != 1 or collection in done:
            continue
        create = plain_create(sandbox, collection)
        if create is None:
            continue
        done.add(collection)
        got = caller.get(op, tb_path)
        if got is None:
            continue
        url, body = got
        id_field = sandbox.collections[collection].key
        seed = body if isinstance(body.get(id_field), str) else \
            next((v for v in body.values() if isinstance(v, dict) and id_field in v), None)
        if seed is None:
            problems[(tb_path, "")] = f"GET {url}: no record to start from"
            continue
        key = create.binding.get("bodyKey") or ""
        key = key[0] if isinstance(key, list) else key
        validator = Draft202012Validator({**schema, "components": components}, format_checker=FORMATS)
        for n, (variant, item) in enumerate(write_bodies(create, seed)):
            new_id = f"fidelity-{collection}-{n}"
            record = {**item, id_field: new_id}
            sent = caller.http.post(create.op.path, json=record if key == "$" else {key: record})
            if sent.status_code >= 500:
                problems[(tb_path, variant)] = f"POST {create.op.path} ({variant}): {sent.status_code} {sent.text[:160]}"
            if sent.status_code >= 300:
                continue
            got_url = tb_path.replace("{" + _PARAM.findall(tb_path)[0] + "}", new_id)
            got = caller.http.get(got_url)
            if got.status_code != 200:
                problems[(tb_path, variant)] = f"POST {create.op.path} ({variant}) then GET {got_url}: {got.status_code}"
                continue
            for error in validator.iter_errors(got.json()):
                location = schema_location(error, schema, components, entity_name(sandbox, op), wrapped(op))
                if not allowed(location, ignores):
                    problems.setdefault((tb_path, location), f"POST {create.op.path} ({variant}) then GET "
                                                             f"{got_url}: {location}: {error.message[:160]}")
    if not done:
        return None  # this API's records are not written through plain creates (e.g. Caliper events)
    return list(problems.values())


@pytest.fixture(scope="module")
def running():
    with run_sandbox(SandboxConfig()) as sandbox:
        yield sandbox


def test_sandbox_answers_validate_against_timeback_schemas(shared: Path, running: RunningSandbox) -> None:
    files = served(shared)
    assert files, f"no Timeback OpenAPI file under {shared}/reference/timeback shares a path with the sandbox"
    problems = [p for f in files for p in violations(running, f)]
    assert not problems, f"{len(problems)} answer(s) Timeback's schemas reject:\n" + "\n".join(problems[:40])


def test_written_records_read_back_in_timeback_shapes(shared: Path) -> None:
    """Writes the sandbox accepts (echoed reads, fields left out, nulls) read back in shapes Timeback's
    schemas accept: defaults, reference completion and null handling keep created records faithful."""
    files = served(shared)
    with run_sandbox(SandboxConfig()) as fresh:  # its own store: the other test reads pristine seeds
        found = {f.name: written_violations(fresh, f) for f in files}
    assert any(v is not None for v in found.values()), \
        f"no Timeback OpenAPI file among {sorted(found)} shares a GET-one operation with a plain create"
    problems = [p for v in found.values() for p in v or []]
    assert not problems, f"{len(problems)} written record(s) read back in shapes Timeback's schemas reject:\n" \
        + "\n".join(problems[:40])


def test_location_names_component_and_field() -> None:
    """The allowance matcher must see through $ref, or every `ignore` entry would be dead."""
    components = {"schemas": {"Thing": {"type": "object", "required": ["a"],
                                        "properties": {"y": {"type": "number"}}}}}
    schema = {"type": "object", "properties": {"things": {"type": "array",
                                                          "items": {"$ref": "#/components/schemas/Thing"}}}}
    validator = Draft202012Validator({**schema, "components": components}, format_checker=FORMATS)
    found = sorted(schema_location(e, schema, components)
                   for e in validator.iter_errors({"things": [{"y": "2026"}]}))
    assert found == ["Thing.a", "Thing.y"]
    assert allowed("Thing.y", {"Thing.y"}) and not allowed("Thing.yy", {"Thing.y"})
    assert not FORMATS.conforms("/ims/oneroster/x", "uri") and FORMATS.conforms("http://h/x", "uri")
