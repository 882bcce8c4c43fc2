"""What the harness knows about the APIs under test, read from the same specs as the sandbox:
operations with their bindings, collections, and how to reach a collection's plain endpoints."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tbconform.specs.collections import Collection, compile_collections
from tbconform.specs.loader import Operation, SpecDocument, iter_operations, load_all


@dataclass(frozen=True)
class OpInfo:
    api: str
    operation: Operation

    def __repr__(self) -> str:  # short: reporters (allure, pytest ids) print parameters
        return f"OpInfo({self.api} {self.label})"

    @property
    def method(self) -> str:
        return self.operation.method

    @property
    def path(self) -> str:
        return self.operation.path

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def binding(self) -> dict[str, Any]:
        return self.operation.binding or {}

    @property
    def action(self) -> str | None:
        return self.binding.get("action")

    @property
    def collection(self) -> str | None:
        return self.binding.get("collection")

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path)

    @property
    def is_plain(self) -> bool:
        """Bound to a collection with no scope, via chain or parent: `/users`, `/users/{id}`."""
        b = self.binding
        return bool(b) and not (b.get("scope") or b.get("via") or b.get("requires"))

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")

    @property
    def response_keys(self) -> list[str]:
        return list(self.binding.get("responseKeys") or [])

    @property
    def error_style(self) -> str:
        return self.operation.doc.raw.get("x-tb-error-style", "ims")


class Catalog:
    def __init__(self, docs: list[SpecDocument], tested: list[str] | None = None) -> None:
        """`docs`: the specs of the tested APIs and of those they build on (`x-tb-requires`);
        `tested`: the APIs whose operations the run tests (all when None). The others still give
        their collections and their plain operations (a rule's cleanup deletes through them)."""
        self.docs = docs
        every = [OpInfo(doc.raw.get("x-tb-api", doc.api), op) for doc in docs for op in iter_operations(doc)]
        self._every = every
        self.ops = [op for op in every if tested is None or op.api in tested or op.operation.doc.api in tested]
        self.collections: dict[str, Collection] = compile_collections(docs)
        self._plain: dict[tuple[str, str], OpInfo | None] = {}

    @classmethod
    def load(cls, apis: list[str] | None = None) -> "Catalog":
        return cls(load_all(apis), tested=apis)

    @property
    def apis(self) -> list[str]:
        return sorted({op.api for op in self.ops})

    def plain(self, collection: str, action: str) -> OpInfo | None:
        """The unscoped operation of a collection, e.g. GET /users for (users, list)."""
        key = (collection, action)
        if key not in self._plain:  # asked for every case a run sends: scan the operations once
            candidates = [op for op in self._every if op.collection == collection and op.action == action and op.is_plain]
            # Prefer the view-less endpoint (/users over /students): the shortest path wins.
            self._plain[key] = min(candidates, key=lambda op: (len(op.path), op.path), default=None)
        return self._plain[key]

    def scopes(self) -> set[str]:
        found: set[str] = set()
        for doc in self.docs:
            for scheme in (doc.raw.get("components", {}).get("securitySchemes") or {}).values():
                for flow in (scheme.get("flows") or {}).values():
                    found.update((flow.get("scopes") or {}).keys())
        return found
