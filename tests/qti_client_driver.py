#!/usr/bin/env python3
"""Drive Timeback's official QTI client (`timeback-qti`) against a running sandbox, through every
public method it offers.

Runs under Python >= 3.12 in a venv that has the package installed; it imports nothing from this
repository but its sibling client_common.py. Usage:

    python qti_client_driver.py --base-url http://127.0.0.1:8765 \
        --token-url http://127.0.0.1:8765/oauth2/token \
        --client-id tbconform-sandbox --client-secret tbconform-sandbox-secret --out report.json

Writes a JSON report ``{"client": {...}, "operations": [{"name", "ok", "error", "ms"}],
"divergences": [...], "summary": {...}}`` and exits 1 if any operation failed (2 on a usage error).

Results are checked, not only parsed: an item created from XML answers its own XML and scores its
correct answer 1 and a wrong one 0; a JSON-created item has real QTI XML; lists page and filter;
a test's parts, sections and item references come back in the order the driver set, `questions`
follows that order, and what is deleted is gone.
"""
from __future__ import annotations

import sys
import time
from typing import Any

from client_common import Runner, arguments, check, outcome, run_driver, uid

try:
    import timeback_qti as tq
    from timeback_common import APIError
except ImportError as exc:  # reported by main()
    IMPORT_ERROR: str | None = f"timeback-qti not importable ({sys.executable}): {exc}"
else:
    IMPORT_ERROR = None

NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
MATCH_CORRECT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"


def choice_xml(identifier: str, correct: str = "B", title: str = "Client choice") -> str:
    return (f'<qti-assessment-item xmlns="{NS}" identifier="{identifier}" title="{title}" adaptive="false" '
            'time-dependent="false"><qti-response-declaration identifier="RESPONSE" cardinality="single" '
            f'base-type="identifier"><qti-correct-response><qti-value>{correct}</qti-value></qti-correct-response>'
            '</qti-response-declaration><qti-outcome-declaration identifier="SCORE" cardinality="single" '
            'base-type="float"/><qti-item-body><qti-choice-interaction response-identifier="RESPONSE" '
            'max-choices="1"><qti-prompt>Pick B</qti-prompt><qti-simple-choice identifier="A">a</qti-simple-choice>'
            '<qti-simple-choice identifier="B">b</qti-simple-choice></qti-choice-interaction></qti-item-body>'
            f'<qti-response-processing template="{MATCH_CORRECT}"/></qti-assessment-item>')


def json_item(identifier: str, title: str = "Client JSON item") -> dict[str, Any]:
    return {
        "identifier": identifier, "title": title, "type": "choice",
        "interaction": {"type": "choice", "responseIdentifier": "RESPONSE", "shuffle": False, "maxChoices": 1,
                        "questionStructure": {"prompt": "Which is a fruit?", "choices": [
                            {"identifier": "A", "content": "Apple"}, {"identifier": "B", "content": "Brick"}]}},
        "responseDeclarations": [{"identifier": "RESPONSE", "cardinality": "single", "baseType": "identifier",
                                  "correctResponse": {"value": ["A"]}}],
        "outcomeDeclarations": [{"identifier": "FEEDBACK", "cardinality": "single", "baseType": "identifier"}],
        "responseProcessing": {"templateType": "match_correct", "responseDeclarationIdentifier": "RESPONSE",
                               "outcomeIdentifier": "FEEDBACK", "correctResponseIdentifier": "CORRECT",
                               "incorrectResponseIdentifier": "INCORRECT"},
        "metadata": {"subject": "Science", "grade": 3, "difficulty": "easy"},
    }


def section(identifier: str, refs: list[str], sequence: int) -> dict[str, Any]:
    return {"identifier": identifier, "title": f"Section {identifier}", "visible": True, "sequence": sequence,
            "qti-assessment-item-ref": [{"identifier": r, "href": f"assessment-items/{r}"} for r in refs]}


def ref_ids(section_model: Any) -> list[str]:
    return [r.identifier for r in section_model.qti_assessment_item_ref or []]


