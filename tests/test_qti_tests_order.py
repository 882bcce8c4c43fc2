"""QTI assessment tests keep their structure in order: parts, sections and item references are
created at a position, reordered, added and removed, and every change shows in the test record,
its rawXml and `/questions` (the referenced items in test order). Deleting an item a test
references is refused with a message naming the test."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.specs.qti import content
from tbconform.specs.xmlsafe import parse
from tests.test_qti_sandbox import SPEC, choice_xml, qti_error

TEST = "/assessment-tests/{assessmentTestIdentifier}"
PARTS = TEST + "/test-parts"
SECTIONS = PARTS + "/{testPartIdentifier}/sections"
SECTION = SECTIONS + "/{identifier}"


def ref(identifier: str) -> dict[str, Any]:
    return {"identifier": identifier, "href": f"assessment-items/{identifier}"}


def section(identifier: str, refs: list[str], **extra: Any) -> dict[str, Any]:
    return {"identifier": identifier, "title": identifier.title(), "visible": True,
            "qti-assessment-item-ref": [ref(r) for r in refs], **extra}


@pytest.fixture(scope="module")
def client():
    with run_sandbox(SandboxConfig(apis=["qti"])) as running, running.client() as http:
        for n in range(1, 7):
            created = http.post("/assessment-items", json={"format": "xml", "xml": choice_xml(f"o-{n}")})
            assert created.status_code == 201
        yield http


def make_test(client: httpx.Client, identifier: str) -> dict[str, Any]:
    body = {"identifier": identifier, "title": "Ordered", "qti-test-part": [
        {"identifier": "p1", "navigationMode": "linear", "submissionMode": "individual",
         "qti-assessment-section": [section("s1", ["o-1", "o-2", "o-3"]), section("s2", ["o-4"])]}]}
    created = client.post("/assessment-tests", json=body)
    return SPEC.check("post", "/assessment-tests", created)


def xml_refs(test: dict[str, Any]) -> list[tuple[str, str]]:
    """(section, item) pairs in the order the test's rawXml lists them."""
    root = parse(test["rawXml"])
    out = []
    for sec in root.iter(f"{{{content.QTI_NS}}}qti-assessment-section"):
        out += [(sec.get("identifier"), r.get("identifier"))
                for r in sec.iter(f"{{{content.QTI_NS}}}qti-assessment-item-ref")]
    return out


def questions(client: httpx.Client, test_id: str) -> list[tuple[str, str, str]]:
    answer = client.get(f"/assessment-tests/{test_id}/questions")
    body = SPEC.check("get", "/assessment-tests/{identifier}/questions", answer)
    assert body["totalQuestions"] == len(body["questions"])
    return [(q["reference"]["testPart"], q["reference"]["section"], q["question"]["identifier"])
            for q in body["questions"]]


def test_json_test_keeps_its_order_everywhere(client) -> None:
    test = make_test(client, "ord-1")
    refs = test["qti-test-part"][0]["qti-assessment-section"][0]["qti-assessment-item-ref"]
    assert [(r["identifier"], r["sequence"]) for r in refs] == [("o-1", 1), ("o-2", 2), ("o-3", 3)]
    assert xml_refs(test) == [("s1", "o-1"), ("s1", "o-2"), ("s1", "o-3"), ("s2", "o-4")]
    assert questions(client, "ord-1") == [("p1", "s1", "o-1"), ("p1", "s1", "o-2"), ("p1", "s1", "o-3"),
                                          ("p1", "s2", "o-4")]


def test_reorder_add_and_remove_item_refs(client) -> None:
    make_test(client, "ord-2")
    base = "/assessment-tests/ord-2/test-parts/p1/sections/s1/items"
    order = client.put(base + "/order", json={"items": [ref("o-3"), ref("o-1"), ref("o-2")]})
    section_now = SPEC.check("put", SECTION + "/items/order", order)
    assert [(r["identifier"], r["sequence"]) for r in section_now["qti-assessment-item-ref"]] == [
        ("o-3", 1), ("o-1", 2), ("o-2", 3)]
    added = client.post(base, json={**ref("o-5"), "sequence": 2})
    assert [r["identifier"] for r in SPEC.check("post", SECTION + "/items", added)["qti-assessment-item-ref"]] == [
        "o-3", "o-5", "o-1", "o-2"]
    appended = client.post(base, json=ref("o-6"))
    assert [r["identifier"] for r in appended.json()["qti-assessment-item-ref"]] == ["o-3", "o-5", "o-1", "o-2", "o-6"]
    qti_error(client.post(base, json=ref("o-6")), 409)
    assert client.delete(base + "/o-1").status_code == 204
    qti_error(client.delete(base + "/o-1"), 404)
    test = client.get("/assessment-tests/ord-2").json()
    assert xml_refs(test)[:4] == [("s1", "o-3"), ("s1", "o-5"), ("s1", "o-2"), ("s1", "o-6")]
    assert [q[2] for q in questions(client, "ord-2")] == ["o-3", "o-5", "o-2", "o-6", "o-4"]
    for wrong in ([ref("o-3")], [ref("o-3"), ref("o-5"), ref("o-2"), ref("o-9")],
                  [ref("o-3"), ref("o-3"), ref("o-2"), ref("o-6")]):
        qti_error(client.put(base + "/order", json={"items": wrong}), 400)
    assert [q[2] for q in questions(client, "ord-2")] == ["o-3", "o-5", "o-2", "o-6", "o-4"]


