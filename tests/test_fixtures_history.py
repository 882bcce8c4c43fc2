"""The seeded activity history (fixtures/caliper.py) and EduBridge records (fixtures/edubridge.py):
deterministic, as many school weeks as asked, valid Caliper stored exactly as the sandbox stores a
send, consistent with the roster, spread by grade as documented, listed by the sandbox, with the
event counter continuing after them; the EduBridge and MAP records valid and resolving."""
from __future__ import annotations

import gc
import hashlib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from statistics import mean

import orjson
import pytest
from jsonschema import Draft202012Validator

from tbconform.fixtures import caliper, edubridge
from tbconform.fixtures.bundle import write_bundle
from tbconform.fixtures.oneroster import CSV_HEADERS
from tbconform.fixtures.world import SIZES, generate
from tbconform.harness.cli import main
from tbconform.mocks.behaviours.caliper import _record
from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox
from tbconform.specs.caliper import validate as caliper_validate
from tbconform.specs.collections import compile_collections
from tbconform.specs.loader import load_all

EVENTS = "caliperEvents"
SMALL_STUDENTS = 30


def by_collection(stream, keep: set[str] | None = None) -> dict[str, list[dict]]:
    """Records by collection (only ``keep``'s, if given), collected with the cyclic GC paused: it
    would otherwise rescan the growing lists many times over."""
    out: dict[str, list[dict]] = defaultdict(list)
    gc.disable()
    try:
        for collection, record in stream:
            if keep is None or collection in keep:
                out[collection].append(record)
    finally:
        gc.enable()
    return out