async def drive_items(r: Runner, client: Any, made: dict[str, Any]) -> None:
    items = client.assessment_items
    xml_id, json_id, meta_id = uid("item-xml"), uid("item-json"), uid("item-meta")

    async def create_xml() -> Any:
        item = await items.create_from_xml({"format": "xml", "xml": choice_xml(xml_id),
                                            "metadata": {"subject": "Math", "grade": 4}})
        check(item.identifier == xml_id and item.raw_xml == choice_xml(xml_id), item)
        check(item.response_declarations[0].correct_response.value == ["B"], item.response_declarations)
        check(item.metadata.grade == 4 and "qti-assessment-item" in item.content, item.metadata)
        return item

    made["xml"] = await r.op("qti.assessment_items.create_from_xml", create_xml)

    async def create_json() -> Any:
        item = await items.create(json_item(json_id))
        check(item.raw_xml.lstrip().startswith("<?xml") and f'identifier="{json_id}"' in item.raw_xml, item.raw_xml)
        check(item.response_processing.template_type == "match_correct", item.response_processing)
        return item

    made["json"] = await r.op("qti.assessment_items.create (JSON)", create_json)
    other = uid("item-xml2")
    made["xml2"] = await r.op("qti.assessment_items.create (format xml)", lambda: items.create(
        {"format": "xml", "xml": choice_xml(other, "A", "Client second")}))
    made["meta"] = await r.op("qti.assessment_items.create_from_metadata",
                              lambda: items.create_from_metadata(json_item(meta_id, "Client metadata item")))

    async def get() -> None:
        item = await items.get(xml_id)
        check(item.identifier == xml_id and item.created_at == made["xml"].created_at, item)

    await r.op("qti.assessment_items.get", get, made["xml"])

    async def listing() -> None:
        page = await items.list({"query": "client", "limit": 2, "page": 1, "sort": "title", "order": "asc"})
        check(page.limit == 2 and page.page == 1 and page.total >= 4 and len(page.items) == 2, page)
        check([i.title for i in page.items] == sorted(i.title for i in page.items), [i.title for i in page.items])
        typed = await items.list({"where": {"identifier": xml_id}})
        check([i.identifier for i in typed.items] == [xml_id], typed.items)

    await r.op("qti.assessment_items.list (query, page, sort, where)", listing, made["xml"], made["json"])

    async def stream() -> None:
        got = await items.stream(limit=2, sort="title", order="asc", where={"title": {"contains": "Client"}}).to_list()
        ids = {i["identifier"] for i in got}
        check({xml_id, json_id, meta_id, other} <= ids, sorted(ids))

    await r.op("qti.assessment_items.stream", stream, made["xml"], made["json"], made["meta"], made["xml2"])

    async def scores() -> None:
        right = await items.process_response(xml_id, {"response": "B"})
        wrong = await items.process_response(xml_id, {"response": "A"})
        check(right.score == 1.0 and wrong.score == 0.0, (right, wrong))
        check(right.feedback is not None and right.feedback.identifier, right)
        json_right = await items.process_response(json_id, {"response": ["A"]})
        check(json_right.score == 1.0 and json_right.feedback.identifier == "CORRECT", json_right)

    await r.op("qti.assessment_items.process_response", scores, made["xml"], made["json"])

    async def update() -> None:
        item = await items.update(json_id, {**json_item(json_id, "Client JSON item v2"), "identifier": None})
        check(item.title == "Client JSON item v2" and item.created_at == made["json"].created_at, item)

    await r.op("qti.assessment_items.update", update, made["json"])

    async def upsert() -> None:
        fresh = uid("item-upsert")
        created = await items.upsert(fresh, json_item(fresh, "Client upserted"))
        changed = await items.upsert(fresh, json_item(fresh, "Client upserted v2"))
        check(created.title == "Client upserted" and changed.title == "Client upserted v2", changed)
        made["upserted"] = fresh

    await r.op("qti.assessment_items.upsert (create, then update)", upsert)


