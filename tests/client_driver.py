#!/usr/bin/env python3
"""Drive Timeback's official Python client (`timeback-oneroster`) against a running sandbox.

Runs under Python >= 3.12 in a venv that has `timeback-oneroster` installed; it does not import
anything from this repository but its sibling client_common.py. Usage:

    python client_driver.py --base-url http://127.0.0.1:8765 \
        --token-url http://127.0.0.1:8765/oauth2/token \
        --client-id tbconform-sandbox --client-secret tbconform-sandbox-secret [--out report.json]

Prints a JSON report ``{"operations": [{"name", "ok", "error", ...}], "summary": {...},
"delete_semantics": {...}}`` on stdout and exits 1 if any operation failed (2 on a usage error).
Every operation goes through the client's public API; ids are discovered through the client
(nothing is hard-coded), and every record it creates gets a fresh uuid.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import client_common
from client_common import arguments, check, outcome, run_driver, uid

try:
    from timeback_oneroster import NotFoundError, OneRosterClient, __version__ as CLIENT_VERSION
except ImportError as exc:  # reported by main(); importing this module elsewhere must not exit
    IMPORT_ERROR: str | None = f"timeback-oneroster not importable ({sys.executable}): {exc}"

    class NotFoundError(Exception):  # type: ignore[no-redef]
        pass
else:
    IMPORT_ERROR = None


FAILED = object()  # value of an operation that failed


def sid(entity: Any) -> str:
    if isinstance(entity, dict):
        return entity["sourcedId"]
    return entity.sourced_id


def ref_id(value: Any) -> str | None:
    """sourcedId of a reference given as model, dict or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("sourcedId")
    return getattr(value, "sourced_id", None)


def dump(entity: Any) -> dict:
    if isinstance(entity, dict):
        return entity
    return entity.model_dump(by_alias=True, exclude_none=True)


