"""The contract layer: every operation of the specs through schemathesis, over the harness's session.

Cases come from schemathesis (spec examples, a bounded slice of its coverage phase, and
hypothesis-driven positive and negative fuzzing, seeded so a run repeats).  Every request goes
through the given `HarnessSession`, so the OAuth2 token, the rate cap, 429 handling, the write
guard and exchange recording all apply.  Each schemathesis check becomes one `CheckResult` per
operation (`contract.<check>`), carrying the first failure and the exchange that showed it.

Public API (small on purpose):

    contract_operations(catalog, apis=None) -> list[OpInfo]
    run_operation(session, catalog, op, *, max_examples, seed, run_id, writes, cleanup) -> list[CheckResult]
    run_stateful(session, catalog, doc_or_api, *, max_examples, seed, run_id, cleanup) -> list[CheckResult]
    CASE_CHECKS / STATEFUL_CHECKS: check name -> one-line rule statement
"""
from __future__ import annotations

import copy
import secrets
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import quote

import hypothesis
import requests
from hypothesis import HealthCheck, Phase, Verbosity

import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, CheckContext, load_all_checks, run_checks
from schemathesis.core.failures import Failure
from schemathesis.generation.meta import CoverageScenario, coverage_scenario

from tbconform.harness.catalog import Catalog, OpInfo
from tbconform.harness.context import Cleanup, raise_if_interrupted
from tbconform.harness.grammars import grammar_formats, tag_patterns
from tbconform.harness.http import SAFE_METHODS, ConnectionDropped, HarnessSession, RequestTimedOut, WriteBlocked
from tbconform.reports.model import CheckResult, Exchange
from tbconform.specs.collections import Collection
from tbconform.specs.loader import SpecDocument

LAYER = "contract"
# Referential integrity (a body naming records that do not exist) is refused with a documented 422,
# which the schema alone cannot express; the same adjustment as tests/data/schemathesis.toml.
POSITIVE_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
AUTH_REJECTIONS = (401, 403)
WRITES_OFF = "write operation not sent: writes are off for this target (pass --allow-writes to test writes)"

# Checks that judge one request/response pair (schemathesis' own, plus `ignored_auth`, which we
# run through the session ourselves: schemathesis only probes apiKey/http schemes, and its probe
# bypasses the caller's session).
CASE_CHECKS: dict[str, str] = {
    "not_a_server_error": "The API never answers with a 5xx server error.",
    "status_code_conformance": "Every response status is one the operation documents.",
    "content_type_conformance": "The response Content-Type is one documented for that status.",
    "response_headers_conformance": "Documented required response headers are present and match their schema.",
    "response_schema_conformance": "The response body validates against the documented schema.",
    "negative_data_rejection": "A request that violates the schema is rejected with a 4xx.",
    "positive_data_acceptance": "A schema-valid request is accepted (2xx, or a documented 401/403/404/409/422).",
    "missing_required_header": "A request missing a required header is rejected (401 for Authorization, else 4xx).",
    "unsupported_method": "An HTTP method the path does not declare gets 405 with an Allow header.",
    "allow_header_conformance": "An Allow header lists exactly the methods the path declares.",
    "ignored_auth": "An operation that declares security refuses requests without or with an invalid token (401/403).",
}
STATEFUL_CHECKS: dict[str, str] = {
    **CASE_CHECKS,
    "use_after_free": "A deleted resource is not served afterwards (404).",
    "ensure_resource_availability": "A resource is available right after a successful create.",
}
_SCHEMATHESIS_CASE = [n for n in CASE_CHECKS if n != "ignored_auth"]
_SCHEMATHESIS_STATEFUL = [n for n in STATEFUL_CHECKS if n != "ignored_auth"]


def refused_by_query_validator(op: OpInfo | None, case: Any) -> bool:
    """Whether the operation's query judge (`x-tb-query-validator`, specs/queries.py) refuses the
    case's query: schema-valid parameters that together cannot be answered (no student named, an
    end before the start, a timezone that is no IANA name). A 4xx is then the conformant answer."""
    name = op.operation.raw.get("x-tb-query-validator") if op is not None else None
    if not name:
        return False
    from tbconform.specs.queries import query_validator

    judge = query_validator(name)
    return judge is not None and bool(judge(dict(case.query or {})))


def refused_by_body_validator(op: OpInfo | None, case: Any) -> bool:
    """Whether the API's registered validator refuses the case's body.

    Some bodies are judged beyond their JSON Schema (a Caliper envelope's events: allowed actions,
    entity types, IRIs), and the operation says so with `x-tb-body-validator: <api>`. A generated
    body that fits the schema but not the validator is then a negative case: refusing it with a
    4xx is the conformant answer, and accepting it is what `negative_data_rejection` catches.
    """
    name = op.operation.raw.get("x-tb-body-validator") if op is not None else None
    if not name or not isinstance(case.body, (dict, list)):
        return False
    from tbconform.harness.validate import registry

    validator = registry().get(name)
    if validator is None:
        return False
    _kind, problems = validator.judge(case.body)
    return bool(problems)


