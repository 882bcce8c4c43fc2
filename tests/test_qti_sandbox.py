"""QTI in the sandbox: the spec is generated, valid and covers the catalog; items, tests and stimuli
are created from QTI 3.0 XML or Timeback's JSON and keep real `rawXml` and a parsed `content`;
lists page, sort, search and filter as Timeback's QTI lists do; the API answers at the root and
under /api; hostile or broken XML gets a 4xx in the QTI envelope and stores nothing;
process-response scores with the item's own processing; validate reports problems with their line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from lxml import etree
from openapi_spec_validator import validate as validate_openapi

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.specs.qti import _generate, content
from tbconform.specs.xmlsafe import parse
from tests.conftest import catalog_rows, route, spec_routes

SPEC_FILE = Path(__file__).resolve().parents[1] / "specs" / "qti" / "qti.yaml"
METHODS = ("get", "put", "post", "delete", "patch")
NS = content.QTI_NS
MATCH_CORRECT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"


def choice_xml(identifier: str, correct: str = "B", title: str = "Add") -> str:
    return (f'<qti-assessment-item xmlns="{NS}" identifier="{identifier}" title="{title}" adaptive="false" '
            'time-dependent="false"><qti-response-declaration identifier="RESPONSE" cardinality="single" '
            f'base-type="identifier"><qti-correct-response><qti-value>{correct}</qti-value></qti-correct-response>'
            '</qti-response-declaration><qti-outcome-declaration identifier="SCORE" cardinality="single" '
            'base-type="float"/><qti-item-body><qti-choice-interaction response-identifier="RESPONSE" '
            'max-choices="1"><qti-prompt>2 + 2?</qti-prompt><qti-simple-choice identifier="A">3</qti-simple-choice>'
            '<qti-simple-choice identifier="B">4</qti-simple-choice><qti-simple-choice identifier="C">5'
            '</qti-simple-choice></qti-choice-interaction></qti-item-body>'
            f'<qti-response-processing template="{MATCH_CORRECT}"/></qti-assessment-item>')


def text_entry_xml(identifier: str) -> str:
    return (f'<qti-assessment-item xmlns="{NS}" identifier="{identifier}" title="Capital" adaptive="false" '
            'time-dependent="false"><qti-response-declaration identifier="RESPONSE" cardinality="single" '
            'base-type="string"><qti-correct-response><qti-value>Paris</qti-value></qti-correct-response>'
            '<qti-mapping default-value="0"><qti-map-entry map-key="Paris" mapped-value="1" case-sensitive="true"/>'
            '<qti-map-entry map-key="paris" mapped-value="0.5" case-sensitive="true"/></qti-mapping>'
            '</qti-response-declaration><qti-outcome-declaration identifier="SCORE" cardinality="single" '
            'base-type="float"/><qti-item-body><p>The capital of France is <qti-text-entry-interaction '
            'response-identifier="RESPONSE" expected-length="10"/>.</p></qti-item-body><qti-response-processing '
            'template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response"/></qti-assessment-item>')


def order_xml(identifier: str) -> str:
    return (f'<qti-assessment-item xmlns="{NS}" identifier="{identifier}" title="Order" adaptive="false" '
            'time-dependent="false"><qti-response-declaration identifier="RESPONSE" cardinality="ordered" '
            'base-type="identifier"><qti-correct-response><qti-value>C</qti-value><qti-value>A</qti-value>'
            '<qti-value>B</qti-value></qti-correct-response></qti-response-declaration><qti-outcome-declaration '
            'identifier="SCORE" cardinality="single" base-type="float"/><qti-item-body><qti-order-interaction '
            'response-identifier="RESPONSE"><qti-simple-choice identifier="A">a</qti-simple-choice>'
            '<qti-simple-choice identifier="B">b</qti-simple-choice><qti-simple-choice identifier="C">c'
            f'</qti-simple-choice></qti-order-interaction></qti-item-body><qti-response-processing '
            f'template="{MATCH_CORRECT}"/></qti-assessment-item>')


JSON_ITEM = {
    "identifier": "json-choice-1", "title": "Colours", "type": "choice",
    "interaction": {"type": "choice", "responseIdentifier": "RESPONSE", "shuffle": False, "maxChoices": 1,
                    "questionStructure": {"prompt": "Which is <b>red</b>?", "choices": [
                        {"identifier": "A", "content": "Apple", "feedbackInline": "Yes", "feedbackOutcomeIdentifier":
                         "FEEDBACK-INLINE"},
                        {"identifier": "B", "content": "Banana"}]}},
    "responseDeclarations": [{"identifier": "RESPONSE", "cardinality": "single", "baseType": "identifier",
                              "correctResponse": {"value": ["A"]}}],
    "outcomeDeclarations": [{"identifier": "FEEDBACK", "cardinality": "single", "baseType": "identifier"}],
    "responseProcessing": {"templateType": "match_correct", "responseDeclarationIdentifier": "RESPONSE",
                           "outcomeIdentifier": "FEEDBACK", "correctResponseIdentifier": "CORRECT",
                           "incorrectResponseIdentifier": "INCORRECT"},
    "modalFeedback": [{"outcomeIdentifier": "FEEDBACK", "identifier": "CORRECT", "showHide": "show",
                       "content": "<p>Well done</p>", "title": "Right"}],
    "metadata": {"subject": "Science", "grade": 3, "difficulty": "easy"},
}


class Spec:
    def __init__(self) -> None:
        self.doc = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))

    def check(self, method: str, path: str, answer: httpx.Response) -> Any:
        """The status is documented and the body valid against that status' schema."""
        responses = self.doc["paths"][path][method]["responses"]
        assert str(answer.status_code) in responses, (method, path, answer.status_code, answer.text[:300])
        response = responses[str(answer.status_code)]
        if "$ref" in response:
            response = self.doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        media = (response.get("content") or {}).get("application/json")
        if media is None:
            assert answer.content == b""
            return None
        body = answer.json()
        validator = Draft202012Validator({**media["schema"], "components": self.doc["components"]},
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(body)]
        assert not errors, (method, path, errors[:3])
        return body