class Runner(client_common.Runner):
    """The shared runner, giving FAILED for a failed operation, and keeping what deletes do."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__(verbose, failed=FAILED)
        self.delete_semantics: dict[str, str] = {}
        self.notes: list[str] = []

    async def deleted(self, kind: str, get: Callable[[], Awaitable[Any]]) -> str:
        """After a delete: the record reads back as tobedeleted, or the read raises NotFound."""
        try:
            entity = await get()
        except NotFoundError:
            outcome = "notfound"
        else:
            status = dump(entity).get("status")
            check(status == "tobedeleted", f"{kind}: still readable after delete with status={status!r}")
            outcome = "tobedeleted"
        self.delete_semantics[kind] = outcome
        return outcome


async def page_total_matches(resource: Any, *, limit: int, expect_pages: int = 2, **kw: Any) -> dict:
    """list() gives the header total; list_all()/stream() over small pages must yield exactly that."""
    first = await resource.list(limit=limit, **kw)
    check(first.total is not None, "list(): no X-Total-Count total")
    check(len(first.data) == min(limit, first.total), f"list(limit={limit}) gave {len(first.data)} of {first.total}")
    check(first.total > limit * (expect_pages - 1), f"total {first.total} too small for {expect_pages} pages of {limit}")
    check(first.has_more == (first.total > limit), f"has_more={first.has_more} with total={first.total}")
    everything = await resource.list_all(limit=limit, **kw)
    check(len(everything) == first.total, f"list_all(limit={limit}) gave {len(everything)}, header total {first.total}")
    ids = [sid(e) for e in everything]
    check(len(set(ids)) == len(ids), "list_all() returned duplicates across pages")
    streamed = [sid(e) async for e in resource.stream(limit=limit)]
    if not kw:
        check(sorted(streamed) == sorted(ids), "stream() and list_all() disagree")
    return {"total": first.total, "pages": -(-first.total // limit), "ids": ids}


async def drive(client: OneRosterClient, r: Runner) -> None:  # noqa: C901 - a long script by nature
    op = r.op

    # ── discovery (read-only) ───────────────────────────────────────────────────────────────
    users_all = await op("users.list_all(limit=10) == X-Total-Count",
                         lambda: page_total_matches(client.users, limit=10, expect_pages=3))
    await op("users.list(limit=5)", lambda: _len(client.users.list(limit=5), 5))
    await op("users.list(limit=5, offset=5)", lambda: _offset_page(client.users))
    await op("users.stream(max_items=7)", lambda: _stream_max(client.users, 7))
    await op("users.first()", lambda: _not_none(client.users.first()))

    students = await op("students.list(limit=3)", lambda: _nonempty(client.students.list(limit=3)))
    teachers = await op("teachers.list(limit=3)", lambda: _nonempty(client.teachers.list(limit=3)))
    schools = await op("schools.list()", lambda: _nonempty(client.schools.list()))
    classes = await op("classes.list()", lambda: _nonempty(client.classes.list()))
    courses = await op("courses.list()", lambda: _nonempty(client.courses.list()))
    terms = await op("terms.list()", lambda: _nonempty(client.terms.list()))
    sessions = await op("academic_sessions.list()", lambda: _nonempty(client.academic_sessions.list()))
    gperiods = await op("grading_periods.list()", lambda: _nonempty(client.grading_periods.list()))
    orgs = await op("orgs.list()", lambda: _nonempty(client.orgs.list()))
    enrollments = await op("enrollments.list(limit=50)", lambda: _nonempty(client.enrollments.list(limit=50)))
    await op("demographics.list()", lambda: client.demographics.list(limit=10))
    line_items = await op("line_items.list()", lambda: _nonempty(client.line_items.list()))
    results = await op("results.list()", lambda: _nonempty(client.results.list()))
    categories = await op("categories.list()", lambda: _nonempty(client.categories.list()))
    score_scales = await op("score_scales.list()", lambda: client.score_scales.list())
    a_line_items = await op("assessment_line_items.list()", lambda: _nonempty(client.assessment_line_items.list()))
    a_results = await op("assessment_results.list()", lambda: client.assessment_results.list())
    resources = await op("resources.list()", lambda: _nonempty(client.resources.list()))
    components = await op("courses.components()", lambda: _nonempty_list(client.courses.components()))
    comp_resources = await op("courses.component_resources()", lambda: client.courses.component_resources())

    first = lambda page: None if page is FAILED else page.data[0]  # noqa: E731
    student, teacher, school, klass = first(students), first(teachers), first(schools), first(classes)
    course, term = first(courses), first(terms)
    org = first(orgs)
    if classes is not FAILED and enrollments is not FAILED:
        # a class with a student enrollment, and that student
        pair = next(((ref_id(e.class_ if hasattr(e, "class_") else dump(e)["class"]), ref_id(e.user))
                     for e in enrollments.data if e.role == "student"), None)
        if pair:
            klass = await op("classes.get(enrolled class)", lambda: client.classes.get(pair[0]))
            student = await op("students.get(enrolled student)", lambda: client.students.get(pair[1]))

    # ── gets ────────────────────────────────────────────────────────────────────────────────
    user_id = users_all["ids"][0] if users_all is not FAILED else None
    await op("users.get", lambda: _same_id(client.users.get(user_id), user_id), user_id)
    await op("users(id).get", lambda: _same_id(client.users(user_id).get(), user_id), user_id)
    await op("users(id).exists", lambda: _true(client.users(user_id).exists()), user_id)
    await op("users.exists(unknown) is False", lambda: _false(client.users.exists(str(uuid.uuid4()))))
    await op("users.get(unknown) raises NotFoundError", lambda: _raises_not_found(client.users.get(str(uuid.uuid4()))))
    await op("teachers.get", lambda: _same_id(client.teachers.get(sid(teacher)), sid(teacher)), teacher)
    await op("schools.get", lambda: _same_id(client.schools.get(sid(school)), sid(school)), school)
    await op("courses.get", lambda: _same_id(client.courses.get(sid(course)), sid(course)), course)
    await op("courses(id).get", lambda: _same_id(client.courses(sid(course)).get(), sid(course)), course)
    await op("terms.get", lambda: _same_id(client.terms.get(sid(term)), sid(term)), term)
    await op("orgs.get", lambda: _same_id(client.orgs.get(sid(org)), sid(org)), org)
    for label, page, res in (("academic_sessions", sessions, client.academic_sessions),
                             ("grading_periods", gperiods, client.grading_periods),
                             ("enrollments", enrollments, client.enrollments),
                             ("line_items", line_items, client.line_items),
                             ("results", results, client.results),
                             ("categories", categories, client.categories),
                             ("assessment_line_items", a_line_items, client.assessment_line_items),
                             ("resources", resources, client.resources)):
        ent = first(page)
        await op(f"{label}.get", lambda res=res, ent=ent: _same_id(res.get(sid(ent)), sid(ent)), ent)
    if score_scales is not FAILED and score_scales.data:
        ss = score_scales.data[0]
        await op("score_scales.get", lambda: _same_id(client.score_scales.get(sid(ss)), sid(ss)))
    if a_results is not FAILED and a_results.data:
        ar = a_results.data[0]
        await op("assessment_results.get", lambda: _same_id(client.assessment_results.get(sid(ar)), sid(ar)))
    comp = components[0] if components not in (FAILED, None) and components else None
    await op("courses.get_component", lambda: _same_id(client.courses.get_component(sid(comp)), sid(comp)), comp)
    if comp_resources not in (FAILED, None) and comp_resources:
        cr = comp_resources[0]
        await op("courses.get_component_resource",
                 lambda: _same_id(client.courses.get_component_resource(sid(cr)), sid(cr)))

    # ── filters through where= ──────────────────────────────────────────────────────────────
    await op("users.list(where roles.role='student')",
             lambda: _all_match(client.users.list_all(where={"roles.role": "student"}),
                                lambda u: any(x.role == "student" for x in u.roles), nonempty=True))
    await op("users.list(where givenName contains 'an')",
             lambda: _all_match(client.users.list_all(where={"givenName": {"contains": "an"}}),
                                lambda u: "an" in u.given_name.lower(), nonempty=True))
    await op("users.list(where status in_ [...])",
             lambda: _all_match(client.users.list_all(where={"status": {"in_": ["active", "tobedeleted"]}}),
                                lambda u: u.status in ("active", "tobedeleted"), nonempty=True))
    if users_all is not FAILED:
        two = users_all["ids"][:2]
        await op("users.list(where sourcedId in_ [a, b])",
                 lambda: _ids_equal(client.users.list_all(where={"sourcedId": {"in_": two}}), two))
        await op("users.list(where sourcedId ne a)",
                 lambda: _all_match(client.users.list_all(where={"sourcedId": {"ne": two[0]}}),
                                    lambda u: u.sourced_id != two[0], count=users_all["total"] - 1))
    await op("users.list(where status AND roles.role)",
             lambda: _all_match(client.users.list_all(where={"status": "active", "roles.role": "teacher"}),
                                lambda u: any(x.role == "teacher" for x in u.roles), nonempty=True))
    await op("users.list(where OR [...])",
             lambda: _all_match(client.users.list_all(where={"OR": [{"roles.role": "teacher"},
                                                                     {"roles.role": "administrator"}]}),
                                lambda u: any(x.role in ("teacher", "administrator") for x in u.roles),
                                nonempty=True))
    await op("users.list(where dateLastModified gt 2000-01-01)",
             lambda: _all_match(client.users.list_all(where={"dateLastModified": {"gt": "2000-01-01T00:00:00Z"}}),
                                lambda u: True, count=users_all["total"]), users_all)
    await op("users.list(where dateLastModified lt 2000-01-01) is empty",
             lambda: _all_match(client.users.list_all(where={"dateLastModified": {"lt": "2000-01-01T00:00:00Z"}}),
                                lambda u: True, count=0))
    await op("users.list(search=...)", lambda: _search(client.users))
    await op("users.list(sort=familyName, order_by=desc)", lambda: _sorted(client.users, "familyName", "desc"))
    await op("users.list(fields=[sourcedId, givenName, familyName])", lambda: _fields(client.users))
    await op("classes.list(where course.sourcedId)",
             lambda: _all_match(client.classes.list_all(where={"course.sourcedId": sid(course)}),
                                lambda c: ref_id(c.course) == sid(course), nonempty=True), course)
    await op("courses.components(where course.sourcedId)",
             lambda: _all_match(client.courses.components(where={"course.sourcedId": sid(course)}),
                                lambda c: ref_id(c.course) == sid(course), nonempty=True), course)
    await op("enrollments.list(where class.sourcedId AND role)",
             lambda: _all_match(client.enrollments.list_all(where={"class.sourcedId": sid(klass), "role": "student"}),
                                lambda e: e.role == "student" and ref_id(getattr(e, "class_", None)) == sid(klass),
                                nonempty=True), klass)
    await op("line_items.list(where class.sourcedId)",
             lambda: _all_match(client.line_items.list_all(where={"class.sourcedId": sid(klass)}),
                                lambda li: ref_id(li.class_) == sid(klass)), klass)
    await op("results.list(where score gte 50)",
             lambda: _all_match(client.results.list_all(where={"score": {"gte": 50}}),
                                lambda x: x.score is not None and x.score >= 50, nonempty=True))
    await op("results.list(where score lt 50)",
             lambda: _all_match(client.results.list_all(where={"score": {"lt": 50}}),
                                lambda x: x.score is not None and x.score < 50))
    await op("academic_sessions.list(where type in_ [term, gradingPeriod])",
             lambda: _all_match(client.academic_sessions.list_all(where={"type": {"in_": ["term", "gradingPeriod"]}}),
                                lambda s: s.type in ("term", "gradingPeriod"), nonempty=True))
    await op("orgs.list(where type='school')",
             lambda: _all_match(client.orgs.list_all(where={"type": "school"}), lambda o: o.type == "school",
                                nonempty=True))
    await op("resources.list(where importance='primary')",
             lambda: _all_match(client.resources.list_all(where={"importance": "primary"}),
                                lambda x: dump(x).get("importance") == "primary"))

    # ── scoped lists ────────────────────────────────────────────────────────────────────────
    await op("classes(id).students()", lambda: _nonempty_list(client.classes(sid(klass)).students()), klass)
    await op("classes(id).teachers()", lambda: client.classes(sid(klass)).teachers(), klass)
    await op("classes(id).enrollments()", lambda: _nonempty_list(client.classes(sid(klass)).enrollments()), klass)
    await op("classes(id).line_items()", lambda: client.classes(sid(klass)).line_items(), klass)
    await op("classes(id).results()", lambda: client.classes(sid(klass)).results(), klass)
    await op("classes(id).categories()", lambda: client.classes(sid(klass)).categories(), klass)
    await op("classes(id).score_scales()", lambda: client.classes(sid(klass)).score_scales(), klass)
    await op("classes(id).resources()", lambda: client.classes(sid(klass)).resources(), klass)
    await op("classes(id).student(id).results()",
             lambda: _all_match(client.classes(sid(klass)).student(sid(student)).results(),
                                lambda x: ref_id(dump(x).get("student")) == sid(student)), klass, student)
    li_of_class = None
    if line_items is not FAILED and klass not in (None, FAILED):
        li_of_class = next((li for li in line_items.data if ref_id(li.class_) == sid(klass)), line_items.data[0])
    await op("classes(id).line_item(id).results()",
             lambda: client.classes(ref_id(li_of_class.class_)).line_item(sid(li_of_class)).results(), li_of_class)
    await op("line_items(id).results()",
             lambda: _all_match(client.line_items(sid(li_of_class)).results(),
                                lambda x: ref_id(dump(x).get("lineItem")) == sid(li_of_class)), li_of_class)
    await op("schools(id).students()", lambda: _nonempty_list(client.schools(sid(school)).students()), school)
    await op("schools(id).teachers()", lambda: client.schools(sid(school)).teachers(), school)
    await op("schools(id).classes()", lambda: _nonempty_list(client.schools(sid(school)).classes()), school)
    await op("schools(id).courses()", lambda: client.schools(sid(school)).courses(), school)
    await op("schools(id).enrollments()", lambda: client.schools(sid(school)).enrollments(), school)
    await op("schools(id).terms()", lambda: client.schools(sid(school)).terms(), school)
    await op("schools(id).line_items()", lambda: client.schools(sid(school)).line_items(), school)
    await op("schools(id).score_scales()", lambda: client.schools(sid(school)).score_scales(), school)
    school_of_class = None if klass in (None, FAILED) else ref_id(klass.school)
    await op("schools(id).class_(id).students()",
             lambda: client.schools(school_of_class).class_(sid(klass)).students(), school_of_class)
    await op("schools(id).class_(id).teachers()",
             lambda: client.schools(school_of_class).class_(sid(klass)).teachers(), school_of_class)
    await op("schools(id).class_(id).enrollments()",
             lambda: client.schools(school_of_class).class_(sid(klass)).enrollments(), school_of_class)
    await op("terms(id).classes()", lambda: client.terms(sid(term)).classes(), term)
    await op("terms(id).grading_periods()", lambda: client.terms(sid(term)).grading_periods(), term)
    await op("users(id).classes()", lambda: client.users(sid(student)).classes(), student)
    await op("students(id).classes()", lambda: _nonempty_list(client.students(sid(student)).classes()), student)
    await op("teachers(id).classes()", lambda: client.teachers(sid(teacher)).classes(), teacher)
    await op("courses(id).classes()", lambda: client.courses(sid(course)).classes(), course)
    await op("courses(id).components()",
             lambda: _all_match(client.courses(sid(course)).components(),
                                lambda c: ref_id(c.course) == sid(course), nonempty=True), course)
    await op("courses(id).resources()", lambda: client.courses(sid(course)).resources(), course)
    await op("users(id).resources()", lambda: client.users(sid(student)).resources(), student)
    await op("users(id).agents()", lambda: client.users(sid(student)).agents(), student)
    await op("users(id).agent_for()", lambda: client.users(sid(student)).agent_for(), student)

    # ── rostering writes ────────────────────────────────────────────────────────────────────
    school_id = sid(school) if school not in (None, FAILED) else None
    new_user = uid("user")
    user_body = {
        "sourcedId": new_user, "status": "active", "enabledUser": True,
        "givenName": "Clientina", "familyName": "Driver", "email": f"{new_user}@example.org",
        "roles": [{"roleType": "primary", "role": "student", "org": {"sourcedId": school_id}}],
        "primaryOrg": {"sourcedId": school_id},
    }
    created = await op("users.create", lambda: _created(client.users.create(user_body), new_user), school_id)
    await op("users.get(created)", lambda: _field(client.users.get(new_user), "givenName", "Clientina"), created)
    await op("users.update", lambda: client.users.update(new_user, {**user_body, "givenName": "Renamed"}), created)
    await op("users.get(updated)", lambda: _field(client.users.get(new_user), "givenName", "Renamed"), created)
    await op("users(id).demographics()", lambda: client.users(sid(student)).demographics(), student)

    # agents & credentials
    guardian = uid("guardian")
    g_created = await op("users.create(guardian)", lambda: _created(client.users.create({
        **user_body, "sourcedId": guardian, "givenName": "Gail", "email": f"{guardian}@example.org",
        "roles": [{"roleType": "primary", "role": "guardian", "org": {"sourcedId": school_id}}]}), guardian), school_id)
    await op("users(id).add_agent", lambda: client.users(new_user).add_agent({"agentSourcedId": guardian}),
             created, g_created)
    await op("users(id).agents() has added agent",
             lambda: _ids_include(client.users(new_user).agents(), guardian), created, g_created)
    await op("users(guardian).agent_for() has the student",
             lambda: _ids_include(client.users(guardian).agent_for(), new_user), created, g_created)
    await op("users(id).remove_agent", lambda: client.users(new_user).remove_agent(guardian), created, g_created)
    await op("users(id).agents() after remove",
             lambda: _ids_exclude(client.users(new_user).agents(), guardian), created, g_created)
    cred = await op("users(id).register_credential", lambda: client.users(new_user).register_credential(
        {"applicationName": "tbconform-app",
         "credentials": {"username": f"{new_user}-login", "password": "s3cret-Passw0rd!"}}), created)
    await r.divergence("users(id).create_credential", lambda: client.users(new_user).create_credential(
        {"username": f"{new_user}-login2", "password": "x-Passw0rd!"}),
        "client wraps the body as {credential: {...}}; the spec wants {applicationName, credentials}", created)
    await op("users(id).decrypt_credential",
             lambda: _decrypted(client.users(new_user).decrypt_credential(cred.credential_id)),
             created, None if cred is FAILED else cred)

    # enrollments: create, get, update, patch, class roster reflects it, delete
    enr_id = uid("enrollment")
    class_id = sid(klass) if klass not in (None, FAILED) else None
    enr_body = {"sourcedId": enr_id, "status": "active", "user": {"sourcedId": new_user},
                "class": {"sourcedId": class_id}, "role": "student", "primary": "false",
                "beginDate": "2025-08-18", "endDate": "2026-06-01"}
    enr = await op("enrollments.create", lambda: _created(client.enrollments.create(enr_body), enr_id), created, class_id)
    await op("classes(id).students() includes new student",
             lambda: _ids_include(client.classes(class_id).students(), new_user), enr)
    await op("users(id).classes() includes the class",
             lambda: _ids_include(client.users(new_user).classes(), class_id), enr)
    await op("enrollments.update", lambda: client.enrollments.update(enr_id, {**enr_body, "endDate": "2026-05-01"}), enr)
    await op("enrollments.get(updated)", lambda: _field(client.enrollments.get(enr_id), "endDate", "2026-05-01"), enr)
    await op("enrollments.patch", lambda: client.enrollments.patch(enr_id, {"endDate": "2026-04-01"}), enr)
    await op("enrollments.get(patched)", lambda: _patched_enrollment(client.enrollments.get(enr_id), new_user), enr)
    await op("classes(id).enroll(student)",
             lambda: client.classes(class_id).enroll({"sourcedId": guardian, "role": "student"}),
             class_id, g_created)
    await op("classes(id).enroll_user(teacher)", lambda: client.classes(class_id).enroll_user(sid(teacher), role="teacher"),
             class_id, teacher)
    await op("classes(id).teachers() includes enrolled teacher",
             lambda: _ids_include(client.classes(class_id).teachers(), sid(teacher)), class_id, teacher)
    await op("enrollments.delete", lambda: client.enrollments.delete(enr_id), enr)
    await op("enrollments.get(deleted)", lambda: r.deleted("enrollments", lambda: client.enrollments.get(enr_id)), enr)

    # orgs / schools
    org_id = uid("org")
    org_ok = await op("orgs.create", lambda: _created(client.orgs.create(
        {"sourcedId": org_id, "status": "active", "name": "Client Dept", "type": "department",
         "parent": {"sourcedId": school_id}}), org_id), school_id)
    await op("orgs.update", lambda: client.orgs.update(org_id, {"sourcedId": org_id, "status": "active",
                                                                  "name": "Client Dept 2", "type": "department"}), org_ok)
    await op("orgs.get(updated)", lambda: _field(client.orgs.get(org_id), "name", "Client Dept 2"), org_ok)
    await op("orgs.delete", lambda: client.orgs.delete(org_id), org_ok)
    await op("orgs.get(deleted)", lambda: r.deleted("orgs", lambda: client.orgs.get(org_id)), org_ok)
    new_school = uid("school")
    school_ok = await op("schools.create", lambda: _created(client.schools.create(
        {"sourcedId": new_school, "status": "active", "name": "Client Academy", "type": "school"}), new_school))
    await op("schools.update", lambda: client.schools.update(new_school, {"sourcedId": new_school, "status": "active",
                                                                            "name": "Client Academy II", "type": "school"}),
             school_ok)
    await op("schools.get(updated)", lambda: _field(client.schools.get(new_school), "name", "Client Academy II"), school_ok)

    # academic sessions, terms, grading periods
    year_id = None if sessions is FAILED else next((sid(s) for s in sessions.data if s.type == "schoolYear"), None)
    term_org = school_id  # the client's AcademicSession model has no `org`; seeded terms belong to the school
    sess_id = uid("session")
    sess_body = {"sourcedId": sess_id, "status": "active", "title": "Client Semester", "startDate": "2026-01-05",
                 "endDate": "2026-05-29", "type": "semester", "schoolYear": "2026", "org": {"sourcedId": term_org},
                 "parent": {"sourcedId": year_id}}
    sess_ok = await op("academic_sessions.create", lambda: _created(client.academic_sessions.create(sess_body), sess_id),
                       year_id, term_org)
    await op("academic_sessions.update",
             lambda: client.academic_sessions.update(sess_id, {**sess_body, "title": "Client Semester B"}), sess_ok)
    await op("academic_sessions.get(updated)",
             lambda: _field(client.academic_sessions.get(sess_id), "title", "Client Semester B"), sess_ok)
    term_id = uid("term")
    term_ok = await op("terms.create", lambda: _created(client.terms.create(
        {**sess_body, "sourcedId": term_id, "type": "term", "title": "Client Term"}), term_id), year_id, term_org)
    await op("terms.get(created)", lambda: _field(client.terms.get(term_id), "title", "Client Term"), term_ok)
    gp_id = uid("gp")
    gp_body = {"sourcedId": gp_id, "status": "active", "title": "Client GP 1", "startDate": "2026-01-05",
               "endDate": "2026-03-13", "type": "gradingPeriod", "schoolYear": "2026", "org": {"sourcedId": term_org},
               "parent": {"sourcedId": term_id}}
    gp_ok = await op("grading_periods.create", lambda: _created(client.grading_periods.create(gp_body), gp_id), term_ok)
    await op("grading_periods.get(created)", lambda: _field(client.grading_periods.get(gp_id), "title", "Client GP 1"),
             gp_ok)
    await op("grading_periods(id).get()", lambda: _same_id(client.grading_periods(gp_id).get(), gp_id), gp_ok)
    await op("grading_periods.update", lambda: client.grading_periods.update(gp_id, {**gp_body, "title": "Client GP 1b"}),
             gp_ok)
    await op("grading_periods.list(where parent.sourcedId)",
             lambda: _ids_equal(client.grading_periods.list_all(where={"parent.sourcedId": term_id}), [gp_id]), gp_ok)
    gp2_id = uid("gp")
    gp2_ok = await op("terms(id).create_grading_period", lambda: _created(client.terms(term_id).create_grading_period(
        {**gp_body, "sourcedId": gp2_id, "title": "Client GP 2", "startDate": "2026-03-16", "endDate": "2026-05-29"}),
        gp2_id), term_ok)
    await op("terms(id).grading_periods() lists both",
             lambda: _ids_include(client.terms(term_id).grading_periods(), gp_id, gp2_id), gp_ok, gp2_ok)

    # courses, components, component resources
    course_id = uid("course")
    course_body = {"sourcedId": course_id, "status": "active", "title": "Client Course", "courseCode": "CLI-101",
                   "org": {"sourcedId": school_id}, "subjects": ["Math"]}
    course_ok = await op("courses.create", lambda: _created(client.courses.create(course_body), course_id), school_id)
    graded_id = uid("course")  # the client sends grades as integers; the sandbox stores strings
    graded_ok = await op("courses.create(grades=['3'])", lambda: _created(client.courses.create(
        {**course_body, "sourcedId": graded_id, "grades": ["3"]}), graded_id), school_id)
    await op("courses.get(grades read back)", lambda: _field(client.courses.get(graded_id), "grades", [3]), graded_ok)
    await op("courses.update", lambda: client.courses.update(course_id, {**course_body, "title": "Client Course 2"}),
             course_ok)
    await op("courses.get(updated)", lambda: _field(client.courses.get(course_id), "title", "Client Course 2"), course_ok)
    comp_id = uid("component")
    comp_body = {"sourcedId": comp_id, "status": "active", "title": "Client Unit", "course": {"sourcedId": course_id},
                 "sortOrder": 1}
    comp_ok = await op("courses.create_component", lambda: _created(client.courses.create_component(comp_body), comp_id),
                       course_ok)
    await op("courses.update_component",
             lambda: client.courses.update_component(comp_id, {**comp_body, "title": "Client Unit 1"}), comp_ok)
    await op("courses(id).components() has component",
             lambda: _ids_equal(client.courses(course_id).components(), [comp_id]), comp_ok)
    res_id = uid("resource")
    res_body = {"sourcedId": res_id, "status": "active", "title": "Client Lesson", "vendorResourceId": "CLI-L1",
                "importance": "primary", "roles": ["primary"],
                "metadata": {"type": "video", "format": "mp4", "url": "https://content.example.org/client-l1",
                             "grades": ["3"], "subject": "Math"}}
    res_ok = await op("resources.create", lambda: _created(client.resources.create(res_body), res_id))
    await op("resources.get(created)", lambda: _field(client.resources.get(res_id), "title", "Client Lesson"), res_ok)
    await op("resources.update", lambda: client.resources.update(res_id, {**res_body, "title": "Client Lesson 1"}), res_ok)
    await op("resources.get(updated)", lambda: _field(client.resources.get(res_id), "title", "Client Lesson 1"), res_ok)
    await op("resources.export", lambda: _zip(client.resources.export(res_id)), res_ok)
    await op("resources(id).export()", lambda: _zip(client.resources(res_id).export()), res_ok)
    await op("resources(id).get()", lambda: _same_id(client.resources(res_id).get(), res_id), res_ok)
    cr_id = uid("compres")
    cr_body = {"sourcedId": cr_id, "status": "active", "title": "Client Lesson link",
               "courseComponent": {"sourcedId": comp_id}, "resource": {"sourcedId": res_id}, "sortOrder": 1}
    cr_ok = await op("courses.create_component_resource",
                     lambda: _created(client.courses.create_component_resource(cr_body), cr_id), comp_ok, res_ok)
    await op("courses.get_component_resource(created)",
             lambda: _same_id(client.courses.get_component_resource(cr_id), cr_id), cr_ok)
    await op("courses.update_component_resource",
             lambda: client.courses.update_component_resource(cr_id, {**cr_body, "title": "Client link 2"}), cr_ok)
    await op("courses.component_resources(where courseComponent.sourcedId)",
             lambda: _ids_equal(client.courses.component_resources(where={"courseComponent.sourcedId": comp_id}),
                                [cr_id]), cr_ok)

    # classes
    new_class = uid("class")
    class_body = {"sourcedId": new_class, "status": "active", "title": "Client Class", "classCode": "CLI-101-A",
                  "classType": "scheduled", "course": {"sourcedId": course_id}, "org": {"sourcedId": school_id},
                  "terms": [{"sourcedId": term_id}]}
    class_ok = await op("classes.create", lambda: _created(client.classes.create(class_body), new_class),
                        course_ok, term_ok)
    await op("classes.update", lambda: client.classes.update(new_class, {**class_body, "title": "Client Class B"}),
             class_ok)
    await op("classes.get(updated)", lambda: _field(client.classes.get(new_class), "title", "Client Class B"), class_ok)
    await op("terms(id).classes() has new class", lambda: _ids_include(client.terms(term_id).classes(), new_class),
             class_ok)
    await op("courses(id).classes() has new class", lambda: _ids_include(client.courses(course_id).classes(), new_class),
             class_ok)
    await op("classes(id).enroll(new user)",
             lambda: client.classes(new_class).enroll({"sourcedId": new_user, "role": "student"}), class_ok, created)
    await op("classes(id).students() == [new user]",
             lambda: _ids_equal(client.classes(new_class).students(), [new_user]), class_ok, created)

    # ── gradebook ───────────────────────────────────────────────────────────────────────────
    cat_id = uid("category")
    cat_ok = await op("categories.create", lambda: _created(client.categories.create(
        {"sourcedId": cat_id, "status": "active", "title": "Client Homework", "weight": 0.5}), cat_id))
    await op("categories.update", lambda: _returned(client.categories.update(
        cat_id, {"sourcedId": cat_id, "status": "active", "title": "Client HW", "weight": 0.4}), "title", "Client HW"),
        cat_ok)
    ss_id = uid("scale")
    ss_body = {"sourcedId": ss_id, "status": "active", "title": "Client 0-100", "type": "numeric",
               "class": {"sourcedId": new_class}, "scoreScaleValue": [{"itemValueLHS": "0", "itemValueRHS": "100"}]}
    ss_ok = await op("score_scales.create", lambda: _created(client.score_scales.create(ss_body), ss_id), class_ok)
    await op("score_scales.update", lambda: _returned(client.score_scales.update(ss_id, {**ss_body, "title": "Client 0-10"}),
                                                     "title", "Client 0-10"), ss_ok)
    li_id = uid("lineitem")
    li_body = {"sourcedId": li_id, "status": "active", "title": "Client Quiz", "class": {"sourcedId": new_class},
               "school": {"sourcedId": school_id}, "category": {"sourcedId": cat_id}, "assignDate": "2026-01-12T08:00:00.000Z",
               "dueDate": "2026-01-19T23:59:00.000Z", "resultValueMin": 0, "resultValueMax": 100, "gradingPeriod": {"sourcedId": gp_id}}
    li_ok = await op("line_items.create", lambda: _created(client.line_items.create(li_body), li_id), class_ok, cat_ok, gp_ok)
    await r.divergence("line_items.create(assignDate date-only)", lambda: client.line_items.create(
        {**li_body, "sourcedId": uid("lineitem"), "assignDate": "2026-01-12", "dueDate": "2026-01-19"}),
        "the client's own docstring example uses date-only assignDate/dueDate; the spec says date-time", li_ok)
    await op("line_items.update (PUT, returns entity)",
             lambda: _returned(client.line_items.update(li_id, {**li_body, "title": "Client Quiz 1"}), "title",
                               "Client Quiz 1"), li_ok)
    await op("line_items.update(unknown) raises NotFoundError",
             lambda: _raises_not_found(client.line_items.update(uid("nope"), li_body)))
    up_li = uid("lineitem")
    up_li_ok = await op("line_items.upsert (PUT creates)",
                        lambda: _returned(client.line_items.upsert(up_li, {**li_body, "title": "Upserted Quiz"}),
                                          "sourcedId", up_li), li_ok)
    await op("line_items.upsert (PUT updates)",
             lambda: _returned(client.line_items.upsert(up_li, {**li_body, "title": "Upserted Quiz 2"}),
                               "title", "Upserted Quiz 2"), up_li_ok)
    await op("classes(id).line_items() has both",
             lambda: _ids_include(client.classes(new_class).line_items(), li_id, up_li), li_ok, up_li_ok)
    await op("classes(id).create_line_item",
             lambda: client.classes(new_class).create_line_item({**li_body, "sourcedId": uid("lineitem"),
                                                                 "title": "Class-scoped quiz"}), li_ok)
    await op("schools(id).create_line_item",
             lambda: client.schools(school_id).create_line_item({**li_body, "sourcedId": uid("lineitem"),
                                                                 "title": "School-scoped quiz"}), li_ok)
    res_body_gb = {"status": "active", "lineItem": {"sourcedId": li_id}, "student": {"sourcedId": new_user},
                   "class": {"sourcedId": new_class}, "score": 88, "scoreDate": "2026-01-20T10:00:00.000Z",
                   "scoreStatus": "fully graded", "comment": "well done"}
    result_id = uid("result")
    result_ok = await op("results.create", lambda: _created(client.results.create({**res_body_gb, "sourcedId": result_id}),
                                                            result_id), li_ok, created)
    await op("results.update (PUT, returns entity)",
             lambda: _returned(client.results.update(result_id, {**res_body_gb, "sourcedId": result_id, "score": 91}),
                               "score", 91), result_ok)
    up_res = uid("result")
    await op("results.upsert (PUT creates)",
             lambda: _returned(client.results.upsert(up_res, {**res_body_gb, "lineItem": {"sourcedId": up_li},
                                                             "score": 70}), "sourcedId", up_res), up_li_ok, created)
    await op("results.list(where student.sourcedId)",
             lambda: _all_match(client.results.list_all(where={"student.sourcedId": new_user}),
                                lambda x: ref_id(x.student) == new_user, count=2), result_ok)
    await op("classes(id).student(id).results() has result",
             lambda: _ids_include(client.classes(new_class).student(new_user).results(), result_id), result_ok)
    await op("classes(id).line_item(id).results() has result",
             lambda: _ids_include(client.classes(new_class).line_item(li_id).results(), result_id), result_ok)
    await op("line_items(id).create_results (bulk)", lambda: _bulk(client.line_items(li_id).create_results(
        [{**res_body_gb, "sourcedId": uid("result"), "student": {"sourcedId": guardian}, "score": 60}]), 1),
        li_ok, g_created)
    await op("classes(id).academic_session(id).create_result", lambda: client.classes(new_class).academic_session(
        term_id).create_result({**res_body_gb, "sourcedId": uid("result"), "score": 75}), result_ok)
    await op("results.delete", lambda: client.results.delete(result_id), result_ok)
    await op("results.get(deleted)", lambda: r.deleted("results", lambda: client.results.get(result_id)), result_ok)

    # assessment line items / results (PATCH supported)
    ali_id = uid("ali")
    ali_body = {"sourcedId": ali_id, "status": "active", "title": "Client Unit Test", "class": {"sourcedId": new_class},
                "resultValueMin": 0, "resultValueMax": 100}
    ali_ok = await op("assessment_line_items.create",
                      lambda: _created(client.assessment_line_items.create(ali_body), ali_id), class_ok)
    await op("assessment_line_items.update",
             lambda: _returned(client.assessment_line_items.update(ali_id, {**ali_body, "title": "Client Unit Test A"}),
                               "title", "Client Unit Test A"), ali_ok)
    await op("assessment_line_items.patch", lambda: client.assessment_line_items.patch(ali_id, {"title": "Patched Test"}),
             ali_ok)
    await op("assessment_line_items.get(patched)",
             lambda: _field(client.assessment_line_items.get(ali_id), "title", "Patched Test", keep={"resultValueMax": 100}),
             ali_ok)
    await op("assessment_line_items.list(where class.sourcedId)",
             lambda: _ids_equal(client.assessment_line_items.list_all(where={"class.sourcedId": new_class}), [ali_id]),
             ali_ok)
    ar_id = uid("ar")
    ar_body = {"sourcedId": ar_id, "status": "active", "assessmentLineItem": {"sourcedId": ali_id},
               "student": {"sourcedId": new_user}, "score": 77, "scoreDate": "2026-02-01T10:00:00.000Z", "scoreStatus": "fully graded"}
    ar_ok = await op("assessment_results.create", lambda: _created(client.assessment_results.create(ar_body), ar_id),
                     ali_ok, created)
    await op("assessment_results.update",
             lambda: _returned(client.assessment_results.update(ar_id, {**ar_body, "score": 79}), "score", 79), ar_ok)
    await op("assessment_results.patch", lambda: client.assessment_results.patch(ar_id, {"score": 81}), ar_ok)
    await op("assessment_results.get(patched)",
             lambda: _field(client.assessment_results.get(ar_id), "score", 81, keep={"scoreStatus": "fully graded"}), ar_ok)
    up_ar = uid("ar")
    await op("assessment_results.upsert (PUT creates)",
             lambda: _returned(client.assessment_results.upsert(up_ar, {**ar_body, "score": 50}), "sourcedId", up_ar),
             ali_ok, created)
    await op("assessment_results.list(where score gt 60)",
             lambda: _all_match(client.assessment_results.list_all(where={"assessmentLineItem.sourcedId": ali_id,
                                                                          "score": {"gt": 60}}),
                                lambda x: x.score > 60, count=1), ar_ok)
    await op("assessment_results.delete", lambda: client.assessment_results.delete(ar_id), ar_ok)
    await op("assessment_results.get(deleted)",
             lambda: r.deleted("assessment_results", lambda: client.assessment_results.get(ar_id)), ar_ok)
    await op("assessment_line_items.delete", lambda: client.assessment_line_items.delete(ali_id), ali_ok)
    await op("assessment_line_items.get(deleted)",
             lambda: r.deleted("assessment_line_items", lambda: client.assessment_line_items.get(ali_id)), ali_ok)

    # ── deletes of the rest ─────────────────────────────────────────────────────────────────
    await op("line_items.delete", lambda: client.line_items.delete(up_li), up_li_ok)
    await op("line_items.get(deleted)", lambda: r.deleted("line_items", lambda: client.line_items.get(up_li)), up_li_ok)
    await op("score_scales.delete", lambda: client.score_scales.delete(ss_id), ss_ok)
    await op("categories(id).delete()", lambda: client.categories(cat_id).delete(), cat_ok)
    await op("categories.get(deleted)", lambda: r.deleted("categories", lambda: client.categories.get(cat_id)), cat_ok)
    await op("courses.delete_component_resource", lambda: client.courses.delete_component_resource(cr_id), cr_ok)
    await op("courses.delete_component", lambda: client.courses.delete_component(comp_id), comp_ok)
    await op("courses.get_component(deleted)",
             lambda: r.deleted("courseComponents", lambda: client.courses.get_component(comp_id)), comp_ok)
    await op("resources.delete", lambda: client.resources.delete(res_id), res_ok)
    await op("resources.get(deleted)", lambda: r.deleted("resources", lambda: client.resources.get(res_id)), res_ok)
    await op("classes.delete", lambda: client.classes.delete(new_class), class_ok)
    await op("classes.get(deleted)", lambda: r.deleted("classes", lambda: client.classes.get(new_class)), class_ok)
    await op("courses.delete", lambda: client.courses.delete(course_id), course_ok)
    await op("grading_periods.delete", lambda: client.grading_periods.delete(gp2_id), gp2_ok)
    await op("terms.delete", lambda: client.terms.delete(term_id), term_ok)
    await op("academic_sessions.delete", lambda: client.academic_sessions.delete(sess_id), sess_ok)
    await op("academic_sessions.get(deleted)",
             lambda: r.deleted("academicSessions", lambda: client.academic_sessions.get(sess_id)), sess_ok)
    await op("users.delete", lambda: client.users.delete(new_user), created)
    await op("users.get(deleted)", lambda: r.deleted("users", lambda: client.users.get(new_user)), created)
    await op("schools.delete", lambda: client.schools.delete(new_school), school_ok)


# ── small async assertion helpers (each returns a JSON-able summary or the value) ────────────

async def _len(coro: Awaitable[Any], n: int) -> int:
    page = await coro
    check(len(page.data) == n, f"expected {n} items, got {len(page.data)}")
    return n


async def _offset_page(resource: Any) -> None:
    a = await resource.list(limit=10)
    b = await resource.list(limit=5, offset=5)
    check([sid(x) for x in b.data] == [sid(x) for x in a.data[5:10]], "offset page does not continue the first page")
    check(b.next_offset == 10, f"next_offset={b.next_offset}")


async def _stream_max(resource: Any, n: int) -> None:
    got = [x async for x in resource.stream(limit=3, max_items=n)]
    check(len(got) == n, f"stream(max_items={n}) yielded {len(got)}")


async def _not_none(coro: Awaitable[Any]) -> Any:
    value = await coro
    check(value is not None, "got None")
    return value


async def _nonempty(coro: Awaitable[Any]) -> Any:
    page = await coro
    check(page.data, "empty page")
    return page


async def _nonempty_list(coro: Awaitable[Any]) -> Any:
    items = await coro
    check(items, "empty list")
    return items


async def _same_id(coro: Awaitable[Any], expected: str) -> Any:
    entity = await coro
    check(sid(entity) == expected, f"got {sid(entity)!r}, expected {expected!r}")
    return entity


async def _true(coro: Awaitable[Any]) -> None:
    check(await coro is True, "expected True")


async def _false(coro: Awaitable[Any]) -> None:
    check(await coro is False, "expected False")


async def _raises_not_found(coro: Awaitable[Any]) -> None:
    try:
        await coro
    except NotFoundError:
        return
    raise AssertionError("expected NotFoundError")


async def _all_match(coro: Awaitable[Any], pred: Callable[[Any], bool], *, nonempty: bool = False,
                     count: int | None = None) -> int:
    items = await coro
    items = getattr(items, "data", items)
    if nonempty:
        check(items, "filter matched nothing")
    if count is not None:
        check(len(items) == count, f"expected {count} matches, got {len(items)}")
    bad = [sid(x) for x in items if not pred(x)]
    check(not bad, f"{len(bad)} items do not satisfy the filter, e.g. {bad[:3]}")
    return len(items)


async def _ids_equal(coro: Awaitable[Any], expected: list[str]) -> None:
    items = await coro
    items = getattr(items, "data", items)
    got = sorted(sid(x) for x in items)
    check(got == sorted(expected), f"got ids {got}, expected {sorted(expected)}")


async def _ids_include(coro: Awaitable[Any], *expected: str) -> None:
    items = await coro
    items = getattr(items, "data", items)
    got = {sid(x) for x in items}
    missing = [e for e in expected if e not in got]
    check(not missing, f"missing {missing} among {len(got)} ids")


async def _ids_exclude(coro: Awaitable[Any], unwanted: str) -> None:
    items = await coro
    check(unwanted not in {sid(x) for x in items}, f"{unwanted} still listed")


async def _search(resource: Any) -> int:
    page = await resource.list(limit=1)
    name = page.data[0].given_name
    found = await resource.list_all(search=name)
    check(any(sid(u) == sid(page.data[0]) for u in found), f"search={name!r} misses the user it came from")
    return len(found)


async def _sorted(resource: Any, field: str, order: str) -> None:
    items = await resource.list_all(sort=field, order_by=order, limit=50)
    values = [dump(x).get(field) for x in items]
    check(values == sorted(values, reverse=(order == "desc")), f"not sorted by {field} {order}")


async def _fields(resource: Any) -> None:
    # The typed User model needs givenName/familyName, so those must be among the fields asked for.
    # The sandbox keeps the schema's required fields in sparse answers; optional ones must go.
    page = await resource.list(limit=5, fields=["sourcedId", "givenName", "familyName"])
    check(page.data, "no users")
    for item in page.data:
        data = item.model_dump(by_alias=True, exclude_none=True)
        check(item.given_name and item.family_name, "asked-for field missing")
        leaked = {"email", "username", "userIds", "primaryOrg", "metadata"} & set(data)
        check(not leaked, f"sparse fieldset returned optional fields not asked for: {sorted(leaked)}")


async def _created(coro: Awaitable[Any], supplied: str) -> str:
    response = await coro
    pairs = getattr(response, "sourced_id_pairs", None)
    if pairs is None and isinstance(response, dict):
        pairs = response.get("sourcedIdPairs")
        pairs = pairs[0] if isinstance(pairs, list) else pairs
        allocated = (pairs or {}).get("allocatedSourcedId")
    else:
        allocated = pairs.allocated_sourced_id
    check(allocated == supplied, f"allocatedSourcedId={allocated!r}, supplied {supplied!r}")
    return allocated


async def _field(coro: Awaitable[Any], key: str, value: Any, keep: dict | None = None) -> None:
    data = dump(await coro)
    check(data.get(key) == value, f"{key}={data.get(key)!r}, expected {value!r}")
    for k, v in (keep or {}).items():
        check(data.get(k) == v, f"PATCH lost {k}: {data.get(k)!r}, expected {v!r}")


async def _returned(coro: Awaitable[Any], key: str, value: Any) -> None:
    entity = await coro
    check(entity is not None, "update/upsert returned nothing")
    data = dump(entity)
    check(data.get(key) == value, f"returned {key}={data.get(key)!r}, expected {value!r}")
    return entity


async def _patched_enrollment(coro: Awaitable[Any], user: str) -> None:
    data = dump(await coro)
    check(data.get("endDate") == "2026-04-01", f"endDate={data.get('endDate')!r}")
    check(ref_id(data.get("user")) == user, "PATCH lost the user reference")
    check(data.get("role") == "student", "PATCH lost the role")


async def _decrypted(coro: Awaitable[Any]) -> None:
    value = await coro
    check(getattr(value, "password", None) == "s3cret-Passw0rd!", f"decrypted password mismatch: {value!r}")


async def _zip(coro: Awaitable[bytes]) -> int:
    body = await coro
    check(body[:2] == b"PK", f"export is not a zip archive (starts {body[:8]!r})")
    return len(body)


async def _bulk(coro: Awaitable[Any], n: int) -> None:
    response = await coro
    check(len(response.sourced_id_pairs) == n, f"{len(response.sourced_id_pairs)} pairs, expected {n}")


async def main_async(args: argparse.Namespace) -> dict:
    runner = Runner(verbose=args.verbose)
    client = OneRosterClient(base_url=args.base_url, auth_url=args.token_url, client_id=args.client_id,
                             client_secret=args.client_secret, timeout=args.timeout)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(drive(client, runner), timeout=args.budget)
    except TimeoutError:
        runner.operations.append({"name": "driver budget", "ok": False,
                                  "error": f"driver exceeded its {args.budget}s budget"})
    finally:
        await client.close()
    return {"client": {"package": "timeback-oneroster", "version": CLIENT_VERSION, "python": sys.version.split()[0]},
            "base_url": args.base_url, "delete_semantics": runner.delete_semantics, **outcome(runner, started)}


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0], default_credentials=True)
    parser.add_argument("--budget", type=float, default=120.0, help="whole-run budget (s)")
    return run_driver(parser.parse_args(argv), main_async, IMPORT_ERROR, always_print=True)


if __name__ == "__main__":
    sys.exit(main())
