"""Error-envelope, bad-input and auth faults: they wrap `render`, `query`, `authenticate`,
`authorize` and `signature` (mocks/stages.py)."""
from __future__ import annotations

from typing import Any, Callable

from tbconform.mocks.auth import Principal
from tbconform.mocks.errors import ApiError
from tbconform.mocks.faults import fault
from tbconform.mocks.model import CompiledOperation

Render = Callable[[str, ApiError], dict[str, Any]]


def _minor(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body.get("imsx_CodeMinor", {}).get("imsx_codeMinorField", [{}])


@fault("error-codeminor-wrong", "404 answers carry codeMinor invaliddata instead of unknownobject", wraps="render")
def _codeminor_wrong(render: Render) -> Render:
    def run(style: str, error: ApiError) -> dict[str, Any]:
        body = render(style, error)
        minor = _minor(body)
        if error.status == 404 and minor:
            minor[0]["imsx_codeMinorFieldValue"] = "invaliddata"
        return body
    return run


@fault("error-envelope-wrong",
       "error bodies lack imsx_severity and the code-minor field name; codeMajor is 'error'", wraps="render")
def _envelope_wrong(render: Render) -> Render:
    def run(style: str, error: ApiError) -> dict[str, Any]:
        body = render(style, error)
        minor = _minor(body)
        value = minor[0].get("imsx_codeMinorFieldValue") if minor else "invaliddata"
        return {"imsx_codeMajor": "error", "imsx_description": body.get("imsx_description", ""),
                "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldValue": value}]}}
    return run


@fault("error-envelope-plain", "error bodies are a plain {\"error\": ...} object", wraps="render")
def _envelope_plain(render: Render) -> Render:
    return lambda style, error: {"error": render(style, error).get("imsx_description", "error")}


@fault("server-error-on-bad-input", "an invalid filter answers 500 instead of 400", wraps="query")
def _server_error(validate: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def run(*args: Any) -> dict[str, Any]:
        try:
            return validate(*args)
        except ApiError as exc:
            if exc.status != 400:
                raise
            raise ApiError(500, f"internal error: {exc.description}") from None
    return run


@fault("auth-not-enforced", "requests without an Authorization header are served", wraps="authenticate")
def _auth_not_enforced(authenticate: Callable[..., Principal]) -> Callable[..., Principal]:
    def run(sandbox: Any, op: CompiledOperation, headers: dict[str, str]) -> Principal:
        if headers.get("authorization"):
            return authenticate(sandbox, op, headers)
        return Principal("anonymous", frozenset(s for req in op.security for v in req.values() for s in v))
    return run


@fault("forged-token-accepted", "token signatures are not verified", wraps="signature")
def _forged_token(signature: Callable[[bytes, str, str], bool]) -> Callable[[bytes, str, str], bool]:
    return lambda key, payload, sig: True


@fault("scope-not-enforced",
       "token scopes are not checked (read-only clients and tokens with reduced scopes can write)",
       wraps="authorize")
def _scope_not_enforced(authorize: Callable[..., None]) -> Callable[..., None]:
    return lambda op, principal: None
