"""QTI behaviours a binding cannot express, and the write hooks that turn what a client sends (QTI
3.0 XML, or Timeback's structured JSON) into the stored record.

Items, tests and stimuli are written by the generic actions (x-tb-binding); their WRITE_HOOKS build
the record from the request's XML (`ctx.xml`, parsed once by the core's hardened parser) or from the
JSON through `specs/qti/content.py`, so every record has real `rawXml`. Scoring compiles an item once
per stored version (the cache key is its stored JSON) with the engine of `mocks/scoring`. Test
parts, sections and item references live inside the test record (mocks/behaviours/qti_tests.py).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import orjson

from tbconform.mocks.behaviours import qti_tests
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.errors import ApiError
from tbconform.mocks.query import Compiler, Predicate
from tbconform.mocks.validation import read_xml
from tbconform.specs.qti import content

ITEMS, TESTS, STIMULI, FEEDBACK = "assessmentItems", "assessmentTests", "stimuli", "feedback"
JSON_ONLY = ("interaction", "preInteraction", "postInteraction", "rubrics", "stimulus")
Record = dict[str, Any]


# ----------------------------------------------------------------------------------------------
# Write hooks: request -> stored record
# ----------------------------------------------------------------------------------------------


def _stamps(coll_record: Record, built: Record) -> Record:
    for key in ("createdAt", "updatedAt"):
        if key in coll_record:
            built[key] = coll_record[key]
    return built


def _same_id(built: Record, record: Record, old: Record | None) -> Record:
    """An update keeps the path's identifier: an XML document naming another one is refused."""
    if old is not None and built.get("identifier") != record.get("identifier"):
        raise ApiError(422, f"the XML's identifier {built.get('identifier')!r} differs from the path's "
                            f"{record.get('identifier')!r}")
    if not built.get("identifier"):
        raise ApiError(400, "the XML's root element has no identifier")
    return built


def _convert(call: Any, *args: Any, **kw: Any) -> Record:
    """Run a content.py conversion; what it cannot build from is the client's 400, never a 500."""
    try:
        return call(*args, **kw)
    except content.ContentError as exc:
        raise ApiError(400, str(exc)) from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:  # JSON members of unusable shapes
        raise ApiError(400, f"cannot build QTI XML from this body: {type(exc).__name__}: {exc}") from None


def item_hook(ctx: RequestContext, record: Record, old: Record | None) -> Record:
    """An item from XML (`format: xml` body), from a replayed `rawXml`, or from structured JSON."""
    body = ctx.body if isinstance(ctx.body, dict) else {}
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else record.get("metadata")
    if ctx.xml is not None:
        built = _convert(content.item_record_from_xml, ctx.xml, metadata=metadata)
        built["rawXml"] = ctx.text or built["rawXml"]
    elif (replayed := _replayed_xml(body)) is not None:
        built = _convert(content.item_record_from_xml, replayed.root, metadata=metadata)
        built["rawXml"] = replayed.text
    else:
        source = {k: v for k, v in record.items() if k not in ("rawXml", "content")}
        built = _convert(content.item_record_from_xml, _convert(content.item_xml_from_json, source),
                         metadata=metadata)
        if isinstance(body.get("type"), str):
            built["type"] = body["type"]
        if isinstance(body.get("responseProcessing"), dict):  # as sent (the XML holds its meaning)
            built["responseProcessing"] = body["responseProcessing"]
        built.update({k: body[k] for k in JSON_ONLY if k in body})
    return _stamps(record, _same_id(built, record, old))


def _replayed_xml(body: Record) -> Any:
    """A body that echoes a GET (`rawXml`, no `interaction`): its rawXml is the item, when it is a
    well-formed qti-assessment-item; otherwise the item is built from the JSON members, as Timeback's
    JSON update path regenerates rawXml."""
    raw = body.get("rawXml")
    if not isinstance(raw, str) or isinstance(body.get("interaction"), dict):
        return None
    try:
        parsed = read_xml(raw)
    except ApiError:
        return None
    return parsed if parsed.root.tag == f"{{{content.QTI_NS}}}qti-assessment-item" else None


def stimulus_hook(ctx: RequestContext, record: Record, old: Record | None) -> Record:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    if ctx.xml is not None:
        built = _convert(content.stimulus_record_from_xml, ctx.xml)
        built["rawXml"] = ctx.text or built["rawXml"]
        if isinstance(body.get("metadata"), dict):
            built["metadata"] = body["metadata"]
    else:
        built = _convert(content.stimulus_record_from_json, {k: v for k, v in record.items() if k != "rawXml"})
    return _stamps(record, _same_id(built, record, old))


def test_hook(ctx: RequestContext, record: Record, old: Record | None) -> Record:
    """A test from an XML body, or from JSON (its parts, sections and refs kept in order). A change
    that leaves the structure alone (metadata) keeps the stored XML."""
    if ctx.xml is not None:
        built = _convert(content.test_record_from_xml, ctx.xml)
        built["rawXml"] = ctx.text or built["rawXml"]
        if old is not None:
            built.setdefault("metadata", old.get("metadata", {}))
    elif old is not None and all(record.get(k) == old.get(k) for k in qti_tests.STRUCTURE):
        built = dict(record)
    else:
        built = _convert(content.test_record_from_json, record)
    built.setdefault("metadata", {})
    return _stamps(record, _same_id(built, record, old))


WRITE_HOOKS = {ITEMS: item_hook, STIMULI: stimulus_hook, TESTS: test_hook}


# ----------------------------------------------------------------------------------------------
# Items: delete, process-response
# ----------------------------------------------------------------------------------------------