def refused_by_xml_parser(op: OpInfo | None, case: Any) -> bool:
    """Whether the case's XML document (the JSON member named by `x-tb-xml-member`) is one the
    hardened parser refuses (not well-formed, a DOCTYPE, entities): any string fits the schema, so a
    generated `"xml": "0"` is schema-valid, yet refusing it with a 4xx is the conformant answer."""
    member = op.operation.raw.get("x-tb-xml-member") if op is not None else None
    if not member or not isinstance(case.body, dict) or not isinstance(case.body.get(member), str):
        return False
    from tbconform.specs.xmlsafe import XmlRefused, parse

    try:
        parse(case.body[member])
    except XmlRefused:
        return True
    return False


def sent_as_xml(case: Any) -> bool:
    """An application/xml body: schemathesis builds it from the schema's `xml` hints, and its
    negative variants (a number where an element is, a broken identifier pattern) are no longer
    schema violations an API can see in XML, which has no types; so they are not judged negative."""
    from tbconform.specs.xmlsafe import is_xml_media

    return is_xml_media(str(getattr(case, "media_type", "") or ""))


# -- schemas (parsed once per spec document) ------------------------------------------------
_SCHEMAS: dict[tuple[str, bool], Any] = {}
_SCHEMAS_LOCK = threading.Lock()
_CHECK_FUNCS: dict[str, Callable] = {}


def _config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_ACCEPTED}},
    })


def schema_for(doc: SpecDocument, collections: Iterable[Collection] = ()):
    """The schemathesis schema of a spec document, loaded once (a deep copy: schemathesis edits it).

    With `collections`, filter and fieldset patterns built from their fields are drawn from their
    grammar (see `harness.grammars`); that is for hypothesis-driven fuzzing.  The coverage phase
    wants the plain schema: it asks for values far past a pattern's reach (over-long strings), which
    it can only build from the pattern itself.
    """
    collections = list(collections)
    key = (str(doc.path), bool(collections))
    schema = _SCHEMAS.get(key)
    if schema is None:
        with _SCHEMAS_LOCK:
            schema = _SCHEMAS.get(key)
            if schema is None:
                raw = copy.deepcopy(doc.raw)
                formats = grammar_formats(collections)
                for name, strategy in formats.values():
                    schemathesis.openapi.format(name, strategy)
                tag_patterns(raw, formats)
                schema = schemathesis.openapi.from_dict(raw, config=_config())
                _SCHEMAS[key] = schema
    return schema


def _check_functions() -> dict[str, Callable]:
    if not _CHECK_FUNCS:
        load_all_checks()
        for check in CHECKS.get_all():
            if not isinstance(check, type):
                _CHECK_FUNCS[check.__name__] = check
    return _CHECK_FUNCS


def contract_operations(catalog: Catalog, apis: Iterable[str] | None = None) -> list[OpInfo]:
    """Every operation of the selected APIs (all APIs when `apis` is None)."""
    wanted = set(apis) if apis is not None else None
    return [op for op in catalog.ops if wanted is None or op.api in wanted]


# -- per-check bookkeeping ------------------------------------------------------------------
@dataclass
class _Outcome:
    applied: bool = False
    failure: str | None = None
    exchange: Exchange | None = None
    error: str | None = None


@dataclass
class _Tally:
    names: Iterable[str]
    outcomes: dict[str, _Outcome] = field(default_factory=dict)
    cases: int = 0
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.outcomes = {name: _Outcome() for name in self.names}

    def applied(self, name: str) -> None:
        self.outcomes[name].applied = True

    def failed(self, name: str, message: str, exchange: Exchange | None) -> None:
        out = self.outcomes[name]
        out.applied = True
        if out.failure is None:
            out.failure, out.exchange = message, exchange

    def errored(self, name: str, message: str, exchange: Exchange | None) -> None:
        out = self.outcomes[name]
        if out.error is None and out.failure is None:
            out.error, out.exchange = message, exchange

    def results(self, *, prefix: str, api: str, operation: str, rules: dict[str, str],
                not_applied: Callable[[str], str]) -> list[CheckResult]:
        duration = time.perf_counter() - self.started
        share = duration / max(1, len(self.outcomes))
        results = []
        for name, out in self.outcomes.items():
            if out.failure is not None:
                status, message = "failed", out.failure
            elif out.error is not None:
                status, message = "error", out.error
            elif out.applied:
                status, message = "passed", ""
            else:
                status, message = "skipped", not_applied(name)
            results.append(CheckResult(id=f"{prefix}{name}", api=api, operation=operation, status=status,
                                       message=message, rule=rules[name], layer=LAYER, duration=share,
                                       exchange=out.exchange))
        return results


