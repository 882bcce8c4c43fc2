"""QTI 3.0 response processing for the sandbox: `compile_item(root)` turns a parsed
`qti-assessment-item` into a `ScoringItem` once; `ScoringItem.process(responses)` scores the wire
responses (identifier -> a string or a list of strings) into an `Outcome` (SCORE, every outcome
variable, Timeback's feedback identifier and value).

Modules: values.py (typed values, a wire response parsed and written), declarations.py
(declarations, mappings, areas, lookup tables), expressions.py (variables, comparisons, logic),
arithmetic.py and containers.py (the other operators), rules.py (conditions, set-outcome-value),
templates.py (match_correct, map_response, map_response_point), engine.py (compile, process),
names.py (QTI 3.0 and 2.x spellings), errors.py (ResponseMisfit, ItemNotScorable).

Callers compile once per stored item (compile costs ~0.15-0.3 ms, `process` ~5-20 us) and keep
the `ScoringItem`: it holds no per-request state, so one instance serves concurrent requests.
"""
from __future__ import annotations

from tbconform.mocks.scoring.declarations import Declaration
from tbconform.mocks.scoring.engine import Outcome, ScoringItem, compile_item
from tbconform.mocks.scoring.errors import ItemNotScorable, ResponseMisfit
from tbconform.mocks.scoring.templates import TEMPLATES, template_name

__all__ = ["Declaration", "ItemNotScorable", "Outcome", "ResponseMisfit", "ScoringItem", "TEMPLATES",
           "compile_item", "template_name"]
