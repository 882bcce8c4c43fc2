"""OneRoster 1.2 semantic rules: what a schema alone cannot say about a conforming server.

Every rule picks its test data from the target's own records (no seed is assumed), judges only
what the data allows (otherwise NotApplicable), tolerates soft-deleted records, and is read-only
unless registered with `writes=True`. Filter semantics follow `mocks/query.py`'s docstring: a path
that crosses an array matches when any element matches; `!=` is the complement of `=`; `~` is a
case-insensitive contains; `@` takes a comma list; numeric fields compare numerically; other
comparisons never match a missing value.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable
from urllib.parse import quote

import requests

from tbconform.harness.catalog import OpInfo
from tbconform.harness.context import PARAM_HINTS, CheckContext
from tbconform.harness.rules import CheckFailed, NotApplicable, judged_stably, rule

SMALL = 3000               # a collection this size or smaller is scanned whole (Timeback's max limit)
MAX_WALK_PAGES = 8         # pages a pagination rule reads at most
WRITE_COLLECTIONS = ("users", "classes", "enrollments", "lineItems", "categories", "results")
PREFERRED_FIELDS = ("status", "title", "givenName", "familyName", "name", "role", "type", "classType",
                    "scoreStatus", "sourcedId", "dateLastModified")
PROBE_ID = "tbconform-probe-0000"
UNKNOWN_FIELD = "tbconformNoSuchField"


# ---------------------------------------------------------------------------------------------
# Which operations a rule applies to


def _list(op: OpInfo) -> bool:
    return op.action == "list" and bool(op.collection) and bool(op.response_keys)


def _plain_list(op: OpInfo) -> bool:
    return _list(op) and op.is_plain


def _plain_get(op: OpInfo) -> bool:
    return op.action == "get" and op.is_plain and bool(op.response_keys)


def _item_get(op: OpInfo) -> bool:
    return op.action == "get" and bool(op.collection) and bool(op.response_keys) and len(op.path_params) == 1


def _representative_create(op: OpInfo) -> bool:
    return (op.action == "create" and op.is_plain and op.collection in WRITE_COLLECTIONS
            and op.path.endswith("/" + (op.collection or "")))


def _representative_delete(op: OpInfo) -> bool:
    return (op.action == "delete" and op.is_plain and op.collection in WRITE_COLLECTIONS
            and op.path.rsplit("/", 1)[0].endswith("/" + (op.collection or "")))


def _any(op: OpInfo) -> bool:
    return True


# ---------------------------------------------------------------------------------------------
# Small helpers


def _int(value: Any) -> int | None:
    """A count from the wire; types are the contract layer's business, so "5" counts as 5."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _lit(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _values(record: Any, path: str) -> list[Any]:
    """All values at a dotted path, flattening arrays on the way (missing and null dropped)."""
    values = [record]
    for name in path.split("."):
        nxt: list[Any] = []
        for value in values:
            for item in (value if isinstance(value, list) else [value]):
                if isinstance(item, dict) and name in item:
                    got = item[name]
                    nxt.extend(got if isinstance(got, list) else [got])
        values = nxt
    return [v for v in values if v is not None]


def _ids(items: Iterable[dict[str, Any]]) -> list[Any]:
    return [r.get("sourcedId") for r in items if isinstance(r, dict)]


def _collection(ctx: CheckContext, op: OpInfo):
    coll = ctx.catalog.collections.get(op.collection or "")
    if coll is None:
        raise NotApplicable(f"{op.label} is bound to no declared collection")
    return coll


def _snapshot(ctx: CheckContext, op: OpInfo) -> tuple[Any, ...]:
    """What a read-only rule on `op` reads, in one comparable value: for its collection, the ones its
    binding goes through and the ones its records refer to, the total and every record's id, status
    and dateLastModified (first SMALL records). Equal snapshots around a re-read = stable data."""
    names = {op.collection} | {step.get("collection") for step in op.binding.get("via") or [] if isinstance(step, dict)}
    coll = ctx.catalog.collections.get(op.collection or "")
    names |= {target for _, target in (coll.refs if coll is not None else [])}
    out = []
    for name in sorted(n for n in names if n):
        listing = ctx.catalog.plain(name, "list")
        if listing is None or not listing.response_keys:
            continue
        response = ctx.get(listing.path, {"limit": SMALL})
        body = _body(response)
        body = body if isinstance(body, dict) else {}
        items = body.get(listing.response_keys[0])
        rows = tuple((r.get("sourcedId"), r.get("status"), r.get("dateLastModified"))
                     for r in (items if isinstance(items, list) else []) if isinstance(r, dict))
        out.append((name, response.status_code, response.headers.get("X-Total-Count"), body.get("totalCount"), rows))
    return tuple(out)


def _stable(check: Callable[[CheckContext, OpInfo], None]) -> Callable[[CheckContext, OpInfo], None]:
    """For rules that compare several reads: a failure counts only when it persists on unchanged data
    (`judged_stably`), so concurrent writers (other clients, this run's other workers) cause no false alarm."""

    @functools.wraps(check)
    def judged(ctx: CheckContext, op: OpInfo) -> None:
        judged_stably(lambda: check(ctx, op), lambda: _snapshot(ctx, op))

    return judged