def _failure_text(failure: Failure) -> str:
    title = getattr(failure, "title", "") or type(failure).__name__
    message = getattr(failure, "message", "") or str(failure)
    return f"{title}: {message}".strip() if message else title


def _not_applied(name: str) -> str:
    return {
        "negative_data_rejection": "no schema-violating request could be generated for this operation",
        "positive_data_acceptance": "no schema-valid request was sent",
        "missing_required_header": "the operation declares no required header",
        "unsupported_method": "no undeclared method was probed (coverage off, or every method is declared)",
        "allow_header_conformance": "no OPTIONS request was sent",
        "ignored_auth": "no request succeeded with the token (or the operation declares no security)",
        "use_after_free": "no sequence deleted a resource and read it again",
        "ensure_resource_availability": "no sequence read a resource right after creating it",
    }.get(name, "no request was sent")


# -- run-id tagging of created records ------------------------------------------------------
def _body_keys(op: OpInfo) -> list[str]:
    key = op.binding.get("bodyKey")
    if not key:
        return []
    return list(key) if isinstance(key, list) else [key]


def _tag(value: Any, run_id: str) -> str:
    if isinstance(value, str) and value.startswith(f"{run_id}-"):
        return value
    return f"{run_id}-{value if isinstance(value, str) and value else secrets.token_hex(4)}"


WHOLE_BODY = "$"  # bodyKey of an unwrapped body: the body is the record


def _record_key(op: OpInfo) -> str:
    """The id field of the operation's collection (`x-tb-collections.<name>.key`; OneRoster's sourcedId)."""
    declared = (op.operation.doc.raw.get("x-tb-collections") or {}).get(op.collection or "") or {}
    return str(declared.get("key", "sourcedId"))


def keep_provenance(case: Any, name: str, before: Any, after: Any) -> None:
    """Let the run-id tag of a path parameter leave schemathesis' idea of where it came from as it was.

    schemathesis tells a value a stateful link supplied from one it generated by diffing the case's
    containers against what it stored when it built the case: what changed since counts as set by
    a link (`case._override`).  A link only sometimes applies its value (it explores others too), so
    a generated, never-created id that the tag rewrote looked link-supplied, and
    `ensure_resource_availability` reported the 404 it got as "a resource just created is not
    found" (a false alarm at some seeds).  The stored value follows the tag, so the diff sees what
    it would have seen untagged; a value a link supplied is not stored as generated: still a link's.
    """
    try:
        from schemathesis.core.parameters import ParameterLocation

        stored = case._components.get(ParameterLocation.PATH)
    except (AttributeError, ImportError):  # schemathesis internals moved; tests/test_contract_stateful_ids.py
        return  # then fails and says why
    if stored is not None and stored.is_generated and isinstance(stored.value, dict) \
            and stored.value.get(name) == before:
        stored.value[name] = after


def tag_case(case: Any, op: OpInfo, run_id: str, created: set[str] | frozenset[str] = frozenset()) -> None:
    """Give every record a write would create (or touch) an id that starts with the run id.

    An id the target itself allocated to a record this run created (`created`: a webhook's id) is
    left as it is: it already names the run's own record."""
    if op.method not in ("POST", "PUT", "PATCH", "DELETE") or case.method != op.method:
        return
    id_param = op.binding.get("id")
    if (id_param and isinstance(case.path_parameters, dict) and id_param in case.path_parameters
            and case.path_parameters[id_param] not in created):
        before = case.path_parameters[id_param]
        params = dict(case.path_parameters)
        params[id_param] = _tag(before, run_id)
        case.path_parameters = params
        keep_provenance(case, id_param, before, params[id_param])
    if op.method not in ("POST", "PUT") or not isinstance(case.body, dict):
        return
    body = copy.deepcopy(case.body)
    changed = False
    for key in _body_keys(op):
        if key == WHOLE_BODY:
            # an unwrapped record: the id is the client's when the body carries it (a QTI item's
            # identifier), else the target's to allocate (answered, then cleaned up)
            record_key = _record_key(op)
            if isinstance(body.get(record_key), str) and not sent_as_xml(case):  # XML: the target's answer
                #   names the record (and so the links that follow), so the document is sent as generated
                body[record_key] = _tag(body[record_key], run_id)
                changed = True
            continue
        wrapped = body.get(key)
        entities = wrapped if isinstance(wrapped, list) else [wrapped]
        for entity in entities:
            if not isinstance(entity, dict):
                continue
            current = entity.get("sourcedId")
            if current is None or isinstance(current, str):
                entity["sourcedId"] = _tag(current, run_id)
                changed = True
    if changed:
        case.body = body