async def drive_tests(r: Runner, client: Any, made: dict[str, Any]) -> None:
    tests = client.assessment_tests
    item_ids = [m.identifier for m in (made.get("xml"), made.get("json"), made.get("meta"), made.get("xml2")) if m]
    test_id = uid("test")

    async def create() -> Any:
        body = {"identifier": test_id, "title": "Client test", "qti-test-part": [
            {"identifier": "part-1", "navigationMode": "linear", "submissionMode": "individual",
             "qti-assessment-section": [section("s1", item_ids[:2], 1), section("s2", item_ids[2:3], 2)]}]}
        test = await tests.create(body)
        refs = test.qti_test_part[0].qti_assessment_section[0]
        check(ref_ids(refs) == item_ids[:2] and test.raw_xml and test.content, test)
        return test

    needs = item_ids if len(item_ids) == 4 else [None]  # every item made, else skipped
    made["test"] = test = await r.op("qti.assessment_tests.create", create, *needs)
    await r.op("qti.assessment_tests.get", lambda: _same(tests.get(test_id), test_id), test)

    async def listing() -> None:
        page = await tests.list({"where": {"identifier": test_id}, "limit": 5})
        check([t.identifier for t in page.items] == [test_id] and page.total == 1, page)
        streamed = await tests.stream(limit=1, where={"title": "Client test"}).to_list()
        check(test_id in {t["identifier"] for t in streamed}, streamed)

    await r.op("qti.assessment_tests.list / stream", listing, test)
    await r.op("qti.assessment_tests.update_metadata", lambda: _check_meta(tests, test_id), test)

    parts = tests.test_parts(test_id)

    async def parts_crud() -> None:
        new_part = {"identifier": "part-2", "navigationMode": "nonlinear", "submissionMode": "simultaneous",
                    "qti-assessment-section": [section("s9", item_ids[3:], 1)]}
        created = await parts.create(new_part)
        check(created.identifier == "part-2", created)
        listed = await parts.list({"limit": 10})
        check([p.identifier for p in listed.items] == ["part-1", "part-2"], listed)
        got = await parts.get("part-2")
        check(got.navigation_mode == "nonlinear", got)
        updated = await parts.update("part-2", {**new_part, "navigationMode": "linear"})
        check(updated.navigation_mode == "linear", updated)

    await r.op("qti.test_parts.create / list / get / update", parts_crud, test)

    sections = parts.sections("part-1")

    async def sections_crud() -> None:
        created = await sections.create(section("s0", [], 1))
        check(created.identifier == "s0", created)
        listed = await sections.list({"limit": 10})
        check([s.identifier for s in listed.items] == ["s0", "s1", "s2"], [s.identifier for s in listed.items])
        got = await sections.get("s1")
        check(ref_ids(got) == item_ids[:2], got)
        updated = await sections.update("s0", {**section("s0", [], 1), "title": "Renamed"})
        check(updated.title == "Renamed", updated)
        gone = await sections.delete("s0")
        check([s.identifier for s in (await sections.list()).items] == ["s1", "s2"], gone)

    await r.op("qti.sections.create / list / get / update / delete", sections_crud, test)

    refs = sections.items("s1")

    async def refs_crud() -> None:
        added = await refs.add({"identifier": item_ids[3], "href": f"assessment-items/{item_ids[3]}"})
        check(ref_ids(added) == [*item_ids[:2], item_ids[3]], ref_ids(added))
        order = [item_ids[3], item_ids[1], item_ids[0]]
        reordered = await refs.reorder({"items": [{"identifier": i, "href": f"assessment-items/{i}"} for i in order]})
        check(ref_ids(reordered) == order, ref_ids(reordered))
        questions = await tests.get_questions(test_id)
        check([q.question.identifier for q in questions.questions][:3] == order, questions)
        check(questions.total_questions == len(questions.questions), questions)
        await refs.remove(item_ids[1])
        check(ref_ids(await sections.get("s1")) == [item_ids[3], item_ids[0]], "remove")

    await r.op("qti.section_items.add / reorder / remove, assessment_tests.get_questions", refs_crud, test)
    await r.op("qti.test_parts.delete", lambda: _gone_part(parts), test)

    async def update_and_upsert() -> None:
        body = {"title": "Client test v2", "qti-test-part": [
            {"identifier": "part-1", "navigationMode": "linear", "submissionMode": "individual",
             "qti-assessment-section": [section("s1", item_ids[:1], 1)]}]}
        updated = await tests.update(test_id, body)
        check(updated.title == "Client test v2" and ref_ids(updated.qti_test_part[0].qti_assessment_section[0])
              == item_ids[:1], updated)
        fresh = uid("test-upsert")
        created = await tests.upsert(fresh, {**body, "title": "Client upserted test"})
        check(created.identifier == fresh, created)
        await tests.delete(fresh)

    await r.op("qti.assessment_tests.update / upsert / delete", update_and_upsert, test)


async def _same(call: Any, identifier: str) -> None:
    got = await call
    check(got.identifier == identifier, got)


async def _check_meta(tests: Any, test_id: str) -> None:
    test = await tests.update_metadata(test_id, {"metadata": {"subject": "Math", "unit": 3}})
    check(test.metadata == {"subject": "Math", "unit": 3}, test.metadata)


async def _gone_part(parts: Any) -> None:
    await parts.delete("part-2")
    check([p.identifier for p in (await parts.list()).items] == ["part-1"], "part-2 still listed")


async def drive_stimuli(r: Runner, client: Any) -> None:
    stimuli = client.stimuli
    stim_id = uid("stimulus")

    async def crud() -> None:
        created = await stimuli.create({"identifier": stim_id, "title": "Client passage", "content": "<p>Read.</p>",
                                        "language": "en"})
        check(created.identifier == stim_id and "qti-assessment-stimulus" in created.raw_xml, created)
        got = await stimuli.get(stim_id)
        check(got.language == "en" and got.created_at == created.created_at, got)
        listed = await stimuli.list({"query": "client passage"})
        check(stim_id in {s.identifier for s in listed.items}, listed)
        streamed = await stimuli.stream(limit=2, sort="title").to_list()
        check(stim_id in {s["identifier"] for s in streamed}, "stream")
        updated = await stimuli.update(stim_id, {"title": "Client passage v2", "content": "<p>Again.</p>"})
        check(updated.title == "Client passage v2", updated)
        fresh = uid("stimulus-upsert")
        upserted = await stimuli.upsert(fresh, {"title": "Client upserted passage", "content": "<p>x</p>"})
        check(upserted.identifier == fresh, upserted)
        await stimuli.delete(fresh)
        await stimuli.delete(stim_id)
        try:
            await stimuli.get(stim_id)
        except APIError as exc:
            check(exc.status_code == 404, exc)
        else:
            check(False, "deleted stimulus still served")

    await r.op("qti.stimuli.create / get / list / stream / update / upsert / delete", crud)