def _items(ctx: CheckContext, op: OpInfo, response: requests.Response, what: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if response.status_code != 200:
        raise CheckFailed(f"{what} answered {response.status_code}, expected 200")
    body = ctx.json(response)
    key = ctx.list_key(op)
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise CheckFailed(f"{what}: the body has no {key!r} array")
    return body, [r for r in items if isinstance(r, dict)]


@dataclass
class Listing:
    items: list[dict[str, Any]]
    total: int | None          # body totalCount (else X-Total-Count)
    header_total: int | None
    response: requests.Response
    body: dict[str, Any]

    @property
    def complete(self) -> bool:
        """Every record is on this one page (judged from the count the target reports)."""
        return self.total is not None and len(self.items) >= self.total and len(self.items) < SMALL


def _listing(ctx: CheckContext, op: OpInfo, path: str, params: dict[str, Any] | None = None) -> Listing:
    query = {"limit": SMALL, **(params or {})}
    response = ctx.get(path, query)
    what = f"GET {path} " + " ".join(f"{k}={v}" for k, v in query.items())
    body, items = _items(ctx, op, response, what)
    header = _int(response.headers.get("X-Total-Count"))
    total = _int(body.get("totalCount"))
    return Listing(items, total if total is not None else header, header, response, body)


def _fill(ctx: CheckContext, op: OpInfo, existing: bool) -> str:
    """The op's path with parameters filled: records that exist (reads) or a probe id (writes)."""
    path = op.path
    for param in op.path_params:
        value = PROBE_ID
        if existing:
            target = (op.binding.get("requires") or {}).get(param)
            if target is None and param == op.binding.get("id") and op.collection:
                target = op.collection
            if target is None:
                target = next((c for k, c in PARAM_HINTS.items() if k.lower() in param.lower()), None)
            if target:
                try:
                    value = ctx.sample_id(target)
                except NotApplicable:
                    pass
        path = path.replace("{" + param + "}", quote(value, safe=""))
    return path


def _list_path(ctx: CheckContext, op: OpInfo) -> str:
    return ctx.concrete_path(op) if op.path_params else op.path


def _item_path(ctx: CheckContext, collection: str, action: str, record_id: str) -> str:
    op = ctx.catalog.plain(collection, action)
    if op is None:
        raise NotApplicable(f"no plain {action} operation for {collection}")
    param = op.binding.get("id") or (op.path_params[-1] if op.path_params else "sourcedId")
    return op.path.replace("{" + param + "}", quote(record_id, safe=""))


# ---------------------------------------------------------------------------------------------
# Error envelopes


def _envelope_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    problems = []
    if body.get("imsx_codeMajor") != "failure":
        problems.append(f"imsx_codeMajor is {_short(body.get('imsx_codeMajor'))}, expected 'failure'")
    if body.get("imsx_severity") != "error":
        problems.append(f"imsx_severity is {_short(body.get('imsx_severity'))}, expected 'error'")
    if not isinstance(body.get("imsx_description"), str):
        problems.append("imsx_description is missing or not a string")
    minor = body.get("imsx_CodeMinor")
    fields = minor.get("imsx_codeMinorField") if isinstance(minor, dict) else None
    if not isinstance(fields, list) or not fields or not isinstance(fields[0], dict):
        problems.append("imsx_CodeMinor.imsx_codeMinorField is missing or empty")
    else:
        for name in ("imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"):
            if not isinstance(fields[0].get(name), str):
                problems.append(f"imsx_CodeMinor.imsx_codeMinorField[0].{name} is missing or not a string")
    return problems


def _code_minor(body: Any) -> str | None:
    try:
        value = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _expect_error(response: requests.Response, status: int, minor: str | None, what: str) -> None:
    if response.status_code != status:
        raise CheckFailed(f"{what} answered {response.status_code}, expected {status}")
    body = _body(response)
    if not isinstance(body, dict) or "imsx_codeMajor" not in body:
        raise CheckFailed(f"{what} answered {status} without the IMS error envelope: {_short(body if body is not None else response.text[:200], 200)}")
    if minor is not None and _code_minor(body) != minor:
        raise CheckFailed(f"{what}: codeMinor is {_short(_code_minor(body))}, expected {minor!r}")


# ---------------------------------------------------------------------------------------------
# Filter semantics (the harness's own evaluator)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _as_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
        return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone().replace(tzinfo=None)
    except ValueError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _equal(value: Any, literal: str, kind: str) -> bool:
    if kind in ("integer", "number"):
        a, b = _number(value), _number(literal)
        return a is not None and a == b
    if kind == "boolean":
        return _text(value).lower() == literal.lower()
    return _text(value) == literal


def _compare(value: Any, literal: str, kind: str) -> int | None:
    """-1/0/1 for value versus literal, None when they cannot be compared."""
    if kind in ("integer", "number"):
        a, b = _number(value), _number(literal)
    else:
        a, b = _as_time(value), _as_time(literal)
        if a is None or b is None:
            a, b = _text(value), literal
    if a is None or b is None:
        return None
    return (a > b) - (a < b)


def holds(record: dict[str, Any], field: str, op: str, literal: str, kind: str) -> bool:
    values = _values(record, field)
    if op == "=":
        return any(_equal(v, literal, kind) for v in values)
    if op == "!=":
        return not holds(record, field, "=", literal, kind)
    if op == "~":
        needle = literal.casefold()
        return any(needle in _text(v).casefold() for v in values)
    if op == "@":
        options = [o.strip() for o in literal.split(",")]
        return any(_equal(v, o, kind) for v in values for o in options)
    wanted = {">": (1,), ">=": (0, 1), "<": (-1,), "<=": (-1, 0)}[op]
    return any(_compare(v, literal, kind) in wanted for v in values)


Predicate = Callable[[dict[str, Any]], bool]


def _check_filter(ctx: CheckContext, op: OpInfo, scan: Listing, text: str, predicate: Predicate,
                  explain: Callable[[dict[str, Any]], str]) -> None:
    """Request `filter=text`: every record returned satisfies it; on a complete scan none is missing."""
    got = _listing(ctx, op, op.path, {"filter": text})
    wrong = [r for r in got.items if not predicate(r)]
    if wrong:
        raise CheckFailed(f"filter={text} returned {len(wrong)} of {len(got.items)} record(s) that do not satisfy it, "
                          f"e.g. {wrong[0].get('sourcedId')!r} ({explain(wrong[0])})")
    _holds_all(ctx, scan, got, f"filter={text}", predicate, explain)


def _holds_all(ctx: CheckContext, scan: Listing, got: Listing, what: str, predicate: Predicate,
               explain: Callable[[dict[str, Any]], str]) -> None:
    """A filtered (or searched) answer holds everything it should: as many records as its own total
    says when the limit allows it, and every matching record of a complete unfiltered scan, whatever
    its total claims (so a record dropped while the total still counts it is seen).

    The count is judged only where the target's totals proved right on the unfiltered scan, so a
    wrong total stays `pagination.total-matches`' finding; records this run created are left out of
    the comparison with the scan (other workers change them between the two reads).
    """
    if not scan.complete:
        return
    counted = scan.total == len(scan.items)
    if counted and got.total is not None and got.total < SMALL and len(got.items) != got.total:
        raise CheckFailed(f"{what} answered {len(got.items)} record(s), but its own total says {got.total}")
    if len(got.items) >= SMALL:
        return  # the answer may have been cut by the limit
    returned = set(_ids(got.items))
    missing = [r for r in ctx.others(scan.items) if predicate(r) and r.get("sourcedId") not in returned]
    if missing:
        raise CheckFailed(f"{what} left out {len(missing)} matching record(s) of the unfiltered listing, "
                          f"e.g. {missing[0].get('sourcedId')!r} ({explain(missing[0])})")


def _explain(*fields: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: ", ".join(f"{f}={_short(_values(r, f) or None)}" for f in fields)


def _usable_literal(value: Any) -> bool:
    return (isinstance(value, (str, int, float)) and not isinstance(value, bool) and 0 < len(str(value)) <= 120
            and not any(c in str(value) for c in "'\n\r\t,()\\") and str(value) == str(value).strip())


def _plain_fields(coll) -> list[tuple[str, str]]:
    """Top-level scalar fields (no arrays, no dots), preferred ones first."""
    fields = [(p, fp.type) for p, fp in coll.fields.items()
              if "." not in p and not fp.in_array and fp.type in ("string", "integer", "number")]
    rank = {name: i for i, name in enumerate(PREFERRED_FIELDS)}
    return sorted(fields, key=lambda f: (rank.get(f[0], len(rank)), f[0]))


def _counts(items: list[dict[str, Any]], field: str) -> Counter:
    counter: Counter = Counter()
    for record in items:
        for value in {_text(v) for v in _values(record, field) if _usable_literal(v)}:
            counter[value] += 1
    return counter


def _selective(items: list[dict[str, Any]], fields: list[tuple[str, str]], want: int = 1) -> list[tuple[str, str, str]]:
    """(field, kind, value) choices whose `=` matches some but not all records, most matches first."""
    out = []
    for field, kind in fields:
        counter = _counts(items, field)
        candidates = [(n, v) for v, n in counter.items() if n < len(items)]
        if candidates:
            n, value = max(candidates, key=lambda c: (c[0], c[1]))
            out.append((field, kind, value))
            if len(out) >= want:
                break
    return out


def _scan(ctx: CheckContext, op: OpInfo) -> Listing:
    scan = _listing(ctx, op, op.path)
    if len(scan.items) < 2:
        raise NotApplicable(f"{op.label} lists fewer than 2 records; nothing to filter")
    return scan


# ---------------------------------------------------------------------------------------------
# Pagination


def _page(ctx: CheckContext, op: OpInfo, path: str, offset: int, limit: int, url: str | None = None) -> Listing:
    response = ctx.get(url) if url else ctx.get(path, {"limit": limit, "offset": offset})
    what = f"GET {url}" if url else f"GET {path} limit={limit} offset={offset}"
    body, items = _items(ctx, op, response, what)
    header = _int(response.headers.get("X-Total-Count"))
    total = _int(body.get("totalCount"))
    return Listing(items, total if total is not None else header, header, response, body)


def _paging_setup(ctx: CheckContext, op: OpInfo) -> tuple[str, Listing, int]:
    path = _list_path(ctx, op)
    full = _listing(ctx, op, path)
    count = full.total if full.total is not None else len(full.items)
    if min(count, len(full.items)) < 2:
        raise NotApplicable(f"GET {path} lists fewer than 2 records; nothing to page through")
    limit = max(1, math.ceil(min(len(full.items), SMALL) / 4))
    return path, full, limit


@rule("oneroster.pagination.no-duplicates",
      "Walking a list page by page never returns a record twice, and on a small collection the pages together "
      "hold exactly the records of the unpaged list.", _list)
@_stable
def pagination_no_duplicates(ctx: CheckContext, op: OpInfo) -> None:
    path, full, limit = _paging_setup(ctx, op)
    seen: dict[Any, int] = {}
    offset = 0
    for number in range(1, (50 if full.complete else MAX_WALK_PAGES) + 1):
        page = _page(ctx, op, path, offset, limit)
        for record_id in _ids(page.items):
            if record_id in seen:
                raise CheckFailed(f"record {record_id!r} appears on page {seen[record_id]} and again on page {number} "
                                  f"(limit={limit}, offset={offset})")
            seen[record_id] = number
        if not page.items:
            break
        offset += len(page.items)
        if page.total is not None and offset >= page.total:
            break
    if full.complete:
        expected = set(_ids(ctx.others(full.items)))
        paged = {i for i in seen if not ctx.own(i)}
        missing, extra = expected - paged, paged - expected
        if missing or extra:
            raise CheckFailed(f"the pages (limit={limit}) hold {len(seen)} records; the unpaged list {len(expected)}: "
                              f"{len(missing)} missing from the pages (e.g. {sorted(map(str, missing))[:1]}), "
                              f"{len(extra)} only on the pages (e.g. {sorted(map(str, extra))[:1]})")


@rule("oneroster.pagination.total-matches",
      "X-Total-Count equals the body's totalCount, the total is the same whatever the page, and on a small "
      "collection it equals the number of distinct records seen walking all pages.", _list)
@_stable
def pagination_total_matches(ctx: CheckContext, op: OpInfo) -> None:
    path = _list_path(ctx, op)
    first = _page(ctx, op, path, 0, SMALL)
    small = _page(ctx, op, path, 0, 2)
    totals = set()
    for page, label in ((first, f"limit={SMALL}"), (small, "limit=2")):
        body_total = _int(page.body.get("totalCount"))
        if page.header_total is not None and body_total is not None and page.header_total != body_total:
            raise CheckFailed(f"GET {path} {label}: X-Total-Count is {page.header_total} but totalCount is {body_total}")
        totals.add(body_total if body_total is not None else page.header_total)
    totals.discard(None)
    if not totals:
        raise CheckFailed(f"GET {path}: neither totalCount nor X-Total-Count is given")
    if len(totals) > 1:
        raise CheckFailed(f"GET {path}: the total depends on the page size ({sorted(totals)})")
    total = totals.pop()
    if total > SMALL:
        return
    seen = set(_ids(first.items))
    offset, page = len(first.items), first
    for _ in range(MAX_WALK_PAGES):
        if not page.items or offset >= total:
            break
        page = _page(ctx, op, path, offset, SMALL)
        seen.update(_ids(page.items))
        offset += len(page.items)
    if len(seen) != total:
        raise CheckFailed(f"GET {path} reports a total of {total}, but walking its pages yields {len(seen)} "
                          f"distinct records")


@rule("oneroster.pagination.link-next",
      "The Link header carries rel=\"next\" exactly when more records follow the page, and following it "
      "returns the same records as asking for the next offset directly.", _list)
@_stable
def pagination_link_next(ctx: CheckContext, op: OpInfo) -> None:
    path, full, limit = _paging_setup(ctx, op)
    offset, saw_link = 0, False
    page = _page(ctx, op, path, 0, limit)
    for _ in range(MAX_WALK_PAGES):
        saw_link = saw_link or bool(page.response.headers.get("Link"))
        total = page.total
        if total is None:
            raise NotApplicable(f"GET {path} reports no total; cannot tell whether more pages remain")
        nxt = page.response.links.get("next", {}).get("url")
        more = offset + limit < total
        if more and not nxt:
            if not saw_link:
                raise NotApplicable(f"GET {path} sends no Link header (it is optional in the spec)")
            raise CheckFailed(f"GET {path} limit={limit} offset={offset}: {total} records in total, so more follow, "
                              f"but the Link header has no rel=\"next\" ({page.response.headers.get('Link')!r})")
        if not more:
            if nxt:
                raise CheckFailed(f"GET {path} limit={limit} offset={offset}: the last page ({total} records in total) "
                                  f"still links rel=\"next\" to {nxt}")
            return
        followed = _page(ctx, op, path, 0, 0, url=nxt)
        direct = _page(ctx, op, path, offset + limit, limit)
        if _ids(followed.items) != _ids(direct.items):
            raise CheckFailed(f"following rel=\"next\" ({nxt}) returned {_short(_ids(followed.items))}, but "
                              f"offset={offset + limit} limit={limit} returns {_short(_ids(direct.items))}")
        offset, page = offset + limit, direct
    if not saw_link:
        raise NotApplicable(f"GET {path} sends no Link header (it is optional in the spec)")


@rule("oneroster.pagination.limit-honoured",
      "A page never holds more records than limit asks for, and every page but the last is full.", _list)
@_stable
def pagination_limit_honoured(ctx: CheckContext, op: OpInfo) -> None:
    path, full, limit = _paging_setup(ctx, op)
    offset = 0
    for _ in range(MAX_WALK_PAGES):
        page = _page(ctx, op, path, offset, limit)
        if len(page.items) > limit:
            raise CheckFailed(f"GET {path} limit={limit} offset={offset} returned {len(page.items)} records")
        total = page.total if page.total is not None else (len(full.items) if len(full.items) < SMALL else None)
        last = total is not None and offset + limit >= total
        if not last and len(page.items) < limit:
            raise CheckFailed(f"GET {path} limit={limit} offset={offset} returned {len(page.items)} records although "
                              f"{total} exist, so the page should be full")
        if last or not page.items:
            return
        offset += limit


@rule("oneroster.pagination.body-fields",
      "The body's offset and limit echo the request, pageNumber is offset/limit + 1 and pageCount is "
      "ceil(totalCount/limit).", _list)
def pagination_body_fields(ctx: CheckContext, op: OpInfo) -> None:
    path, full, limit = _paging_setup(ctx, op)
    for offset in (0, limit, 2 * limit):
        page = _page(ctx, op, path, offset, limit)
        body = page.body
        total = _int(body.get("totalCount"))
        expected = {"offset": offset, "limit": limit, "pageNumber": offset // limit + 1,
                    "pageCount": math.ceil(total / limit) if total is not None else None}
        for name, want in expected.items():
            if name not in body or want is None:
                continue
            if _int(body.get(name)) != want:
                raise CheckFailed(f"GET {path} limit={limit} offset={offset}: {name} is {_short(body.get(name))}, "
                                  f"expected {want} (totalCount {total})")


# ---------------------------------------------------------------------------------------------
# Filters


def _filter_rule(rule_id: str, statement: str):
    register = rule(rule_id, statement, _plain_list)
    return lambda check: register(_stable(check))


@_filter_rule("oneroster.filter.equals",
              "filter=field='value' returns exactly the records whose field equals the value.")
def filter_equals(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    choices = _selective(scan.items, _plain_fields(coll), want=2)
    if not choices:
        raise NotApplicable(f"no field of {coll.name} has a value that some but not all records share")
    for field, kind, value in choices:
        _check_filter(ctx, op, scan, f"{field}={_lit(value)}", lambda r: holds(r, field, "=", value, kind), _explain(field))


def _optional_field(items: list[dict[str, Any]], fields: list[tuple[str, str]]) -> tuple[str, str, str] | None:
    """A field that some records have (with a usable value) and others lack."""
    for field, kind in fields:
        present = [r for r in items if _values(r, field)]
        if 0 < len(present) < len(items):
            value = next((_text(v) for r in present for v in _values(r, field) if _usable_literal(v)), None)
            if value is not None:
                return field, kind, value
    return None


@_filter_rule("oneroster.filter.not-equals",
              "filter=field!='value' returns exactly the records that field='value' does not (records lacking "
              "the field included).")
def filter_not_equals(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    fields = _plain_fields(coll)
    choices = _selective(scan.items, fields, want=1)
    optional = _optional_field(scan.items, fields)
    if optional:
        choices.append(optional)
    if not choices:
        raise NotApplicable(f"no field of {coll.name} to test != with")
    for field, kind, value in choices:
        _check_filter(ctx, op, scan, f"{field}!={_lit(value)}", lambda r: holds(r, field, "!=", value, kind), _explain(field))


def _contains_term(items: list[dict[str, Any]], fields: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(field, term): an ASCII substring of some value, in swapped case, that not every record contains."""
    for field, kind in fields:
        if kind != "string":
            continue
        texts = [[_text(v).casefold() for v in _values(r, field)] for r in items]
        tried: set[str] = set()
        for record in items:
            for value in _values(record, field):
                text = _text(value)
                if not text.isascii() or len(text) < 3:
                    continue
                for start in range(0, max(1, len(text) - 3)):
                    term = text[start:start + 4].strip()
                    if (len(term) < 3 or term in tried or not re.fullmatch(r"[A-Za-z0-9 .@-]+", term)
                            or term.swapcase() == term):
                        continue
                    tried.add(term)
                    needle = term.casefold()
                    if sum(1 for t in texts if any(needle in x for x in t)) < len(items):
                        return field, term.swapcase()
                    if len(tried) > 60:
                        break
    return None


@_filter_rule("oneroster.filter.contains",
              "filter=field~'text' returns exactly the records whose field contains the text, ignoring case.")
def filter_contains(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    found = _contains_term(scan.items, _plain_fields(coll))
    if found is None:
        raise NotApplicable(f"no text field of {coll.name} to test ~ with")
    field, term = found
    _check_filter(ctx, op, scan, f"{field}~{_lit(term)}", lambda r: holds(r, field, "~", term, "string"), _explain(field))


def _orderable(kind: str, values: list[Any]) -> bool:
    """Values whose order no collation can dispute: numbers, ISO dates, UUIDs, one-case alphanumerics."""
    if kind in ("integer", "number"):
        return all(_number(v) is not None for v in values)
    texts = [_text(v) for v in values]
    return (all(_as_time(t) is not None for t in texts) or all(_UUID.match(t) for t in texts)
            or all(re.fullmatch(r"[0-9a-z]+", t) for t in texts) or all(re.fullmatch(r"[0-9A-Z]+", t) for t in texts))


def _comparison_choice(items: list[dict[str, Any]], coll) -> tuple[str, str, str] | None:
    fields = _plain_fields(coll)
    numeric_first = sorted(fields, key=lambda f: f[1] == "string")
    for field, kind in numeric_first:
        values = [v for r in items for v in _values(r, field)]
        if not values or not all(_usable_literal(v) for v in values) or not _orderable(kind, values):
            continue
        distinct = sorted({_text(v) for v in values},
                          key=lambda t: (_number(t) if kind != "string" else (_as_time(t) or datetime.min, t)))
        if len(distinct) >= 3:
            return field, kind, distinct[len(distinct) // 2]
    return None


def _comparison_rule(op_symbol: str, rule_id: str, statement: str):
    @_filter_rule(rule_id, statement)
    def check(ctx: CheckContext, op: OpInfo) -> None:
        coll = _collection(ctx, op)
        scan = _scan(ctx, op)
        choice = _comparison_choice(scan.items, coll)
        if choice is None:
            raise NotApplicable(f"no numeric, date or id field of {coll.name} with 3+ distinct values to compare")
        field, kind, value = choice
        _check_filter(ctx, op, scan, f"{field}{op_symbol}{_lit(value)}",
                      lambda r: holds(r, field, op_symbol, value, kind), _explain(field))
    check.__name__ = "filter_" + rule_id.rsplit(".", 1)[1].replace("-", "_")
    return check


_comparison_rule(">", "oneroster.filter.greater-than",
                 "filter=field>'v' returns exactly the records whose field is greater than v (numbers numerically).")
_comparison_rule(">=", "oneroster.filter.greater-or-equal",
                 "filter=field>='v' returns exactly the records whose field is greater than or equal to v.")
_comparison_rule("<", "oneroster.filter.less-than",
                 "filter=field<'v' returns exactly the records whose field is less than v.")
_comparison_rule("<=", "oneroster.filter.less-or-equal",
                 "filter=field<='v' returns exactly the records whose field is less than or equal to v.")


def _two_rare_values(coll: Any, scan: Any) -> tuple[str, str, Any, Any]:
    """The first plain field with two distinct values, and its two rarest values (small answers)."""
    for field, kind in _plain_fields(coll):
        counter = _counts(scan.items, field)
        if len(counter) >= 2:
            (a, _), (b, _) = sorted(counter.items(), key=lambda c: (c[1], c[0]))[:2]
            return field, kind, a, b
    raise NotApplicable(f"no field of {coll.name} with two distinct values")


@_filter_rule("oneroster.filter.in",
              "filter=field@'a,b' returns exactly the records whose field equals one of the listed values.")
def filter_in(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    field, kind, a, b = _two_rare_values(coll, scan)
    literal = f"{a},{b}"
    _check_filter(ctx, op, scan, f"{field}@{_lit(literal)}",
                  lambda r: holds(r, field, "@", literal, kind), _explain(field))


@_filter_rule("oneroster.filter.and-or",
              "Predicates joined by AND return the records satisfying both; joined by OR, those satisfying either.")
def filter_and_or(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    fields = _plain_fields(coll)
    field, kind, a, b = _two_rare_values(coll, scan)
    _check_filter(ctx, op, scan, f"{field}={_lit(a)} OR {field}={_lit(b)}",
                  lambda r: holds(r, field, "=", a, kind) or holds(r, field, "=", b, kind), _explain(field))
    anchor = next(r for r in scan.items if holds(r, field, "=", a, kind))
    for other, other_kind in fields:
        values = [v for v in _values(anchor, other) if _usable_literal(v)]
        if other != field and values:
            c = _text(values[0])
            _check_filter(ctx, op, scan, f"{field}={_lit(a)} AND {other}={_lit(c)}",
                          lambda r: holds(r, field, "=", a, kind) and holds(r, other, "=", c, other_kind),
                          _explain(field, other))
            break


@_filter_rule("oneroster.filter.dotted-reference",
              "filter=ref.sourcedId='id' (a dotted path into a reference) returns exactly the records referring to id.")
def filter_dotted_reference(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    paths = []
    for segments, _target in coll.refs:
        path = ".".join(name for name, _ in segments) + ".sourcedId"
        if path in coll.fields:
            paths.append((any(a for _, a in segments), path, coll.fields[path].type))
    for _, path, kind in sorted(paths):
        choice = _selective(scan.items, [(path, kind)])
        if choice:
            field, kind, value = choice[0]
            _check_filter(ctx, op, scan, f"{field}={_lit(value)}", lambda r: holds(r, field, "=", value, kind),
                          _explain(field))
            return
    raise NotApplicable(f"no reference of {coll.name} whose id some but not all records share")


# ---------------------------------------------------------------------------------------------
# Sort, fields, search


def _sort_keys(kind: str) -> list[Callable[[Any], Any]]:
    if kind in ("integer", "number"):
        return [lambda v: _number(v)]
    return [lambda v: _text(v), lambda v: _text(v).casefold(),
            lambda v: re.sub(r"[^0-9a-z]", "", _text(v).casefold()), lambda v: _as_time(v)]


def _ordered(values: list[Any], kind: str, descending: bool) -> bool:
    """Ordered under some reasonable collation (byte order, case-insensitive, ...)."""
    for key in _sort_keys(kind):
        try:
            keys = [key(v) for v in values]
        except Exception:
            continue
        if any(k is None for k in keys) or len(set(keys)) < 2:
            continue
        pairs = zip(keys, keys[1:])
        if all((a >= b) if descending else (a <= b) for a, b in pairs):
            return True
    return False


@rule("oneroster.sort.order",
      "sort=field with orderBy=asc returns records in non-decreasing order of the field, orderBy=desc in "
      "non-increasing order.", _plain_list)
def sort_order(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    chosen = []
    for field, kind in _plain_fields(coll):
        if field not in coll.sortable:
            continue
        values = [(_values(r, field) or [None])[0] for r in scan.items]
        if any(v is None or isinstance(v, (dict, list)) for v in values):
            continue  # missing values sort differently on different databases: not judged
        if any(len(set(map(key, values))) >= 2 for key in _sort_keys(kind) if _safe_keys(key, values)):
            chosen.append((field, kind))
        if len(chosen) == 2:
            break
    if not chosen:
        raise NotApplicable(f"no sortable field of {coll.name} that every record has, with distinct values")
    for field, kind in chosen:
        for direction in ("asc", "desc"):
            got = _listing(ctx, op, op.path, {"sort": field, "orderBy": direction})
            values = [(_values(r, field) or [None])[0] for r in got.items]
            values = [v for v in values if v is not None]
            if len({_text(v) for v in values}) < 2:
                continue
            if not _ordered(values, kind, direction == "desc"):
                raise CheckFailed(f"sort={field}&orderBy={direction} returned values out of order: "
                                  f"{_short([_text(v) for v in values[:8]], 200)}")


def _safe_keys(key: Callable[[Any], Any], values: list[Any]) -> bool:
    try:
        return all(key(v) is not None for v in values)
    except Exception:
        return False


@rule("oneroster.fields.projection",
      "fields=a,b returns records with no top-level keys beyond the requested and the schema's required ones, "
      "and keeps every requested field the record has.", _plain_list)
@_stable
def fields_projection(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    scan = _scan(ctx, op)
    required = set(coll.required)
    optional = [f for f in sorted(coll.top_fields - required)
                if any(r.get(f) is not None for r in scan.items)]
    if not optional:
        raise NotApplicable(f"no record of {coll.name} has an optional field to project away")
    present = Counter(k for r in scan.items for k in r if k in optional)
    requested = [f for f, _ in present.most_common()][:2] if len(optional) > 2 else optional[:1]
    if not (coll.top_fields - required - set(requested)) & {k for r in scan.items for k in r}:
        raise NotApplicable(f"the records of {coll.name} hold no field that fields= would leave out")
    got = _listing(ctx, op, op.path, {"fields": ",".join(requested)})
    by_id = {r.get("sourcedId"): r for r in scan.items}
    allowed = required | set(requested)
    for record in got.items:
        extra = sorted(set(record) - allowed)
        if extra:
            raise CheckFailed(f"fields={','.join(requested)} returned record {record.get('sourcedId')!r} with "
                              f"other fields too: {', '.join(extra[:6])}")
        full = None if ctx.own(record) else by_id.get(record.get("sourcedId"))
        for name in requested:
            if full is not None and full.get(name) is not None and name not in record:
                raise CheckFailed(f"fields={','.join(requested)} dropped {name!r} from record "
                                  f"{record.get('sourcedId')!r}, which has it in the full listing")


def _search_term(items: list[dict[str, Any]], fields: list[str]) -> str | None:
    """A whole word of some record's search field that not every record contains (lower-cased)."""
    def text_of(record: dict[str, Any]) -> list[str]:
        return [_text(v) for f in fields for v in _values(record, f)]

    for record in items:
        for text in text_of(record):
            for word in re.findall(r"[A-Za-z]{3,}", text):
                term = word.lower()
                containing = [r for r in items if any(term in t.casefold() for t in text_of(r))]
                whole = [r for r in containing
                         if any(re.search(rf"(?<![a-z]){term}(?![a-z])", t.casefold()) for t in text_of(r))]
                if 0 < len(containing) < len(items) and len(whole) == len(containing):
                    return term
    return None


def _has_search(op: OpInfo) -> bool:
    return _plain_list(op) and any(p.get("name") == "search" for p in op.operation.parameters if isinstance(p, dict))


@rule("oneroster.search.matches",
      "search=term returns only records with the term in one of the collection's search fields (ignoring "
      "case) and, on a small collection, all of them.", _has_search)
@_stable
def search_matches(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    if not coll.search:
        raise NotApplicable(f"{coll.name} declares no search fields")
    scan = _scan(ctx, op)
    term = _search_term(scan.items, coll.search)
    if term is None:
        raise NotApplicable(f"no word in {', '.join(coll.search)} that some but not all records contain")

    def matches(record: dict[str, Any]) -> bool:
        return any(term in _text(v).casefold() for f in coll.search for v in _values(record, f))

    got = _listing(ctx, op, op.path, {"search": term})
    wrong = [r for r in got.items if not matches(r)]
    if wrong:
        raise CheckFailed(f"search={term} returned {len(wrong)} of {len(got.items)} record(s) without the term in "
                          f"{', '.join(coll.search)}, e.g. {wrong[0].get('sourcedId')!r} "
                          f"({_explain(*coll.search)(wrong[0])})")
    _holds_all(ctx, scan, got, f"search={term}", matches, _explain(*coll.search))


# ---------------------------------------------------------------------------------------------
# Reads: single records and references


def _subset_diff(listed: Any, got: Any, path: str = "") -> str | None:
    """Where `got` differs from `listed` (keys only in `got` are allowed)."""
    if isinstance(listed, dict):
        if not isinstance(got, dict):
            return f"{path or '(record)'} is {_short(got)}"
        for key, value in listed.items():
            if key not in got:
                return f"{path + key} is missing"
            diff = _subset_diff(value, got[key], f"{path}{key}.")
            if diff:
                return diff
        return None
    if listed != got:
        return f"{path.rstrip('.')} is {_short(got)} by id but {_short(listed)} in the listing"
    return None


@rule("oneroster.get.equals-listed",
      "GET by id answers, under the documented key, the same record the listing shows.", _item_get)
@_stable
def get_equals_listed(ctx: CheckContext, op: OpInfo) -> None:
    parent = op.path.rsplit("/", 1)[0]
    sibling = next((o for o in ctx.catalog.ops if o.path == parent and o.action == "list" and not o.path_params), None)
    if sibling is None:
        raise NotApplicable(f"no list operation at {parent} to compare with")
    listed = ctx.others(_listing(ctx, sibling, sibling.path, {"limit": 10}).items)
    listed = [r for r in listed if r.get("status") != "tobedeleted"][:3]  # a soft-deleted record's GET is 404
    if not listed:
        raise NotApplicable(f"{sibling.label} lists no records")
    param = op.path_params[0]
    for record in listed:
        record_id = record.get("sourcedId")
        path = op.path.replace("{" + param + "}", quote(str(record_id), safe=""))
        response = ctx.get(path)
        if response.status_code != 200:
            raise CheckFailed(f"GET {path} answered {response.status_code} for a record {sibling.label} lists")
        body = ctx.json(response)
        for key in op.response_keys:
            got = body.get(key) if isinstance(body, dict) else None
            if not isinstance(got, dict):
                raise CheckFailed(f"GET {path}: the body has no {key!r} object")
            diff = _subset_diff(record, got)
            if diff:
                raise CheckFailed(f"GET {path}: {diff}")


@rule("oneroster.references.resolve",
      "Every reference (GUIDRef sourcedId) in listed records names a record that GET on the target "
      "collection finds.", lambda op: _plain_list(op))
@_stable
def references_resolve(ctx: CheckContext, op: OpInfo) -> None:
    coll = _collection(ctx, op)
    if not coll.refs:
        raise NotApplicable(f"{coll.name} records hold no references")
    records = [r for r in ctx.others(_listing(ctx, op, op.path, {"limit": 10}).items) if r.get("status") != "tobedeleted"]
    wanted: dict[tuple[str, str], str] = {}
    for record in records:
        for segments, target in coll.refs:
            path = ".".join(name for name, _ in segments)
            for ref in _values(record, path):
                ref_id = ref.get("sourcedId") if isinstance(ref, dict) else ref
                if isinstance(ref_id, str) and ref_id and not ctx.own(ref_id):
                    wanted.setdefault((target, ref_id), f"{record.get('sourcedId')}.{path}")
    if not wanted:
        raise NotApplicable(f"the listed {coll.name} hold no references")
    for (target, ref_id), where in list(wanted.items())[:30]:
        if ctx.catalog.plain(target, "get") is None:
            continue
        path = _item_path(ctx, target, "get", ref_id)
        response = ctx.get(path)
        if response.status_code != 200:
            raise CheckFailed(f"{where} refers to {target} {ref_id!r}, but GET {path} answered {response.status_code}")


# ---------------------------------------------------------------------------------------------
# Errors


@rule("oneroster.errors.not-found",
      "GET of an id that does not exist answers 404 with the IMS envelope and codeMinor unknownobject.", _plain_get)
def errors_not_found(ctx: CheckContext, op: OpInfo) -> None:
    path = _item_path(ctx, op.collection or "", "get", ctx.new_id("missing"))
    _expect_error(ctx.get(path), 404, "unknownobject", f"GET {path}")


@rule("oneroster.errors.bad-request",
      "A filter on a field the collection does not have answers 400 with the IMS envelope and codeMinor "
      "invaliddata.", _plain_list)
def errors_bad_request(ctx: CheckContext, op: OpInfo) -> None:
    text = f"{UNKNOWN_FIELD}='x'"
    _expect_error(ctx.get(op.path, {"filter": text}), 400, "invaliddata", f"GET {op.path} filter={text}")


@rule("oneroster.errors.envelope",
      "Error answers (400, 401, 404) carry the IMS envelope: imsx_codeMajor failure, imsx_severity error, an "
      "imsx_description string and imsx_CodeMinor.imsx_codeMinorField[0] with a name and a value.", _plain_list)
def errors_envelope(ctx: CheckContext, op: OpInfo) -> None:
    probes: list[tuple[str, Callable[[], requests.Response]]] = [
        (f"GET {op.path} filter={UNKNOWN_FIELD}='x'", lambda: ctx.get(op.path, {"filter": f"{UNKNOWN_FIELD}='x'"})),
        (f"GET {op.path} without a token", lambda: ctx.anonymous("GET", op.path)),
    ]
    if ctx.catalog.plain(op.collection or "", "get") is not None:
        missing = _item_path(ctx, op.collection or "", "get", ctx.new_id("missing"))
        probes.append((f"GET {missing}", lambda: ctx.get(missing)))
    judged = 0
    for what, send in probes:
        response = send()
        if response.status_code < 400:
            continue  # the status itself is another rule's business
        judged += 1
        problems = _envelope_problems(_body(response))
        if problems:
            raise CheckFailed(f"{what} answered {response.status_code} with a malformed error envelope: "
                              f"{'; '.join(problems)}")
    if not judged:
        raise NotApplicable("no probe produced an error answer to judge")


# ---------------------------------------------------------------------------------------------
# Auth


def _secured(op: OpInfo) -> None:
    security = op.operation.security
    if security is not None and (security == [] or any(not req for req in security)):
        raise NotApplicable(f"{op.label} is public")


def _probe(ctx: CheckContext, op: OpInfo, headers: dict[str, str]) -> requests.Response:
    if op.is_write:
        if not ctx.session.writes_allowed:
            raise NotApplicable("writes are off for this target; not even unauthenticated writes are sent")
        path = _fill(ctx, op, existing=False)
        return ctx.anonymous(op.method, path, headers=headers, json={})
    return ctx.anonymous(op.method, _fill(ctx, op, existing=True), headers=headers)


@rule("oneroster.auth.missing-token",
      "A request without an Authorization header answers 401 with the IMS error envelope.", _any)
def auth_missing_token(ctx: CheckContext, op: OpInfo) -> None:
    _secured(op)
    response = _probe(ctx, op, {})
    _expect_error(response, 401, None, f"{op.method} {response.request.path_url} without a token")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged_jwt(ctx: CheckContext) -> str:
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"sub": "tbconform-forged", "client_id": "tbconform-forged", "iat": now,
                               "exp": now + 3600, "scope": " ".join(sorted(ctx.catalog.scopes()))}).encode())
    signature = _b64(hmac.new(os.urandom(32), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def _altered(token: str) -> str:
    """The token with one character in the middle of its signature changed."""
    head, dot, signature = token.rpartition(".")
    if not dot or len(signature) < 4:
        head, dot, signature = "", "", token
    i = len(signature) // 2
    swapped = signature[:i] + ("A" if signature[i] != "A" else "B") + signature[i + 1:]
    return f"{head}{dot}{swapped}"


@rule("oneroster.auth.forged-token",
      "A forged bearer token (a JWT signed with a random key, or a real token with an altered signature) "
      "answers 401.", _any)
def auth_forged_token(ctx: CheckContext, op: OpInfo) -> None:
    _secured(op)
    tokens = [("a JWT signed with a random key", _forged_jwt(ctx))]
    if ctx.session.tokens is not None:
        tokens.append(("the harness's token with an altered signature", _altered(ctx.session.tokens.token())))
    for what, token in tokens:
        response = _probe(ctx, op, {"Authorization": f"Bearer {token}"})
        if response.status_code != 401:
            raise CheckFailed(f"{op.method} {response.request.path_url} with {what} answered "
                              f"{response.status_code}, expected 401")


# ---------------------------------------------------------------------------------------------
# Writes: building bodies


def _merged(doc, node: Any, depth: int = 0) -> dict[str, Any]:
    """Resolve $ref and fold allOf into one schema (properties and required united)."""
    node = doc.resolve(node) if isinstance(node, dict) else {}
    if depth > 8 or not isinstance(node, dict):
        return {}
    out = {k: v for k, v in node.items() if k not in ("allOf", "properties", "required")}
    props = dict(node.get("properties") or {})
    required = list(node.get("required") or [])
    for part in node.get("allOf") or []:
        sub = _merged(doc, part, depth + 1)
        for k, v in sub.items():
            if k not in ("properties", "required"):
                out.setdefault(k, v)
        props = {**sub.get("properties", {}), **props}
        required += [r for r in sub.get("required", []) if r not in required]
    if props:
        out["properties"] = props
    out["required"] = required
    return out


def _concrete(doc, node: Any) -> dict[str, Any]:
    schema = _merged(doc, node)
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key) or []:
            option = _merged(doc, option)
            if option.get("type") not in (None, "null") and option.get("type") != ["null"]:
                return {**{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}, **option}
    return schema


@dataclass
class WriteTarget:
    collection: str
    create: OpInfo
    key: str
    schema: dict[str, Any]
    doc: Any


def _write_target(ctx: CheckContext, collection: str) -> WriteTarget:
    op = ctx.catalog.plain(collection, "create")
    if op is None or op.binding.get("many"):
        raise NotApplicable(f"no plain single-record create operation for {collection}")
    doc = op.operation.doc
    root = _merged(doc, op.operation.request_schema() or {})
    key = op.binding.get("bodyKey") or next(iter(root.get("properties") or {}), None)
    if not key or key not in (root.get("properties") or {}):
        raise NotApplicable(f"{op.label}: cannot tell the request body's wrapper key")
    return WriteTarget(collection, op, key, root, doc)


def _ref_paths(coll) -> dict[tuple[str, ...], str]:
    return {tuple(name for name, _ in segments): target for segments, target in coll.refs}


def _value(ctx: CheckContext, target: WriteTarget, refs: dict[tuple[str, ...], str], node: Any,
           path: tuple[str, ...], body: dict[str, Any]) -> Any:
    schema = _concrete(target.doc, node)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if path in refs:
        ref = {"sourcedId": _ref_id(ctx, refs[path], body, path[-1])}
        return [ref] if kind == "array" else ref
    if "enum" in schema:
        options = [o for o in schema["enum"] if o is not None]
        return "student" if "student" in options else options[0]
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2025-09-01T12:00:00.000Z"
        if fmt == "date" or path[-1].endswith("Date"):
            return "2025-09-01"
        return f"tbconform {path[-1]}"
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1) or 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [_value(ctx, target, refs, schema.get("items") or {}, path, body)]
    if kind == "object" or "properties" in schema:
        return _build(ctx, target, refs, schema, path, set())
    return f"tbconform {path[-1]}"


def _ref_id(ctx: CheckContext, collection: str, body: dict[str, Any], name: str) -> str:
    """An existing record to refer to, of the kind the field's name suggests (terms → a term, ...)."""
    if collection == "orgs":  # keep a record's school consistent with its class when both are named
        klass = body.get("class")
        if isinstance(klass, dict) and klass.get("sourcedId"):
            for record in ctx.samples("classes"):
                school = record.get("school")
                if record.get("sourcedId") == klass["sourcedId"] and isinstance(school, dict) and school.get("sourcedId"):
                    return school["sourcedId"]
    kind = {"org": "school"}.get(name, name[:-1] if name.endswith("s") else name)
    for record in ctx.samples(collection):
        roles = {r.get("role") for r in record.get("roles") or [] if isinstance(r, dict)}
        if record.get("type") == kind or kind in roles:
            return record["sourcedId"]
    return ctx.sample_id(collection)


def _build(ctx: CheckContext, target: WriteTarget, refs: dict[tuple[str, ...], str], node: Any,
           prefix: tuple[str, ...], also: set[str]) -> dict[str, Any]:
    schema = _merged(target.doc, node)
    props = schema.get("properties") or {}
    wanted = set(schema.get("required") or []) | (also & set(props))
    for alternative in (schema.get("anyOf") or schema.get("oneOf") or [])[:1]:  # e.g. org or school
        wanted |= set(_merged(target.doc, alternative).get("required") or [])
    out: dict[str, Any] = {}
    for name in props:
        # the record's own identity and bookkeeping are set apart (or by the target); a nested object
        # that requires a sourcedId of its own (a user profile's app, say) gets one like any field
        if name in wanted and (prefix or name not in ("sourcedId", "status", "dateLastModified")):
            out[name] = _value(ctx, target, refs, props[name], prefix + (name,), out)
    return out


def _new_body(ctx: CheckContext, collection: str) -> tuple[WriteTarget, dict[str, Any], str]:
    """A minimal valid create body: required write fields, plus those the read schema requires."""
    target = _write_target(ctx, collection)
    coll = ctx.catalog.collections[collection]
    item = _build(ctx, target, _ref_paths(coll), target.schema["properties"][target.key], (), set(coll.required))
    record_id = ctx.new_id(collection)
    item = {"sourcedId": record_id, **item}
    body = {target.key: item}
    _validate(target, body)
    return target, body, record_id


def _validate(target: WriteTarget, body: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    schema = dict(target.create.operation.request_schema() or {})
    schema["components"] = target.doc.raw.get("components", {})
    error = next(iter(Draft202012Validator(schema).iter_errors(body)), None)
    if error is not None:
        raise NotApplicable(f"could not build a valid {target.collection} body from the write schema: {error.message[:200]}")


def _success(op: OpInfo) -> set[int]:
    return {int(c) for c in op.operation.raw.get("responses", {}) if str(c).startswith("2")} or {200, 201, 204}


def _create(ctx: CheckContext, collection: str, session=None) -> tuple[WriteTarget, dict[str, Any], str]:
    target, body, record_id = _new_body(ctx, collection)
    delete = ctx.catalog.plain(collection, "delete")
    if delete is not None:
        ctx.cleanup.add(_item_path(ctx, collection, "delete", record_id), f"{collection} {record_id}")
    response = (session or ctx.session).request("POST", target.create.path, json=body)
    if response.status_code not in _success(target.create):
        raise CheckFailed(f"POST {target.create.path} with a minimal valid body answered {response.status_code}: "
                          f"{response.text[:300]}")
    allocated = _allocated(response) or record_id
    if allocated != record_id and delete is not None:
        ctx.cleanup.add(_item_path(ctx, collection, "delete", allocated), f"{collection} {allocated}")
    return target, body, allocated


def _allocated(response: requests.Response) -> str | None:
    body = _body(response)
    pairs = body.get("sourcedIdPairs") if isinstance(body, dict) else None
    if isinstance(pairs, list) and pairs:
        pairs = pairs[0]
    if isinstance(pairs, dict) and isinstance(pairs.get("allocatedSourcedId"), str):
        return pairs["allocatedSourcedId"]
    return None


def _read_back(ctx: CheckContext, collection: str, record_id: str) -> dict[str, Any]:
    get = ctx.catalog.plain(collection, "get")
    if get is None:
        raise NotApplicable(f"no plain get operation for {collection}")
    path = _item_path(ctx, collection, "get", record_id)
    response = ctx.get(path)
    if response.status_code != 200:
        raise CheckFailed(f"GET {path} answered {response.status_code} for the record just written")
    body = ctx.json(response)
    record = body.get(get.response_keys[0]) if isinstance(body, dict) and get.response_keys else None
    if not isinstance(record, dict):
        raise CheckFailed(f"GET {path}: the body has no {get.response_keys[:1]} object")
    return record


def _same(sent: Any, got: Any) -> bool:
    """Written value equals the read one, allowing the wire quirks (booleans/numbers as strings,
    timestamps re-formatted, references completed with href/type, extra keys on read)."""
    if isinstance(sent, dict):
        return isinstance(got, dict) and all(k in got and _same(v, got[k]) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(got, list) and len(sent) == len(got) and all(any(_same(s, g) for g in got) for s in sent)
    if sent == got:
        return True
    if isinstance(sent, bool) or isinstance(got, bool):
        return _text(sent).lower() == _text(got).lower()
    if isinstance(sent, (int, float)) or isinstance(got, (int, float)):
        return _number(sent) is not None and _number(sent) == _number(got)
    a, b = _as_time(sent), _as_time(got)
    return a is not None and a == b


def _change(item: dict[str, Any], target: WriteTarget, refs: dict[tuple[str, ...], str]) -> tuple[str, Any] | None:
    props = target.schema["properties"][target.key]
    props = _merged(target.doc, props).get("properties") or {}
    candidates = []
    for name, value in item.items():
        if name == "sourcedId" or (name,) in refs or name not in props:
            continue
        schema = _concrete(target.doc, props[name])
        if isinstance(value, str) and "enum" not in schema and not schema.get("format") and _as_time(value) is None:
            candidates.append((0, name, value + " (changed)"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            candidates.append((1, name, value + 1))
        elif "enum" in schema and len([o for o in schema["enum"] if o is not None]) > 1:
            candidates.append((2, name, next(o for o in schema["enum"] if o is not None and o != value)))
    if not candidates:
        return None
    _, name, value = min(candidates)
    return name, value


def _undo(ctx: CheckContext, collection: str, record_id: str) -> None:
    """Delete at once a record a write should not have created, so later rules do not trip on it."""
    if ctx.catalog.plain(collection, "delete") is not None:
        ctx.request("DELETE", _item_path(ctx, collection, "delete", record_id))


@rule("oneroster.write.round-trip",
      "A record created with a minimal valid body reads back with the fields sent, and a PUT of a changed "
      "field reads back changed.", _representative_create, writes=True)
def write_round_trip(ctx: CheckContext, op: OpInfo) -> None:
    collection = op.collection or ""
    target, body, record_id = _create(ctx, collection)
    item = body[target.key]
    record = _read_back(ctx, collection, record_id)
    for name, value in item.items():
        if name != "sourcedId" and not _same(value, record.get(name)):
            raise CheckFailed(f"created {collection} {record_id!r} with {name}={_short(value)}, "
                              f"but GET answers {name}={_short(record.get(name))}")
    update = ctx.catalog.plain(collection, "update") or ctx.catalog.plain(collection, "upsert")
    if update is None:
        return
    coll = ctx.catalog.collections[collection]
    change = _change(item, target, _ref_paths(coll))
    if change is None:
        return
    name, value = change
    key = update.binding.get("bodyKey") or target.key
    path = _item_path(ctx, collection, update.action or "update", record_id)
    response = ctx.request("PUT", path, json={key: {**item, "sourcedId": record_id, name: value}})
    if response.status_code not in _success(update):
        raise CheckFailed(f"PUT {path} changing {name} answered {response.status_code}: {response.text[:300]}")
    record = _read_back(ctx, collection, record_id)
    if not _same(value, record.get(name)):
        raise CheckFailed(f"PUT {path} set {name}={_short(value)} and answered {response.status_code}, "
                          f"but GET still answers {name}={_short(record.get(name))}")


@rule("oneroster.delete.soft",
      "DELETE answers 204 and soft-deletes: GET by id then answers 404, the listing still shows the record with "
      "status tobedeleted, and a second DELETE answers 404.", _representative_delete, writes=True)
def delete_soft(ctx: CheckContext, op: OpInfo) -> None:
    collection = op.collection or ""
    _, _, record_id = _create(ctx, collection)
    path = _item_path(ctx, collection, "delete", record_id)
    response = ctx.request("DELETE", path)
    if response.status_code not in _success(op):
        raise CheckFailed(f"DELETE {path} answered {response.status_code}, expected {sorted(_success(op))}")
    get_path = _item_path(ctx, collection, "get", record_id)
    after = ctx.get(get_path)
    if after.status_code != 404:
        raise CheckFailed(f"after DELETE {path}, GET {get_path} answered {after.status_code}, expected 404")
    listing = ctx.catalog.plain(collection, "list")
    if listing is None:
        raise NotApplicable(f"no plain list operation for {collection}")
    # Located by id among the filtered page, so a broken filter does not read as a broken delete.
    found = ctx.records(listing, listing.path, {"filter": f"sourcedId={_lit(record_id)}", "limit": 3000})
    listed = [r for r in found if r.get("sourcedId") == record_id]
    if not listed:
        raise CheckFailed(f"after DELETE {path}, {listing.path} no longer lists {record_id!r}: a hard delete; "
                          f"a soft delete keeps it listed with status tobedeleted")
    if listed[0].get("status") != "tobedeleted":
        raise CheckFailed(f"after DELETE {path}, the listed record's status is {_short(listed[0].get('status'))}, "
                          f"expected 'tobedeleted'")
    again = ctx.request("DELETE", path)
    if again.status_code != 404:
        raise CheckFailed(f"a second DELETE {path} answered {again.status_code}, expected 404")


@rule("oneroster.references.refused",
      "A create whose reference names a record that does not exist answers 4xx naming that id, and creates "
      "nothing.", _representative_create, writes=True)
def references_refused(ctx: CheckContext, op: OpInfo) -> None:
    collection = op.collection or ""
    target, body, record_id = _new_body(ctx, collection)
    item = body[target.key]
    coll = ctx.catalog.collections[collection]
    missing = ctx.new_id("missing")
    replaced = None
    for ref_path in sorted(_ref_paths(coll), key=len):
        holder: Any = item
        for name in ref_path[:-1]:
            holder = holder.get(name) if isinstance(holder, dict) else None
            holder = holder[0] if isinstance(holder, list) and holder else holder
        ref = holder.get(ref_path[-1]) if isinstance(holder, dict) else None
        ref = ref[0] if isinstance(ref, list) and ref else ref
        if isinstance(ref, dict) and "sourcedId" in ref:
            ref["sourcedId"] = missing
            replaced = ".".join(ref_path)
            break
    if replaced is None:
        raise NotApplicable(f"a minimal {collection} body holds no reference to break")
    ctx.cleanup.add(_item_path(ctx, collection, "delete", record_id), f"{collection} {record_id}")
    response = ctx.request("POST", target.create.path, json=body)
    if 200 <= response.status_code < 300:
        _undo(ctx, collection, _allocated(response) or record_id)
    if response.status_code < 400 or response.status_code >= 500 or response.status_code in (401, 403):
        raise CheckFailed(f"POST {target.create.path} with {replaced} naming the missing record {missing!r} "
                          f"answered {response.status_code}, expected a 4xx refusal")
    if missing not in response.text:
        raise CheckFailed(f"POST {target.create.path} refused the missing {replaced} with {response.status_code}, "
                          f"but the answer does not name {missing!r}: {response.text[:200]}")
    listing = ctx.catalog.plain(collection, "list")
    if listing is not None:
        found = _listing(ctx, listing, listing.path, {"filter": f"sourcedId={_lit(record_id)}"}).items
        if record_id in _ids(found):
            raise CheckFailed(f"POST {target.create.path} was refused ({response.status_code}) but {collection} "
                              f"{record_id!r} exists afterwards")


@rule("oneroster.auth.scope-enforced",
      "A client holding only read-only scopes (a configured read-only client, else a token the token endpoint "
      "limited to the read-only scopes) gets 403 from create and delete operations.",
      lambda op: _representative_create(op) or _representative_delete(op), writes=True)
def auth_scope_enforced(ctx: CheckContext, op: OpInfo) -> None:
    readonly = ctx.readonly_session()
    collection = op.collection or ""
    if op.action == "create":
        target, body, record_id = _new_body(ctx, collection)
        ctx.cleanup.add(_item_path(ctx, collection, "delete", record_id), f"{collection} {record_id}")
        response = readonly.request("POST", op.path, json=body)
        if 200 <= response.status_code < 300:
            _undo(ctx, collection, _allocated(response) or record_id)
        what = f"POST {op.path}"
    else:
        _, _, record_id = _create(ctx, collection)
        path = _item_path(ctx, collection, "delete", record_id)
        response = readonly.request("DELETE", path)
        what = f"DELETE {path}"
    if response.status_code != 403:
        raise CheckFailed(f"{what} with a token holding only the read-only scopes answered {response.status_code}, "
                          f"expected 403")
