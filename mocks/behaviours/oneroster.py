"""OneRoster behaviour a spec cannot express: agents, credentials, demographics join, Common
Cartridge export, course structure, and deriving an enrollment's school from its class."""
from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zipfile
from typing import Any
from xml.sax.saxutils import escape

from tbconform.fixtures.oneroster import COLLECTIONS, HREF, REF_COLLECTION
from tbconform.mocks import hrefs
from tbconform.mocks.actions import check_references, is_deleted, now_iso
from tbconform.mocks.context import RequestContext, Response
from tbconform.mocks.defaults import fill_defaults
from tbconform.mocks.errors import ApiError

ROSTERING = "/ims/oneroster/rostering/v1p2"
_SEAL_KEY = hashlib.sha256(b"tbconform sandbox credentials").digest()  # stable across restarts


def _user(ctx: RequestContext, param: str) -> dict[str, Any]:
    user_id = ctx.path_params[param]
    user = ctx.store.get("users", user_id)
    if user is None or is_deleted(user):
        raise ApiError(404, f"user {user_id!r} not found")
    return user


def _save(ctx: RequestContext, collection: str, record: dict[str, Any]) -> None:
    record["dateLastModified"] = now_iso()
    ctx.store.replace(collection, record)


def user_with_demographics(ctx: RequestContext) -> Response:
    user = _user(ctx, "sourcedId")
    demographics = ctx.store.get("demographics", user["sourcedId"])
    if demographics is not None:
        user = {**user, "demographics": demographics}
    return Response.json(200, {"user": user})


def add_agent(ctx: RequestContext) -> Response:
    agent_id = ctx.body_item("agentSourcedId") if isinstance(ctx.body, dict) else None
    if not isinstance(agent_id, str) or not agent_id:
        raise ApiError(400, "body must be {\"agentSourcedId\": \"<user sourcedId>\"}")
    with ctx.store.transaction():
        user = _user(ctx, "userId")
        if agent_id == user["sourcedId"]:
            raise ApiError(422, "a user cannot be their own agent")
        if not ctx.store.exists("users", agent_id):
            raise ApiError(422, f"agentSourcedId refers to user {agent_id!r}, which does not exist")
        agents = list(user.get("agents") or [])
        if all(a.get("sourcedId") != agent_id for a in agents):
            agents.append({"href": f"{ROSTERING}/users/{agent_id}", "sourcedId": agent_id, "type": "user"})
            user["agents"] = agents
            _save(ctx, "users", user)
    return Response.json(ctx.operation.success_status, {})


def remove_agent(ctx: RequestContext) -> Response:
    agent_id = ctx.path_params["agentSourcedId"]
    with ctx.store.transaction():
        user = _user(ctx, "userId")
        agents = list(user.get("agents") or [])
        kept = [a for a in agents if a.get("sourcedId") != agent_id]
        if len(kept) == len(agents):
            raise ApiError(404, f"user {agent_id!r} is not an agent of {user['sourcedId']!r}")
        user["agents"] = kept
        _save(ctx, "users", user)
    return Response.empty(ctx.operation.success_status)


def _seal(text: str) -> str:
    """Reversible obfuscation so stored passwords are not plain text (it is a sandbox)."""
    data = bytes(b ^ _SEAL_KEY[i % len(_SEAL_KEY)] for i, b in enumerate(text.encode()))
    return base64.b64encode(data).decode()


def _unseal(sealed: str) -> str:
    data = base64.b64decode(sealed)
    return bytes(b ^ _SEAL_KEY[i % len(_SEAL_KEY)] for i, b in enumerate(data)).decode()


def register_credentials(ctx: RequestContext) -> Response:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    app_name, creds = body.get("applicationName"), body.get("credentials")
    if not isinstance(app_name, str) or not isinstance(creds, dict) or not isinstance(creds.get("username"), str) \
            or not isinstance(creds.get("password"), str):
        raise ApiError(400, "body must be {applicationName, credentials: {username, password}}")
    with ctx.store.transaction():
        user = _user(ctx, "userId")
        profiles = list(user.get("userProfiles") or [])
        profile = next((p for p in profiles if p.get("applicationId") == app_name), None)
        if profile is None:
            profile = {"profileId": str(uuid.uuid4()), "profileType": app_name, "vendorId": app_name,
                       "applicationId": app_name, "description": None,
                       "app": {"sourcedId": app_name, "name": app_name, "description": None, "domain": ""},
                       "credentials": []}
            profiles.append(profile)
        credential_id = str(uuid.uuid4())
        profile["credentials"] = list(profile.get("credentials") or []) + [
            {"id": credential_id, "type": "username", "username": creds["username"], "password": _seal(creds["password"])}
        ]
        user["userProfiles"] = profiles
        _save(ctx, "users", user)
    return Response.json(ctx.operation.success_status, {
        "userProfileId": profile["profileId"], "credentialId": credential_id, "message": "Credentials registered"})