SPEC = Spec()


@pytest.fixture(scope="module")
def running():
    with run_sandbox(SandboxConfig(apis=["qti"])) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(running) -> httpx.Client:
    with running.client() as http:
        yield http


def qti_error(answer: httpx.Response, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert answer.status_code in statuses, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert set(body) == {"error", "details"} and all(isinstance(v, str) and v for v in body.values()), body
    return body


# ----------------------------------------------------------------------------------------------
# The spec
# ----------------------------------------------------------------------------------------------


def test_spec_is_valid_and_generated() -> None:
    text = SPEC_FILE.read_text(encoding="utf-8")
    assert text == _generate.render(), "qti.yaml is stale: run `python -m tbconform.specs.qti._generate`"
    spec = yaml.safe_load(text)
    validate_openapi(spec)
    assert spec["x-tb-api"] == "qti" and spec["x-tb-error-style"] == "error-details"
    assert spec["x-tb-mounts"] == ["", "/api"]
    assert set(spec["x-tb-collections"]) == {"assessmentItems", "assessmentTests", "stimuli", "feedback"}
    ids = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            ids.append(op["operationId"])
            assert "x-tb-binding" in op or "x-tb-behaviour" in op, (method, path)
            for status, resp in op["responses"].items():
                if status.startswith("4"):
                    name = resp["$ref"].rsplit("/", 1)[1]
                    schema = spec["components"]["responses"][name]["content"]["application/json"]["schema"]
                    assert schema["$ref"].endswith("/QtiError"), (method, path, status)
    assert len(ids) == len(set(ids)) == 38
    media = spec["paths"]["/assessment-tests"]["post"]["requestBody"]["content"]
    assert set(media) == {"application/json", "application/xml"}
    assert all(set(d) == {"topic", "timeback", "oneEdTech", "sandbox", "ignore"} for d in spec["x-tb-differences"])


def test_examples_are_valid_against_their_schemas() -> None:
    doc = SPEC.doc
    for name, schema in doc["components"]["schemas"].items():
        if "example" in schema:
            validator = Draft202012Validator({**schema, "components": doc["components"]},
                                             format_checker=Draft202012Validator.FORMAT_CHECKER)
            assert not list(validator.iter_errors(schema["example"])), name
    for path, item in doc["paths"].items():
        for method, op in item.items():
            xml = ((op.get("requestBody") or {}).get("content") or {}).get("application/xml") if method in METHODS \
                else None
            if xml:
                assert parse(xml["example"]) is not None, (method, path)


def test_catalog_rows_are_covered() -> None:
    rows = catalog_rows({"QTI"})
    assert len(rows) == 38
    wanted = {route(r["method"], r["path"]) for r in rows}
    assert not sorted(wanted - spec_routes(SPEC.doc))


# ----------------------------------------------------------------------------------------------
# Items: XML and JSON, both mounts
# ----------------------------------------------------------------------------------------------


def test_item_from_xml_crud_at_both_mounts(client) -> None:
    created = client.post("/api/assessment-items", json={"format": "xml", "xml": choice_xml("crud-1"),
                                                         "metadata": {"subject": "Math", "grade": 5}})
    item = SPEC.check("post", "/assessment-items", created)
    assert created.status_code == 201
    assert item["identifier"] == "crud-1" and item["type"] == "choice" and item["qtiVersion"] == "3.0"
    assert item["rawXml"] == choice_xml("crud-1") and item["metadata"] == {"subject": "Math", "grade": 5}
    assert item["responseDeclarations"] == [{"identifier": "RESPONSE", "cardinality": "single",
                                             "baseType": "identifier", "correctResponse": {"value": ["B"]}}]
    assert item["content"]["qti-assessment-item"]["_attributes"]["identifier"] == "crud-1"
    assert item["responseProcessing"]["templateType"] == "match_correct"
    read = client.get("/assessment-items/crud-1")
    assert SPEC.check("get", "/assessment-items/{identifier}", read) == item
    assert client.post("/assessment-items", json={"format": "xml", "xml": choice_xml("crud-1")}).status_code == 409
    updated = client.put("/api/assessment-items/crud-1", json={"format": "xml",
                                                               "xml": choice_xml("crud-1", "C", "Add again")})
    body = SPEC.check("put", "/assessment-items/{identifier}", updated)
    assert body["title"] == "Add again" and body["createdAt"] == item["createdAt"]
    assert body["responseDeclarations"][0]["correctResponse"] == {"value": ["C"]}
    other = client.put("/assessment-items/crud-1", json={"format": "xml", "xml": choice_xml("crud-2")})
    assert "differs" in qti_error(other, 422)["error"]
    assert client.delete("/api/assessment-items/crud-1").status_code == 204
    gone = client.get("/assessment-items/crud-1")
    qti_error(gone, 404)
    SPEC.check("get", "/assessment-items/{identifier}", gone)


def test_item_from_json_gets_real_xml_and_scores(client) -> None:
    created = client.post("/assessment-items", json=JSON_ITEM)
    item = SPEC.check("post", "/assessment-items", created)
    root = parse(item["rawXml"])
    assert etree.QName(root).localname == "qti-assessment-item" and root.get("identifier") == "json-choice-1"
    assert [c.get("identifier") for c in root.iter(f"{{{NS}}}qti-simple-choice")] == ["A", "B"]
    assert item["interaction"] == JSON_ITEM["interaction"]
    assert item["responseProcessing"] == JSON_ITEM["responseProcessing"]
    assert [f["identifier"] for f in item["modalFeedback"]] == ["CORRECT"]
    assert item["metadata"]["grade"] == 3
    right = client.post("/assessment-items/json-choice-1/process-response", json={"identifier": "RESPONSE",
                                                                                  "response": "A"})
    assert SPEC.check("post", "/assessment-items/{identifier}/process-response", right) == {
        "score": 1.0, "feedback": {"identifier": "CORRECT", "value": "Well done"}}
    wrong = client.post("/assessment-items/json-choice-1/process-response", json={"identifier": "RESPONSE",
                                                                                  "response": "B"})
    assert wrong.json()["score"] == 0.0 and wrong.json()["feedback"]["identifier"] == "INCORRECT"
    again = client.post("/assessment-items/metadata", json={**JSON_ITEM, "identifier": "json-choice-2"})
    assert SPEC.check("post", "/assessment-items/metadata", again)["identifier"] == "json-choice-2"


@pytest.mark.parametrize("make", [choice_xml, text_entry_xml, order_xml])
def test_xml_round_trip_preserves_interactions_and_declarations(make) -> None:
    record = content.item_record_from_xml(make("rt-1"))
    assert record["rawXml"] == make("rt-1")
    rebuilt = content.item_record_from_xml(content.item_xml_from_json(record))
    for key in ("identifier", "title", "responseDeclarations", "timeDependent", "adaptive"):
        assert rebuilt[key] == record[key], key
    assert {d["identifier"] for d in rebuilt["outcomeDeclarations"]} >= {"SCORE"}
    interactions = [etree.QName(el).localname for el in content.interactions(parse(make("rt-1")))]
    assert record["type"] == content.INTERACTION_TYPES[interactions[0]]


def test_json_choice_survives_an_xml_round_trip() -> None:
    xml = content.item_xml_from_json(JSON_ITEM)
    record = content.item_record_from_xml(xml)
    again = content.item_record_from_xml(content.item_xml_from_json({**JSON_ITEM, **{
        k: record[k] for k in ("responseDeclarations", "outcomeDeclarations", "responseProcessing")}}))
    assert again["responseDeclarations"] == record["responseDeclarations"]
    assert again["outcomeDeclarations"] == record["outcomeDeclarations"]
    assert again["responseProcessing"] == record["responseProcessing"]
    assert again["content"] == record["content"]


# ----------------------------------------------------------------------------------------------
# Lists: page, limit, sort, order, query, filter
# ----------------------------------------------------------------------------------------------


def test_lists_page_sort_search_and_filter(client) -> None:
    titles = ["Zebra", "Apple", "Mango", "Kiwi", "Banana"]  # with a word no seeded title has: "qzl"
    for n, title in enumerate(titles):
        make = text_entry_xml if n % 2 else choice_xml
        xml = make(f"list-{n}").replace('title="Add"', f'title="{title} qzl"').replace(
            'title="Capital"', f'title="{title} qzl"')
        assert client.post("/assessment-items", json={"format": "xml", "xml": xml}).status_code == 201
    page = client.get("/assessment-items", params={"query": "QZL", "limit": 2, "page": 2, "sort": "title",
                                                   "order": "asc"})
    body = SPEC.check("get", "/assessment-items", page)
    assert (body["total"], body["page"], body["pages"], body["limit"]) == (5, 2, 3, 2)
    assert (body["sort"], body["order"]) == ("title", "asc")
    assert [i["title"] for i in body["items"]] == ["Kiwi qzl", "Mango qzl"]
    newest = client.get("/api/assessment-items", params={"query": "qzl"}).json()
    assert newest["sort"] == "createdAt" and newest["order"] == "desc" and newest["limit"] == 10
    assert [i["identifier"] for i in newest["items"]] == [f"list-{n}" for n in (4, 3, 2, 1, 0)]
    typed = client.get("/assessment-items", params={"filter": "type='text-entry' AND title~'qzl'"}).json()
    assert sorted(i["identifier"] for i in typed["items"]) == ["list-1", "list-3"]
    qti_error(client.get("/assessment-items", params={"sort": "rawXml"}), 400)
    qti_error(client.get("/assessment-items", params={"filter": "nosuch='x'"}), 400)
    qti_error(client.get("/assessment-items", params={"page": 0}), 400)


# ----------------------------------------------------------------------------------------------
# Hostile and broken XML
# ----------------------------------------------------------------------------------------------

XXE = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       f'<qti-assessment-item xmlns="{NS}" identifier="xxe" title="&xxe;"/>')
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
          '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>'
          f'<qti-assessment-item xmlns="{NS}" identifier="lol" title="&lol3;"/>')