def test_sections_and_parts_crud_in_order(client) -> None:
    make_test(client, "ord-3")
    sections = "/assessment-tests/ord-3/test-parts/p1/sections"
    first = client.post(sections, json={**section("s0", ["o-6"]), "sequence": 1})
    assert SPEC.check("post", SECTIONS, first)["sequence"] == 1
    listed = SPEC.check("get", SECTIONS, client.get(sections))
    assert [s["identifier"] for s in listed["items"]] == ["s0", "s1", "s2"] and listed["total"] == 3
    paged = client.get(sections, params={"limit": 1, "page": 3}).json()
    assert [s["identifier"] for s in paged["items"]] == ["s2"] and paged["pages"] == 3
    qti_error(client.post(sections, json=section("s1", [])), 409)
    updated = client.put(sections + "/s1", json={**section("s1", ["o-2"]), "title": "Renamed"})
    body = SPEC.check("put", SECTION, updated)
    assert body["title"] == "Renamed" and body["sequence"] == 2
    assert SPEC.check("get", SECTION, client.get(sections + "/s1"))["qti-assessment-item-ref"][0]["identifier"] == "o-2"
    deleted = client.delete(sections + "/s0")
    assert SPEC.check("delete", SECTION, deleted)["message"]
    parts = "/assessment-tests/ord-3/test-parts"
    new_part = {"identifier": "p2", "navigationMode": "nonlinear", "submissionMode": "simultaneous",
                "qti-assessment-section": [section("s9", ["o-5"])]}
    assert SPEC.check("post", PARTS, client.post(parts, json=new_part))["identifier"] == "p2"
    assert [p["identifier"] for p in SPEC.check("get", PARTS, client.get(parts))["items"]] == ["p1", "p2"]
    nonlinear = client.get(parts, params={"navigationMode": "nonlinear"}).json()["items"]
    assert [p["identifier"] for p in nonlinear] == ["p2"]
    by_mode = client.get("/assessment-tests", params={"submissionMode": "simultaneous", "query": "ord-3"}).json()
    assert [t["identifier"] for t in by_mode["items"]] == ["ord-3"]
    make_test(client, "ord-3b")  # its one part is individual
    assert client.get("/assessment-tests", params={"submissionMode": "simultaneous", "query": "ord-3b"}).json()[
        "total"] == 0
    assert client.get("/assessment-tests", params={"submissionMode": "individual", "query": "ord-3b"}).json()[
        "total"] == 1
    assert [q[:2] for q in questions(client, "ord-3")] == [("p1", "s1"), ("p1", "s2"), ("p2", "s9")]
    changed = client.put(parts + "/p2", json={**new_part, "navigationMode": "linear"})
    assert SPEC.check("put", PARTS + "/{identifier}", changed)["navigationMode"] == "linear"
    assert client.get(parts + "/p2").json()["navigationMode"] == "linear"
    assert client.delete(parts + "/p1").status_code == 204
    assert [q[2] for q in questions(client, "ord-3")] == ["o-5"]
    test = client.get("/assessment-tests/ord-3").json()
    assert [p["identifier"] for p in test["qti-test-part"]] == ["p2"] and xml_refs(test) == [("s9", "o-5")]
    qti_error(client.get(parts + "/p1"), 404)
    qti_error(client.get("/assessment-tests/none/test-parts"), 404)


def test_deleting_a_referenced_item_is_refused_naming_the_test(client) -> None:
    assert client.post("/assessment-items", json={"format": "xml", "xml": choice_xml("o-ref")}).status_code == 201
    client.post("/assessment-tests", json={"identifier": "ord-ref", "title": "Refs", "qti-test-part": [
        {"identifier": "p", "navigationMode": "linear", "submissionMode": "individual",
         "qti-assessment-section": [section("s", ["o-ref"])]}]})
    refused = client.delete("/assessment-items/o-ref")
    assert "ord-ref" in qti_error(refused, 409)["error"]
    SPEC.check("delete", "/assessment-items/{identifier}", refused)
    assert client.get("/assessment-items/o-ref").status_code == 200
    assert client.delete("/assessment-tests/ord-ref/test-parts/p/sections/s/items/o-ref").status_code == 204
    assert client.delete("/assessment-items/o-ref").status_code == 204
    qti_error(client.get("/assessment-items/o-ref"), 404)
