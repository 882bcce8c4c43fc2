"""Conformance suite. Parametrized by `harness.pytest_plugin` from the specs and rules:
one item per (semantic rule, operation), one per operation for the contract layer, and one per
spec document for stateful sequences."""
from __future__ import annotations


def test_semantic(tbconform, tbconform_pair):
    tbconform.run_semantic(tbconform_pair)


def test_contract(tbconform, tbconform_operation):
    tbconform.run_contract(tbconform_operation)


def test_stateful(tbconform, tbconform_document):
    tbconform.run_stateful(tbconform_document)