def decrypt_credential(ctx: RequestContext) -> Response:
    user = _user(ctx, "userId")
    wanted = ctx.path_params["credentialId"]
    for profile in user.get("userProfiles") or []:
        for credential in profile.get("credentials") or []:
            if credential.get("id") == wanted and isinstance(credential.get("password"), str):
                try:
                    return Response.json(ctx.operation.success_status, {"password": _unseal(credential["password"])})
                except (ValueError, UnicodeDecodeError):
                    raise ApiError(422, f"credential {wanted!r} holds no decryptable password") from None
    raise ApiError(404, f"credential {wanted!r} not found for user {user['sourcedId']!r}")


def export_resource(ctx: RequestContext) -> Response:
    """A minimal IMS Common Cartridge 1.3 package holding one web-link resource."""
    resource_id = ctx.path_params["sourceId"]
    resource = ctx.store.get("resources", resource_id)
    if resource is None or is_deleted(resource):
        raise ApiError(404, f"resource {resource_id!r} not found")
    title = escape(str(resource.get("title", resource_id)))
    url = escape(str((resource.get("metadata") or {}).get("url", "")))
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<manifest identifier="M-{escape(resource_id)}" xmlns="http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1">'
        '<metadata><schema>IMS Common Cartridge</schema><schemaversion>1.3.0</schemaversion></metadata>'
        f'<organizations><organization identifier="O1" structure="rooted-hierarchy"><item identifier="root">'
        f'<item identifier="I1" identifierref="R1"><title>{title}</title></item></item></organization></organizations>'
        '<resources><resource identifier="R1" type="imswl_xmlv1p3"><file href="link.xml"/></resource></resources>'
        '</manifest>\n'
    )
    link = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<webLink xmlns="http://www.imsglobal.org/xsd/imsccv1p3/imswl_v1p3"><title>{title}</title>'
        f'<url href="{url}"/></webLink>\n'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("imsmanifest.xml", manifest), ("link.xml", link)):
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            archive.writestr(info, text)
    return Response(200, buffer.getvalue(), {"Content-Disposition": f'attachment; filename="{resource_id}.imscc"'},
                    "application/zip")


def create_course_structure(ctx: RequestContext) -> Response:
    """Create a course and its component tree in one transaction."""
    course_in = ctx.body_item("course")
    structure = ctx.body.get("courseStructure") or {}
    if not isinstance(course_in, dict) or not isinstance(structure, dict):
        raise ApiError(400, "body must be {course: {...}, courseStructure: {...}}")
    courses, components = ctx.collection("courses"), ctx.collection("courseComponents")
    with ctx.store.transaction():
        course = {"status": "active", **course_in, "dateLastModified": now_iso()}
        course.setdefault("sourcedId", str(uuid.uuid4()))
        if ctx.store.exists("courses", course["sourcedId"]):
            raise ApiError(409, f"course {course['sourcedId']!r} already exists")
        course = complete(ctx, "courses", course)
        check_references(ctx, courses, course)
        ctx.store.insert("courses", course)
        ref = {"href": f"{ROSTERING}/courses/{course['sourcedId']}", "sourcedId": course["sourcedId"], "type": "course"}
        for order, (key, unit) in enumerate(sorted(structure.items()), start=1):
            title = unit.get("title", key) if isinstance(unit, dict) else str(key)
            component = {"sourcedId": str(uuid.uuid4()), "status": "active", "title": str(title), "course": ref,
                         "sortOrder": order, "dateLastModified": now_iso(),
                         "metadata": unit if isinstance(unit, dict) else {"value": unit}}
            component = complete(ctx, "courseComponents", component)
            check_references(ctx, components, component)
            ctx.store.insert("courseComponents", component)
    supplied = course_in.get("sourcedId") if isinstance(course_in.get("sourcedId"), str) else course["sourcedId"]
    return Response.json(ctx.operation.success_status,
                         {"sourcedIdPairs": {"suppliedSourcedId": supplied, "allocatedSourcedId": course["sourcedId"]}})