async def drive_validate_and_feedback(r: Runner, client: Any, made: dict[str, Any]) -> None:
    async def validate() -> None:
        good = await client.validate.validate({"xml": choice_xml("v-ok"), "schema": "item", "entityId": "v-ok"})
        check(good.success and good.entity_id == "v-ok", good)
        broken = choice_xml("v-bad").replace('response-identifier="RESPONSE"', 'response-identifier="NOPE"')
        bad = await client.validate.validate({"xml": broken, "schema": "item"})
        check(not bad.success and bad.validation_errors and bad.validation_errors[0].startswith("line "), bad)
        batch = await client.validate.batch({"xml": [choice_xml("b-1"), broken], "schema": "item",
                                             "entityIds": ["b-1", "b-2"]})
        check([x.success for x in batch.results] == [True, False], batch)

    await r.op("qti.validate.validate / batch", validate)
    lesson = uid("lesson")

    async def feedback() -> None:
        first = await client.lesson.submit_lesson({"userId": "u-1", "feedback": "Too long", "lessonId": lesson})
        second = await client.lesson.submit_question({"userId": "u-2", "feedback": "Typo", "lessonId": lesson,
                                                      "questionId": "q-1"})
        check((first.type, second.type) == ("LESSON", "QUESTION"), (first, second))
        got = await client.lesson.get_lesson(lesson)
        check(got.lesson_id == lesson and got.feedback == "Typo", got)

    await r.op("qti.lesson.submit_lesson / submit_question / get_lesson", feedback)

    async def delete_by_id() -> None:
        transport = client.get_transport()
        raw = await transport.get(f"{transport.paths.base}/lesson/{lesson}")
        answer = await client.general.delete_by_id(raw["items"][0]["id"])
        check(answer.message, answer)
        left = await transport.get(f"{transport.paths.base}/lesson/{lesson}")
        check(len(left["items"]) == 1, left)

    await r.op("qti.general.delete_by_id", delete_by_id)

    async def deletes() -> None:
        test = made.get("test")
        if test is not None:
            try:
                await client.assessment_items.delete(made["xml"].identifier)
            except APIError as exc:  # still referenced by the test: refused, naming it
                check(exc.status_code == 409 and test.identifier in str(exc), exc)
            else:
                check(False, "an item the test references was deleted")
            await client.assessment_tests.delete(test.identifier)
        for key in ("xml", "json", "meta", "xml2"):
            if made.get(key):
                await client.assessment_items.delete(made[key].identifier)
        if made.get("upserted"):
            await client.assessment_items.delete(made["upserted"])
        try:
            await client.assessment_items.get(made["xml"].identifier)
        except APIError as exc:
            check(exc.status_code == 404, exc)
        else:
            check(False, "deleted item still served")

    await r.op("qti.assessment_items.delete, assessment_tests.delete", deletes, made.get("xml"))


async def main_async(args: Any) -> dict[str, Any]:
    r = Runner(args.verbose)
    started = time.perf_counter()
    client = tq.QtiClient(base_url=args.base_url, auth_url=args.token_url, client_id=args.client_id,
                          client_secret=args.client_secret, timeout=args.timeout)
    made: dict[str, Any] = {}
    async with client:
        async def auth() -> None:
            result = await client.check_auth()
            ok = result.get("ok") if isinstance(result, dict) else getattr(result, "ok", None)
            check(ok is True, result)

        await r.op("qti.check_auth", auth)
        await r.op("qti.get_transport", lambda: _transport(client, args.base_url))
        await drive_items(r, client, made)
        await drive_tests(r, client, made)
        await drive_stimuli(r, client)
        await drive_validate_and_feedback(r, client, made)
    await r.op("qti.close", client.close)
    return {"client": {"package": "timeback-qti", "version": getattr(tq, "__version__", "?"),
                       "python": sys.version.split()[0]}, "base_url": args.base_url, **outcome(r, started)}


async def _transport(client: Any, base_url: str) -> None:
    transport = client.get_transport()
    check(transport.base_url.rstrip("/") == base_url.rstrip("/") and transport.paths.base == "", transport.paths)


def main() -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args()
    return run_driver(args, main_async, IMPORT_ERROR)


if __name__ == "__main__":
    sys.exit(main())
