"""The nested resources of a QTI assessment test: test parts, sections, item references, their order
and `/questions`.

They live inside the test record, in order (Timeback's test JSON: `qti-test-part[]` holding
`qti-assessment-section[]` holding `qti-assessment-item-ref[]`), so a test is read and written as
one store record and its order is simply the array order. Every change renumbers `sequence` (the
1-based position), rewrites the test's rawXml and content from the structure and stamps updatedAt,
all in one transaction.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

from tbconform.mocks.actions import now_iso
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.specs.qti import content

TESTS, ITEMS = "assessmentTests", "assessmentItems"
PARTS, SECTIONS, REFS = "qti-test-part", "qti-assessment-section", "qti-assessment-item-ref"
STRUCTURE = (PARTS, "qti-outcome-declaration", "identifier", "title")  # what the XML is built from
Record = dict[str, Any]


def walk_refs(test: Record) -> Iterator[tuple[Record, Record, Record]]:
    """(part, section, ref) for every item reference, in test order (nested sections depth first)."""
    def sections(part: Record, items: list[Record]) -> Iterator[tuple[Record, Record, Record]]:
        for section in items:
            for ref in section.get(REFS) or []:
                yield part, section, ref
            yield from sections(part, section.get(SECTIONS) or [])
    for part in test.get(PARTS) or []:
        yield from sections(part, part.get(SECTIONS) or [])


def _test(ctx: RequestContext) -> Record:
    test_id = ctx.path_params.get("assessmentTestIdentifier") or ctx.path_params["identifier"]
    test = ctx.store.get(TESTS, test_id)
    if test is None:
        raise ApiError(404, f"assessment test {test_id!r} not found")
    return test


def _find(items: list[Record], identifier: str, noun: str, where: str) -> int:
    for i, entry in enumerate(items):
        if entry.get("identifier") == identifier:
            return i
    raise ApiError(404, f"{noun} {identifier!r} not found in {where}")


def _part(ctx: RequestContext, test: Record, key: str = "testPartIdentifier") -> Record:
    parts = test.setdefault(PARTS, [])
    return parts[_find(parts, ctx.path_params[key], "test part", f"assessment test {test['identifier']!r}")]


def _section(ctx: RequestContext, part: Record, key: str = "identifier") -> Record:
    sections = part.setdefault(SECTIONS, [])
    return sections[_find(sections, ctx.path_params[key], "section", f"test part {part['identifier']!r}")]


def _save(ctx: RequestContext, test: Record) -> None:
    """Renumber, rebuild rawXml/content from the structure, stamp, store."""
    content.renumber(test)
    rebuilt = content.test_record_from_xml(content.test_xml_from_record(test))
    test["rawXml"], test["content"] = rebuilt["rawXml"], rebuilt["content"]
    test["updatedAt"] = now_iso()
    ctx.store.replace(TESTS, test)


def _insert(items: list[Record], entry: Record) -> None:
    """At `sequence` (1-based) when given, else at the end."""
    position = entry.get("sequence")
    if isinstance(position, int) and 1 <= position <= len(items):
        items.insert(position - 1, entry)
    else:
        items.append(entry)


def _unique(items: list[Record], identifier: str, noun: str) -> None:
    if any(e.get("identifier") == identifier for e in items):
        raise ApiError(409, f"{noun} {identifier!r} already exists here")


def _page(ctx: RequestContext, rows: list[Record]) -> Response:
    """Timeback's QTI list answer over an in-record list: query, sort, order, page, limit."""
    text = str(ctx.query.get("query") or "").strip().lower()
    if text:
        rows = [r for r in rows
                if text in str(r.get("identifier", "")).lower() or text in str(r.get("title", "")).lower()]
    sort = str(ctx.query.get("sort") or "sequence")
    order = str(ctx.query.get("order") or "asc")
    if sort != "createdAt":  # the nested records carry no stamps: createdAt is their position
        rows = sorted(rows, key=lambda r: (r.get(sort) is None, str(r.get(sort)) if not isinstance(r.get(sort), int)
                                           else f"{r[sort]:012d}"))
    if order == "desc":
        rows = list(reversed(rows))
    limit, page = int(ctx.query.get("limit", 10)), int(ctx.query.get("page", 1))
    chunk = rows[(page - 1) * limit: page * limit]
    return Response.json(200, {"items": chunk, "total": len(rows), "page": page, "pages": math.ceil(len(rows) / limit),
                               "limit": limit, "sort": sort, "order": order})


# ----------------------------------------------------------------------------------------------
# Test parts
# ----------------------------------------------------------------------------------------------


def parts_list(ctx: RequestContext) -> Response:
    parts = [p for p in _test(ctx).get(PARTS) or []
             if all(ctx.query.get(m) in (None, "", p.get(m)) for m in ("navigationMode", "submissionMode"))]
    return _page(ctx, parts)