def _entity_ids(wrapper: Any, keys: list[str], id_field: str = "sourcedId") -> list[str]:
    ids = []
    for key in keys:
        if key == WHOLE_BODY:  # the record itself (an unwrapped body or answer)
            if isinstance(wrapper, dict) and isinstance(wrapper.get(id_field), str):
                ids.append(wrapper[id_field])
            continue
        wrapped = wrapper.get(key) if isinstance(wrapper, dict) else None
        for entity in wrapped if isinstance(wrapped, list) else [wrapped]:
            if isinstance(entity, dict) and isinstance(entity.get(id_field), str):
                ids.append(entity[id_field])
    return ids


def _intended_ids(op: OpInfo, case: Any) -> list[str]:
    """Ids a write may create, known before it is sent: the path's id and every id in the body.

    An upsert keeps the path's id whatever the body says, a create may keep the body's; both are
    run-id tagged (see `tag_case`), so deleting one that was never created only costs a 404.
    """
    ids = _entity_ids(case.body, _body_keys(op), _record_key(op))
    id_param = op.binding.get("id")
    if id_param and isinstance(case.path_parameters, dict) and isinstance(case.path_parameters.get(id_param), str):
        ids.insert(0, case.path_parameters[id_param])
    return ids


def _answered_ids(op: OpInfo, response: Any) -> list[str]:
    """Ids the target says it created: `sourcedIdPairs` (allocated ids) and the records it sent back."""
    try:
        payload = response.json()
    except Exception:  # noqa: BLE001 - any undecodable body names nothing
        return []
    if not isinstance(payload, dict):
        return []
    ids = []
    pairs = payload.get("sourcedIdPairs")
    for pair in pairs if isinstance(pairs, list) else [pairs]:
        if isinstance(pair, dict) and isinstance(pair.get("allocatedSourcedId"), str):
            ids.append(pair["allocatedSourcedId"])
    return ids + _entity_ids(payload, _body_keys(op) + op.response_keys, _record_key(op))


class _WriteCleanup:
    """Registers what one create/upsert case may leave behind before it is sent (so Ctrl-C mid-request
    still removes it), adds what the answer names, and forgets the guesses when nothing was created."""

    def __init__(self, catalog: Catalog, op: OpInfo, case: Any, cleanup: Cleanup | None) -> None:
        self.cleanup, self.op, self.delete = cleanup, op, None
        self.entries: list[tuple[str, str]] = []
        if cleanup is None or op.action not in ("create", "upsert") or case.method != op.method or not op.collection:
            return
        delete = catalog.plain(op.collection, "delete")
        if delete is not None and delete.binding.get("id"):
            self.delete = delete
            self._add(_intended_ids(op, case))

    def _add(self, ids: list[str]) -> None:
        assert self.delete is not None and self.cleanup is not None
        registered = {path for path, _ in self.entries}
        for record_id in dict.fromkeys(ids):
            path = self.delete.path.replace("{" + self.delete.binding["id"] + "}", quote(record_id, safe=""))
            if path not in registered:
                registered.add(path)
                self.entries.append(self.cleanup.add(path, f"{self.op.collection} {record_id} (contract {self.op.label})"))

    def answered(self, response: Any) -> list[str]:
        """Register the ids the answer names; returns them (the run's own records from now on)."""
        if self.delete is None:
            return []
        if 200 <= response.status_code < 300:
            ids = _answered_ids(self.op, response)
            self._add(ids)
            return ids
        self.cleanup.discard(self.entries)  # type: ignore[union-attr] - set whenever delete is
        return []


