"""The seeded school world: determinism, exact small counts, referential integrity, bundle files.

Nothing here is timed (``bench/seed_bench.py`` measures speed and memory).
"""
from __future__ import annotations

import csv
import glob
import hashlib
import itertools
import json
import os
import re
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Iterable, Iterator

import orjson
import pytest

from tbconform.fixtures import bundle, oneroster, world
from tbconform.fixtures.bundle import write_bundle
from tbconform.fixtures.world import SIZES, generate

REPO = Path(__file__).resolve().parents[1]
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SESSION_TYPE_OF_REF = {"term": {"term"}, "gradingPeriod": {"gradingPeriod"},
                       "academicSession": {"schoolYear", "semester", "term", "gradingPeriod"}}
YEAR_START, YEAR_END = "2025-08-18", "2026-06-05"

NO_HISTORY = 0  # district worlds here leave out the activity history (tests/test_fixtures_history.py)


def stream_hash(records: Iterable[tuple[str, dict]], limit: int | None = None) -> str:
    h = hashlib.sha256()
    for collection, record in itertools.islice(records, limit):
        h.update(collection.encode())
        h.update(orjson.dumps(record))
    return h.hexdigest()


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def guid_refs(node: object, path: str = "") -> Iterator[tuple[str, dict]]:
    """Every GUIDRef (dict with href/sourcedId/type) inside a record, with its field path."""
    if isinstance(node, dict):
        if set(node) == {"href", "sourcedId", "type"}:
            yield path, node
            return
        for key, value in node.items():
            yield from guid_refs(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for value in node:
            yield from guid_refs(value, path)


class WorldChecker:
    """Streaming referential-integrity and plausibility checks over a (collection, record) stream.

    Holds one small entry per record (ids and a few attributes), so it can follow the large world.
    """

    def __init__(self) -> None:
        self.ids: dict[str, set[str]] = defaultdict(set)
        self.all_ids: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.user_role: dict[str, str] = {}
        self.student_grade: dict[str, int] = {}
        self.session_type: dict[str, str] = {}
        self.class_primary: Counter[str] = Counter()
        self.class_students: Counter[str] = Counter()
        self.student_classes: Counter[str] = Counter()
        self.inverse: list[tuple[str, dict]] = []
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)

    def feed(self, collection: str, rec: dict) -> None:
        if collection not in oneroster.COLLECTIONS:   # other plug-ins' records: their own tests
            self.counts[collection] += 1               # (tests/test_fixtures_history.py)
            return
        sid = rec["sourcedId"]
        where = f"{collection}/{sid}"
        self.counts[collection] += 1
        if not UUID4.match(sid):
            self.problem(f"{where}: sourcedId is not UUID4-shaped")
        if rec["status"] != "active" or rec["dateLastModified"] != world.DATE_LAST_MODIFIED:
            self.problem(f"{where}: status/dateLastModified not the fixed values")
        if collection == "demographics":
            if sid not in self.ids["users"]:
                self.problem(f"{where}: no user with this sourcedId precedes it")
        elif sid in self.all_ids:
            self.problem(f"{where}: duplicate sourcedId")
        for path, ref in guid_refs(rec):
            kind, target = ref["type"], ref["sourcedId"]
            if kind not in oneroster.REF_COLLECTION:
                self.problem(f"{where}.{path}: unknown GUIDRef type {kind!r}")
                continue
            if ref["href"] != oneroster.HREF[kind] + target:
                self.problem(f"{where}.{path}: href {ref['href']} does not match type/sourcedId")
            if path.split(".")[0] in oneroster.INVERSE_REFS:
                self.inverse.append((where, ref))      # may point forward; checked at the end
                continue
            self.resolve(where, path, ref)
        getattr(self, f"_{collection}", lambda r: None)(rec)
        self.ids[collection].add(sid)
        if collection != "demographics":
            self.all_ids.add(sid)

    def resolve(self, where: str, path: str, ref: dict) -> None:
        kind, target = ref["type"], ref["sourcedId"]
        if target not in self.ids[oneroster.REF_COLLECTION[kind]]:
            self.problem(f"{where}.{path}: {kind} {target} not found (earlier in the stream)")
        elif kind in SESSION_TYPE_OF_REF and self.session_type[target] not in SESSION_TYPE_OF_REF[kind]:
            self.problem(f"{where}.{path}: {kind} ref to a {self.session_type[target]}")

    # per-collection checks ------------------------------------------------------------------
    def _academicSessions(self, rec: dict) -> None:
        self.session_type[rec["sourcedId"]] = rec["type"]
        if not (YEAR_START <= rec["startDate"] <= rec["endDate"] <= YEAR_END):
            self.problem(f"academicSessions/{rec['sourcedId']}: dates outside the school year")

    def _users(self, rec: dict) -> None:
        role = rec["roles"][0]["role"]
        self.user_role[rec["sourcedId"]] = role
        if rec["enabledUser"] != "true":
            self.problem(f"users/{rec['sourcedId']}: enabledUser must be the string 'true'")
        if role == "student":
            self.student_grade[rec["sourcedId"]] = int(rec["grades"][0])
            if not 1 <= len(rec["agents"]) <= 2:
                self.problem(f"users/{rec['sourcedId']}: student has {len(rec['agents'])} agents")
        for agent in rec["agents"]:
            if self.user_role.get(agent["sourcedId"]) not in ("parent", "guardian"):
                self.problem(f"users/{rec['sourcedId']}: agent {agent['sourcedId']} is not a parent/guardian")

    def _demographics(self, rec: dict) -> None:
        grade = self.student_grade.get(rec["sourcedId"])
        for flag in ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
                     "nativeHawaiianOrOtherPacificIslander", "white",
                     "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"):
            if rec[flag] not in ("true", "false"):
                self.problem(f"demographics/{rec['sourcedId']}: {flag} is not a 'true'/'false' string")
        if rec["sex"] not in ("male", "female", "other", "unspecified"):
            self.problem(f"demographics/{rec['sourcedId']}: bad sex {rec['sex']!r}")
        if grade is not None:
            born = date.fromisoformat(rec["birthDate"])
            ref_day = date(2025, 9, 1)
            age = ref_day.year - born.year - ((ref_day.month, ref_day.day) < (born.month, born.day))
            if age not in (grade + 5, grade + 6):
                self.problem(f"demographics/{rec['sourcedId']}: age {age} for grade {grade}")

    def _enrollments(self, rec: dict) -> None:
        user, cls = rec["user"]["sourcedId"], rec["class"]["sourcedId"]
        role = self.user_role.get(user)
        if role != rec["role"]:
            self.problem(f"enrollments/{rec['sourcedId']}: role {rec['role']} for a {role}")
        if rec["role"] == "teacher" and rec["primary"] == "true":
            self.class_primary[cls] += 1
        if rec["role"] == "student":
            if rec["primary"] != "false":
                self.problem(f"enrollments/{rec['sourcedId']}: student enrollment primary != 'false'")
            self.class_students[cls] += 1
            self.student_classes[user] += 1
        if not (YEAR_START <= rec["beginDate"] <= rec["endDate"] <= YEAR_END):
            self.problem(f"enrollments/{rec['sourcedId']}: dates outside the school year")

    def _results(self, rec: dict) -> None:
        if self.user_role.get(rec["student"]["sourcedId"]) != "student":
            self.problem(f"results/{rec['sourcedId']}: student ref is not a student")
        if not 0 <= rec["score"] <= 100:
            self.problem(f"results/{rec['sourcedId']}: score {rec['score']} out of range")

    def _assessmentResults(self, rec: dict) -> None:
        if self.user_role.get(rec["student"]["sourcedId"]) != "student":
            self.problem(f"assessmentResults/{rec['sourcedId']}: student ref is not a student")

    def finish(self) -> None:
        for where, ref in self.inverse:
            self.resolve(where, "children", ref)
        for cls in self.ids["classes"]:
            if self.class_primary[cls] != 1:
                self.problem(f"classes/{cls}: {self.class_primary[cls]} primary teacher enrollments")
        missing = set(oneroster.COLLECTIONS) - set(self.counts)
        if missing:
            self.problem(f"collections never produced: {sorted(missing)}")