def parts_create(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        parts = test.setdefault(PARTS, [])
        _unique(parts, ctx.body["identifier"], "test part")
        part = dict(ctx.body)
        parts.append(part)
        _save(ctx, test)
    return Response.json(201, part)


def parts_get(ctx: RequestContext) -> Response:
    return Response.json(200, _part(ctx, _test(ctx), "identifier"))


def parts_update(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        parts = test.setdefault(PARTS, [])
        index = _find(parts, ctx.path_params["identifier"], "test part", f"assessment test {test['identifier']!r}")
        part = {**ctx.body, "identifier": ctx.path_params["identifier"]}
        parts[index] = part
        _save(ctx, test)
    return Response.json(200, part)


def parts_delete(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        parts = test.setdefault(PARTS, [])
        del parts[_find(parts, ctx.path_params["identifier"], "test part", f"assessment test {test['identifier']!r}")]
        _save(ctx, test)
    return Response.empty(204)


# ----------------------------------------------------------------------------------------------
# Sections
# ----------------------------------------------------------------------------------------------


def sections_list(ctx: RequestContext) -> Response:
    return _page(ctx, list(_part(ctx, _test(ctx)).get(SECTIONS) or []))


def sections_create(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        part = _part(ctx, test)
        sections = part.setdefault(SECTIONS, [])
        _unique(sections, ctx.body["identifier"], "section")
        section = {**ctx.body, REFS: list(ctx.body.get(REFS) or [])}
        _insert(sections, section)
        _save(ctx, test)
    return Response.json(201, section)


def sections_get(ctx: RequestContext) -> Response:
    return Response.json(200, _section(ctx, _part(ctx, _test(ctx))))


def sections_update(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        part = _part(ctx, test)
        sections = part.setdefault(SECTIONS, [])
        index = _find(sections, ctx.path_params["identifier"], "section", f"test part {part['identifier']!r}")
        section = {**ctx.body, "identifier": ctx.path_params["identifier"], REFS: list(ctx.body.get(REFS) or [])}
        del sections[index]
        if not isinstance(section.get("sequence"), int):
            section["sequence"] = index + 1  # no sequence given: same position
        _insert(sections, section)
        _save(ctx, test)
    return Response.json(200, section)


def sections_delete(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        part = _part(ctx, test)
        sections = part.setdefault(SECTIONS, [])
        del sections[_find(sections, ctx.path_params["identifier"], "section", f"test part {part['identifier']!r}")]
        _save(ctx, test)
    return Response.json(200, {"message": f"Section {ctx.path_params['identifier']} deleted"})


# ----------------------------------------------------------------------------------------------
# Item references and their order
# ----------------------------------------------------------------------------------------------


def refs_add(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        section = _section(ctx, _part(ctx, test))
        refs = section.setdefault(REFS, [])
        _unique(refs, ctx.body["identifier"], "item reference")
        _insert(refs, dict(ctx.body))
        _save(ctx, test)
    return Response.json(201, section)


def refs_order(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        section = _section(ctx, _part(ctx, test))
        current = section.setdefault(REFS, [])
        wanted = [r["identifier"] for r in ctx.body["items"]]
        have = [r.get("identifier") for r in current]
        if sorted(wanted) != sorted(have):
            missing = sorted(set(have) - set(wanted))
            extra = sorted(set(wanted) - set(have))
            dupes = sorted({w for w in wanted if wanted.count(w) > 1})
            raise ApiError(400, "items must list each of the section's item references once"
                                + (f"; missing {missing}" if missing else "") + (f"; unknown {extra}" if extra else "")
                                + (f"; repeated {dupes}" if dupes else ""))
        by_id = {r.get("identifier"): r for r in current}
        section[REFS] = [{**by_id[r["identifier"]], **{k: v for k, v in r.items() if k != "sequence"}}
                         for r in ctx.body["items"]]
        _save(ctx, test)
    return Response.json(200, section)


def refs_remove(ctx: RequestContext) -> Response:
    with ctx.store.transaction():
        test = _test(ctx)
        section = _section(ctx, _part(ctx, test))
        refs = section.setdefault(REFS, [])
        del refs[_find(refs, ctx.path_params["itemIdentifier"], "item reference", f"section {section['identifier']!r}")]
        _save(ctx, test)
    return Response.empty(204)


def questions(ctx: RequestContext) -> Response:
    test = _test(ctx)
    out = []
    for part, section, ref in walk_refs(test):
        item = ctx.store.get(ITEMS, ref.get("identifier", ""))
        if item is not None:
            out.append({"reference": {"identifier": ref.get("identifier"), "href": ref.get("href", ""),
                                      "testPart": part.get("identifier"), "section": section.get("identifier")},
                        "question": item})
    return Response.json(200, {"assessmentTest": test["identifier"], "title": test.get("title", ""),
                               "totalQuestions": len(out), "questions": out})


BEHAVIOURS = {
    "qti.parts.list": parts_list, "qti.parts.create": parts_create, "qti.parts.get": parts_get,
    "qti.parts.update": parts_update, "qti.parts.delete": parts_delete,
    "qti.sections.list": sections_list, "qti.sections.create": sections_create, "qti.sections.get": sections_get,
    "qti.sections.update": sections_update, "qti.sections.delete": sections_delete,
    "qti.items-refs.add": refs_add, "qti.items-refs.order": refs_order, "qti.items-refs.remove": refs_remove,
    "qti.tests.questions": questions,
}