# -- running one case -----------------------------------------------------------------------
class _Runner:
    """Sends cases through the session and runs the checks on each response."""

    def __init__(self, session: HarnessSession, schema: Any, op: OpInfo | None, names: list[str], tally: _Tally,
                 catalog: Catalog, run_id: str, writes: bool, cleanup: Cleanup | None) -> None:
        self.session = session
        self.schema = schema
        self.op = op
        self.tally = tally
        self.catalog = catalog
        self.run_id = run_id
        self.writes = writes and session.writes_allowed
        self.cleanup = cleanup
        funcs = _check_functions()
        self.checks = [(name, funcs[name]) for name in names if name in funcs]
        self.probe_auth = "ignored_auth" in tally.outcomes
        self.auth_probed: set[str] = set()
        self.base_url = session.base_url
        self.transport_kwargs = {"session": session, "base_url": self.base_url}
        self.stopped: str | None = None
        self.unanswered = False  # stopped by a timeout or dropped connection (a failure, not an error)
        self._configs: dict[tuple[str, str | None], Any] = {}
        self.created: set[str] = set()  # ids the target allocated to records this runner created

    def op_for(self, case: Any) -> OpInfo | None:
        if self.op is not None:
            return self.op
        return _OP_INDEX.get((case.operation.method.upper(), case.operation.path))

    def allowed(self, case: Any) -> bool:
        return case.method.upper() in SAFE_METHODS or self.writes

    def send(self, case: Any) -> Any:
        op = self.op_for(case)
        if self.writes and op is not None:
            tag_case(case, op, self.run_id, self.created)
        pending = _WriteCleanup(self.catalog, op, case, self.cleanup) if op is not None else None
        response = case.call(session=self.session, base_url=self.base_url)
        self.tally.cases += 1
        if pending is not None:
            self.created.update(pending.answered(response))
        return response

    def handle(self, case: Any, recorder: Any = None) -> None:
        """Send one case and judge it; never raises for what the target does."""
        raise_if_interrupted()
        if self.stopped is not None or not self.allowed(case):
            return
        try:
            response = self.send(case)
        except WriteBlocked:
            return
        except (RequestTimedOut, ConnectionDropped) as exc:
            self.no_answer(exc)
            return
        except requests.RequestException as exc:
            self.stopped = f"request failed: {type(exc).__name__}: {exc}"
            for name in self.tally.outcomes:
                self.tally.errored(name, self.stopped, self.session.last)
            return
        if recorder is not None:
            recorder.record_response(case_id=case.id, response=response)
        self.judge(case, response, recorder)

    def no_answer(self, exc: Exception) -> None:
        """The target sent no answer: the operation fails not_a_server_error with the reason (no other
        check is judged on a missing answer) and the operation's remaining cases are not sent."""
        self.stopped, self.unanswered = str(exc), True
        if "not_a_server_error" in self.tally.outcomes:
            self.tally.failed("not_a_server_error", str(exc), self.session.last)

    def judge(self, case: Any, response: Any, recorder: Any = None) -> None:
        exchange = self.session.last
        meta = case.meta
        phase = meta.phase.name.value if meta is not None else None
        key = (case.operation.label, phase)
        config = self._configs.get(key)
        if config is None:
            config = self._configs[key] = self.schema.config.checks_config_for(operation=case.operation, phase=phase)
        ctx = CheckContext(override=case._override, auth=None, headers=None, config=config,
                           transport_kwargs=self.transport_kwargs, recorder=recorder, response_checks=None)
        negative = meta is not None and not meta.generation.mode.is_positive
        if not negative and (refused_by_body_validator(self.op_for(case), case)
                             or refused_by_query_validator(self.op_for(case), case)
                             or refused_by_xml_parser(self.op_for(case), case)):
            negative = True  # schema-valid, but the API's own rules refuse it: a 4xx is right
        scenario = coverage_scenario(case)
        for name, check in self.checks:
            if not self._applies(name, case, negative, scenario):
                continue

            def on_failure(check_name: str, collected: set, failure: Failure) -> None:
                collected.add(failure)
                self.tally.failed(check_name, _failure_text(failure), exchange)

            try:
                run_checks(case=case, response=response, ctx=ctx, checks=[check], on_failure=on_failure)
            except requests.RequestException as exc:
                self.tally.errored(name, f"a probe request failed: {type(exc).__name__}", exchange)
                continue
            except Exception as exc:  # noqa: BLE001 - a check crashing is an error result, not a crash
                self.tally.errored(name, f"check crashed: {type(exc).__name__}: {exc}", exchange)
                continue
            self.tally.applied(name)
        if self.probe_auth:
            self._ignored_auth(case, response)

    @staticmethod
    def _applies(name: str, case: Any, negative: bool, scenario: Any) -> bool:
        if name == "negative_data_rejection":
            return negative and not sent_as_xml(case)
        if name == "positive_data_acceptance":
            return not negative
        if name == "missing_required_header":
            return scenario == CoverageScenario.MISSING_PARAMETER and \
                getattr(case.meta.phase.data, "parameter_location", None) is not None and \
                str(case.meta.phase.data.parameter_location.value) == "header"
        if name == "unsupported_method":
            return scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD
        if name == "allow_header_conformance":
            return case.method.upper() == "OPTIONS"
        if name == "use_after_free":
            return case.method.upper() in ("GET", "HEAD")
        if name == "ensure_resource_availability":
            return True
        return True

    def _ignored_auth(self, case: Any, response: Any) -> None:
        """Once per operation: the request that succeeded with the token, without it and with a bad one."""
        label = case.operation.label
        if label in self.auth_probed or case.method != case.operation.method.upper():
            return
        if not 200 <= response.status_code < 300 or coverage_scenario(case) is not None and case.meta.generation.mode.is_negative:
            return
        op = self.op_for(case)
        security = op.operation.security if op is not None else []
        if not security or any(not requirement for requirement in security):  # absent, or `{}` = optional
            return
        self.auth_probed.add(label)
        safe = case.method.upper() in SAFE_METHODS
        for scenario, kwargs in (("without a token", {"headers": {"Authorization": None}}),
                                 ("with an invalid token", {"headers": {"Authorization": "Bearer tbconform-invalid-token"}})):
            probe = case.derive()
            try:
                probe_response = probe.call(session=self.session, base_url=self.base_url, **kwargs)
            except WriteBlocked:
                return
            except requests.RequestException as exc:
                self.tally.errored("ignored_auth", f"auth probe failed: {type(exc).__name__}", self.session.last)
                return
            status = probe_response.status_code
            accepted = 200 <= status < 300
            if accepted or (safe and status not in AUTH_REJECTIONS and not 300 <= status < 400):
                what = "accepts requests" if accepted else "answers unexpectedly to a request"
                self.tally.failed("ignored_auth", f"API {what} {scenario}: expected 401 or 403, got {status} "
                                  f"for {label}", self.session.last)
                return
        self.tally.applied("ignored_auth")