def check_world(records: Iterable[tuple[str, dict]]) -> WorldChecker:
    checker = WorldChecker()
    for collection, record in records:
        checker.feed(collection, record)
    checker.finish()
    return checker


# ---------------------------------------------------------------------------------------------
# plug-in discovery and input validation
# ---------------------------------------------------------------------------------------------

def test_plugins_are_discovered_by_records_and_ordered():
    names = [m.__name__ for m in world.plugins()]
    assert "tbconform.fixtures.oneroster" in names
    assert "tbconform.fixtures.bundle" not in names and "tbconform.fixtures.world" not in names
    orders = [getattr(m, "ORDER", 100) for m in world.plugins()]
    assert orders == sorted(orders)


def test_sizes():
    assert set(SIZES) == {"small", "district", "large"}
    assert SIZES["small"].students == 30
    assert 4_500 <= SIZES["district"].students <= 5_500
    assert 95_000 <= SIZES["large"].students <= 105_000


@pytest.mark.parametrize("seed,size,message", [
    (42, "huge", "unknown size 'huge'"),
    (-1, "small", "non-negative"),
    ("7", "small", "non-negative integer"),
])
def test_bad_input_raises_value_error_eagerly(seed, size, message, tmp_path):
    with pytest.raises(ValueError, match=message) as info:
        generate(seed, size)             # raised at call time, not at first next()
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=message):
        write_bundle(tmp_path / "out", seed=seed, size=size)
    assert not (tmp_path / "out").exists()


