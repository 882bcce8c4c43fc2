"""Query judges: what an operation's query must satisfy beyond its parameters' schemas.

OpenAPI judges each query parameter alone; it cannot say "one of studentId or email" or "endDate
not before startDate". An operation names a judge with `x-tb-query-validator: <name>`, and an API
registers its judges in `specs/<api>/queries.py` as `QUERY_VALIDATORS = {name: judge}`, where
`judge(query) -> [{path, message}]` (empty: the query can be answered). The sandbox answers 400
with those problems and the contract layer counts a refused query as negative, from one function.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Any, Callable

QueryJudge = Callable[[dict[str, Any]], list[dict[str, str]]]


@functools.lru_cache(maxsize=1)
def query_validators() -> dict[str, QueryJudge]:
    """Every judge the API spec packages register (found once, by module name)."""
    from tbconform import specs

    found: dict[str, QueryJudge] = {}
    for info in pkgutil.iter_modules(specs.__path__):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"{specs.__name__}.{info.name}.queries")
        except ModuleNotFoundError as exc:
            if exc.name != f"{specs.__name__}.{info.name}.queries":
                raise
            continue
        found.update(getattr(module, "QUERY_VALIDATORS", {}))
    return found


def query_validator(name: str) -> QueryJudge | None:
    return query_validators().get(name)