_OP_INDEX: dict[tuple[str, str], OpInfo] = {}


# -- generation -----------------------------------------------------------------------------
def _seed_for(seed: int, label: str, mode: str) -> int:
    return (seed * 1_000_003 + zlib.crc32(f"{label}|{mode}".encode())) & 0xFFFFFFFF


def _settings(max_examples: int, **extra: Any) -> hypothesis.settings:
    return hypothesis.settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
                               suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                               report_multiple_bugs=False, **extra)


def _fuzz(strategy: Any, max_examples: int, seed: int, handle: Callable[[Any], None]) -> None:
    @hypothesis.seed(seed)
    @_settings(max_examples, phases=[Phase.generate])
    @hypothesis.given(strategy)
    def test(case: Any) -> None:
        handle(case)

    try:
        test()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing of this mode can be generated for the operation (e.g. no negatable input)


def _example_cases(operation: Any) -> list[Any]:
    from schemathesis.generation.hypothesis import examples as st_examples

    cases = []
    try:
        strategies = operation.get_strategies_from_examples()
    except Exception:  # noqa: BLE001 - unusable examples are the examples phase's problem, not ours
        return []
    for strategy in strategies:
        try:
            cases.append(st_examples.generate_one(strategy))
        except Exception:  # noqa: BLE001
            continue
    return cases


_PROBES = (CoverageScenario.UNSPECIFIED_HTTP_METHOD, CoverageScenario.MALFORMED_CONTENT_TYPE,
           CoverageScenario.UNSUPPORTED_CONTENT_TYPE)


def _is_probe(case: Any) -> bool:
    """Undeclared methods, bad Content-Type headers and missing required headers: what fuzzing never sends."""
    scenario = coverage_scenario(case)
    if scenario in _PROBES:
        return True
    return scenario == CoverageScenario.MISSING_PARAMETER and \
        str(getattr(case.meta.phase.data.parameter_location, "value", "")) == "header"


def _coverage_cases(schema: Any, operation: Any, limit: int) -> list[Any]:
    """The probing scenarios (see `_is_probe`) plus the first `limit` other coverage cases."""
    try:
        return _coverage_slice(schema, operation, limit)
    except Exception:  # noqa: BLE001 - schemathesis internals moved: walk its whole coverage phase instead
        return _coverage_walk(schema, operation, limit)


def _coverage_walk(schema: Any, operation: Any, limit: int) -> list[Any]:
    generation = schema.config.generation_for(operation=operation, phase="coverage")
    chosen, ordinary = [], 0
    try:
        for case in schema.iter_coverage_cases(operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                               generation_config=generation):
            if _is_probe(case):
                chosen.append(case)
            elif ordinary < limit:
                chosen.append(case)
                ordinary += 1
    except Exception:  # noqa: BLE001 - a coverage generator problem leaves fuzzing to do the work
        pass
    return chosen