def test_non_empty_out_dir_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty.*overwrite=True"):
        write_bundle(out, progress=False)
    assert (out / "keep.txt").read_text() == "mine"
    file_out = tmp_path / "afile"
    file_out.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        write_bundle(file_out, progress=False)


def test_empty_out_dir_is_used_and_overwrite_replaces(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_bundle(out, seed=1, progress=False)
    first = tree_bytes(out)
    write_bundle(out, seed=2, progress=False, overwrite=True)
    assert tree_bytes(out) != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]   # no temp dirs left


# ---------------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------------

def test_small_bundle_is_byte_identical_per_seed(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write_bundle(a, seed=42, progress=False)
    write_bundle(b, seed=42, progress=False)
    write_bundle(c, seed=43, progress=False)
    ta, tb, tc = tree_bytes(a), tree_bytes(b), tree_bytes(c)
    assert ta == tb
    assert ta.keys() == tc.keys()
    assert ta["json/users.json"] != tc["json/users.json"]
    assert ta["csv/manifest.csv"] == tc["csv/manifest.csv"]


def test_new_id_matches_uuid4_text():
    import random
    import uuid
    r1, r2 = random.Random(9), random.Random(9)
    for _ in range(500):
        assert world.new_id(r1) == str(uuid.UUID(int=r2.getrandbits(128), version=4))


def test_district_stream_is_deterministic_per_seed():
    # without the activity history: its determinism is tests/test_fixtures_history.py's, and it
    # would triple the cost of every district test here
    first = stream_hash(generate(42, "district", NO_HISTORY))
    assert stream_hash(generate(42, "district", NO_HISTORY)) == first
    assert stream_hash(generate(7, "district", NO_HISTORY), limit=2_000) != \
        stream_hash(generate(42, "district", NO_HISTORY), limit=2_000)


# ---------------------------------------------------------------------------------------------
# shape and integrity
# ---------------------------------------------------------------------------------------------

def test_small_world_matches_timeback_sandbox_exactly():
    recs = list(generate(42, "small"))
    by = defaultdict(list)
    for collection, record in recs:
        by[collection].append(record)
    orgs = by["orgs"]
    assert len(orgs) == 3
    assert Counter(o["type"] for o in orgs) == {"district": 1, "school": 2}
    district = next(o for o in orgs if o["type"] == "district")
    schools = [o for o in orgs if o["type"] == "school"]
    assert sorted(c["sourcedId"] for c in district["children"]) == sorted(s["sourcedId"] for s in schools)
    assert all(s["parent"]["sourcedId"] == district["sourcedId"] for s in schools)
    assert len(by["courses"]) == 6
    assert len(by["classes"]) == 6
    roles = Counter(u["roles"][0]["role"] for u in by["users"])
    assert roles["teacher"] == 6
    assert roles["student"] == 30
    assert 30 <= roles["parent"] + roles["guardian"] <= 60
    assert len(by["enrollments"]) == 36
    per_class = defaultdict(Counter)
    for e in by["enrollments"]:
        per_class[e["class"]["sourcedId"]][(e["role"], e["primary"])] += 1
    assert all(c == {("student", "false"): 5, ("teacher", "true"): 1} for c in per_class.values())
    student_classes = Counter(e["user"]["sourcedId"] for e in by["enrollments"] if e["role"] == "student")
    assert len(student_classes) == 30 and set(student_classes.values()) == {1}
    sessions = Counter(s["type"] for s in by["academicSessions"])
    assert sessions == {"schoolYear": 1, "term": 4, "gradingPeriod": 8}
    year = next(s for s in by["academicSessions"] if s["type"] == "schoolYear")
    assert (year["startDate"], year["endDate"], year["schoolYear"]) == ("2025-08-18", "2026-06-05", 2026)
    assert year["org"]["sourcedId"] == district["sourcedId"]
    assert [c["title"] for c in by["categories"]] == ["Homework", "Quiz", "Test"]
    assert len(by["demographics"]) == 36   # students and teachers
    # every line item has one result per enrolled student of its class
    results_per_item = Counter(r["lineItem"]["sourcedId"] for r in by["results"])
    assert set(results_per_item.values()) == {5}
    assert len(results_per_item) == len(by["lineItems"]) == 6 * SIZES["small"].line_items_per_class
    lesson_types = {cr["lessonType"] for cr in by["componentResources"]}
    assert lesson_types <= {"powerpath-100", "quiz", "test-out", "placement", "unit-test",
                            "alpha-read-article"}
    assert set(by) == {c for m in world.plugins() for c in getattr(m, "COLLECTIONS", ())}


@pytest.mark.parametrize("size", ["small", "district"])
def test_referential_integrity(size):
    checker = check_world(generate(42, size, None if size == "small" else NO_HISTORY))
    assert checker.problems == []
    if size == "district":
        assert min(checker.student_classes.values()) >= 4   # homeroom + subjects


@pytest.mark.heavy
def test_large_world_deterministic_and_consistent(request):
    heavy = request.config.getoption("--run-heavy", default=False) or os.environ.get("TBCONFORM_HEAVY")
    limit = 200_000 if heavy else 20_000  # bounded form by default; the full check with --run-heavy
    assert stream_hash(generate(42, "large"), limit) == stream_hash(generate(42, "large"), limit)
    assert stream_hash(generate(43, "large"), 2_000) != stream_hash(generate(42, "large"), 2_000)
    if not heavy:
        return
    checker = check_world(generate(42, "large"))
    assert checker.problems == []
    assert 95_000 <= len(checker.student_grade) <= 105_000


# ---------------------------------------------------------------------------------------------
# bundle files
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["small", "district"])
def written(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"bundle-{request.param}") / "out"
    counts = write_bundle(out, seed=42, size=request.param, progress=False,
                          history_weeks=None if request.param == "small" else NO_HISTORY)
    return request.param, out, counts


