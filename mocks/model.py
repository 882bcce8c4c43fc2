"""Compile the specs once into what the sandbox needs at request time.

Collections (entity schema, filterable/sortable fields, references) and operations (binding or
behaviour, parameter and body validators, success status) all come from the spec documents.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from tbconform.specs.collections import Collection, Segments, compile_collections  # noqa: F401 (re-exported)
from tbconform.specs.loader import Operation, SpecDocument, SpecError, iter_operations
from tbconform.specs.queries import QueryJudge, query_validator

@dataclass
class CompiledOperation:
    op: Operation
    api: str
    error_style: str
    binding: dict[str, Any] | None
    behaviour: str | None
    query_params: dict[str, tuple[dict[str, Any], Draft202012Validator, bool]]
    body_validator: Draft202012Validator | None
    body_required: bool
    success_status: int
    path_names: list[str] = field(default_factory=list)
    query_judge: QueryJudge | None = None  # x-tb-query-validator (specs/queries.py)

    @property
    def security(self) -> list[dict[str, list[str]]]:
        return self.op.security


def _validator(schema: dict[str, Any], doc: SpecDocument) -> Draft202012Validator:
    """A validator whose `#/components/...` refs resolve inside the spec document.

    Schemas are not meta-validated here (slow); `tests/test_specs.py` proves every spec valid.
    """
    root = dict(schema)
    root["components"] = doc.raw.get("components", {})
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def compile_operation(op: Operation) -> CompiledOperation:
    doc = op.doc
    query: dict[str, tuple[dict[str, Any], Draft202012Validator, bool]] = {}
    for param in op.parameters:
        if param.get("in") == "query":
            schema = doc.resolve(param.get("schema", {}))
            query[param["name"]] = (schema, _validator(schema, doc), bool(param.get("required")))
    body_schema = op.request_schema()
    successes = sorted(int(code) for code in op.raw.get("responses", {}) if str(code).startswith("2"))
    names = re.findall(r"\{([^}]+)\}", op.path)
    binding = op.binding
    if binding is None and op.behaviour is None:
        raise SpecError(f"{doc.label}: {op.method} {op.path} has neither x-tb-binding nor x-tb-behaviour")
    judge_name = op.raw.get("x-tb-query-validator")
    judge = query_validator(judge_name) if isinstance(judge_name, str) else None
    if judge_name is not None and judge is None:
        raise SpecError(f"{doc.label}: {op.method} {op.path} names x-tb-query-validator {judge_name!r}, "
                        "which no specs/<api>/queries.py registers")
    return CompiledOperation(
        op=op,
        api=doc.raw.get("x-tb-api", doc.api),
        error_style=doc.raw.get("x-tb-error-style", "ims"),
        binding=binding,
        behaviour=op.behaviour,
        query_params=query,
        body_validator=_validator(body_schema, doc) if body_schema else None,
        body_required=op.body_required,
        success_status=successes[0] if successes else 200,
        path_names=names,
        query_judge=judge,
    )


def compile_operations(docs: list[SpecDocument]) -> list[CompiledOperation]:
    return [compile_operation(op) for doc in docs for op in iter_operations(doc)]
