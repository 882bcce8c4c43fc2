"""The OneRoster specs: valid OpenAPI 3.1, valid examples, in sync with the generator, complete
against the reference endpoint list, and carrying the x-tb-* contract the sandbox relies on."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tbconform.specs.oneroster import _generate
from tests.conftest import HTTP_METHODS, catalog_rows, route

REPO = Path(__file__).resolve().parents[1]
SPEC_DIR = REPO / "specs" / "oneroster"
APIS = _generate.SPECS
METHODS = HTTP_METHODS
TSV_APIS = {"OneRoster-Rostering", "OneRoster-Gradebook", "OneRoster-Resources"}
EXPECTED_TSV_ROWS = 153
ERROR_SCHEMA = "#/components/schemas/ImsxStatusInfo"


def _load(api: str) -> dict[str, Any]:
    return yaml.safe_load((SPEC_DIR / f"{api}.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    return {api: _load(api) for api in APIS}


def _operations(spec: dict[str, Any]):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        _, _, kind, name = node["$ref"].split("/", 3)
        node = spec["components"][kind][name]
    return node


@pytest.mark.parametrize("api", APIS)
def test_spec_is_valid_openapi_31(api: str, specs) -> None:
    assert specs[api]["openapi"] == "3.1.0"
    validate_openapi(specs[api])


@pytest.mark.parametrize("api", APIS)
def test_every_schema_example_validates(api: str, specs) -> None:
    spec = specs[api]
    registry = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012))
    schemas = spec["components"]["schemas"]
    missing = [name for name, schema in schemas.items() if "example" not in schema]
    assert not missing, f"schemas without example: {missing}"
    for name, schema in schemas.items():
        validator = Draft202012Validator(
            {"$ref": f"urn:spec#/components/schemas/{name}"}, registry=registry)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(schema["example"])]
        assert not errors, f"{api} {name} example: {errors}"


@pytest.mark.parametrize("api", APIS)
def test_request_and_response_examples_validate(api: str, specs) -> None:
    spec = specs[api]
    registry = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec, default_specification=DRAFT202012))
    media = []
    for body in spec["components"].get("requestBodies", {}).values():
        media += list(body["content"].values())
    for resp in spec["components"].get("responses", {}).values():
        media += list(resp.get("content", {}).values())
    for _, _, op in _operations(spec):
        if "requestBody" in op and "content" in op["requestBody"]:
            media += list(op["requestBody"]["content"].values())
        for resp in op["responses"].values():
            media += list(resp.get("content", {}).values())
    for m in media:
        if "example" not in m:
            continue

        def rebase(node: Any) -> Any:
            if isinstance(node, dict):
                return {k: ("urn:spec" + v if k == "$ref" and v.startswith("#") else rebase(v))
                        for k, v in node.items()}
            if isinstance(node, list):
                return [rebase(v) for v in node]
            return node

        validator = Draft202012Validator(rebase(m["schema"]), registry=registry)
        errors = [e.message for e in validator.iter_errors(m["example"])]
        assert not errors, f"{api}: {errors}"


@pytest.mark.parametrize("api", APIS)
def test_yaml_matches_generator(api: str) -> None:
    on_disk = (SPEC_DIR / f"{api}.yaml").read_text(encoding="utf-8")
    assert on_disk == _generate.render(api), (
        f"{api}.yaml is stale: run `python -m tbconform.specs.oneroster._generate`")


def test_tsv_rows_are_covered(specs) -> None:
    rows = catalog_rows(TSV_APIS)
    have = {route(m, p) for spec in specs.values() for p, m, _ in _operations(spec)}
    wanted = {route(r["method"], r["path"]) for r in rows}
    missing = sorted(wanted - have)
    print(f"OneRoster TSV rows: {len(rows)}, covered: {len(wanted & have)}")
    assert len(rows) == EXPECTED_TSV_ROWS
    assert not missing, f"uncovered TSV rows: {missing}"
    assert len(wanted & have) == EXPECTED_TSV_ROWS


def test_root_extensions(specs) -> None:
    seen: dict[str, str] = {}
    for api, spec in specs.items():
        assert spec["x-tb-api"] == "oneroster"
        assert spec["x-tb-error-style"] == "ims"
        assert spec["x-tb-differences"] and all(
            {"topic", "timeback", "oneEdTech"} <= set(d) <= {"topic", "timeback", "oneEdTech", "sandbox", "ignore"}
            and all(isinstance(i, str) for i in d.get("ignore", [])) for d in spec["x-tb-differences"])
        for name, entry in spec["x-tb-collections"].items():
            assert name not in seen, f"{name} declared in {seen.get(name)} and {api}"
            seen[name] = api
            assert entry["schema"] in spec["components"]["schemas"]
            props = spec["components"]["schemas"][entry["schema"]]["properties"]
            assert all(f in props for f in entry.get("search", []))
        assert [s["url"] for s in spec["servers"]] == [
            "http://127.0.0.1:8765", "https://api.alpha-1edtech.ai",
            "https://api.staging.alpha-1edtech.ai"]


def test_operations_carry_the_contract(specs) -> None:
    declared = {c for spec in specs.values() for c in spec["x-tb-collections"]}
    ids: list[str] = []
    count = 0
    for api, spec in specs.items():
        for path, method, op in _operations(spec):
            count += 1
            where = f"{api} {method.upper()} {path}"
            assert op.get("operationId"), where
            ids.append(op["operationId"])
            assert ("x-tb-binding" in op) != ("x-tb-behaviour" in op), where
            assert op.get("security"), where
            for req in op["security"]:
                assert set(req) == {"OAuth2"} and req["OAuth2"], where
            errors = [s for s in op["responses"] if s.startswith("4")]
            assert errors, where
            for status in errors:
                resp = _deref(spec, op["responses"][status])
                assert resp["content"]["application/json"]["schema"]["$ref"] == ERROR_SCHEMA
            for status in ("400", "401", "403", "404", "422", "429", "500"):
                assert status in op["responses"], f"{where} lacks {status}"
            if "requestBody" in op:
                assert "413" in op["responses"], where
            binding = op.get("x-tb-binding")
            if binding:
                names = [binding["collection"]] + [v["collection"]
                                                   for v in binding.get("via", [])]
                names += list(binding.get("requires", {}).values())
                for name in names:
                    assert name in declared, f"{where}: undeclared collection {name}"
                params = set(_path_params(path))
                if "id" in binding:
                    assert binding["id"] in params, where
                for p in binding.get("requires", {}):
                    assert p in params, where
    assert len(ids) == len(set(ids)), "duplicate operationIds"
    assert count >= EXPECTED_TSV_ROWS


def _path_params(path: str) -> list[str]:
    return [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]


def test_entity_references_point_at_declared_collections(specs) -> None:
    declared = {c for spec in specs.values() for c in spec["x-tb-collections"]}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "x-tb-ref" in node:
                assert node["x-tb-ref"] in declared, node["x-tb-ref"]
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for spec in specs.values():
        walk(spec["components"]["schemas"])


def test_list_operations_page_and_filter(specs) -> None:
    for api, spec in specs.items():
        for path, method, op in _operations(spec):
            binding = op.get("x-tb-binding") or {}
            if binding.get("action") != "list":
                continue
            names = {_deref(spec, p)["name"] for p in op["parameters"]}
            assert {"limit", "offset", "sort", "orderBy", "filter", "fields"} <= names, path
            search = spec_collection(specs, binding["collection"]).get("search")
            assert ("search" in names) == bool(search), path
            limit = next(_deref(spec, p) for p in op["parameters"]
                         if _deref(spec, p)["name"] == "limit")
            assert limit["schema"]["maximum"] == 3000
            ok = _deref(spec, op["responses"]["200"])
            assert {"X-Total-Count", "Link"} <= set(ok["headers"])
            body = _deref(spec, ok["content"]["application/json"]["schema"])
            for key in binding["responseKeys"] + ["totalCount", "pageCount", "pageNumber",
                                                  "offset", "limit"]:
                assert key in body["required"], (path, key)


def spec_collection(specs, name: str) -> dict[str, Any]:
    for spec in specs.values():
        if name in spec["x-tb-collections"]:
            return spec["x-tb-collections"][name]
    raise KeyError(name)


def _owner(specs, collection: str) -> tuple[dict[str, Any], str]:
    for spec in specs.values():
        if collection in spec["x-tb-collections"]:
            return spec, spec["x-tb-collections"][collection]["schema"]
    raise KeyError(collection)


def test_binding_expressions_use_known_fields(specs) -> None:
    """Scopes and via/where clauses parse under the collection's filter grammar, and
    pick/match name scalar field paths of the collection they apply to."""
    import re

    from tbconform.specs.fieldpaths import field_paths

    def paths_of(collection: str) -> set[str]:
        spec, schema = _owner(specs, collection)
        return set(field_paths(spec["components"]["schemas"][schema],
                               lambda n: _deref(spec, n)))

    def check_filter(collection: str, expr: str, where: str) -> None:
        spec, schema = _owner(specs, collection)
        pattern = spec["components"]["parameters"][schema + "Filter"]["schema"]["pattern"]
        concrete = re.sub(r"\{[A-Za-z]+\}", "x-1", expr)
        assert re.match(pattern, concrete), f"{where}: {expr!r} not a valid {collection} filter"

    for api, spec in specs.items():
        for path, method, op in _operations(spec):
            binding = op.get("x-tb-binding")
            if not binding:
                continue
            where = f"{api} {method.upper()} {path}"
            params = set(_path_params(path))
            for expr in [binding.get("scope", "")] + [v.get("where", "")
                                                      for v in binding.get("via", [])]:
                assert set(re.findall(r"\{([A-Za-z]+)\}", expr)) <= params, where
            if "scope" in binding:
                check_filter(binding["collection"], binding["scope"], where)
            previous = None
            for step in binding.get("via", []):
                if "where" in step:
                    check_filter(step["collection"], step["where"], where)
                else:
                    assert previous and step["match"] in paths_of(step["collection"]), where
                assert step["pick"] in paths_of(step["collection"]), where
                previous = step
            if "via" in binding:
                assert binding["match"] in paths_of(binding["collection"]), where
            for key, value in (binding.get("defaults") or {}).items():
                assert key in paths_of(binding["collection"]) or any(
                    p.startswith(key + ".") for p in paths_of(binding["collection"])), where
