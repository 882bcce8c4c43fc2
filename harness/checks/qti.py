"""QTI semantic rules, for any QTI service on Timeback's paths (root-relative: Timeback's base URL is
`https://qti.alpha-1edtech.ai/api`), through HTTP only.

Schemas say what an answer looks like; these rules check what they cannot see: that an item keeps
its XML meaning through a round trip, that `process-response` scores as the item's own declarations
say (judged by `qti_scoring`, an evaluator of the standard templates that shares nothing with the
sandbox's engine), that validation tells broken XML from valid XML, that hostile XML is refused
quickly with a 4xx, that tests keep their structure and item order through edits, and that lists
page and search.

Every POST is a write for the harness (`HarnessSession` refuses it without `--allow-writes`), so the
rules that score, validate or send hostile XML are write rules. What a rule creates carries the run
id and is registered for deletion before it is sent; tests are deleted before the items they use
(the cleanup runs newest first), so a service that refuses to delete a referenced item still ends
clean. Items the rules find (seeded ones) are judged too, when their processing is a standard
template; they are only read and scored, never changed.
"""
from __future__ import annotations

import math
import random
import time
from typing import Any, Callable

import requests

from tbconform.fixtures.qti import KINDS, build_item, item_href
from tbconform.harness.catalog import OpInfo
from tbconform.harness.checks import qti_scoring as S
from tbconform.harness.context import CheckContext
from tbconform.harness.rules import CheckFailed, NotApplicable, judged_stably, rule
from tbconform.harness.checks.kit import operation_at, fill_path, short
from tbconform.specs.xmlsafe import XmlRefused

ITEMS, ITEM = "/assessment-items", "/assessment-items/{identifier}"
PROCESS = "/assessment-items/{identifier}/process-response"
TESTS, TEST, QUESTIONS = "/assessment-tests", "/assessment-tests/{identifier}", "/assessment-tests/{identifier}/questions"
SECTION = "/assessment-tests/{assessmentTestIdentifier}/test-parts/{testPartIdentifier}/sections/{identifier}"
SECTION_ITEMS, ORDER = f"{SECTION}/items", f"{SECTION}/items/order"
REMOVE_REF = f"{SECTION}/items/{{itemIdentifier}}"
VALIDATE, STIMULI = "/validate", "/stimuli"

TOLERANCE = 1e-6
FOUND_ITEMS = 12          # seeded items judged per scoring rule (besides the run's own)
PAGE_LIMIT = 7            # small pages, so a seeded list spans several
MAX_PAGES = 12
HOSTILE_TIMEOUT = 10.0    # seconds a hostile document may take to be refused
TEMPLATE_KINDS = tuple(k for k in KINDS if k not in ("slider", "extended-text"))   # standard templates
MAPPED_KINDS = ("choice-multiple", "match", "gap-match", "associate")


def _at(method: str, path: str) -> Callable[[OpInfo], bool]:
    return operation_at("qti", method, path)






def _body(ctx: CheckContext, response: requests.Response, what: str, ok: tuple[int, ...] = (200, 201)) -> Any:
    if response.status_code not in ok:
        raise CheckFailed(f"{what} answered {response.status_code}, expected {' or '.join(map(str, ok))}: "
                          f"{short(response.text, 300)}")
    return ctx.json(response)


# ---------------------------------------------------------------------------------------------
# Run-tagged items and tests


def _rng(ctx: CheckContext, label: str) -> random.Random:
    return random.Random(f"{ctx.config.run_id}/{label}")


def create_item(ctx: CheckContext, kind: str, subject: str = "Math") -> tuple[str, str]:
    """A run-tagged item of `kind` created from XML: (identifier, the XML sent)."""
    identifier = ctx.new_id(f"item-{kind}")
    xml = build_item(kind, identifier, f"tbconform {kind} {ctx.config.run_id}", _rng(ctx, identifier), subject)
    ctx.cleanup.add(fill_path(ITEM, identifier=identifier), f"assessment item {identifier}")
    response = ctx.request("POST", ITEMS, json={"format": "xml", "xml": xml,
                                                 "metadata": {"subject": subject, "tbconformRun": ctx.config.run_id}})
    _body(ctx, response, f"POST {ITEMS} creating the run's {kind} item {identifier}", (200, 201))
    return identifier, xml


