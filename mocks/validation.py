"""Request validation against the spec: query parameters and the JSON body (validators compiled
once per operation in `mocks/model.py`). Kept apart from the ASGI app so that the request stages
(`mocks/stages.py`) can name `validate_query` without importing the app.
"""
from __future__ import annotations

from typing import Any, Callable

import orjson
from jsonschema.exceptions import ValidationError

from tbconform.mocks.errors import ApiError
from tbconform.mocks.model import CompiledOperation

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
        raise ApiError(415, f"request body must be application/json, got {content_type!r}")
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