def _coverage_slice(schema: Any, operation: Any, limit: int) -> list[Any]:
    """The same cases as `_coverage_walk`, without generating the ones it would throw away.

    schemathesis' coverage phase runs its stages in order (base cases, parameter mutations,
    undeclared methods, content-type probes, duplicate query, missing required, container
    combinations); this builds its run the way `iter_coverage_cases` does and runs only the first
    `limit` cases of the first two stages and the probing stages.  The mutation and combination
    stages are three quarters of the phase's time, and a bounded run threw nearly all of it away.
    """
    from itertools import chain, islice

    from schemathesis.specs.openapi.coverage import _operation as cov

    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    generation = schema.config.generation_for(operation=operation, phase="coverage")
    phases = schema.config.phases_for(operation=operation)
    template = cov.Template(
        operation.get_parameter_serializers(),
        optional_query=frozenset(p.name for p in operation.query if not p.is_required),
        json_encoded=frozenset((p.location.container_name, p.name) for p in (*operation.headers, *operation.cookies)
                               if cov._json_media_type(p) is not None),
    )
    run = cov.CoverageRun(
        operation=operation, template=template,
        emitter=cov.CaseEmitter(operation=operation, correlated={}, correlated_draws=(), correlated_misses=(),
                                seen_positive=cov.HashSet(), seen_negative=cov.HashSet()),
        generators={}, generation_modes=modes, generation_config=generation,
        custom_formats=cov._build_custom_formats(generation, GenerationMode.POSITIVE),
        validator_cls=operation.schema.adapter.jsonschema_validator_cls, update_pattern=cov.update_quantifier,
        session=None, error_feedback=None, responses=list(operation.responses.iter_examples()), correlated={},
    )
    cov._seed_parameters(run)
    if operation.has_skipped_required_body:
        return list(cov._missing_body(run))
    base = cov._body_cases(run) if operation.body else cov._default_positive(run)
    chosen = [case for case in islice(chain(base, cov._parameter_mutations(run)), limit) if not _is_probe(case)]
    if template.can_emit(GenerationMode.NEGATIVE):
        probes = chain(cov._unexpected_methods(run, phases.coverage.unexpected_methods,
                                               schema.coverage_unexpected_methods_seen),
                       cov._content_type_probes(run), cov._missing_required(run))
        chosen += [case for case in probes if _is_probe(case)]
    return chosen


_NO_NEGATIVE: set[tuple[str, str]] = set()


def can_negate(operation: Any) -> bool:
    """Whether schemathesis can break any input of the operation (else a negative run only burns time)."""
    try:
        from schemathesis.core.parameters import ParameterLocation
        from schemathesis.specs.openapi._hypothesis import _draw_negated_locations

        explicit = {loc: None for loc in (ParameterLocation.PATH, ParameterLocation.HEADER,
                                          ParameterLocation.COOKIE, ParameterLocation.QUERY)}

        def draw(strategy: Any) -> Any:  # the first choice every time: only "is there any candidate" matters
            return False if strategy == hypothesis.strategies.booleans() else strategy.elements[0]

        return _draw_negated_locations(draw, operation, GenerationMode.NEGATIVE, explicit=explicit,
                                       body_is_generated=True) is not None
    except Exception:  # noqa: BLE001 - private helper moved or changed: just try generating
        return True


def run_operation(session: HarnessSession, catalog: Catalog, op: OpInfo, *, max_examples: int, seed: int,
                  run_id: str, writes: bool, cleanup: Cleanup | None, coverage: bool = True,
                  stats: dict[str, int] | None = None) -> list[CheckResult]:
    """Positive and negative cases for one operation through `session`; one CheckResult per check.

    `coverage=False` leaves out the slice of schemathesis' coverage phase (undeclared methods, missing
    required headers, the first `max_examples` boundary cases); `stats["cases"]` counts cases sent.
    """
    results, cases = _run_operation(session, catalog, op, max_examples=max_examples, seed=seed, run_id=run_id,
                             writes=writes, cleanup=cleanup, coverage=coverage)
    if stats is not None:
        stats["cases"] = stats.get("cases", 0) + cases
    return results


