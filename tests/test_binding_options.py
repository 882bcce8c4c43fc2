"""The generic actions serve Timeback-style records (unwrapped bodies, an `id` key, created/updated
stamps, hard deletes that take dependents along, fixed-value changes, answer templates, unpaged
lists filtered by a query parameter) from `x-tb-binding` and `x-tb-collections` alone: a demo
spec with no plug-in code, so nothing here leans on the webhook spec that uses these options."""
from __future__ import annotations

import yaml

from tbconform.mocks.sandbox import SandboxConfig
from tbconform.mocks.testing import run_sandbox

RECORD = {"key": "id", "stamps": {"created": "created_at", "modified": "updated_at"}, "delete": "hard"}
HOOK = {"collection": "hooks", "bodyKey": "$", "defaults": {"note": None}}
ONE = {"id": "id", "respond": "wrapped", "responseKeys": ["hook"]}
STR = {"type": "string"}


def _op(binding: dict, status: str = "200", body: bool = False) -> dict:
    op = {"operationId": f"op{abs(hash(str(binding))) % 10**8}", "responses": {status: {"description": "ok"}},
          "x-tb-binding": binding}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/HookInput"}}}}
    return op


SPEC = {
    "openapi": "3.1.0", "info": {"title": "demo", "version": "1"}, "x-tb-api": "demo",
    "x-tb-collections": {"hooks": {"schema": "Hook", "indexed": ["kind"], **RECORD},
                         "rules": {"schema": "Rule", **RECORD}},
    "components": {"schemas": {
        "HookInput": {"type": "object", "properties": {"name": STR, "kind": STR, "on": {"type": "boolean"},
                                                       "note": {"type": ["string", "null"]}},
                      "required": ["name", "kind"]},
        "Hook": {"type": "object", "properties": {"id": STR, "name": STR, "kind": STR, "on": {"type": "boolean"},
                                                  "note": {"type": ["string", "null"]}, "created_at": STR,
                                                  "updated_at": STR}},
        "Rule": {"type": "object", "properties": {"id": STR, "hookId": {"type": "string", "x-tb-ref": "hooks"},
                                                  "created_at": STR, "updated_at": STR}},
    }},
    "paths": {
        "/hooks": {"get": {**_op({**HOOK, "action": "list", "paging": "none", "params": {"kind": "kind"},
                                  "responseKeys": ["hooks"]}),
                           "parameters": [{"name": "kind", "in": "query", "schema": STR}]},
                   "post": _op({**HOOK, "action": "create", **ONE}, "201", body=True)},
        "/hooks/{id}": {"get": _op({**HOOK, "action": "get", **ONE}),
                        "put": _op({**HOOK, "action": "update", "replace": True, **ONE}, body=True),
                        "delete": _op({**HOOK, "action": "delete", "id": "id",
                                       "respond": {"message": "hook {id} deleted"}})},
        "/hooks/{id}/off": {"put": _op({**HOOK, "action": "patch", "set": {"on": False}, **ONE})},
        "/rules": {"post": _op({"collection": "rules", "bodyKey": "$", "action": "create", "id": "id",
                                "respond": "wrapped", "responseKeys": ["rule"]}, "201")},
        "/rules/{id}": {"get": _op({"collection": "rules", "action": "get", "id": "id", "responseKeys": ["rule"]})},
    },
}


def test_timeback_style_records_from_bindings_alone(tmp_path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "demo.yaml").write_text(yaml.safe_dump(SPEC))
    with run_sandbox(SandboxConfig(spec_root=tmp_path, apis=["demo"])) as running, running.client() as client:
        made = client.post("/hooks", json={"name": "a", "kind": "x", "on": True, "note": "first"})
        assert made.status_code == 201, made.text
        hook = made.json()["hook"]
        assert hook["id"] and hook["created_at"] == hook["updated_at"] and "status" not in hook
        assert "sourcedId" not in hook and "dateLastModified" not in hook
        assert client.get(f"/hooks/{hook['id']}").json() == {"hook": hook}
        other = client.post("/hooks", json={"name": "b", "kind": "y"}).json()["hook"]
        assert other["note"] is None  # a default fills what the body leaves out

        # unpaged list under its key, filtered by the declared query parameter
        assert client.get("/hooks").json() == {"hooks": [hook, other]}
        assert [h["id"] for h in client.get("/hooks", params={"kind": "y"}).json()["hooks"]] == [other["id"]]

        # a replacing PUT: omitted fields go back to their defaults, key and creation stamp stay
        put = client.put(f"/hooks/{hook['id']}", json={"name": "a2", "kind": "x"}).json()["hook"]
        assert (put["name"], put["note"], put["created_at"], put["id"]) == ("a2", None, hook["created_at"], hook["id"])
        assert "on" not in put and put["updated_at"] >= hook["updated_at"]

        # a fixed-value change needs no body
        off = client.put(f"/hooks/{other['id']}/off")
        assert off.status_code == 200 and off.json()["hook"]["on"] is False, off.text

        # a dependent's reference must resolve; a hard delete takes the dependents along
        assert client.post("/rules", json={"hookId": "nope"}).status_code == 422
        rule = client.post("/rules", json={"hookId": hook["id"]}).json()["rule"]
        kept = client.post("/rules", json={"hookId": other["id"]}).json()["rule"]
        gone = client.delete(f"/hooks/{hook['id']}")
        assert gone.status_code == 200 and gone.json() == {"message": f"hook {hook['id']} deleted"}
        assert client.get(f"/hooks/{hook['id']}").status_code == 404
        assert client.get(f"/rules/{rule['id']}").status_code == 404
        assert client.get(f"/rules/{kept['id']}").status_code == 200
        assert [h["id"] for h in client.get("/hooks").json()["hooks"]] == [other["id"]]
        assert client.delete(f"/hooks/{hook['id']}").status_code == 404
