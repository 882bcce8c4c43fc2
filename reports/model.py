"""Run results: the one data model every report writer reads.

The harness fills these; `run.json` is their serialised form so `tbconform report --from DIR`
can re-render without re-running.  Stdlib only (orjson is used when present, for speed).
"""
from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping

try:  # optional: faster and stricter, but the model must not depend on it
    import orjson
except ImportError:  # pragma: no cover - exercised only without orjson
    orjson = None  # type: ignore[assignment]

STATUSES = ("passed", "failed", "skipped", "error", "warning")  # warning: allowed, but hurts real clients
LAYERS = ("contract", "semantic")
EXCERPT_LIMIT = 4096  # bytes of a response body kept: enough to diagnose, small enough to ship
RUN_FORMAT = "tbconform.run/1"


def excerpt(text: str | None, limit: int = EXCERPT_LIMIT) -> str | None:
    """Cut `text` to at most `limit` UTF-8 bytes (marker included) without splitting a character."""
    if text is None:
        return None
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    marker = f"\n… [truncated, {len(raw)} bytes in full]"
    keep = max(0, limit - len(marker.encode("utf-8")))
    return raw[:keep].decode("utf-8", "ignore") + marker


def map_strings(obj: Any, fn: Callable[[str], str]) -> Any:
    """Apply `fn` to every string (dict keys included) inside plain JSON-like data."""
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, Mapping):
        return {map_strings(k, fn): map_strings(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [map_strings(v, fn) for v in obj]
    return obj


@dataclass
class Exchange:
    """One HTTP request/response pair, kept so a failure can be replayed by hand."""

    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | None = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.response_body = excerpt(self.response_body)

    def curl(self) -> str:
        """The request as one shell-safe curl command line (render it redacted: see `redaction`)."""
        parts = ["curl", "-sS", "-X", shlex.quote(self.method)]
        for name, value in self.request_headers.items():
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_body is not None:
            parts += ["--data-raw", shlex.quote(self.request_body)]
        parts.append(shlex.quote(self.url))
        return " ".join(parts)


@dataclass
class CheckResult:
    """The outcome of one rule against one operation."""

    id: str
    api: str
    operation: str
    status: str
    message: str = ""
    rule: str = ""
    layer: str = "semantic"
    duration: float = 0.0
    exchange: Exchange | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.id!r}: status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.layer not in LAYERS:
            raise ValueError(f"check {self.id!r}: layer must be one of {', '.join(LAYERS)}, got {self.layer!r}")
        if isinstance(self.exchange, Mapping):
            self.exchange = Exchange(**self.exchange)


def tally(results: list[CheckResult]) -> dict[str, int]:
    """Counts per status, every status present (zero included) so consumers need no defaults."""
    counts = dict.fromkeys(STATUSES, 0)
    for result in results:
        counts[result.status] += 1
    return counts


@dataclass
class RunResult:
    """A whole conformance run; `settings` must hold nothing secret (it is written out)."""

    target: str
    started: str
    finished: str
    duration: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)
    interrupted: bool = False  # stopped early (Ctrl-C): the results cover only part of the suite
    # The catalog's operation labels per API ("GET /users"): the denominator of "operations answered".
    # Empty in run.json files written before it existed; the overview then uses the operations checked.
    operations: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return tally(self.results)

    def verdict(self) -> str:
        """PASS only if something passed and nothing failed or errored: an empty run proves nothing.
        A run stopped early without a failure is INCOMPLETE, not PASS: it did not check everything.
        Warnings never change the verdict (nor the exit code): they are listed beside it."""
        c = self.counts()
        if c["failed"] or c["error"]:
            return "FAIL"
        if self.interrupted:
            return "INCOMPLETE"
        return "PASS" if c["passed"] or c["warning"] else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        return {"format": RUN_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        """Rebuild from `to_dict` output; any shape problem becomes a one-line ValueError."""
        try:
            if data.get("format", RUN_FORMAT) != RUN_FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            body = {k: v for k, v in data.items() if k != "format"}
            body["results"] = [CheckResult(**r) for r in body.get("results", [])]
            return cls(**body)
        except (TypeError, AttributeError, KeyError) as exc:
            raise ValueError(f"not a tbconform run: {exc}") from None

    def to_json(self) -> str:
        data = self.to_dict()
        if orjson is not None:
            try:
                return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
            except TypeError:  # lone surrogates, odd keys/values: orjson refuses; stdlib copes
                data = map_strings(data, lambda s: s.encode("utf-8", "replace").decode("utf-8"))
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> RunResult:
        try:
            data = orjson.loads(text) if orjson is not None else json.loads(text)
        except ValueError as exc:  # orjson.JSONDecodeError and json.JSONDecodeError are ValueErrors
            raise ValueError(f"not valid JSON: {str(exc).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise ValueError("not a tbconform run: top level is not an object")
        return cls.from_dict(data)