def test_json_files_are_arrays_matching_counts(written):
    size, out, counts = written
    assert set(counts) == {c for m in world.plugins() for c in getattr(m, "COLLECTIONS", ())}
    assert sorted(p.stem for p in (out / "json").glob("*.json")) == sorted(counts)
    streamed = list(generate(42, "small")) if size == "small" else []
    for collection, n in counts.items():
        data = orjson.loads((out / "json" / f"{collection}.json").read_bytes())
        assert isinstance(data, list) and len(data) == n, collection
        if size == "small":
            assert data == [r for c, r in streamed if c == collection]
    if size == "small":
        assert counts == dict(Counter(c for c, _ in streamed))


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_csv_headers_and_row_counts(written):
    size, out, counts = written
    csv_dir = out / "csv"
    produced = {p.name for p in csv_dir.glob("*.csv")}
    assert produced == set(oneroster.CSV_HEADERS) | {"manifest.csv"}
    header, manifest = read_csv(csv_dir / "manifest.csv")
    assert header == ["propertyName", "value"]
    props = dict(manifest)
    assert props["manifest.version"] == "1.0" and props["oneroster.version"] == "1.2"
    for name in oneroster.CSV_HEADERS:
        assert props[f"file.{name[:-4]}"] == "bulk"
    for name in oneroster.CSV_ABSENT:
        assert props[f"file.{name[:-4]}"] == "absent" and name not in produced

    rows_of: dict[str, list[list[str]]] = {}
    for name, expected_header in oneroster.CSV_HEADERS.items():
        header, rows = read_csv(csv_dir / name)
        assert header == list(expected_header), name
        assert all(len(r) == len(header) for r in rows), name
        ids = [r[0] for r in rows]
        assert len(set(ids)) == len(ids), f"{name}: duplicate sourcedIds"
        rows_of[name] = rows
    for collection, name in oneroster.CSV_OF_COLLECTION.items():
        assert len(rows_of[name]) == counts[collection], name

    users = orjson.loads((out / "json" / "users.json").read_bytes())
    assert len(rows_of["roles.csv"]) == sum(len(u["roles"]) for u in users)
    classes = orjson.loads((out / "json" / "classes.json").read_bytes())
    assert len(rows_of["classResources.csv"]) == sum(len(c.get("resources", [])) for c in classes)
    courses = orjson.loads((out / "json" / "courses.json").read_bytes())
    assert len(rows_of["courseResources.csv"]) == sum(len(c.get("resources", [])) for c in courses)
    line_items = orjson.loads((out / "json" / "lineItems.json").read_bytes())
    assert len(rows_of["lineItemScoreScales.csv"]) == sum(1 for li in line_items if li.get("scoreScale"))

    # spot-check values: users.csv carries the JSON fields
    header = list(oneroster.CSV_HEADERS["users.csv"])
    by_id = {u["sourcedId"]: u for u in users}
    for row in rows_of["users.csv"][:50]:
        rec = dict(zip(header, row))
        user = by_id[rec["sourcedId"]]
        assert rec["givenName"] == user["givenName"] and rec["email"] == user["email"]
        assert rec["agentSourcedIds"] == ",".join(a["sourcedId"] for a in user["agents"])
        assert rec["primaryOrgSourcedId"] == user["primaryOrg"]["sourcedId"]


