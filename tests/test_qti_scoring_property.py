"""Property test: for generated choice and text-entry items (random choices, correct answers,
mappings with bounds and defaults, case-sensitive or not entries, template or the equivalent
hand-written rules) and random responses, the engine's score, max score and correct/incorrect
verdict equal an independent evaluation written here in plain Python over the generated parameters
(nothing of the engine is called but compile_item and process)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_qti_scoring_kit import declare, item, mapping

VALUES = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
MATCH_RULES = ('<qti-response-condition><qti-response-if><qti-match><qti-variable identifier="RESPONSE"/>'
               '<qti-correct identifier="RESPONSE"/></qti-match><qti-set-outcome-value identifier="SCORE">'
               '<qti-base-value base-type="float">1</qti-base-value></qti-set-outcome-value></qti-response-if>'
               '<qti-response-else><qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">'
               '0</qti-base-value></qti-set-outcome-value></qti-response-else></qti-response-condition>')
MAP_RULES = ('<qti-response-condition><qti-response-if><qti-is-null><qti-variable identifier="RESPONSE"/>'
             '</qti-is-null><qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">0'
             '</qti-base-value></qti-set-outcome-value></qti-response-if><qti-response-else>'
             '<qti-set-outcome-value identifier="SCORE"><qti-map-response identifier="RESPONSE"/>'
             '</qti-set-outcome-value></qti-response-else></qti-response-condition>')


@dataclass
class Table:
    entries: list[tuple[str, float, bool]]  # key, value, case-sensitive
    default: float
    lower: float | None
    upper: float | None

    def clamp(self, total: float) -> float:
        if self.lower is not None:
            total = max(total, self.lower)
        if self.upper is not None:
            total = min(total, self.upper)
        return total

    def lookup(self, value: str) -> float:
        for key, mapped, sensitive in self.entries:  # the first entry that fits, in order
            if key == value or (not sensitive and key.lower() == value.lower()):
                return mapped
        return self.default

    def xml(self) -> str:
        return mapping(self.entries, default=self.default, lower=self.lower, upper=self.upper)


def tables(keys: st.SearchStrategy[str], insensitive: bool) -> st.SearchStrategy[Table]:
    entry = st.tuples(keys, VALUES, st.booleans() if insensitive else st.just(True))
    bounds = st.tuples(st.none() | VALUES, st.none() | VALUES).map(
        lambda pair: tuple(sorted(pair)) if None not in pair else pair)
    return st.builds(lambda e, d, b: Table(e, d, b[0], b[1]), st.lists(entry, max_size=6), VALUES, bounds)


def check(compiled, response, expected: float, best: float) -> None:
    result = compiled.process({"RESPONSE": response})
    assert abs(result.score - expected) < 1e-9, (response, result.score, expected)
    assert compiled.max_score is not None and abs(compiled.max_score - best) < 1e-9
    verdict = "correct" if expected >= best and best > 0 else "incorrect"
    assert result.feedback_identifier == verdict


# ---- choice ----------------------------------------------------------------------------------

@st.composite
def choice_cases(draw):
    ids = [f"C{i}" for i in range(draw(st.integers(2, 6)))]
    multiple = draw(st.booleans())
    choice = st.sampled_from(ids + ["ZZ"])
    correct = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True)) \
        if multiple else [draw(st.sampled_from(ids))]
    table = draw(tables(st.sampled_from(ids), insensitive=False))
    if multiple:
        near = st.permutations(correct).flatmap(  # the correct set reordered, maybe one member off
            lambda order: st.sampled_from([list(order), list(order)[1:], list(order) + [order[0]]]))
        response = draw(st.none() | st.lists(choice, max_size=len(ids) + 2) | near)
    else:
        response = draw(st.none() | choice)
    return ids, multiple, correct, table, response, draw(st.sampled_from(["match", "map"])), draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(choice_cases())
def test_choice_items_score_as_independently_evaluated(case):
    ids, multiple, correct, table, response, kind, custom = case
    cardinality = "multiple" if multiple else "single"
    declaration = declare(cardinality=cardinality, correct=correct, extra=table.xml())
    if custom:
        compiled = item(declaration, rp=MATCH_RULES if kind == "match" else MAP_RULES)
    else:
        compiled = item(declaration, template="match_correct" if kind == "match" else "map_response")
    given_values = [] if response is None else ([response] if isinstance(response, str) else response)
    if kind == "match":
        expected = float(bool(given_values) and Counter(given_values) == Counter(correct))
        best = 1.0
    else:
        expected = table.clamp(sum(table.lookup(v) for v in set(given_values))) if given_values else 0.0
        values = [mapped for key, mapped, _ in _first_per_key(table.entries)]
        best = table.clamp(max(values + [table.default]) if not multiple else sum(v for v in values if v > 0))
    if custom:  # hand-written rules without MAXSCORE: max_score unknown, correct when score > 0
        result = compiled.process({"RESPONSE": response})
        assert abs(result.score - expected) < 1e-9 and compiled.max_score is None
        assert result.feedback_identifier == ("correct" if expected > 0 else "incorrect")
        return
    check(compiled, response, expected, best)


def _first_per_key(entries: list[tuple[str, float, bool]]) -> list[tuple[str, float, bool]]:
    """The entries max_score counts (the engine's documented rule): the first entry per key,
    sensitive keys as written, insensitive ones compared lower-cased; later repeats never map."""
    seen: set[tuple[bool, str]] = set()
    kept = []
    for key, mapped, sensitive in entries:
        form = (sensitive, key if sensitive else key.lower())
        if form not in seen:
            seen.add(form)
            kept.append((key, mapped, sensitive))
    return kept


# ---- text entry ------------------------------------------------------------------------------

WORD = st.text(alphabet="aAbB", max_size=3)


@st.composite
def string_cases(draw):
    correct = draw(WORD.filter(bool))
    table = draw(tables(WORD.filter(bool), insensitive=True))
    keys = [key for key, _, _ in table.entries] + [correct]
    key = draw(st.sampled_from(keys))
    variant = st.sampled_from([key, key.upper(), key.lower(), key.swapcase()])
    response = draw(st.none() | WORD | variant)
    return correct, table, response, draw(st.sampled_from(["match", "map"]))


@settings(max_examples=300, deadline=None)
@given(string_cases())
def test_string_text_entry_scores_as_independently_evaluated(case):
    correct, table, response, kind = case
    declaration = declare(base_type="string", correct=[correct], extra=table.xml())
    compiled = item(declaration, template="match_correct" if kind == "match" else "map_response",
                    interaction="qti-text-entry-interaction")
    empty = not response
    if kind == "match":
        expected, best = float(not empty and response == correct), 1.0
    else:
        expected = 0.0 if empty else table.clamp(table.lookup(response))
        counted = [mapped for _, mapped, _ in _first_per_key(table.entries)]
        best = table.clamp(max(counted + [table.default]))
    check(compiled, response, expected, best)


@st.composite
def number_cases(draw):
    integer = draw(st.booleans())
    correct = draw(st.integers(-40, 40)) if integer else draw(st.integers(-40, 40)) / 4
    value = draw(st.sampled_from([correct, correct + 1, -correct, correct / 2]))
    if integer:
        text = draw(st.sampled_from([str(int(value)) if float(value).is_integer() else str(value),
                                     f"+{int(value)}" if value >= 0 and float(value).is_integer() else str(value)]))
    else:
        text = draw(st.sampled_from([repr(float(value)), f"{value:.3f}", f"{value:.2f}0", f" {value} "]))
    return integer, correct, draw(st.none() | st.just(text))


@settings(max_examples=300, deadline=None)
@given(number_cases())
def test_numeric_text_entry_scores_as_independently_evaluated(case):
    integer, correct, text = case
    base_type = "integer" if integer else "float"
    compiled = item(declare(base_type=base_type, correct=[str(correct)]), template="match_correct",
                    interaction="qti-text-entry-interaction")
    if text is not None and integer and not float(text).is_integer():
        return  # a non-integral integer response is a misfit (tested in test_qti_scoring.py)
    expected = float(text is not None and float(text) == float(correct))
    check(compiled, text, expected, 1.0)


# ---- no response crashes the engine -----------------------------------------------------------

ANY_WIRE = st.none() | st.text(max_size=12) | st.lists(st.text(max_size=8), max_size=4) | \
    st.integers() | st.floats() | st.lists(st.integers(), max_size=2) | st.dictionaries(st.text(max_size=2), st.text(max_size=2))
SHAPES = [("single", "identifier"), ("multiple", "identifier"), ("ordered", "identifier"),
          ("single", "string"), ("single", "float"), ("single", "integer"), ("single", "boolean"),
          ("multiple", "pair"), ("multiple", "directedPair"), ("single", "point"), ("multiple", "point")]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SHAPES), ANY_WIRE)
def test_any_wire_response_scores_or_is_a_misfit(shape, response):
    """Whatever arrives, process answers an Outcome or raises ResponseMisfit: never anything else
    (the sandbox turns the misfit into a 4xx; anything else would be a 500)."""
    from tbconform.mocks.scoring import ResponseMisfit
    cardinality, base_type = shape
    compiled = item(declare(cardinality=cardinality, base_type=base_type), rp=MATCH_RULES.replace(
        '<qti-correct identifier="RESPONSE"/>', '<qti-variable identifier="RESPONSE"/>'))
    try:
        result = compiled.process({"RESPONSE": response})
    except ResponseMisfit as exc:
        assert "'RESPONSE'" in str(exc)
    else:
        assert result.score in (0.0, 1.0)
