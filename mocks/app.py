"""The sandbox as a raw ASGI application: small and explicit, so the hot path stays short."""
from __future__ import annotations

import logging
import sys
import traceback
from typing import Any
from urllib.parse import parse_qsl

from tbconform.mocks import conditions, hrefs
from tbconform.mocks.actions import explain_list_parameter
from tbconform.mocks.auth import TokenError, is_public
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.model import CompiledOperation
from tbconform.mocks.router import PathError, split_path
from tbconform.mocks.sandbox import Sandbox, SandboxConfig
from tbconform.mocks.validation import parse_request

log = logging.getLogger("tbconform.sandbox")


class SandboxApp:
    def __init__(self, sandbox: Sandbox | None = None, config: SandboxConfig | None = None) -> None:
        self.sandbox = sandbox or Sandbox(config)
        self.answer = conditions.apply(self._answer, self.sandbox.config, self._rate_limited)

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
        await self._send(send, await self.answer(scope, receive), head=scope["method"] == "HEAD")

    async def _answer(self, scope: dict[str, Any], receive: Any) -> Response:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        style = "ims"
        try:
            body = await self._read_body(receive, headers)
            response, style = self.handle(scope, headers, body)
        except ApiError as exc:  # before routing (a body over the cap): the path's API's envelope
            style = self.route_style(scope)
            response = Response.json(exc.status, self.render(style, exc), exc.headers)
        except Exception:  # never a bare 500: log, answer in the envelope of the path's API
            traceback.print_exc(file=sys.stderr)
            style = self.route_style(scope)
            response = Response.json(500, self.render(style, ApiError(500, "internal sandbox error; see the sandbox log")))
        return response

    def render(self, style: str, error: ApiError) -> dict[str, Any]:
        return self.sandbox.stages.render(style, error)

    def route_style(self, scope: dict[str, Any]) -> str:
        """The error style of the API serving the request's path (any method), else `ims`."""
        try:
            segments = split_path(scope.get("raw_path") or scope["path"].encode())
        except (PathError, UnicodeDecodeError):
            return "ims"
        match = self.sandbox.router.match(scope["method"], segments)
        if match is not None and match.operation is None and match.allowed:
            match = self.sandbox.router.match(match.allowed[0], segments)
        return match.operation.error_style if match is not None and match.operation is not None else "ims"

    def _rate_limited(self, retry_after: int) -> Response:
        """The 429 of `--rate-limit`, in the default envelope (the path is not routed yet)."""
        error = ApiError(429, f"more than {self.sandbox.config.rate_limit:g} requests per second; "
                              f"retry after {retry_after} s", headers={"Retry-After": str(retry_after)})
        return Response.json(429, self.render("ims", error), error.headers)

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
            style = self.route_style({**scope, "method": match.allowed[0]})
            error = ApiError(405, f"{method} not allowed here; allowed: {', '.join(match.allowed)}",
                             headers={"Allow": ", ".join(match.allowed)})
            return Response.json(405, self.render(style, error), error.headers), style
        op = match.operation
        try:
            answer = self._operation(op, match.params, method, segments, headers, body, base_url, raw_query)
            return hrefs.absolute(answer, base_url), op.error_style
        except ApiError as exc:
            return Response.json(exc.status, self.render(op.error_style, exc), exc.headers), op.error_style

    def _operation(self, op: CompiledOperation, params: dict[str, str], method: str, segments: list[str],
                   headers: dict[str, str], body: bytes, base_url: str, raw_query: str) -> Response:
        stages = self.sandbox.stages
        principal = None
        if not is_public(op.security):
            principal = stages.authenticate(self.sandbox, op, headers)
            stages.authorize(op, principal)
        try:
            pairs = parse_qsl(raw_query, keep_blank_values=True, strict_parsing=False, errors="strict")
        except UnicodeDecodeError:
            raise ApiError(400, "query string is not valid UTF-8") from None
        collection = self.sandbox.collections.get((op.binding or {}).get("collection", ""))
        explain = (lambda name, value: explain_list_parameter(collection, name, value)) if collection else None
        query = stages.query(op, pairs, explain)
        data, xml = parse_request(op, body, headers.get("content-type", ""))
        ctx = RequestContext(
            sandbox=self.sandbox, operation=op, path_params=params, query=query, body=data,
            principal=principal, base_url=base_url, path="/" + "/".join(segments), raw_query=raw_query,
            xml=xml.root if xml else None, text=xml.text if xml else None,
        )
        if op.behaviour:
            return self.sandbox.behaviours[op.behaviour](ctx)
        action = stages.actions.get(op.binding.get("action", ""))
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
        if path == "_sandbox/webhook-deliveries" and method in ("GET", "HEAD"):
            return Response.json(200, self.sandbox.deliveries.report())
        if path == "_sandbox/reset" and method == "POST":
            return Response.json(200, {"reset": True, "counts": self.sandbox.reseed()})
        if path.startswith("_sandbox/specs/") and method == "GET":
            for doc in self.sandbox.docs:
                if path == f"_sandbox/specs/{doc.api}/{doc.name}.yaml":
                    return Response(200, doc.path.read_bytes(), {}, "application/yaml")
        return None


def create_app(config: SandboxConfig | None = None) -> SandboxApp:
    return SandboxApp(config=config)