def enrollment_school_from_class(ctx: RequestContext, record: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """Enrollments created under /classes/{id}/students carry no school: take the class's."""
    if not record.get("school") and isinstance(record.get("class"), dict):
        klass = ctx.store.get("classes", record["class"].get("sourcedId", ""))
        if klass and isinstance(klass.get("school"), dict):
            record["school"] = klass["school"]
    return record


def class_school_from_org(ctx: RequestContext, record: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """Timeback's clients send a class's school as `org`; reads (and scopes) use `school`."""
    if not record.get("school") and isinstance(record.get("org"), dict):
        record["school"] = record["org"]
    return record


# Store collection -> GUIDRef `type` of a reference to it: the seed's table read backwards (its first
# type per collection is the canonical one: `academicSession`, not `term` or `gradingPeriod`).
REF_TYPE = {collection: kind for kind, collection in reversed(REF_COLLECTION.items())}


def _guid_refs(node: Any, segments: Any) -> list[dict[str, Any]]:
    values = [node]
    for name, is_array in segments:
        nxt: list[Any] = []
        for value in values:
            got = value.get(name) if isinstance(value, dict) else None
            nxt.extend(got if is_array and isinstance(got, list) else [got] if got is not None else [])
        values = nxt
    return [v for v in values if isinstance(v, dict) and isinstance(v.get("sourcedId"), str)]


def _year(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit() and (len(value) == 4 or value[4] == "-"):
        return int(value[:4])
    return None


def _session_fields(ctx: RequestContext, record: dict[str, Any]) -> None:
    """schoolYear is a number on reads; org comes from the parent when a write names none.

    A write without a schoolYear takes its parent's, else endDate's year, else the current year
    (UTC): Timeback's read schema requires the number on every session.
    """
    parent = record.get("parent")
    parent_record = (ctx.store.get("academicSessions", str(parent.get("sourcedId")))
                     if isinstance(parent, dict) and parent.get("sourcedId") else None)
    year = _year(record.get("schoolYear"))
    if year is None and parent_record:
        year = _year(parent_record.get("schoolYear"))
    if year is None:
        year = _year(record.get("endDate"))
    record["schoolYear"] = year if year is not None else int(now_iso()[:4])
    if not record.get("org") and parent_record and isinstance(parent_record.get("org"), dict):
        record["org"] = parent_record["org"]
    if not isinstance(record.get("org"), dict) and (parent_record or not isinstance(parent, dict)):
        # The write schema asks for `org` or a parent; this catches a parent without one (an
        # unknown parent is left to the reference check, which names it).
        raise ApiError(422, "org is required: name the session's org (its parent session has none)",
                       [{"path": "org", "message": "org is required"}])


def complete(ctx: RequestContext, collection: str, record: dict[str, Any]) -> dict[str, Any]:
    """A written record as Timeback reads it: its own base URL stripped from hrefs (the store stays
    portable), spec defaults for omitted fields, and every reference carrying `href` and `type`."""
    coll = ctx.collection(collection)
    record = fill_defaults(hrefs.relative(record, ctx.base_url), coll.schema, coll.resolve)
    for segments, target in coll.refs:
        kind = REF_TYPE.get(target)
        for ref in _guid_refs(record, segments) if kind else ():
            ref.setdefault("type", kind)
            ref.setdefault("href", HREF[kind] + ref["sourcedId"])
    if collection == "academicSessions":
        _session_fields(ctx, record)
    elif collection == "courseComponents" and not isinstance(record.get("unlockDate"), str):
        record["unlockDate"] = record.get("dateLastModified") or now_iso()
    return record


def _hook(collection: str, then: Any = None) -> Any:
    def hook(ctx: RequestContext, record: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        if then is not None:
            record = then(ctx, record, old) or record
        return complete(ctx, collection, record)
    return hook


BEHAVIOURS = {
    "users.demographics": user_with_demographics,
    "agents.add": add_agent,
    "agents.remove": remove_agent,
    "credentials.register": register_credentials,
    "credentials.decrypt": decrypt_credential,
    "resources.export": export_resource,
    "courses.structure": create_course_structure,
}

_SPECIFIC = {"enrollments": enrollment_school_from_class, "classes": class_school_from_org}
WRITE_HOOKS = {name: _hook(name, _SPECIFIC.get(name)) for name in COLLECTIONS}
