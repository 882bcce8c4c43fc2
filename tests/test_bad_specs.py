"""A broken spec is refused with a message naming the file and the problem, never a traceback."""
from __future__ import annotations

import pytest
import yaml

from tbconform.mocks.sandbox import Sandbox, SandboxConfig
from tbconform.specs.loader import SpecError

GOOD = {
    "openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "x-tb-api": "demo",
    "x-tb-collections": {"things": {"schema": "Thing"}},
    "components": {"schemas": {"Thing": {"type": "object", "properties": {"sourcedId": {"type": "string"}}}}},
    "paths": {"/things": {"get": {"operationId": "list", "responses": {"200": {"description": "ok"}},
                                  "x-tb-binding": {"collection": "things", "action": "list"}}}},
}


def write(tmp_path, text: str):
    folder = tmp_path / "demo"
    folder.mkdir(exist_ok=True)
    (folder / "demo.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize("mutate, words", [
    (lambda d: "paths: [unclosed", "not valid YAML"),
    (lambda d: yaml.safe_dump({"info": {}}), "not an OpenAPI document"),
    (lambda d: yaml.safe_dump({**d, "x-tb-collections": {"things": {"schema": "Nope"}}}), "Nope"),
    (lambda d: yaml.safe_dump({**d, "paths": {"/x": {"get": {"responses": {}}}}}), "neither x-tb-binding"),
    (lambda d: yaml.safe_dump({**d, "paths": {"/x": {"get": {"responses": {}, "x-tb-behaviour": "nobody.home"}}}}), "nobody.home"),
    (lambda d: yaml.safe_dump({**d, "paths": {"/x": {"get": {
        "responses": {}, "parameters": [{"$ref": "#/components/parameters/Nowhere"}],
        "x-tb-binding": {"collection": "things", "action": "list"}}}}}), "Nowhere"),
    (lambda d: yaml.safe_dump({**d, "x-tb-collections": {"things": {"schema": "Thing", "key": "id"}}}),
     "things.key must name a field"),
    (lambda d: yaml.safe_dump({**d, "x-tb-collections": {"things": {"schema": "Thing", "delete": "never"}}}),
     "things.delete must be 'soft' or 'hard'"),
    (lambda d: yaml.safe_dump({**d, "x-tb-collections": {"things": {"schema": "Thing",
                                                                    "stamps": {"created": "born"}}}}),
     "things.stamps must map created/modified"),
])
def test_broken_spec_is_a_clear_error(tmp_path, mutate, words):
    root = write(tmp_path, mutate(GOOD))
    with pytest.raises(SpecError) as info:
        Sandbox(SandboxConfig(spec_root=root, apis=["demo"]))
    assert words in str(info.value)


def test_a_minimal_spec_plugs_in_without_touching_the_core(tmp_path):
    sandbox = Sandbox(SandboxConfig(spec_root=write(tmp_path, yaml.safe_dump(GOOD)), apis=["demo"]))
    assert [op.op.operation_id for op in sandbox.operations] == ["list"]
    assert "things" in sandbox.collections