def test_csv_quoting_round_trips(tmp_path):
    writer = bundle._Writer()
    f = bundle._CsvFile(tmp_path / "q.csv", ["a", "b", "c"], writer)
    tricky = [["plain", "with,comma", 'with "quote"'], ["line\nbreak", "", "x,y"], ["1", "2", "3"]]
    for row in tricky:
        f.writerow(row)
    f.close()
    writer.finish()
    header, rows = read_csv(tmp_path / "q.csv")
    assert header == ["a", "b", "c"] and rows == tricky


# ---------------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------------

def _failing_generate(after: int):
    real = world.generate

    def fake(seed: int = 42, size: str = "small", history_weeks: int | None = None):
        stream = real(seed, size, history_weeks)

        def gen():
            for n, item in enumerate(stream):
                if n == after:
                    raise RuntimeError("boom mid-write")
                yield item
        return gen()
    return fake


def test_failure_mid_write_leaves_no_out_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(world, "generate", _failing_generate(after=300))
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="boom"):
        write_bundle(out, progress=False)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []      # temp dir cleaned up too


def test_failure_mid_overwrite_keeps_previous_bundle(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_bundle(out, seed=5, progress=False)
    before = tree_bytes(out)
    monkeypatch.setattr(world, "generate", _failing_generate(after=300))
    with pytest.raises(RuntimeError, match="boom"):
        write_bundle(out, seed=6, progress=False, overwrite=True)
    assert tree_bytes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ---------------------------------------------------------------------------------------------
# spec conformance (specs/oneroster/*.yaml, written separately)
# ---------------------------------------------------------------------------------------------

SPEC_FILES = sorted(glob.glob(str(REPO / "specs" / "oneroster" / "*.yaml")))


def _collection_validators():
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    validators, ref_fields = {}, {}
    for path in SPEC_FILES:
        with open(path, "rb") as fh:
            doc = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        uri = f"urn:tbconform:spec:{Path(path).stem}"
        registry = Registry().with_resource(uri, Resource.from_contents(doc, default_specification=DRAFT202012))
        schemas = doc.get("components", {}).get("schemas", {})
        for collection, conf in (doc.get("x-tb-collections") or {}).items():
            name = conf["schema"]
            validators[collection] = Draft202012Validator(
                {"$ref": f"{uri}#/components/schemas/{name}"}, registry=registry)
            props = schemas.get(name, {}).get("properties", {})
            ref_fields[collection] = {
                field: (spec.get("x-tb-ref") or (spec.get("items") or {}).get("x-tb-ref"))
                for field, spec in props.items()
                if spec.get("x-tb-ref") or (spec.get("items") or {}).get("x-tb-ref")}
    return validators, ref_fields


@pytest.mark.skipif(not SPEC_FILES, reason="specs/oneroster/*.yaml not written yet")
def test_small_world_validates_against_spec_schemas():
    validators, ref_fields = _collection_validators()
    missing = set(oneroster.COLLECTIONS) - set(validators)
    assert not missing, f"no x-tb-collections entry for {sorted(missing)}"
    failures = []
    for collection, record in generate(42, "small"):
        if collection not in oneroster.COLLECTIONS:   # other APIs' records: tests/test_fixtures_history.py
            continue
        for error in validators[collection].iter_errors(record):
            failures.append(f"{collection}/{record['sourcedId']} "
                            f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
        # fields the spec marks x-tb-ref must point into the collection the spec names
        for field, target in ref_fields[collection].items():
            value = record.get(field)
            refs = value if isinstance(value, list) else [value] if value else []
            for ref in refs:
                got = oneroster.REF_COLLECTION[ref["type"]]
                if got != target:
                    failures.append(f"{collection}.{field}: spec says {target}, world points into {got}")
    assert failures == [], "\n".join(failures[:40])


def test_records_share_no_containers():
    """Callers (the mock store, tests) may mutate records; no dict/list is reused across them."""
    seen: set[int] = set()
    recs = list(generate(42, "small"))   # keep all alive so ids are not recycled

    def walk(node: object) -> None:
        if isinstance(node, (dict, list)):
            assert id(node) not in seen
            seen.add(id(node))
            for value in node.values() if isinstance(node, dict) else node:
                walk(value)
    for _, record in recs:
        walk(record)