def digest(records) -> str:
    h = hashlib.sha256()
    for record in records:
        h.update(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()


@pytest.fixture(scope="module")
def small() -> dict[str, list[dict]]:
    return by_collection(generate(42, "small", history_weeks=4))


@pytest.fixture(scope="module")
def district() -> dict[str, list[dict]]:
    """One week of district history (~50k events): every grade K-8, several courses per student."""
    keep = {EVENTS, "users", "classes", "courses", "enrollments", "assessmentLineItems", "assessmentResults",
            *edubridge.COLLECTIONS}
    return by_collection(generate(42, "district", history_weeks=1), keep)


def local_time(record: dict) -> datetime:
    utc = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")).replace(tzinfo=None)
    return utc - timedelta(hours=caliper.utc_offset_hours(utc.date()))


def metrics(record: dict) -> dict[str, float]:
    return {item["type"]: item["value"] for item in record["generated"]["items"]}


def roster(world: dict[str, list[dict]]) -> tuple[dict, dict, dict]:
    """(student id -> user, student id -> {course id: subject}, student id -> grade)."""
    users = {u["sourcedId"]: u for u in world["users"] if u["roles"][0]["role"] == "student"}
    classes = {c["sourcedId"]: c for c in world["classes"]}
    courses = {c["sourcedId"]: c for c in world["courses"]}
    taken: dict[str, dict[str, str]] = defaultdict(dict)
    for e in world["enrollments"]:
        if e["role"] == "student" and classes[e["class"]["sourcedId"]]["classType"] == "scheduled":
            course = courses[classes[e["class"]["sourcedId"]]["course"]["sourcedId"]]
            taken[e["user"]["sourcedId"]][course["sourcedId"]] = course["subjects"][0]
    return users, taken, {uid: int(u["grades"][0]) for uid, u in users.items()}


# ---------------------------------------------------------------------------------------------
# determinism and the weeks flag
# ---------------------------------------------------------------------------------------------

def test_same_seed_size_and_weeks_give_the_same_history(small):
    again = [r for c, r in generate(42, "small", history_weeks=4) if c == EVENTS]
    assert digest(again) == digest(small[EVENTS])
    other = [r for c, r in generate(43, "small", history_weeks=4) if c == EVENTS]
    assert len(other) == len(small[EVENTS]) and digest(other) != digest(small[EVENTS])


def test_history_does_not_change_the_rest_of_the_world(small):
    rest = by_collection(generate(42, "small", history_weeks=0))
    assert EVENTS not in rest and set(rest) == set(small) - {EVENTS}
    assert all(digest(rest[c]) == digest(small[c]) for c in rest)


@pytest.mark.parametrize("weeks", [1, 2, 4])
def test_n_weeks_give_n_school_weeks_of_weekdays(weeks):
    events = [r for c, r in generate(42, "small", history_weeks=weeks) if c == EVENTS]
    days = {local_time(r).date() for r in events}
    assert len(events) == 2 * SMALL_STUDENTS * 5 * weeks
    assert all(d.weekday() < 5 for d in days)
    assert len({d.isocalendar()[:2] for d in days}) == weeks
    assert len(days) == 5 * weeks and max(days) == caliper.HISTORY_END
    assert sorted(days) == caliper.history_days(weeks)
    per_student_day = Counter((r["actorKey"], local_time(r).date()) for r in events)
    assert set(per_student_day.values()) == {2} and len(per_student_day) == SMALL_STUDENTS * 5 * weeks


def test_the_calendar_skips_winter_break_and_stops_at_the_school_year():
    days = caliper.history_days(52)
    assert len({d.isocalendar()[:2] for d in days}) == 39        # every school week of the year
    assert days[0] == date(2025, 8, 18) and days[-1] == caliper.HISTORY_END
    assert not any(date(2025, 12, 20) <= d <= date(2026, 1, 4) for d in days)
    assert caliper.history_days(0) == []
    assert caliper.utc_offset_hours(date(2025, 10, 31)) == 5 and caliper.utc_offset_hours(date(2025, 11, 3)) == 6
    assert caliper.utc_offset_hours(date(2026, 3, 6)) == 6 and caliper.utc_offset_hours(date(2026, 3, 9)) == 5


def test_no_weeks_asked_means_the_sizes_default():
    """4 weeks, except `large` (100,000 students: 4 weeks would be 4 million events), which keeps 1."""
    assert {name: spec.history_weeks for name, spec in SIZES.items()} == {"small": 4, "district": 4, "large": 1}
    default = [r["externalId"] for c, r in generate(42, "small") if c == EVENTS]
    assert default == [r["externalId"] for c, r in generate(42, "small", history_weeks=4) if c == EVENTS]


@pytest.mark.parametrize("weeks", [-1, 53, "4", 2.0, True])
def test_bad_weeks_raise_value_error_eagerly(weeks):
    with pytest.raises(ValueError, match="history_weeks must be an integer from 0 to 52"):
        generate(42, "small", history_weeks=weeks)


# ---------------------------------------------------------------------------------------------
# validity and the stored shape
# ---------------------------------------------------------------------------------------------

def test_every_event_is_valid_caliper_stored_as_the_sandbox_stores_it(small, district):
    sample = small[EVENTS] + district[EVENTS][::25]
    grades = set()
    for record in sample:
        envelope = caliper.envelope_of(record)
        assert caliper_validate.validate_envelope(envelope) == [], record["externalId"]
        event = envelope["data"][0]
        assert _record(event, envelope, record["id"], record["created_at"], record["clientAppId"]) == record
        assert record["eventTime"] <= record["sendTime"] < record["created_at"]
        grades.add(record["object"]["id"].rsplit("/", 1)[1].split("-")[1])   # e.g. math-05-001-u3-l1
    assert len(grades) == 9   # K and grades 1-8 all judged
    assert [r["id"] for r in small[EVENTS]] == list(range(1, len(small[EVENTS]) + 1))
    assert len({r["sourcedId"] for r in small[EVENTS]}) == len(small[EVENTS])


def test_events_happen_in_school_hours_in_chicago(small):
    for record in small[EVENTS]:
        local = local_time(record)
        assert 8 * 60 <= local.hour * 60 + local.minute < 15 * 60, record["eventTime"]
    days = [r["eventTimeUtc"][:10] for r in small[EVENTS]]
    assert days == sorted(days)            # ids follow the calendar, day by day


# ---------------------------------------------------------------------------------------------
# consistency with the roster and the apps
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("world_name", ["small", "district"])
def test_events_follow_the_students_enrollments(world_name, request):
    world = request.getfixturevalue(world_name)
    users, taken, _grades = roster(world)
    apps = {a["name"]: a for a in world["applications"]}
    subject_app = {s: apps[name] for s, (name, _d, _t) in edubridge.SUBJECT_APPS.items() if name in apps}
    seen: dict[str, set[str]] = defaultdict(set)
    for record in world[EVENTS]:
        uid = record["actorKey"]
        assert record["actor"]["id"] == caliper.USER_IRI + uid and uid in users
        assert record["actorEmail"] == users[uid]["email"].lower() == record["actor"]["email"].lower()
        course_iri = record["object"]["course"]["id"]
        assert course_iri.startswith(caliper.COURSE_IRI)
        course_id = course_iri[len(caliper.COURSE_IRI):]
        assert course_id in taken[uid], "an event in a course the student does not take"
        subject = taken[uid][course_id]
        assert record["object"]["subject"] == subject
        app = subject_app[subject]
        assert record["object"]["app"]["name"] == app["name"] and record["clientAppId"] == app["clientAppId"]
        assert record["sensor"] == app["metadata"]["sensor"]
        seen[uid].add(course_id)
    assert set(seen) == set(users)            # every student has a history
    # within a week a student works in every subject course they take (rotating, 4 courses, 5 days)
    assert all(seen[uid] == set(taken[uid]) for uid in users)


def test_xp_and_accuracy_spread_by_grade_as_documented(district):
    _users, _taken, grades = roster(district)
    accuracy: dict[str, list[float]] = defaultdict(list)
    xp: dict[str, list[float]] = defaultdict(list)
    band = {g: "K-2" if g <= 2 else "3-5" if g <= 5 else "6-8" for g in range(9)}
    for record in district[EVENTS]:
        m = metrics(record)
        grade = grades[record["actorKey"]]
        if record["type"] == "ActivityEvent":
            assert set(m) == {"xpEarned", "totalQuestions", "correctQuestions", "masteredUnits"}
            assert 5 + grade <= m["totalQuestions"] <= 10 + grade
            assert 0 <= m["correctQuestions"] <= m["totalQuestions"]
            assert 0 <= m["xpEarned"] <= 45 and m["masteredUnits"] in (0, 1)
            if m["masteredUnits"]:
                assert record["object"]["activity"]["name"].endswith(" Test")
                assert m["correctQuestions"] / m["totalQuestions"] >= 0.8
            accuracy[band[grade]].append(m["correctQuestions"] / m["totalQuestions"])
            xp[band[grade]].append(m["xpEarned"])
        else:
            assert set(m) == {"active", "inactive", "waste"}
            assert 5 * 60 <= m["active"] <= 45 * 60 and 0 <= m["inactive"] and 0 <= m["waste"]
            assert m["inactive"] <= 0.15 * m["active"] + 1 and m["waste"] <= 0.08 * m["active"] + 1
    acc = {b: mean(v) for b, v in accuracy.items()}
    pts = {b: mean(v) for b, v in xp.items()}
    assert acc["K-2"] > acc["3-5"] + 0.01 > acc["6-8"] + 0.02, acc    # norm: 1.5 points a grade, halved
    assert pts["K-2"] + 2 < pts["3-5"] < pts["6-8"] - 2, pts            # sessions 1.5 min longer a grade
    assert 0.75 < mean(a for v in accuracy.values() for a in v) < 0.90


# ---------------------------------------------------------------------------------------------
# EduBridge and MAP records
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def collections():
    return compile_collections(load_all())


@pytest.mark.parametrize("world_name", ["small", "district"])
def test_seeded_records_validate_against_their_spec_schemas(world_name, request, collections):
    world = request.getfixturevalue(world_name)
    new = (EVENTS, *edubridge.COLLECTIONS, "assessmentLineItems", "assessmentResults")
    undeclared = [c for c in new if c not in collections]
    assert undeclared == [], f"no spec declares {undeclared}: the sandbox would drop them"
    for name in new:
        coll = collections[name]
        validator = Draft202012Validator({**coll.schema, "components": coll.doc.raw.get("components", {})})
        records = world[name] if world_name == "small" else world[name][::50]
        assert records, name
        for record in records:
            errors = [e.message for e in validator.iter_errors(record)]
            assert errors == [], (name, record.get("sourcedId"), errors[:3])


def test_edubridge_records_resolve_and_match_the_world(small):
    world = small
    users, taken, grades = roster(world)
    schools = {o["sourcedId"] for o in world["orgs"] if o["type"] == "school"}
    courses = {c["sourcedId"]: c for c in world["courses"]}
    apps = {a["sourcedId"]: a for a in world["applications"]}
    assert {r["object"]["app"]["name"] for r in world[EVENTS]} <= {a["name"] for a in apps.values()}
    assert all(a["status"] == "active" and a["domain"] and a["clientAppId"] for a in apps.values())
    for m in world["applicationMetrics"]:
        assert m["applicationSourcedId"] in apps
        assert m["sourcedId"] == f"{m['applicationSourcedId']}:{m['metric']}:{m['metricSource']}"
    tracks = world["subjectTracks"]
    keys = [(t["subject"], t["grade"], t["orgSourcedId"]) for t in tracks]
    assert len(keys) == len(set(keys)) == len(courses)     # small: one course per subject+grade+school
    for t in tracks:
        course = courses[t["courseId"]]
        assert t["sourcedId"] == t["id"] and t["orgSourcedId"] in schools
        assert (course["subjects"], course["grades"], course["org"]["sourcedId"]) == \
            ([t["subject"]], [t["grade"]], t["orgSourcedId"])
    items = {a["sourcedId"]: a for a in world["assessmentLineItems"]
             if (a.get("metadata") or {}).get("assessmentType") == "MAP"}
    assert {i["metadata"]["subject"] for i in items.values()} <= set(edubridge.MAP_SUBJECTS)
    results = [r for r in world["assessmentResults"] if (r.get("metadata") or {}).get("assessmentType") == "MAP"]
    expected = sum(1 for uid in users for s in taken[uid].values() if s in edubridge.MAP_SUBJECTS)
    assert len(results) == expected > 0
    rit_grades: dict[int, list[int]] = defaultdict(list)
    for r in results:
        meta, item = r["metadata"], items[r["assessmentLineItem"]["sourcedId"]]
        uid = r["student"]["sourcedId"]
        assert item["course"]["sourcedId"] in taken[uid] and meta["subject"] == item["metadata"]["subject"]
        assert meta["gradeLevel"] == grades[uid] and isinstance(meta["ritGrade"], int)
        assert r["score"] == meta["ritScore"] and 100 <= meta["ritScore"] <= 350
        assert 1 <= meta["percentile"] <= 99 and 0 <= meta["ritGrade"] <= 8
        rit_grades[grades[uid]].append(meta["ritGrade"])
        test_day = date.fromisoformat(meta["testDate"])
        assert edubridge.MAP_WINDOW[1] <= test_day <= edubridge.MAP_WINDOW[2] and test_day.weekday() < 5
        assert r["scoreDate"].startswith(meta["testDate"])
    means = [mean(rit_grades[g]) for g in sorted(rit_grades)]
    assert means[0] < means[-1]     # the RIT grade rises with the grade (norms flatten above grade 5)


# ---------------------------------------------------------------------------------------------
# the sandbox and the command line
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox(SandboxConfig(history_weeks=2)) as running:
        yield running


def test_sandbox_lists_and_gets_seeded_events_and_continues_the_counter(sandbox, small):
    store = sandbox.sandbox.store
    assert store.counts()[EVENTS] == 2 * SMALL_STUDENTS * 10
    user = next(u for u in small["users"] if u["roles"][0]["role"] == "student")
    with sandbox.client() as client:
        answer = client.get("/caliper/events", params={"actorEmail": user["email"].upper(), "limit": 100})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["pagination"]["total"] == len(body["events"]) == 20
        assert {e["actor"]["id"] for e in body["events"]} == {caliper.USER_IRI + user["sourcedId"]}
        assert all("actorEmail" not in e and "sourcedId" not in e for e in body["events"])
        first = body["events"][0]
        one = client.get(f"/caliper/events/{first['externalId']}")
        assert one.status_code == 200 and one.json()["event"] == first
        ranged = client.get("/caliper/events", params={"startDate": caliper.HISTORY_END.isoformat(),
                                                       "endDate": caliper.HISTORY_END.isoformat()})
        assert ranged.json()["pagination"]["total"] == 2 * SMALL_STUDENTS
        highest = store.count(EVENTS)
        event = caliper.event_of(store.first(EVENTS))
        event["id"] = "urn:uuid:0b7f1c2e-4d5a-4e6f-8a9b-0c1d2e3f4a5b"
        sent = client.post("/caliper/event", json={"sensor": "https://app.example.org/s", "sendTime":
                                                   "2026-06-01T12:00:00.000Z", "dataVersion": caliper.CONTEXT,
                                                   "data": [event]})
        assert sent.status_code == 200, sent.text
        stored = client.get(f"/caliper/events/{event['id']}").json()["event"]
        assert highest == 600 and stored["id"] == highest + 1   # after every seeded id (1..600)


def test_no_history_sandbox_starts_with_no_events():
    with run_sandbox(SandboxConfig(history_weeks=0, apis=["caliper"])) as running:
        assert running.sandbox.store.counts().get(EVENTS, 0) == 0


def test_bundle_writes_history_to_json_only(tmp_path):
    counts = write_bundle(tmp_path / "b", seed=42, size="small", progress=False, history_weeks=1)
    events = orjson.loads((tmp_path / "b" / "json" / f"{EVENTS}.json").read_bytes())
    assert counts[EVENTS] == len(events) == 2 * SMALL_STUDENTS * 5
    assert {p.name for p in (tmp_path / "b" / "csv").iterdir()} == set(CSV_HEADERS) | {"manifest.csv"}
    write_bundle(tmp_path / "none", seed=42, size="small", progress=False, history_weeks=0)
    assert orjson.loads((tmp_path / "none" / "json" / f"{EVENTS}.json").read_bytes()) == []


@pytest.mark.parametrize("command", ["mock", "seed"])
@pytest.mark.parametrize("value", ["x", "-1", "53", "2.5", ""])
def test_bad_history_weeks_flag_is_one_line_exit_2(capsys, tmp_path, command, value):
    argv = [command, "--history-weeks", value] + (["--out", str(tmp_path / "o")] if command == "seed" else [])
    assert main(argv) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"tbconform {command}") and "--history-weeks" in lines[0]
    assert not (tmp_path / "o").exists()


def test_seed_command_takes_history_weeks(capsys, tmp_path):
    assert main(["seed", "--history-weeks", "0", "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert orjson.loads((tmp_path / "o" / "json" / f"{EVENTS}.json").read_bytes()) == []
