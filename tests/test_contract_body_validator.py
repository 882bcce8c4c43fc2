"""`x-tb-body-validator`: a schema-valid body that the API's validator refuses is a negative case.

Without it the contract layer would demand that a Caliper receiver accept random schema-valid
envelopes whose events break the Caliper rules, and would never ask it to refuse them.
"""
from __future__ import annotations

import copy
from types import SimpleNamespace

from tbconform.harness.catalog import Catalog
from tbconform.harness.contract import refused_by_body_validator
from tbconform.specs.loader import load_all


def _send_operation():
    catalog = Catalog(load_all(["caliper"]))
    return next(op for op in catalog.ops if op.method.upper() == "POST" and op.path == "/caliper/event")


def test_the_send_operation_names_its_validator():
    assert _send_operation().operation.raw.get("x-tb-body-validator") == "caliper"


def test_validator_refusal_makes_the_case_negative():
    op = _send_operation()
    example = op.operation.raw["requestBody"]
    envelope = copy.deepcopy(op.operation.doc.resolve(example)["content"]["application/json"]["schema"])
    envelope = op.operation.doc.resolve(envelope)["example"]
    assert not refused_by_body_validator(op, SimpleNamespace(body=envelope))
    broken = copy.deepcopy(envelope)
    broken["data"][0]["action"] = "Danced"  # not an action ActivityEvent allows
    assert refused_by_body_validator(op, SimpleNamespace(body=broken))
    assert not refused_by_body_validator(None, SimpleNamespace(body=broken))  # no operation, no verdict
