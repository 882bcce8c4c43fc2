"""What an action or behaviour gets: the request, its operation and the sandbox it runs in."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from tbconform.mocks.errors import ApiError

if TYPE_CHECKING:
    from tbconform.mocks.auth import Principal
    from tbconform.mocks.model import Collection, CompiledOperation
    from tbconform.mocks.sandbox import Sandbox


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"

    @classmethod
    def json(cls, status: int, data: Any, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, orjson.dumps(data), headers or {})

    @classmethod
    def raw_json(cls, status: int, text: str, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, text.encode(), headers or {})

    @classmethod
    def empty(cls, status: int = 204) -> "Response":
        return cls(status, b"", {}, None)


@dataclass
class RequestContext:
    sandbox: "Sandbox"
    operation: "CompiledOperation"
    path_params: dict[str, str]
    query: dict[str, Any]
    body: Any
    principal: "Principal | None"
    base_url: str
    path: str
    raw_query: str
    xml: Any = None  # root element of the request's XML document (an XML body or x-tb-xml-member)
    text: str | None = None  # that document's text, as sent

    @property
    def binding(self) -> dict[str, Any]:
        return self.operation.binding or {}

    @property
    def store(self):
        return self.sandbox.store

    def collection(self, name: str | None = None) -> "Collection":
        name = name or self.binding.get("collection")
        try:
            return self.sandbox.collections[name]
        except KeyError:
            raise ApiError(500, f"operation bound to unknown collection {name!r}") from None

    def body_item(self, key: str) -> Any:
        if not isinstance(self.body, dict) or key not in self.body:
            raise ApiError(400, f"request body must be a JSON object with a {key!r} member")
        return self.body[key]
