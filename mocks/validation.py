"""Request validation against the spec: query parameters and the JSON body (validators compiled
once per operation in `mocks/model.py`). Kept apart from the ASGI app so that the request stages
(`mocks/stages.py`) can name `validate_query` without importing the app.

XML bodies: an operation whose request body lists `application/xml` also takes an XML document,
and one with `x-tb-xml-member: xml` takes a JSON body whose `xml` member holds one. Either way the
document is parsed here, once, by the hardened parser (`specs/xmlsafe.py`: no DOCTYPE, no
entities, a size cap, UTF-8), and a refusal is a 400 naming the rule and the line; the behaviour
or write hook gets the root element and the text (`XmlBody`, `ctx.xml` / `ctx.text`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import orjson
from jsonschema.exceptions import ValidationError

from tbconform.mocks.errors import ApiError
from tbconform.mocks.model import CompiledOperation
from tbconform.specs.xmlsafe import XmlRefused, is_xml_media
from tbconform.specs.xmlsafe import parse as parse_xml

Explain = Callable[[str, Any], None]


def _error_path(error: ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def _coerce_param(name: str, raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw, 10)
        if kind == "number":
            return float(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r} must be {'an integer' if kind == 'integer' else 'a number'}, got {raw!r}") from None
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ApiError(400, f"query parameter {name!r} must be true or false, got {raw!r}")
        return raw.lower() == "true"
    return raw


def validate_query(op: CompiledOperation, pairs: list[tuple[str, str]],
                   explain: Explain | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for name, value in pairs:
        spec = op.query_params.get(name)
        if spec is None:
            query.setdefault(name, value)  # undeclared parameters are ignored, as OpenAPI allows
            continue
        schema, validator, _ = spec
        if name in query:
            if schema.get("type") != "array":
                raise ApiError(400, f"query parameter {name!r} given more than once")
            query[name].append(value)
            continue
        query[name] = [value] if schema.get("type") == "array" else _coerce_param(name, value, schema)
    for name, (schema, validator, required) in op.query_params.items():
        if name not in query:
            if required:
                raise ApiError(400, f"query parameter {name!r} is required")
            continue
        error = next(iter(validator.iter_errors(query[name])), None)
        if error is not None:
            if error.validator in ("pattern", "enum") and explain is not None:
                explain(name, query[name])  # raises a specific message where it can
            message = error.message if len(error.message) < 200 else f"{query[name]!r} does not match the documented syntax"
            raise ApiError(400, f"query parameter {name!r} is invalid: {message}")
    if op.query_judge is not None:
        problems = op.query_judge(query)
        if problems:
            raise ApiError(400, "; ".join(p["message"] for p in problems), problems)
    return query


@dataclass
class XmlBody:
    """An XML document that came with the request: its root element and its text."""

    root: Any
    text: str


def read_xml(data: str | bytes) -> XmlBody:
    """Parse request XML through the hardened parser; a refusal is a 400 naming rule and line."""
    try:
        root = parse_xml(data)
    except XmlRefused as exc:
        detail = {"rule": exc.rule, "message": exc.message, "line": exc.line, "column": exc.column}
        raise ApiError(400, f"XML refused: {exc}", [detail]) from None
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    return XmlBody(root, text)


def parse_request(op: CompiledOperation, body: bytes, content_type: str) -> tuple[Any, XmlBody | None]:
    """The JSON body (validated) and the XML document the request carries, if any."""
    if op.op.accepts_xml and is_xml_media(content_type):
        if not body.strip():
            raise ApiError(400, "request body is required (XML)")
        return None, read_xml(body)
    data = parse_body(op, body, content_type)
    member = op.op.xml_member
    if member and isinstance(data, dict) and isinstance(data.get(member), str):
        return data, read_xml(data[member])
    return data, None


def parse_body(op: CompiledOperation, body: bytes, content_type: str) -> Any:
    if op.body_validator is None:
        try:
            return orjson.loads(body) if body.strip() and "json" in content_type else None
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    if not body.strip():
        if op.body_required:
            raise ApiError(400, "request body is required (JSON)")
        return None
    if content_type and "json" not in content_type:
        accepted = " or ".join(op.op.body_media_types) or "application/json"
        raise ApiError(415, f"request body must be {accepted}, got {content_type!r}")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    errors = sorted(op.body_validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        details = [{"path": _error_path(e), "message": e.message[:300]} for e in errors[:20]]
        first = details[0]
        raise ApiError(400, f"request body is invalid at {first['path']}: {first['message']}", details)
    return data