def _run_operation(session: HarnessSession, catalog: Catalog, op: OpInfo, *, max_examples: int, seed: int,
                   run_id: str, writes: bool, cleanup: Cleanup | None, coverage: bool) -> tuple[list[CheckResult], int]:
    tally = _Tally(CASE_CHECKS)
    finish = lambda: tally.results(prefix="contract.", api=op.api, operation=op.label, rules=CASE_CHECKS,  # noqa: E731
                                   not_applied=_not_applied)
    if op.is_write and not (writes and session.writes_allowed):
        for out in tally.outcomes.values():
            out.applied = False
        return [CheckResult(id=r.id, api=r.api, operation=r.operation, status="skipped", message=WRITES_OFF,
                            rule=r.rule, layer=LAYER) for r in finish()], 0
    schema = schema_for(op.operation.doc, catalog.collections.values())
    operation = schema[op.path][op.method]
    runner = _Runner(session, schema, op, list(CASE_CHECKS), tally, catalog, run_id, writes, cleanup)
    for case in _example_cases(operation):
        runner.handle(case)
    if coverage:
        plain = schema_for(op.operation.doc)
        for case in _coverage_cases(plain, plain[op.path][op.method], max_examples):
            runner.handle(case)
    # One hypothesis run per operation drawing from both modes (as schemathesis' fuzzing phase does):
    # `max_examples` of each on average, and one engine start-up instead of two.
    key = (str(op.operation.doc.path), op.label)
    modes = [GenerationMode.POSITIVE]
    if key not in _NO_NEGATIVE and can_negate(operation):
        modes.append(GenerationMode.NEGATIVE)
    else:
        _NO_NEGATIVE.add(key)
    strategies = []
    for mode in modes:
        try:
            strategies.append(operation.as_strategy(generation_mode=mode))
        except Exception as exc:  # noqa: BLE001 - the schema cannot express this mode
            if mode is GenerationMode.POSITIVE:
                for name in tally.outcomes:
                    tally.errored(name, f"cannot generate cases: {type(exc).__name__}: {exc}", None)
    if strategies and not runner.stopped:
        strategy = strategies[0] if len(strategies) == 1 else hypothesis.strategies.one_of(strategies)
        _fuzz(strategy, max_examples * len(strategies), _seed_for(seed, op.label, "fuzz"), runner.handle)
    return finish(), tally.cases


# -- stateful -------------------------------------------------------------------------------
def _docs(catalog: Catalog, doc_or_api: SpecDocument | str) -> list[SpecDocument]:
    if isinstance(doc_or_api, SpecDocument):
        return [doc_or_api]
    return [doc for doc in catalog.docs if doc.raw.get("x-tb-api", doc.api) == doc_or_api or doc.api == doc_or_api]


def run_stateful(session: HarnessSession, catalog: Catalog, doc_or_api: SpecDocument | str, *, max_examples: int,
                 seed: int, run_id: str, cleanup: Cleanup | None, steps: int = 8) -> list[CheckResult]:
    """Create → read → update → delete sequences along the specs' OpenAPI links (writes only)."""
    results: list[CheckResult] = []
    for doc in _docs(catalog, doc_or_api):
        api = doc.raw.get("x-tb-api", doc.api)
        tally = _Tally(STATEFUL_CHECKS)
        label = f"stateful {doc.label}"
        if not session.writes_allowed:
            results += [CheckResult(id=f"contract.stateful.{name}", api=api, operation=label, status="skipped",
                                    message=WRITES_OFF, rule=rule, layer=LAYER) for name, rule in STATEFUL_CHECKS.items()]
            continue
        schema = schema_for(doc, catalog.collections.values())
        for op in catalog.ops:
            if op.operation.doc is doc:
                _OP_INDEX[(op.method, op.path)] = op
        runner = _Runner(session, schema, None, list(STATEFUL_CHECKS), tally, catalog, run_id, True, cleanup)
        base = schema.as_state_machine()

        class Machine(base):  # type: ignore[misc, valid-type]
            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"session": session, "base_url": session.base_url}

            def step(self, input: Any) -> Any:
                from schemathesis.generation.stateful.state_machine import StepOutput

                case = input.case
                raise_if_interrupted()
                if runner.stopped is not None or not runner.allowed(case):
                    return None
                try:
                    response = runner.send(case)
                except WriteBlocked:
                    return None
                except (RequestTimedOut, ConnectionDropped) as exc:
                    runner.no_answer(exc)
                    return None
                except requests.RequestException as exc:
                    runner.stopped = f"request failed: {type(exc).__name__}: {exc}"
                    return None
                self.after_call(response, case)
                runner.judge(case, response, getattr(self, "recorder", None))
                return StepOutput(response, case)

        Machine._hypothesis_internal_use_seed = _seed_for(seed, doc.label, "stateful")  # type: ignore[attr-defined]
        settings = _settings(max_examples, stateful_step_count=steps,
                             phases=[Phase.generate])
        try:
            from schemathesis.generation.stateful import run_state_machine_as_test

            run_state_machine_as_test(Machine, settings=settings)
        except Exception as exc:  # noqa: BLE001 - checks never raise here; anything else is an error result
            for name in tally.outcomes:
                tally.errored(name, f"stateful run stopped: {type(exc).__name__}: {str(exc)[:300]}", session.last)
        if runner.stopped and not runner.unanswered:
            for name in tally.outcomes:
                tally.errored(name, runner.stopped, session.last)
        results += tally.results(prefix="contract.stateful.", api=api, operation=label, rules=STATEFUL_CHECKS,
                                 not_applied=_not_applied)
    return results