def referencing_tests(ctx: RequestContext, item_id: str) -> list[str]:
    """Identifiers of the tests whose sections reference the item."""
    found = []
    for raw in ctx.store.select(TESTS, "1", []):
        if item_id not in raw:  # cheap pre-check on the stored JSON
            continue
        test = orjson.loads(raw)
        if any(ref.get("identifier") == item_id for _, _, ref in qti_tests.walk_refs(test)):
            found.append(test["identifier"])
    return found


def delete_item(ctx: RequestContext) -> Response:
    item_id = ctx.path_params["identifier"]
    tests = referencing_tests(ctx, item_id)
    if tests:
        shown = ", ".join(repr(t) for t in tests[:10]) + (f" and {len(tests) - 10} more" if len(tests) > 10 else "")
        raise ApiError(409, f"assessment item {item_id!r} is referenced by assessment test(s) {shown}; "
                            "remove those references first")
    return ctx.sandbox.stages.actions["delete"](ctx)


class _Compiled:
    """Compiled scoring items by stored JSON (a new write is a new key), least recently used out."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.entries: OrderedDict[int, Any] = OrderedDict()

    def get(self, raw: str) -> Any:
        key = hash(raw)
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit
        from tbconform.mocks.scoring import ItemNotScorable, compile_item

        record = orjson.loads(raw)
        root = read_xml(record.get("rawXml") or "").root
        try:
            compiled: Any = compile_item(root)
        except ItemNotScorable as exc:
            compiled = exc  # remembered: the same stored item fails the same way
        self.entries[key] = compiled
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return compiled


COMPILED = _Compiled()


def process_response(ctx: RequestContext) -> Response:
    from tbconform.mocks.scoring import ItemNotScorable, ResponseMisfit

    item_id = ctx.path_params["identifier"]
    raw = ctx.store.get_raw(ITEMS, item_id)
    if raw is None:
        raise ApiError(404, f"assessment item {item_id!r} not found")
    compiled = COMPILED.get(raw)
    if isinstance(compiled, Exception):  # the stored item cannot be scored (not the request's doing)
        raise ApiError(422, f"assessment item {item_id!r} cannot be scored: {compiled}")
    named, response = ctx.body["identifier"], ctx.body["response"]
    if named in compiled.response_ids:
        responses = {named: response}
    elif named == item_id:  # the 0.4.0 client sends the item's identifier: the item's response(s)
        responses = compiled.responses_from_wire(response)
    else:
        known = ", ".join(compiled.response_ids) or "none"
        raise ApiError(422, f"identifier {named!r} is neither a response of assessment item {item_id!r} "
                            f"(declared: {known}) nor the item itself")
    try:
        outcome = compiled.process(responses)
    except ResponseMisfit as exc:
        raise ApiError(422, str(exc)) from None
    except ItemNotScorable as exc:
        raise ApiError(422, f"assessment item {item_id!r} cannot be scored: {exc}") from None
    return Response.json(200, {"score": outcome.score, "feedback": {"identifier": outcome.feedback_identifier,
                                                                   "value": outcome.feedback_value}})


# ----------------------------------------------------------------------------------------------
# Feedback and validation
# ----------------------------------------------------------------------------------------------


def lesson_feedback(ctx: RequestContext) -> Response:
    lesson = ctx.path_params["lessonId"]
    coll = ctx.collection(FEEDBACK)
    compiler = Compiler(coll.fields)
    where = compiler.compile(Predicate("lessonId", "=", lesson))
    rows = [orjson.loads(r) for r in ctx.store.select(FEEDBACK, where, compiler.params)]
    if not rows:
        raise ApiError(404, f"no feedback for lesson {lesson!r}")
    return Response.json(200, {**rows[-1], "items": rows})


VALIDATED = {"item": (ITEMS, "assessment item"), "test": (TESTS, "assessment test"), "stimulus": (STIMULI, "stimulus")}


def _check(ctx: RequestContext, xml: str | None, kind: str, entity_id: str | None) -> Record:
    from tbconform.specs.qti.structure import check_document

    if xml is None:
        coll, noun = VALIDATED[kind]
        stored = ctx.store.get(coll, entity_id) if entity_id else None
        if stored is None:
            raise ApiError(404, f"{noun} {entity_id!r} not found" if entity_id else "give `xml` or `entityId`")
        xml = stored.get("rawXml") or ""
    result = check_document(xml, kind=kind, known_items=lambda i: ctx.store.exists(ITEMS, i),
                            xsd_dir=ctx.sandbox.config.qti_xsd_dir)
    errors = [f"line {p.line}: [{p.rule}] {p.message}" for p in result.problems]
    return {"success": not errors, "entityId": entity_id or "", "xmlContent": xml, "validationErrors": errors,
            "message": "The XML is valid" if not errors else f"{len(errors)} problem(s) found"}


def validate(ctx: RequestContext) -> Response:
    body = ctx.body
    return Response.json(200, _check(ctx, body.get("xml"), body["schema"], body.get("entityId")))


def validate_batch(ctx: RequestContext) -> Response:
    body = ctx.body
    ids = list(body["entityIds"]) + [""] * max(0, len(body["xml"]) - len(body["entityIds"]))
    return Response.json(200, {"results": [_check(ctx, xml, body["schema"], eid or None)
                                           for xml, eid in zip(body["xml"], ids)]})


BEHAVIOURS = {
    "qti.items.delete": delete_item,
    "qti.items.process-response": process_response,
    "qti.lesson.get": lesson_feedback,
    "qti.validate": validate,
    "qti.validate-batch": validate_batch,
}  # the test-structure behaviours are registered by qti_tests.py