def _read_xml(ctx: CheckContext, identifier: str) -> tuple[dict[str, Any], str]:
    path = fill_path(ITEM, identifier=identifier)
    record = _body(ctx, ctx.get(path), f"GET {path}", (200,))
    raw = record.get("rawXml") if isinstance(record, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        raise CheckFailed(f"GET {path} answered no rawXml")
    return record, raw


def _parsed(xml: str, where: str) -> S.Item:
    try:
        return S.read_item(xml)
    except XmlRefused as exc:
        raise CheckFailed(f"{where}: the rawXml does not parse: {exc}") from None


def found_items(ctx: CheckContext, limit: int = 50) -> list[tuple[str, S.Item]]:
    """Items the target lists (not the run's) whose processing is a standard template, one per
    interaction kind first, at most FOUND_ITEMS."""
    response = ctx.get(ITEMS, {"limit": limit, "page": 1, "order": "asc"})   # oldest first: not the run's
    if response.status_code != 200:
        return []
    body = ctx.json(response)
    out, seen_kinds = [], set()
    rest = []
    for record in (body.get("items") or []) if isinstance(body, dict) else []:
        identifier, raw = record.get("identifier"), record.get("rawXml")
        if not isinstance(identifier, str) or not isinstance(raw, str) or ctx.own(identifier):
            continue
        try:
            item = S.read_item(raw)
        except XmlRefused:
            continue
        if item.template not in S.TEMPLATES or not item.interactions:
            continue
        kind = item.interactions[0][0]
        (rest if kind in seen_kinds else out).append((identifier, item))
        seen_kinds.add(kind)
    return (out + rest)[:FOUND_ITEMS]


def _own_items(ctx: CheckContext, kinds: tuple[str, ...], subject: str = "Math") -> list[tuple[str, S.Item]]:
    return [(identifier, S.read_item(xml)) for identifier, xml in (create_item(ctx, k, subject) for k in kinds)]


def score(ctx: CheckContext, identifier: str, response_id: str, response: str | list[str]) -> float:
    """POST process-response and its `score`.

    The body's `identifier` names the response declaration scored; Timeback's official client puts the
    item's identifier there instead, so when a target refuses the declaration's id (4xx) the request is
    sent again in the client's form: the rules judge scores, not which of the two forms a service takes.
    """
    path = fill_path(PROCESS, identifier=identifier)
    sent = ctx.request("POST", path, json={"identifier": response_id, "response": response})
    if sent.status_code in (400, 404, 422) and response_id != identifier:
        retry = ctx.request("POST", path, json={"identifier": identifier, "response": response})
        sent = retry if retry.status_code in (200, 201) else sent
    answer = _body(ctx, sent, f"POST {path} with {response!r}", (200, 201))
    value = answer.get("score") if isinstance(answer, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckFailed(f"POST {path} with {response!r} answered no numeric score: {short(answer)}")
    return float(value)


def _first_response(item: S.Item) -> str | None:
    for _, rid, _ in item.interactions:
        if rid in item.declarations:
            return rid
    return next(iter(item.declarations), None)


def _judge(ctx: CheckContext, items: list[tuple[str, S.Item]],
           pick: Callable[[S.Item, str], tuple[str | list[str], float] | None], what: str) -> int:
    """Score `pick`'s response on each item; fail on the first score off its expectation. The number judged."""
    judged, wrong = 0, []
    for identifier, item in items:
        rid = _first_response(item)
        chosen = pick(item, rid) if rid else None
        if chosen is None:
            continue
        response, want = chosen
        got = score(ctx, identifier, rid, response)
        judged += 1
        if abs(got - want) > TOLERANCE:
            wrong.append(f"{identifier} ({item.interactions[0][0] if item.interactions else '?'}, "
                         f"{item.template}): {response!r} scored {got:g}, the item's declarations give {want:g}")
    if wrong:
        raise CheckFailed(f"{what}: " + "; ".join(wrong[:4]) + (f" (and {len(wrong) - 4} more)" if len(wrong) > 4 else ""))
    return judged


def _correct(item: S.Item, rid: str) -> tuple[str | list[str], float] | None:
    response = S.correct_response(item, rid)
    want = S.expected(item, rid, response) if response is not None else None
    return None if want is None or response is None else (response, want)


def _wrong(item: S.Item, rid: str) -> tuple[str | list[str], float] | None:
    response = S.wrong_response(item, rid)
    return None if response is None else (response, S.minimum(item, rid))


def _partial(item: S.Item, rid: str) -> tuple[str | list[str], float] | None:
    return S.partial_response(item, rid)


# ---------------------------------------------------------------------------------------------
# Items: round trip and scoring


@rule("qti.items.round-trip",
      "An item created from QTI 3.0 XML reads back (GET) with the same XML semantics: its response and outcome "
      "declarations (cardinality, base type, correct response, mapping), its interactions with their choices in "
      "order, and its response processing.", _at("POST", ITEMS), writes=True)
def item_round_trip(ctx: CheckContext, op: OpInfo) -> None:
    lost = []
    for kind in KINDS:
        identifier, xml = create_item(ctx, kind)
        sent = S.semantics(S.read_item(xml))
        _, raw = _read_xml(ctx, identifier)
        back = S.semantics(_parsed(raw, f"GET {ITEM} for {identifier}"))
        changed = [key for key in sent if sent[key] != back[key]]
        if changed:
            lost.append(f"{kind} item {identifier}: " + ", ".join(
                f"{key} sent {short(sent[key], 120)}, read back {short(back[key], 120)}" for key in changed))
    if lost:
        raise CheckFailed("XML semantics changed in the round trip: " + "; ".join(lost[:3]))


@rule("qti.scoring.correct-max",
      "process-response scores each item's correct response (its qti-correct-response) at what the item's template "
      "gives it: 1 for match_correct, the mapped sum (within the bounds) for map_response and map_response_point; "
      "for the run's items of every interaction type and for items the target lists.", _at("POST", PROCESS),
      writes=True)
def correct_max(ctx: CheckContext, op: OpInfo) -> None:
    _judge(ctx, _own_items(ctx, TEMPLATE_KINDS) + found_items(ctx), _correct, "correct responses")


@rule("qti.scoring.wrong-min",
      "process-response scores a known-wrong response (another choice, a reversed order, shuffled pairs, a far "
      "point, another number or word) at the item's minimum: 0, or the mapping's lower bound.",
      _at("POST", PROCESS), writes=True)
def wrong_min(ctx: CheckContext, op: OpInfo) -> None:
    _judge(ctx, _own_items(ctx, TEMPLATE_KINDS) + found_items(ctx), _wrong, "wrong responses")


@rule("qti.scoring.partial-mapped",
      "process-response scores a partly correct response to a map_response item (one of its correct values alone) "
      "at the mapped value the item's qti-mapping gives it, not at 0 or at the full score.",
      _at("POST", PROCESS), writes=True)
def partial_mapped(ctx: CheckContext, op: OpInfo) -> None:
    if not _judge(ctx, _own_items(ctx, MAPPED_KINDS) + found_items(ctx), _partial, "partial responses"):
        raise NotApplicable("no map_response item with several mapped correct values was found or created")


@rule("qti.scoring.case-sensitive",
      "A text-entry item whose answer matches case-sensitively (a map entry with case-sensitive=\"true\", or "
      "match_correct on a string) scores its correct answer in another case at the minimum, and the exact answer "
      "at the full score.", _at("POST", PROCESS), writes=True)
def case_sensitive(ctx: CheckContext, op: OpInfo) -> None:
    items = _own_items(ctx, ("text-entry",), subject="Social Studies") + found_items(ctx)

    def variant(item: S.Item, rid: str) -> tuple[str | list[str], float] | None:
        return S.case_variant(item, rid)
    if not _judge(ctx, items, variant, "another case"):
        raise NotApplicable("no case-sensitive string item was found or created")
    _judge(ctx, items, lambda item, rid: _correct(item, rid) if S.case_variant(item, rid) else None, "exact case")


# ---------------------------------------------------------------------------------------------
# Validation and hostile XML


def _valid_xml(ctx: CheckContext) -> list[tuple[str, str]]:
    return [(kind, build_item(kind, ctx.new_id(f"valid-{kind}"), f"tbconform {kind}", _rng(ctx, kind)))
            for kind in KINDS]


def broken_documents(ctx: CheckContext) -> list[tuple[str, str]]:
    """(what is wrong, XML): one structural fault each, made from a valid choice item."""
    base = build_item("choice", ctx.new_id("broken"), "tbconform broken", _rng(ctx, "broken"))
    multiple = build_item("choice-multiple", ctx.new_id("broken"), "tbconform broken", _rng(ctx, "broken-m"))
    return [
        ("not well-formed (cut short)", base[: len(base) // 2]),
        ("not the QTI 3.0 namespace", base.replace("imsqtiasi_v3p0", "imsqti_v2p1")),
        ("an interaction whose response-identifier is not declared",
         base.replace('response-identifier="RESPONSE"', 'response-identifier="UNDECLARED"')),
        ("two correct values in a single-cardinality declaration",
         base.replace("</qti-correct-response>", "<qti-value>C9</qti-value></qti-correct-response>")),
        ("a base type that does not fit the interaction (a choice declared as float)",
         multiple.replace('base-type="identifier"', 'base-type="float"', 1)),
    ]


def _validate(ctx: CheckContext, xml: str, schema: str = "item") -> tuple[bool, list[Any], dict[str, Any]]:
    answer = _body(ctx, ctx.request("POST", VALIDATE, json={"xml": xml, "schema": schema, "entityId": "tbconform"}),
                   f"POST {VALIDATE}", (200,))
    if not isinstance(answer, dict):
        raise CheckFailed(f"POST {VALIDATE} answered a body that is not an object: {short(answer)}")
    success = answer.get("success")
    errors = answer.get("validationErrors") or []
    return success is True or str(success).lower() == "true", errors if isinstance(errors, list) else [errors], answer


@rule("qti.validate.refuses-broken",
      "POST /validate answers success false with at least one validation error for structurally broken XML: not "
      "well-formed, the wrong namespace, an undeclared response-identifier, a cardinality or base type that does "
      "not fit.", _at("POST", VALIDATE), writes=True)
def validate_refuses_broken(ctx: CheckContext, op: OpInfo) -> None:
    passed = []
    for what, xml in broken_documents(ctx):
        ok, errors, _ = _validate(ctx, xml)
        if ok or not errors:
            passed.append(f"{what} ({'success true' if ok else 'no validation errors'})")
    if passed:
        raise CheckFailed("POST /validate did not refuse: " + "; ".join(passed))


@rule("qti.validate.accepts-valid",
      "POST /validate answers success true with no validation errors for valid QTI 3.0 items of every interaction "
      "type.", _at("POST", VALIDATE), writes=True)
def validate_accepts_valid(ctx: CheckContext, op: OpInfo) -> None:
    refused = []
    for kind, xml in _valid_xml(ctx):
        ok, errors, _ = _validate(ctx, xml)
        if not ok or errors:
            refused.append(f"{kind}: {short(errors, 160)}")
    if refused:
        raise CheckFailed("POST /validate refused valid items: " + "; ".join(refused[:4]))


def _hostile(ctx: CheckContext, label: str, xml: str) -> requests.Response:
    """POST a hostile item; registered for deletion first (in case it is stored)."""
    identifier = ctx.new_id(label)
    ctx.cleanup.add(fill_path(ITEM, identifier=identifier), f"assessment item {identifier}")
    document = xml.replace("HOSTILE", identifier)
    started = time.monotonic()
    response = ctx.request("POST", ITEMS, json={"format": "xml", "xml": document}, timeout=HOSTILE_TIMEOUT)
    if time.monotonic() - started > HOSTILE_TIMEOUT:
        raise CheckFailed(f"POST {ITEMS} with {label} took {time.monotonic() - started:.1f} s to answer")
    return response


_ITEM_TAIL = ('<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="HOSTILE" '
              'title="hostile" adaptive="false" time-dependent="false"><qti-item-body><p>{body}</p></qti-item-body>'
              '</qti-assessment-item>')


def bombs() -> list[tuple[str, str]]:
    laughs = "".join(f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, 10))
    quadratic = "q" * 50_000
    deep = "<div>" * 5000 + "x" + "</div>" * 5000
    return [
        ("a billion-laughs entity expansion",
         f'<?xml version="1.0"?><!DOCTYPE qti-assessment-item [<!ENTITY l0 "lol">{laughs}]>'
         + _ITEM_TAIL.format(body="&l9;")),
        ("a quadratic-blowup entity", f'<!DOCTYPE qti-assessment-item [<!ENTITY q "{quadratic}">]>'
         + _ITEM_TAIL.format(body="&q;" * 2000)),
        ("5,000 nested elements", _ITEM_TAIL.format(body=deep)),
        ("a 6 MiB document", _ITEM_TAIL.format(body="x" * (6 * 1024 * 1024))),
    ]


XXE_MARKER = "tbconform-entity-text"


def xxe_documents() -> list[tuple[str, str]]:
    return [
        ("an external file entity (file:///etc/passwd)",
         '<!DOCTYPE qti-assessment-item [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _ITEM_TAIL.format(body="&x;")),
        ("an external DTD", '<!DOCTYPE qti-assessment-item SYSTEM "http://127.0.0.1:9/tbconform.dtd">'
         + _ITEM_TAIL.format(body="dtd")),
        ("an internal entity", f'<!DOCTYPE qti-assessment-item [<!ENTITY x "{XXE_MARKER}">]>'
         + _ITEM_TAIL.format(body="&x;")),
    ]


LEAKS = ("root:x:0:0", f">{XXE_MARKER}<")   # what a resolved entity would put in an answer


def _validate_hostile(ctx: CheckContext, what: str, xml: str) -> str | None:
    """POST /validate with a hostile document: what is wrong with the answer, or None. A 4xx, or a 200
    answering success false, is right; a 5xx, success true or the entity's text is not."""
    started = time.monotonic()
    response = ctx.request("POST", VALIDATE, json={"xml": xml.replace("HOSTILE", "hostile"), "schema": "item"},
                           timeout=HOSTILE_TIMEOUT)
    took = time.monotonic() - started
    leaked = [m for m in LEAKS if m in response.text]
    if leaked:
        return f"POST {VALIDATE} with {what} answered {response.status_code} holding the entity's text ({leaked[0]!r})"
    if took > HOSTILE_TIMEOUT:
        return f"POST {VALIDATE} with {what} took {took:.1f} s"
    if 400 <= response.status_code < 500:
        return None
    if response.status_code != 200:
        return f"POST {VALIDATE} with {what} answered {response.status_code}, expected a 4xx or 200 with success false"
    try:
        body = response.json()
    except ValueError:
        return f"POST {VALIDATE} with {what} answered 200 with a body that is not JSON"
    success = body.get("success") if isinstance(body, dict) else None
    if success is True or str(success).lower() == "true":
        return f"POST {VALIDATE} with {what} answered success true"
    return None


@rule("qti.xml.bomb-refused",
      f"An XML bomb (entity expansion, quadratic blowup, deep nesting, an oversized document) is refused within "
      f"{HOSTILE_TIMEOUT:g} s, never with a 5xx: an item upload with a 4xx, POST /validate with a 4xx or success "
      f"false.", _at("POST", ITEMS), writes=True)
def bomb_refused(ctx: CheckContext, op: OpInfo) -> None:
    for what, xml in bombs():
        response = _hostile(ctx, "bomb", xml)
        if not 400 <= response.status_code < 500:
            raise CheckFailed(f"POST {ITEMS} with {what} answered {response.status_code}, expected a 4xx: "
                              f"{short(response.text)}")
        problem = _validate_hostile(ctx, what, xml)
        if problem:
            raise CheckFailed(problem)


@rule("qti.xml.xxe-refused",
      "A document declaring entities (an external file entity, an external DTD, an internal entity) is refused, "
      "its entities never resolved: an item upload with a 4xx, POST /validate with a 4xx or success false, and "
      "no answer holds the entity's text.", _at("POST", ITEMS), writes=True)
def xxe_refused(ctx: CheckContext, op: OpInfo) -> None:
    for what, xml in xxe_documents():
        response = _hostile(ctx, "xxe", xml)
        leaked = [m for m in LEAKS if m in response.text]
        if leaked:
            raise CheckFailed(f"POST {ITEMS} with {what} answered {response.status_code} with the entity's text "
                              f"({leaked[0]!r}) in its body")
        if not 400 <= response.status_code < 500:
            raise CheckFailed(f"POST {ITEMS} with {what} answered {response.status_code}, expected a 4xx")
        problem = _validate_hostile(ctx, what, xml)
        if problem:
            raise CheckFailed(problem)


# ---------------------------------------------------------------------------------------------
# Tests: structure and order


def _ref(identifier: str, sequence: int) -> dict[str, Any]:
    return {"identifier": identifier, "href": item_href(identifier), "sequence": sequence}


def create_test(ctx: CheckContext, sections: list[list[str]]) -> tuple[str, str, list[str]]:
    """A run-tagged test, one part, `sections` of item ids, created from JSON: (test, part, section ids)."""
    test_id, part_id = ctx.new_id("test"), "PART-1"
    section_ids = [f"SECTION-{n}" for n in range(1, len(sections) + 1)]
    body = {"identifier": test_id, "title": f"tbconform test {test_id}", "qti-test-part": [{
        "identifier": part_id, "navigationMode": "linear", "submissionMode": "individual",
        "qti-assessment-section": [
            {"identifier": sid, "title": f"Section {n}", "visible": True, "sequence": n,
             "qti-assessment-item-ref": [_ref(i, k) for k, i in enumerate(items, 1)]}
            for n, (sid, items) in enumerate(zip(section_ids, sections), 1)]}],
        "metadata": {"tbconformRun": ctx.config.run_id}}
    ctx.cleanup.add(fill_path(TEST, identifier=test_id), f"assessment test {test_id}")
    _body(ctx, ctx.request("POST", TESTS, json=body), f"POST {TESTS} creating the run's test {test_id}", (200, 201))
    return test_id, part_id, section_ids


def _structure(record: Any) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    parts = record.get("qti-test-part") if isinstance(record, dict) else None
    out = []
    for part in parts if isinstance(parts, list) else []:
        sections = []
        for section in part.get("qti-assessment-section") or []:
            refs = section.get("qti-assessment-item-ref") or []
            sections.append((section.get("identifier"), [r.get("identifier") for r in refs if isinstance(r, dict)]))
        out.append((part.get("identifier"), sections))
    return out


def _section_refs(ctx: CheckContext, test_id: str, part_id: str, section_id: str) -> list[str]:
    path = fill_path(SECTION, assessmentTestIdentifier=test_id, testPartIdentifier=part_id, identifier=section_id)
    section = _body(ctx, ctx.get(path), f"GET {path}", (200,))
    refs = section.get("qti-assessment-item-ref") if isinstance(section, dict) else None
    return [r.get("identifier") for r in refs or [] if isinstance(r, dict)]


def _questions(ctx: CheckContext, test_id: str) -> list[str]:
    path = fill_path(QUESTIONS, identifier=test_id)
    body = _body(ctx, ctx.get(path), f"GET {path}", (200,))
    questions = body.get("questions") if isinstance(body, dict) else None
    if not isinstance(questions, list):
        raise CheckFailed(f"GET {path} answered no questions array")
    out = []
    for q in questions:
        ref = q.get("reference") if isinstance(q, dict) else None
        item = q.get("question") if isinstance(q, dict) else None
        out.append((ref or {}).get("identifier") or (item or {}).get("identifier"))
    if body.get("totalQuestions") not in (None, len(out)):
        raise CheckFailed(f"GET {path}: totalQuestions {body.get('totalQuestions')} but {len(out)} questions")
    return out


@rule("qti.tests.round-trip",
      "A test created with one part, two sections and item references reads back (GET) with the same parts, "
      "sections and references, in the order sent.", _at("POST", TESTS), writes=True)
def test_round_trip(ctx: CheckContext, op: OpInfo) -> None:
    items = [create_item(ctx, "choice")[0] for _ in range(4)]
    sections = [[items[2], items[0]], [items[3], items[1]]]
    test_id, part_id, section_ids = create_test(ctx, sections)
    record = _body(ctx, ctx.get(fill_path(TEST, identifier=test_id)), f"GET {TESTS}/{test_id}", (200,))
    want = [(part_id, list(zip(section_ids, sections)))]
    got = _structure(record)
    if got != want:
        raise CheckFailed(f"GET {TESTS}/{test_id} holds {got}, the test was created with {want}")


@rule("qti.tests.ordering",
      "Adding an item reference appends it to its section; reordering the section's items is kept; "
      "GET /assessment-tests/{identifier}/questions lists the items in test order; removing a reference "
      "removes it from both.", _at("PUT", ORDER), writes=True)
def test_ordering(ctx: CheckContext, op: OpInfo) -> None:
    items = [create_item(ctx, "choice")[0] for _ in range(4)]
    test_id, part_id, (section_id,) = create_test(ctx, [items[:3]])
    where = dict(assessmentTestIdentifier=test_id, testPartIdentifier=part_id, identifier=section_id)

    def expect(order: list[str], step: str) -> None:
        got = _section_refs(ctx, test_id, part_id, section_id)
        if got != order:
            raise CheckFailed(f"after {step}, the section lists {got}, expected {order}")
        listed = _questions(ctx, test_id)
        if listed != order:
            raise CheckFailed(f"after {step}, GET {TESTS}/{test_id}/questions lists {listed}, expected {order}")

    expect(items[:3], "creating the test")
    add = fill_path(SECTION_ITEMS, **where)
    _body(ctx, ctx.request("POST", add, json={"identifier": items[3], "href": item_href(items[3])}),
          f"POST {add}", (200, 201))
    expect(items, f"adding {items[3]}")
    order = [items[3], items[1], items[0], items[2]]
    path = fill_path(ORDER, **where)
    _body(ctx, ctx.request("PUT", path, json={"items": [_ref(i, n) for n, i in enumerate(order, 1)]}),
          f"PUT {path}", (200,))
    expect(order, "reordering")
    remove = fill_path(REMOVE_REF, **where, itemIdentifier=items[1])
    removed = ctx.request("DELETE", remove)
    if removed.status_code not in (200, 204):
        raise CheckFailed(f"DELETE {remove} answered {removed.status_code}: {short(removed.text)}")
    expect([i for i in order if i != items[1]], f"removing {items[1]}")


# ---------------------------------------------------------------------------------------------
# Lists: paging and search


def _list_ops(op: OpInfo) -> bool:
    return op.api == "qti" and op.method.upper() == "GET" and op.path.rstrip("/") in (ITEMS, TESTS, STIMULI)


def _page(ctx: CheckContext, path: str, page: int, limit: int, **extra: Any) -> dict[str, Any]:
    params = {"page": page, "limit": limit, **extra}
    body = _body(ctx, ctx.get(path, params), f"GET {path}?page={page}&limit={limit}", (200,))
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise CheckFailed(f"GET {path}?page={page}: no items array")
    return body


@rule("qti.paging.consistent",
      f"QTI lists page consistently: with limit={PAGE_LIMIT}, each page answers its page and limit, `pages` is "
      "ceil(total / limit), every page but the last is full, and no record appears on two pages.", _list_ops)
def paging_consistent(ctx: CheckContext, op: OpInfo) -> None:
    path = op.path.rstrip("/")

    def snapshot() -> Any:
        return _page(ctx, path, 1, PAGE_LIMIT).get("total")

    def attempt() -> None:
        first = _page(ctx, path, 1, PAGE_LIMIT)
        total = first.get("total")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise CheckFailed(f"GET {path}: total {total!r} is not a count")
        if total == 0:
            raise NotApplicable(f"GET {path} lists nothing to page through")
        pages = math.ceil(total / PAGE_LIMIT)
        seen: dict[str, int] = {}
        walked = list(range(1, min(pages, MAX_PAGES) + 1))
        for number in walked + ([pages] if pages > MAX_PAGES else []):   # and the last page, always
            body = first if number == 1 else _page(ctx, path, number, PAGE_LIMIT)
            problems = [f"{k} {body.get(k)!r}, expected {v}" for k, v in
                        (("page", number), ("limit", PAGE_LIMIT), ("pages", pages), ("total", total))
                        if body.get(k) != v]
            size = min(PAGE_LIMIT, total - (number - 1) * PAGE_LIMIT)
            if len(body["items"]) != size:
                problems.append(f"{len(body['items'])} items, expected {size}")
            for record in body["items"]:
                key = record.get("identifier") if isinstance(record, dict) else None
                if key in seen:
                    problems.append(f"{key} again (first on page {seen[key]})")
                seen[str(key)] = number
            if problems:
                raise CheckFailed(f"GET {path}?page={number}&limit={PAGE_LIMIT}: " + "; ".join(problems[:4]))
    judged_stably(attempt, snapshot)


@rule("qti.search.query",
      "`query` searches QTI lists: querying a listed record's identifier answers that record, and fewer records "
      "than the unfiltered list.", _list_ops)
def search_query(ctx: CheckContext, op: OpInfo) -> None:
    path = op.path.rstrip("/")
    first = _page(ctx, path, 1, 20, order="asc")   # oldest first: not the run's own new records
    records = [r for r in first["items"] if isinstance(r, dict) and isinstance(r.get("identifier"), str)
               and not ctx.own(r["identifier"])]
    if len(records) < 2 or not isinstance(first.get("total"), int):
        raise NotApplicable(f"GET {path} lists fewer than two records to search among")
    target = records[-1]["identifier"]

    def snapshot() -> Any:
        return _page(ctx, path, 1, 1).get("total")

    def attempt() -> None:
        total = _page(ctx, path, 1, 1).get("total")
        found = _page(ctx, path, 1, 100, query=target)
        ids = [r.get("identifier") for r in found["items"] if isinstance(r, dict)]
        if target not in ids:
            raise CheckFailed(f"GET {path}?query={target} does not answer {target} (answered {short(ids, 160)})")
        if not isinstance(found.get("total"), int) or found["total"] >= total:
            raise CheckFailed(f"GET {path}?query={target} answered total {found.get('total')!r}, not fewer than "
                              f"the {total} records of the unfiltered list: the query was not applied")
    judged_stably(attempt, snapshot)
