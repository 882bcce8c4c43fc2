"""QTI faults: broken scoring, validation, test ordering, XML handling and lists that the `qti.*`
harness rules must each notice (tests/test_qti_harness.py, QTI_DETECTION).

They wrap the QTI plug-in's behaviours (`behaviour:qti.*`, `mocks/behaviours/qti.py`) or the generic
actions for the QTI collections only: they change the request a step sees or the answer it gives,
reading the stored item where they need its declarations, so the behaviours hold no fault branch.
The two XML-hostility faults break `POST /validate`: an item upload's XML is parsed (and hostile XML
refused) before any replaceable step runs.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

import orjson

from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.faults import fault
from tbconform.mocks.faults.rewrite import Action, edit_json, with_query

PROCESS = "behaviour:qti.items.process-response"
VALIDATE = "behaviour:qti.validate"
ORDER, QUESTIONS = "behaviour:qti.items-refs.order", "behaviour:qti.tests.questions"
SECTION_GET = "qti.sections.get"
ITEMS, TESTS = "assessmentItems", "assessmentTests"
PAGED = frozenset({"assessmentItems", "assessmentTests", "stimuli"})


def _on(ctx: RequestContext, *collections: str) -> bool:
    return ctx.binding.get("collection") in collections


def _declaration(ctx: RequestContext) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(stored item, the response declaration the request names), when both exist."""
    item = ctx.store.get(ITEMS, ctx.path_params.get("identifier", ""))
    wanted = ctx.body.get("identifier") if isinstance(ctx.body, dict) else None
    decls = (item or {}).get("responseDeclarations") or []
    decl = next((d for d in decls if d.get("identifier") == wanted), decls[0] if len(decls) == 1 else None)
    return (item, decl) if item and decl else None


def _correct(decl: dict[str, Any]) -> str | list[str] | None:
    values = (decl.get("correctResponse") or {}).get("value") or []
    if not values:
        return None
    return values[0] if decl.get("cardinality") == "single" else list(values)


def _as_set(value: Any) -> frozenset[str]:
    values = [value] if isinstance(value, str) else list(value or [])
    return frozenset(" ".join(str(v).split()) for v in values)


def _template(item: dict[str, Any]) -> str:
    return ((item.get("responseProcessing") or {}).get("templateType")
            or ("map_response" if "rptemplates/map_response.xml" in (item.get("rawXml") or "") else ""))


def _with_response(ctx: RequestContext, response: Any) -> RequestContext:
    return dataclasses.replace(ctx, body={**ctx.body, "response": response})


def _set_score(response: Response, value: float) -> Response:
    def edit(body: dict[str, Any]) -> None:
        body["score"] = value
    return edit_json(response, edit)


def _score(response: Response) -> float | None:
    if response.status != 200:
        return None
    value = orjson.loads(response.body).get("score")
    return float(value) if isinstance(value, (int, float)) else None


# ----------------------------------------------------------------------------------------------
# Scoring


@fault("qti-scores-everything-correct", "process-response scores every response as the item's correct response",
       wraps=PROCESS)
