"""The QTI seed (fixtures/qti.py): deterministic, every interaction type in every bank, Timeback's item
metadata, documents valid by the structural checks, tests built from bank items, and OneRoster
lessons that point at real QTI content, in the world stream and on a seeded sandbox."""
from __future__ import annotations

import hashlib
import math
import random
from collections import Counter, defaultdict
from urllib.parse import urlparse

import orjson
import pytest

from tbconform.fixtures import qti as Q
from tbconform.fixtures.world import SIZES, generate
from tbconform.harness.checks import qti_scoring as S
from tbconform.specs.qti.structure import check_document

QTI = ("assessmentItems", "assessmentTests", "stimuli")
INTERACTION_OF_KIND = {
    "choice": "qti-choice-interaction", "choice-multiple": "qti-choice-interaction",
    "text-entry": "qti-text-entry-interaction", "text-entry-numeric": "qti-text-entry-interaction",
    "inline-choice": "qti-inline-choice-interaction", "order": "qti-order-interaction",
    "match": "qti-match-interaction", "gap-match": "qti-gap-match-interaction",
    "associate": "qti-associate-interaction", "hotspot": "qti-hotspot-interaction",
    "select-point": "qti-select-point-interaction", "slider": "qti-slider-interaction",
    "extended-text": "qti-extended-text-interaction",
}


def _world(size: str = "small", seed: int = 42) -> dict[str, list[dict]]:
    by: dict[str, list[dict]] = defaultdict(list)
    for collection, record in generate(seed, size):
        if collection in QTI or collection in ("resources", "componentResources", "courseComponents", "courses"):
            by[collection].append(record)
    return by


@pytest.fixture(scope="module")
def small() -> dict[str, list[dict]]:
    return _world()