ATTACKS = {
    "xxe": XXE,
    "billion-laughs": LAUGHS,
    "undeclared-entity": f'<qti-assessment-item xmlns="{NS}" identifier="ent" title="&bogus;"/>',
    "malformed": f'<qti-assessment-item xmlns="{NS}" identifier="bad"><qti-item-body>',
    "not-an-item": f'<qti-assessment-test xmlns="{NS}" identifier="wrong-root" title="T"/>',
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_hostile_or_broken_item_xml_is_a_4xx_and_stores_nothing(client, name) -> None:
    before = client.get("/assessment-items", params={"limit": 1}).json()["total"]
    answer = client.post("/assessment-items", json={"format": "xml", "xml": ATTACKS[name]})
    error = qti_error(answer, 400)
    assert "passwd" not in answer.text and "lollol" not in answer.text
    if name != "not-an-item":
        assert "line" in error["details"]
    assert client.get("/assessment-items", params={"limit": 1}).json()["total"] == before


def test_xml_bodies_refuse_bombs_bad_encoding_and_size(client) -> None:
    xml_headers = {"content-type": "application/xml"}
    for body in (XXE.encode(), LAUGHS.encode(),
                 f'<qti-assessment-test xmlns="{NS}" identifier="enc" title="caf\xe9"/>'.encode("latin-1")):
        qti_error(client.post("/assessment-tests", content=body, headers=xml_headers), 400)
    huge = f'<qti-assessment-test xmlns="{NS}" identifier="huge" title="{"x" * (2 << 20)}"/>'.encode()
    qti_error(client.post("/assessment-tests", content=huge, headers=xml_headers), 413)
    qti_error(client.post("/assessment-tests", content=b"<a/>", headers={"content-type": "text/plain"}), 415)
    qti_error(client.post("/assessment-items", content=choice_xml("x").encode(), headers=xml_headers), 415)
    assert client.get("/assessment-tests/enc").status_code == 404


def test_tests_accept_xml_bodies(client) -> None:
    xml = (f'<qti-assessment-test xmlns="{NS}" identifier="xml-test" title="By XML"><qti-test-part identifier="p1" '
           'navigation-mode="nonlinear" submission-mode="simultaneous"><qti-assessment-section identifier="s1" '
           'title="One" visible="true"><qti-assessment-item-ref identifier="i2" href="assessment-items/i2"/>'
           '<qti-assessment-item-ref identifier="i1" href="assessment-items/i1"/></qti-assessment-section>'
           '</qti-test-part></qti-assessment-test>')
    created = client.post("/assessment-tests", content=xml.encode(), headers={"content-type": "application/xml"})
    test = SPEC.check("post", "/assessment-tests", created)
    assert test["rawXml"] == xml and test["isValidXml"] is True
    part = test["qti-test-part"][0]
    assert (part["navigationMode"], part["submissionMode"]) == ("nonlinear", "simultaneous")
    refs = part["qti-assessment-section"][0]["qti-assessment-item-ref"]
    assert [(r["identifier"], r["sequence"]) for r in refs] == [("i2", 1), ("i1", 2)]
    meta = client.put("/assessment-tests/xml-test/metadata", json={"metadata": {"subject": "Math"}})
    body = SPEC.check("put", "/assessment-tests/{identifier}/metadata", meta)
    assert body["metadata"] == {"subject": "Math"} and body["rawXml"] == xml
    renamed = xml.replace('title="By XML"', 'title="Renamed"')
    put = client.put("/api/assessment-tests/xml-test", content=renamed.encode(),
                     headers={"content-type": "application/xml; charset=utf-8"})
    assert SPEC.check("put", "/assessment-tests/{identifier}", put)["title"] == "Renamed"


# ----------------------------------------------------------------------------------------------
# process-response
# ----------------------------------------------------------------------------------------------


def test_process_response_scores_and_refuses_misfits(client) -> None:
    for make, name in ((choice_xml, "pr-choice"), (text_entry_xml, "pr-text"), (order_xml, "pr-order")):
        assert client.post("/assessment-items", json={"format": "xml", "xml": make(name)}).status_code == 201
    path = "/assessment-items/{identifier}/process-response"

    def score(item: str, response: Any, identifier: str = "RESPONSE") -> httpx.Response:
        return client.post(f"/api/assessment-items/{item}/process-response",
                           json={"identifier": identifier, "response": response})

    assert SPEC.check("post", path, score("pr-choice", "B"))["score"] == 1.0
    assert score("pr-choice", "A").json() == {"score": 0.0, "feedback": {"identifier": "incorrect",
                                                                          "value": "Incorrect"}}
    assert score("pr-choice", "B", identifier="pr-choice").json()["score"] == 1.0  # the client's form
    assert score("pr-text", "Paris").json()["score"] == 1.0
    assert score("pr-text", "paris").json()["score"] == 0.5
    assert score("pr-text", "PARIS").json()["score"] == 0.0
    assert score("pr-text", "").json()["score"] == 0.0
    assert score("pr-order", ["C", "A", "B"]).json()["score"] == 1.0
    assert score("pr-order", ["A", "B", "C"]).json()["score"] == 0.0
    assert "expects" in qti_error(score("pr-choice", ["A", "B"]), 422)["error"]
    assert "NOPE" in qti_error(score("pr-choice", "B", identifier="NOPE"), 422)["error"]
    missing = score("no-such-item", "B")
    qti_error(missing, 404)
    SPEC.check("post", path, missing)
    qti_error(client.post("/assessment-items/pr-choice/process-response", json={"response": "B"}), 400)


def test_compiled_items_follow_updates(client) -> None:
    assert client.post("/assessment-items", json={"format": "xml", "xml": choice_xml("cache-1")}).status_code == 201
    url = "/assessment-items/cache-1/process-response"
    assert client.post(url, json={"identifier": "RESPONSE", "response": "B"}).json()["score"] == 1.0
    client.put("/assessment-items/cache-1", json={"format": "xml", "xml": choice_xml("cache-1", "A")})
    assert client.post(url, json={"identifier": "RESPONSE", "response": "B"}).json()["score"] == 0.0
    assert client.post(url, json={"identifier": "RESPONSE", "response": "A"}).json()["score"] == 1.0


# ----------------------------------------------------------------------------------------------
# validate, stimuli, feedback
# ----------------------------------------------------------------------------------------------


def test_validate_reports_problems_with_lines(client) -> None:
    good = client.post("/validate", json={"xml": choice_xml("v-1"), "schema": "item", "entityId": "v-1"})
    assert SPEC.check("post", "/validate", good)["success"] is True
    broken = choice_xml("v-2").replace('response-identifier="RESPONSE"', 'response-identifier="NOPE"')
    bad = client.post("/api/validate", json={"xml": broken, "schema": "item"}).json()
    assert bad["success"] is False and bad["validationErrors"]
    assert all(e.startswith("line ") and "[" in e for e in bad["validationErrors"])
    malformed = client.post("/validate", json={"xml": "<qti-assessment-item", "schema": "item"}).json()
    assert malformed["success"] is False and malformed["validationErrors"][0].startswith("line 1: [")
    client.post("/assessment-items", json={"format": "xml", "xml": choice_xml("v-stored")})
    stored = client.post("/validate", json={"schema": "item", "entityId": "v-stored"}).json()
    assert stored["success"] is True and stored["xmlContent"] == choice_xml("v-stored")
    qti_error(client.post("/validate", json={"schema": "item", "entityId": "v-none"}), 404)
    batch = client.post("/validate/batch", json={"xml": [choice_xml("b-1"), broken], "schema": "item",
                                                 "entityIds": ["b-1", "b-2"]})
    results = SPEC.check("post", "/validate/batch", batch)["results"]
    assert [(r["entityId"], r["success"]) for r in results] == [("b-1", True), ("b-2", False)]


def test_stimuli_crud(client) -> None:
    created = client.post("/stimuli", json={"identifier": "stim-1", "title": "Qzl passage", "content": "<p>Read.</p>",
                                            "language": "en", "metadata": {"subject": "ELA"}})
    stimulus = SPEC.check("post", "/stimuli", created)
    root = parse(stimulus["rawXml"])
    assert etree.QName(root).localname == "qti-assessment-stimulus" and stimulus["language"] == "en"
    assert stimulus["content"]["qti-assessment-stimulus"]["qti-stimulus-body"]["p"] == {"_text": "Read."}
    put = client.put("/stimuli/stim-1", json={"identifier": "stim-1", "title": "Qzl passage 2",
                                              "content": "<p>Again.</p>"})
    assert SPEC.check("put", "/stimuli/{identifier}", put)["title"] == "Qzl passage 2"
    listed = SPEC.check("get", "/stimuli", client.get("/stimuli", params={"query": "qzl"}))
    assert [s["identifier"] for s in listed["items"]] == ["stim-1"]
    assert client.delete("/api/stimuli/stim-1").status_code == 204
    qti_error(client.get("/stimuli/stim-1"), 404)


def test_feedback_create_read_delete(client) -> None:
    lesson = client.post("/lesson", json={"userId": "u-1", "feedback": "Too long", "lessonId": "lesson-fb"})
    first = SPEC.check("post", "/lesson", lesson)
    question = client.post("/question", json={"userId": "u-2", "feedback": "Typo", "lessonId": "lesson-fb",
                                              "questionId": "q-1"})
    second = SPEC.check("post", "/question", question)
    assert (first["type"], second["type"]) == ("LESSON", "QUESTION")
    read = SPEC.check("get", "/lesson/{lessonId}", client.get("/lesson/lesson-fb"))
    assert read["id"] == second["id"] and [f["id"] for f in read["items"]] == [first["id"], second["id"]]
    deleted = client.delete(f"/api/{first['id']}")
    assert SPEC.check("delete", "/{id}", deleted) == {"message": "Feedback deleted"}
    assert [f["id"] for f in client.get("/lesson/lesson-fb").json()["items"]] == [second["id"]]
    qti_error(client.get("/lesson/none"), 404)


def test_root_feedback_route_claims_no_other_path() -> None:
    with run_sandbox(SandboxConfig()) as running, running.client() as http:
        assert http.get("/no-such-thing").status_code == 404
        assert http.post("/no-such-thing").status_code == 404
        assert http.delete("/stimuli").status_code == 405  # a static path still decides
        users = http.get("/ims/oneroster/rostering/v1p2/users", params={"limit": 1})
        assert users.status_code == 200 and "users" in users.json()
        assert http.get("/api/assessment-items", params={"limit": 1}).status_code == 200
        assert http.get("/api/ims/oneroster/rostering/v1p2/users").status_code == 404  # only QTI is mounted there