def _everything_correct(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        found = _declaration(ctx)
        correct = _correct(found[1]) if found else None
        return call(ctx if correct is None else _with_response(ctx, correct))
    return run


@fault("qti-mapping-ignored", "map_response items are scored as match_correct: a partly right response scores 0",
       wraps=PROCESS)
def _mapping_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        found = _declaration(ctx)
        if not found or _template(found[0]) != "map_response":
            return call(ctx)
        right = _as_set(_correct(found[1]))
        response = call(ctx)
        return response if _as_set(ctx.body.get("response")) == right else _set_score(response, 0.0)
    return run


@fault("qti-partial-rounded-up", "a partly right response scores the full mark (any score between the minimum "
       "and the full score is rounded up)", wraps=PROCESS)
def _partial_rounded(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        found = _declaration(ctx)
        response = call(ctx)
        got = _score(response)
        correct = _correct(found[1]) if found else None
        if got is None or correct is None:
            return response
        full = _score(call(_with_response(ctx, correct)))
        return _set_score(response, full) if full is not None and 0 < got < full else response
    return run


@fault("qti-mapping-unbounded", "map_response ignores the mapping's lower bound: wrong choices score below it",
       wraps=PROCESS)
def _mapping_unbounded(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        found = _declaration(ctx)
        mapping = (found[1].get("mapping") if found else None) or {}
        if not found or _template(found[0]) != "map_response" or not mapping.get("entries"):
            return response
        table = {" ".join(str(e["mapKey"]).split()): float(e.get("mappedValue") or 0) for e in mapping["entries"]}
        raw = sum(table.get(v, float(mapping.get("defaultValue") or 0)) for v in _as_set(ctx.body.get("response")))
        if "upperBound" in mapping:
            raw = min(raw, float(mapping["upperBound"]))
        return _set_score(response, raw) if raw < (_score(response) or 0) else response
    return run


@fault("qti-point-areas-ignored", "select-point responses are not looked up in the area mapping: every point "
       "scores 0", wraps=PROCESS)
def _point_areas_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        found = _declaration(ctx)
        response = call(ctx)
        return _set_score(response, 0.0) if found and found[1].get("baseType") == "point" else response
    return run


@fault("qti-case-insensitive", "string responses match their correct answer whatever their case, even where the "
       "item matches case-sensitively", wraps=PROCESS)
def _case_insensitive(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        found = _declaration(ctx)
        given = ctx.body.get("response") if isinstance(ctx.body, dict) else None
        correct = _correct(found[1]) if found and found[1].get("baseType") == "string" else None
        if isinstance(given, str) and isinstance(correct, str) and given.lower() == correct.lower():
            return call(_with_response(ctx, correct))
        return call(ctx)
    return run


# ----------------------------------------------------------------------------------------------
# Validation


@fault("qti-validate-accepts-broken", "POST /validate answers success for any document its parser reads (no "
       "structural checks)", wraps=VALIDATE)
def _validate_accepts(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        healthy = call(ctx)  # the healthy checks of the request itself first
        xml = ctx.body.get("xml") if isinstance(ctx.body, dict) else None
        if not isinstance(xml, str) or "<!DOCTYPE" in xml or len(xml) > 1_000_000 or "<div>" * 100 in xml:
            return healthy   # what the hardened parser refuses stays refused
        entity = ctx.body.get("entityId") if isinstance(ctx.body, dict) else None
        return Response.json(200, {"success": True, "entityId": entity or "", "xmlContent": ctx.body.get("xml", ""),
                                   "validationErrors": [], "message": "valid"})
    return run


@fault("qti-validate-refuses-valid", "POST /validate answers a validation error for every document", wraps=VALIDATE)
def _validate_refuses(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        call(ctx)
        entity = ctx.body.get("entityId") if isinstance(ctx.body, dict) else None
        return Response.json(200, {"success": False, "entityId": entity or "", "xmlContent": ctx.body.get("xml", ""),
                                   "validationErrors": ["line 1: document refused"], "message": "invalid"})
    return run


# ----------------------------------------------------------------------------------------------
# Items and tests


_RESPONSE_DECLARATION = re.compile(r"<qti-response-declaration\b.*?</qti-response-declaration>|"
                                   r"<qti-response-declaration\b[^>]*/>", re.S)


@fault("qti-round-trip-drops-declaration", "GET /assessment-items/{identifier} loses the item's first response "
       "declaration (from rawXml and responseDeclarations)", wraps="get")
def _drops_declaration(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        if not _on(ctx, ITEMS):
            return call(ctx)

        def drop(body: dict[str, Any]) -> None:
            record = body.get("assessmentItem", body)
            if isinstance(record.get("rawXml"), str):
                record["rawXml"] = _RESPONSE_DECLARATION.sub("", record["rawXml"], count=1)
            if record.get("responseDeclarations"):
                record["responseDeclarations"] = record["responseDeclarations"][1:]
        return edit_json(call(ctx), drop)
    return run


@fault("qti-test-section-dropped", "creating a test keeps only the first section of each test part", wraps="create")
def _section_dropped(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        body = ctx.body
        if not _on(ctx, TESTS) or not isinstance(body, dict) or not isinstance(body.get("qti-test-part"), list):
            return call(ctx)
        parts = [{**p, "qti-assessment-section": (p.get("qti-assessment-section") or [])[:1]}
                 if isinstance(p, dict) else p for p in body["qti-test-part"]]
        return call(dataclasses.replace(ctx, body={**body, "qti-test-part": parts}))
    return run


@fault("qti-reorder-ignored", "PUT .../items/order answers the section but keeps the old order", wraps=ORDER)
def _reorder_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        return ctx.sandbox.behaviours[SECTION_GET](ctx)
    return run


@fault("qti-questions-unordered", "GET /assessment-tests/{identifier}/questions lists the items in reverse test "
       "order", wraps=QUESTIONS)
def _questions_unordered(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        def flip(body: dict[str, Any]) -> None:
            if isinstance(body.get("questions"), list):
                body["questions"].reverse()
        return edit_json(call(ctx), flip)
    return run


# ----------------------------------------------------------------------------------------------
# Lists


@fault("qti-paging-total-off-by-one", "QTI lists answer a total one more than the records that match",
       wraps="list")
def _total_off_by_one(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        response = call(ctx)
        if not _on(ctx, *PAGED) or ctx.binding.get("paging") != "pages":
            return response

        def bump(body: dict[str, Any]) -> None:
            if isinstance(body.get("total"), int):
                body["total"] += 1
        return edit_json(response, bump)
    return run


@fault("qti-query-ignored", "QTI lists accept `query` but do not apply it", wraps="list")
def _query_ignored(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        if _on(ctx, *PAGED) and ctx.binding.get("paging") == "pages":
            return call(with_query(ctx, query=None))
        return call(ctx)
    return run


# ----------------------------------------------------------------------------------------------
# Hostile XML (on /validate: item uploads are refused by the request parser, before any step a fault
# can wrap)


_ENTITY = re.compile(r"<!ENTITY\s+(\w+)\s+(?:\"([^\"]*)\"|SYSTEM\s+\"[^\"]*\")\s*>")
_DOCTYPE = re.compile(r"<!DOCTYPE.*?(\]\s*>|>)", re.S | re.I)


def _expanded(xml: str) -> str:
    """`xml` without its DOCTYPE, each entity reference replaced by its declared text (an external
    entity by a stand-in for the file's content): what a parser that resolves entities produces."""
    stand_in = "root:x:0:0:root:/root:/bin/sh"   # the first line of /etc/passwd
    values = {name: text or stand_in for name, text in _ENTITY.findall(xml)}
    body = _DOCTYPE.sub("", xml, count=1)
    return re.sub(r"&(\w+);", lambda m: values.get(m.group(1), m.group(0)), body)


@fault("qti-validate-resolves-entities", "POST /validate resolves the entities a document declares and answers it "
       "valid, the entity text in xmlContent", wraps=VALIDATE)
def _validate_resolves(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        xml = ctx.body.get("xml") if isinstance(ctx.body, dict) else None
        if not isinstance(xml, str) or "<!DOCTYPE" not in xml or "<!ENTITY l" in xml or "<!ENTITY q" in xml:
            return call(ctx)
        return Response.json(200, {"success": True, "entityId": ctx.body.get("entityId") or "",
                                   "xmlContent": _expanded(xml), "validationErrors": [], "message": "valid"})
    return run


@fault("qti-validate-bomb-500", "POST /validate answers 500 for an XML bomb (entity expansion, an oversized or "
       "too deep document)", wraps=VALIDATE)
def _validate_bomb(call: Action) -> Action:
    def run(ctx: RequestContext) -> Response:
        xml = ctx.body.get("xml") if isinstance(ctx.body, dict) else None
        if isinstance(xml, str) and ("<!ENTITY l" in xml or "<!ENTITY q" in xml or len(xml) > 1_000_000
                                     or "<div>" * 100 in xml):
            return Response.json(500, {"error": "internal error while expanding the document",
                                       "details": "Internal Server Error"})
        return call(ctx)
    return run