def _digest(by: dict[str, list[dict]]) -> str:
    h = hashlib.sha256()
    for collection in (*QTI, "resources", "componentResources"):
        for record in by[collection]:
            h.update(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()


def test_seed_is_deterministic_and_follows_the_seed(small):
    assert _digest(small) == _digest(_world())
    assert _digest(small) != _digest(_world(seed=43))


def test_every_bank_holds_every_interaction_type_with_metadata(small):
    banks: dict[tuple[str, int], list[dict]] = defaultdict(list)
    for item in small["assessmentItems"]:
        meta = item["metadata"]
        banks[(meta["subject"], meta["grade"])].append(item)
        assert meta["difficulty"] in ("easy", "medium", "hard")
        assert meta["learningObjectiveSet"][0]["learningObjectiveIds"]
        assert item["createdAt"] == item["updatedAt"]
    spec = SIZES["small"]
    assert len(banks) == 6   # the Timeback sandbox shape: one course per (subject, grade)
    for (subject, grade), items in banks.items():
        assert len(items) == spec.units_per_course * Q.ITEMS_PER_UNIT
        assert {i["metadata"]["interaction"] for i in items} == set(Q.KINDS), (subject, grade)
        assert {i["metadata"]["difficulty"] for i in items} == {"easy", "medium", "hard"}
        for item in items:   # the XML holds the interaction its metadata names
            assert f"<{INTERACTION_OF_KIND[item['metadata']['interaction']]} " in item["rawXml"]
    kinds = Counter(i["type"] for i in small["assessmentItems"])
    assert {"choice", "text-entry", "extended-text", "inline-choice", "match", "order", "associate",
            "select-point", "hotspot", "slider"} <= set(kinds)


def test_every_seeded_document_passes_the_structural_checks(small):
    items = {i["identifier"] for i in small["assessmentItems"]}
    for collection, kind in (("assessmentItems", "item"), ("assessmentTests", "test"), ("stimuli", "stimulus")):
        for record in small[collection]:
            result = check_document(record["rawXml"], kind=kind, known_items=items.__contains__)
            assert result.valid, (record["identifier"], [(p.rule, p.message) for p in result.problems[:3]])


def test_tests_are_quizzes_unit_tests_and_one_placement_per_subject_and_grade(small):
    items = {i["identifier"]: i for i in small["assessmentItems"]}
    kinds = Counter((t["metadata"]["subject"], t["metadata"]["grade"], t["metadata"]["testType"])
                    for t in small["assessmentTests"])
    units = SIZES["small"].units_per_course
    for (subject, grade, kind), n in kinds.items():
        assert n == (1 if kind == "placement" else units), (subject, grade, kind)
    for test in small["assessmentTests"]:
        refs = [r for part in test["qti-test-part"] for s in part["qti-assessment-section"]
                for r in s["qti-assessment-item-ref"]]
        assert refs and all(r["identifier"] in items for r in refs)
        assert all(items[r["identifier"]]["metadata"]["subject"] == test["metadata"]["subject"] for r in refs)
        if test["metadata"]["testType"] == "placement":   # a section per unit
            assert len(test["qti-test-part"][0]["qti-assessment-section"]) == units


def test_oneroster_lessons_point_at_qti_tests(small):
    tests = {t["identifier"] for t in small["assessmentTests"]}
    components = {c["sourcedId"]: c for c in small["courseComponents"]}
    resources = {r["sourcedId"]: r for r in small["resources"]}
    qti = {rid: r for rid, r in resources.items() if r["metadata"]["type"] == "qti"}
    assert qti
    for resource in qti.values():
        url = urlparse(resource["metadata"]["url"])
        assert resource["metadata"]["url"].startswith(Q.QTI_HOST + "/assessment-tests/")
        assert url.path.rsplit("/", 1)[-1] in tests, resource["metadata"]["url"]
        assert resource["metadata"]["subType"] == "qti-test"
    per_course: dict[str, Counter] = defaultdict(Counter)
    orders: dict[str, list[int]] = defaultdict(list)
    for cr in small["componentResources"]:
        component = components[cr["courseComponent"]["sourcedId"]]
        orders[component["sourcedId"]].append(cr["sortOrder"])
        if cr["resource"]["sourcedId"] in qti:
            per_course[component["course"]["sourcedId"]][cr["lessonType"]] += 1
            assert resources[cr["resource"]["sourcedId"]]["metadata"]["lessonType"] == cr["lessonType"]
    units = SIZES["small"].units_per_course
    assert len(per_course) == len(small["courses"])
    assert all(c == {"placement": 1, "quiz": units, "unit-test": units} for c in per_course.values()), per_course
    assert all(len(o) == len(set(o)) for o in orders.values()), "two lessons of a unit share a sortOrder"
    for component in orders:   # the unit quiz sits just before the unit test
        lessons = sorted((cr for cr in small["componentResources"] if cr["courseComponent"]["sourcedId"] == component),
                         key=lambda cr: cr["sortOrder"])
        types = [cr["lessonType"] for cr in lessons if cr["lessonType"] != "placement"]
        assert types[-2:] == ["quiz", "unit-test"], types


def test_seeded_items_score_as_their_declarations_say(small):
    """Seeded template items: the correct response scores the full mark and the partial one the mapped
    value by the harness's independent reading (the sandbox's engine is judged in the harness test)."""
    judged = 0
    for record in small["assessmentItems"]:
        item = S.read_item(record["rawXml"])
        if item.template not in S.TEMPLATES:
            continue
        correct = S.correct_response(item, "RESPONSE")
        assert S.expected(item, "RESPONSE", correct) == 1.0, record["identifier"]
        wrong = S.wrong_response(item, "RESPONSE")
        assert wrong is not None and S.expected(item, "RESPONSE", wrong) == 0.0, record["identifier"]
        judged += 1
    assert judged >= len(small["assessmentItems"]) * 0.7


def test_gap_match_item_has_the_gaps_asked_for():
    item = S.read_item(Q.gap_match_item("gm", gaps=10))
    decl = item.declarations["RESPONSE"]
    assert len(decl.correct) == 10 and item.template == "map_response"
    assert math.isclose(S.expected(item, "RESPONSE", decl.correct), 1.0)
    assert math.isclose(S.expected(item, "RESPONSE", decl.correct[:3]), 0.3)
    assert check_document(Q.gap_match_item("gm", gaps=10), kind="item").valid


def test_build_item_is_deterministic_per_rng():
    for kind in Q.KINDS:
        assert Q.build_item(kind, "a", "t", random.Random(7)) == Q.build_item(kind, "a", "t", random.Random(7))


def test_seeded_sandbox_serves_the_linked_content():
    """On a seeded sandbox the OneRoster lesson's URL path resolves under /api, and the test's
    /questions lists its bank items in order."""
    import requests

    from tbconform.harness.http import TokenProvider
    from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    from tbconform.mocks.sandbox import SandboxConfig
    from tbconform.mocks.testing import run_sandbox

    with run_sandbox(SandboxConfig()) as running:
        token = TokenProvider(running.token_url, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET).token()
        headers = {"Authorization": f"Bearer {token}"}
        listed = requests.get(f"{running.base_url}/ims/oneroster/resources/v1p2/resources",
                              params={"limit": 500}, headers=headers, timeout=30).json()["resources"]
        lessons = [r for r in listed if (r.get("metadata") or {}).get("type") == "qti"]
        assert lessons
        path = urlparse(lessons[0]["metadata"]["url"]).path   # /api/assessment-tests/<id>
        test = requests.get(running.base_url + path, headers=headers, timeout=30)
        assert test.status_code == 200, test.text[:300]
        body = test.json()
        refs = [r["identifier"] for s in body["qti-test-part"][0]["qti-assessment-section"]
                for r in s["qti-assessment-item-ref"]]
        questions = requests.get(f"{running.base_url}{path}/questions", headers=headers, timeout=30).json()
        assert [q["reference"]["identifier"] for q in questions["questions"]] == refs


def test_watch_hook_sees_earlier_plugins_records_before_they_go_on(monkeypatch):
    """fixtures.world: a plug-in's `watch` gets the records of the plug-ins before it (only of the
    collections in its WATCHES), in time to amend them, and never its own or later ones."""
    from types import SimpleNamespace

    from tbconform.fixtures import world

    seen: list[tuple[str, str]] = []

    def watch(ctx, collection, record):
        seen.append((collection, record["id"]))
        record["amended"] = True

    first = SimpleNamespace(__name__="a", records=lambda ctx: iter([("x", {"id": "1"}), ("y", {"id": "2"})]))
    watcher = SimpleNamespace(__name__="b", WATCHES=("x",), watch=watch,
                              records=lambda ctx: iter([("x", {"id": "3"})]))
    last = SimpleNamespace(__name__="c", records=lambda ctx: iter([("x", {"id": "4"})]))
    monkeypatch.setattr(world, "plugins", lambda: [first, watcher, last])
    out = list(world._stream(world.WorldContext(seed=1, size=world.SIZES["small"])))
    assert seen == [("x", "1")]
    assert out[0] == ("x", {"id": "1", "amended": True}) and [r["id"] for _, r in out] == ["1", "2", "3", "4"]
