"""The replaceable steps of request handling, one attribute each.

`mocks/app.py` and the generic actions call these steps instead of fixed functions, so that a fault
(`mocks/faults/`) can wrap one step without a single `if fault` in the code it wraps. A healthy
sandbox runs the defaults below unchanged: the only cost is one attribute lookup per step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from tbconform.mocks.actions import ACTIONS, check_references
from tbconform.mocks.auth import AuthRejected, Principal, allowed, signature_valid
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError, render
from tbconform.mocks.model import Collection, CompiledOperation
from tbconform.mocks.query import Compiler
from tbconform.mocks.validation import Explain, validate_query

if TYPE_CHECKING:
    from tbconform.mocks.sandbox import Sandbox

Action = Callable[[RequestContext], Response]
STEP_NAMES = ("authenticate", "authorize", "query", "render", "filter_compiler", "references", "signature",
              "seeded")


def _no_op(sandbox: "Sandbox") -> None:
    return None


def _authenticate(sandbox: "Sandbox", op: CompiledOperation, headers: dict[str, str]) -> Principal:
    try:
        return sandbox.auth.authenticate(headers.get("authorization"))
    except AuthRejected as exc:
        raise ApiError(401, str(exc), headers={"WWW-Authenticate": 'Bearer realm="tbconform"'}) from None


def _authorize(op: CompiledOperation, principal: Principal) -> None:
    if not allowed(principal, op.security):
        needed = " or ".join(" ".join(s) for req in op.security for s in req.values())
        raise ApiError(403, f"token lacks the scope this operation needs ({needed})")


@dataclass
class Stages:
    """What each step takes and answers; the defaults are the correct behaviour."""

    # bearer token -> principal, or ApiError 401 (the sandbox is passed at call time: no cycle)
    authenticate: Callable[["Sandbox", CompiledOperation, dict[str, str]], Principal] = _authenticate
    # principal may call the operation, or ApiError 403
    authorize: Callable[[CompiledOperation, Principal], None] = _authorize
    # raw query pairs -> validated, coerced query (ApiError 400)
    query: Callable[[CompiledOperation, list[tuple[str, str]], Explain | None], dict[str, Any]] = validate_query
    # ApiError -> the API's error envelope
    render: Callable[[str, ApiError], dict[str, Any]] = render
    # compiler for the client's own `?filter=` (never for a binding's scope)
    filter_compiler: Callable[[Any], Compiler] = Compiler
    # a write's references must resolve (ApiError 422)
    references: Callable[[RequestContext, Collection, dict[str, Any]], None] = check_references
    # bearer token signature check: (key, payload, signature) -> valid
    signature: Callable[[bytes, str, str], bool] = signature_valid
    # after every (re)seed, inside its transaction
    seeded: Callable[["Sandbox"], None] = _no_op
    # binding action name -> generic action
    actions: dict[str, Action] = field(default_factory=lambda: dict(ACTIONS))
