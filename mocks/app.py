"""The sandbox as a raw ASGI application: small and explicit, so the hot path stays short."""
from __future__ import annotations

import logging
import sys
import traceback
from typing import Any, Callable
from urllib.parse import parse_qsl

import orjson
from jsonschema.exceptions import ValidationError

from tbconform.mocks import faults as faults_mod
from tbconform.mocks.actions import ACTIONS, explain_list_parameter
from tbconform.mocks.auth import AuthRejected, Principal, TokenError, allowed, is_public
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError, render
from tbconform.mocks.model import CompiledOperation
from tbconform.mocks.router import PathError, split_path
from tbconform.mocks.sandbox import Sandbox, SandboxConfig

log = logging.getLogger("tbconform.sandbox")


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
                   explain: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
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


class SandboxApp:
    def __init__(self, sandbox: Sandbox | None = None, config: SandboxConfig | None = None) -> None:
        self.sandbox = sandbox or Sandbox(config)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        style = "ims"
        try:
            body = await self._read_body(receive, headers)
            response, style = self.handle(scope, headers, body)
        except ApiError as exc:
            response = Response.json(exc.status, self.render(style, exc), exc.headers)
        except Exception:  # never a bare 500: log, answer in the envelope
            traceback.print_exc(file=sys.stderr)
            response = Response.json(500, self.render(style, ApiError(500, "internal sandbox error; see the sandbox log")))
        await self._send(send, response, head=scope["method"] == "HEAD")

    def render(self, style: str, error: ApiError) -> dict[str, Any]:
        body = render(style, error)
        faults = self.sandbox.faults
        return faults_mod.error_body(faults, error.status, body) if faults else body

    async def _read_body(self, receive: Any, headers: dict[str, str]) -> bytes:
        cap = self.sandbox.config.max_body_bytes
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise ApiError(413, f"request body larger than {cap} bytes")
        chunks, size = [], 0
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                raise ApiError(413, f"request body larger than {cap} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _send(self, send: Any, response: Response, head: bool = False) -> None:
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        if response.content_type and response.status != 204:
            raw_headers.append((b"content-type", response.content_type.encode()))
        body = b"" if response.status == 204 else response.body
        raw_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    # -- request handling ---------------------------------------------------------------------
    def handle(self, scope: dict[str, Any], headers: dict[str, str], body: bytes) -> tuple[Response, str]:
        method = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            segments = split_path(raw_path)
        except (PathError, UnicodeDecodeError) as exc:
            raise ApiError(400, str(exc)) from None
        server = scope.get("server") or ("localhost", 80)
        host = headers.get("host") or f"{server[0]}:{server[1]}"
        base_url = f"{scope.get('scheme', 'http')}://{host}"
        raw_query = scope.get("query_string", b"").decode("latin-1")
        special = self._special(method, segments, headers, body, base_url)
        if special is not None:
            return special, "ims"
        match = self.sandbox.router.match(method, segments)
        if match is None:
            raise ApiError(404, f"no operation at {method} /{'/'.join(segments)}")
        if match.operation is None:
            raise ApiError(405, f"{method} not allowed here; allowed: {', '.join(match.allowed)}",
                           headers={"Allow": ", ".join(match.allowed)})
        op = match.operation
        try:
            return self._operation(op, match.params, method, segments, headers, body, base_url, raw_query), op.error_style
        except ApiError as exc:
            return Response.json(exc.status, self.render(op.error_style, exc), exc.headers), op.error_style

    def _operation(self, op: CompiledOperation, params: dict[str, str], method: str, segments: list[str],
                   headers: dict[str, str], body: bytes, base_url: str, raw_query: str) -> Response:
        principal = None
        faults = self.sandbox.faults
        if not is_public(op.security):
            try:
                if faults and "auth-not-enforced" in faults and not headers.get("authorization"):
                    principal = Principal("anonymous", frozenset(s for req in op.security for v in req.values() for s in v))
                else:
                    principal = self.sandbox.auth.authenticate(headers.get("authorization"))
            except AuthRejected as exc:
                raise ApiError(401, str(exc), headers={"WWW-Authenticate": 'Bearer realm="tbconform"'}) from None
            if not allowed(principal, op.security) and not (faults and "scope-not-enforced" in faults):
                needed = " or ".join(" ".join(s) for req in op.security for s in req.values())
                raise ApiError(403, f"token lacks the scope this operation needs ({needed})")
        try:
            pairs = parse_qsl(raw_query, keep_blank_values=True, strict_parsing=False, errors="strict")
        except UnicodeDecodeError:
            raise ApiError(400, "query string is not valid UTF-8") from None
        collection = self.sandbox.collections.get((op.binding or {}).get("collection", ""))
        explain = (lambda name, value: explain_list_parameter(collection, name, value)) if collection else None
        try:
            query = validate_query(op, pairs, explain)
        except ApiError as exc:
            if faults and "server-error-on-bad-input" in faults and exc.status == 400:
                raise ApiError(500, f"internal error: {exc.description}") from None
            raise
        data = parse_body(op, body, headers.get("content-type", ""))
        ctx = RequestContext(
            sandbox=self.sandbox, operation=op, path_params=params, query=query, body=data,
            principal=principal, base_url=base_url, path="/" + "/".join(segments), raw_query=raw_query,
        )
        if op.behaviour:
            return self.sandbox.behaviours[op.behaviour](ctx)
        action = ACTIONS.get(op.binding.get("action", ""))
        if action is None:
            raise ApiError(500, f"{op.op.operation_id}: unknown binding action {op.binding.get('action')!r}")
        return action(ctx)

    def _special(self, method: str, segments: list[str], headers: dict[str, str], body: bytes,
                 base_url: str) -> Response | None:
        path = "/".join(segments)
        if path == "oauth2/token":
            if method != "POST":
                return Response.json(405, {"error": "invalid_request", "error_description": "use POST"}, {"Allow": "POST"})
            try:
                token = self.sandbox.auth.token_response(headers, body)
            except TokenError as exc:
                return Response.json(exc.status, {"error": exc.code, "error_description": exc.description})
            return Response.json(200, token, {"Cache-Control": "no-store"})
        if path == "_sandbox" and method in ("GET", "HEAD"):
            return Response.json(200, self.sandbox.info(base_url))
        if path == "_sandbox/reset" and method == "POST":
            return Response.json(200, {"reset": True, "counts": self.sandbox.reseed()})
        if path.startswith("_sandbox/specs/") and method == "GET":
            for doc in self.sandbox.docs:
                if path == f"_sandbox/specs/{doc.api}/{doc.name}.yaml":
                    return Response(200, doc.path.read_bytes(), {}, "application/yaml")
        return None


def create_app(config: SandboxConfig | None = None) -> SandboxApp:
    return SandboxApp(config=config)
