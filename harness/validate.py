"""`tbconform validate API FILE... | -`: judge payloads offline with an API's own validator.

Each API plug-in brings its validator: a module `tbconform.specs.<api>.validate` that defines
`register_validator(registry)` and calls `registry.register(...)` from it. The registry finds them
by name (the core never imports a specific API) and runs one over every file:

* a validator declares what it reads: `reads="json"` (default) hands its judge the parsed
  document; any other format (`reads="xml"`) hands it the raw bytes, since for XML being
  malformed is a finding (exit 1) and not a usage error. It may also declare keyword `options`
  its judge takes (the CLI maps flags such as `--qti-xsd DIR` to them) and a `prepare(options)`
  hook that checks them once before any file is read (ValueError: a usage error);
* exit 0: every file is valid; 1: at least one is not; 2: a usage error (an unknown API, a file
  that cannot be read, a file that is not JSON for a JSON validator, a bad option), each told in
  one line on stderr;
* text output lists, for each invalid file, every problem with its location (`line N` when the
  problem has a line, as XML problems do; else its JSON path) and rule id; `--format json`
  writes one JSON document for machines (with `line` where there is one);
* with more than 100 files a progress bar goes to stderr (a live bar on a terminal, a line per
  10 % otherwise); `--no-progress` turns it off.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, Sequence, TextIO

import orjson

PROGRESS_THRESHOLD = 100  # files; more than this shows progress


class ProblemLike(Protocol):
    path: str  # JSON path, or an XPath-ish location for XML; problems may also have `line: int`
    rule: str
    message: str


Judge = Callable[..., tuple[str, Sequence[ProblemLike]]]


@dataclass(frozen=True)
class Validator:
    api: str
    judge: Judge  # judge(doc, strict=bool) -> (kind, problems)
    summary: str = ""
    rules: dict[str, str] = field(default_factory=dict)
    strict: bool = False  # whether judge takes strict=True
    reads: str = "json"  # "json": judge(parsed document); anything else: judge(raw bytes)
    options: frozenset[str] = frozenset()  # keyword options judge takes (e.g. xsd_dir)
    prepare: Callable[[dict[str, Any]], None] | None = None  # checks options once; ValueError


class Registry:
    def __init__(self) -> None:
        self._validators: dict[str, Validator] = {}

    def register(self, api: str, judge: Judge, *, summary: str = "",
                 rules: dict[str, str] | None = None, strict: bool = False, reads: str = "json",
                 options: Iterable[str] = (),
                 prepare: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._validators[api] = Validator(api, judge, summary, dict(rules or {}), strict, reads,
                                          frozenset(options), prepare)

    def get(self, api: str) -> Validator | None:
        return self._validators.get(api)

    def names(self) -> list[str]:
        return sorted(self._validators)


_REGISTRY: Registry | None = None


def registry() -> Registry:
    """Every API validator the installed plug-ins register (found once, by module name)."""
    global _REGISTRY
    if _REGISTRY is None:
        reg = Registry()
        from tbconform import specs

        for info in sorted(pkgutil.iter_modules(specs.__path__), key=lambda i: i.name):
            if not info.ispkg:
                continue
            name = f"{specs.__name__}.{info.name}.validate"
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name == name:  # this API has no validator
                    continue
                raise
            hook = getattr(module, "register_validator", None)
            if callable(hook):
                hook(reg)
        _REGISTRY = reg
    return _REGISTRY


# ----------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------


class InputError(Exception):
    """A file that cannot be judged (unreadable, empty, not JSON for a JSON validator): exit 2."""


def read_document(name: str, stdin: Any = None, reads: str = "json") -> Any:
    """One file (or `-` for standard input): parsed JSON, or its bytes when `reads` is not json."""
    try:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin
            raw = getattr(stream, "buffer", stream).read()
        else:
            raw = Path(name).read_bytes()
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a file") from None
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if not raw.strip():
        raise InputError(f"{_label(name)}: empty, not {reads.upper()}")
    if reads != "json":
        return raw
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if exc.lineno else "at the start"
        raise InputError(f"{_label(name)}: not valid JSON ({where}: {exc.msg})") from None


def _label(name: str) -> str:
    return "<stdin>" if name == "-" else name


# ----------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------


@dataclass
class FileResult:
    file: str
    kind: str
    problems: list[ProblemLike]

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class Outcome:
    results: list[FileResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line each
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if any(not r.valid for r in self.results) else 0


class _Progress:
    """Live bar on a terminal; otherwise a line each 10 %. Off for PROGRESS_THRESHOLD files or fewer."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.enabled = enabled and total > PROGRESS_THRESHOLD
        self.bar: Any = None
        self.next_tenth = 1
        if self.enabled and _isatty(stream):
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]validate[/]"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=Console(file=stream), transient=True)
            self.task = self.bar.add_task("files", total=total)
            self.bar.start()

    def step(self) -> None:
        if not self.enabled:
            return
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)
            return
        while self.next_tenth <= 10 and self.done * 10 >= self.next_tenth * self.total:
            print(f"validate: {self.done}/{self.total} files ({self.next_tenth * 10} %)",
                  file=self.stream, flush=True)
            self.next_tenth += 1

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def run(validator: Validator, files: Iterable[str], *, strict: bool = False, stdin: Any = None,
        progress_stream: TextIO | None = None, progress: bool = True,
        options: dict[str, Any] | None = None) -> Outcome:
    """Judge every file; `options` are the validator's declared keyword options (already prepared)."""
    names = list(files)
    extra = dict(options or {})
    if strict:
        extra["strict"] = True
    outcome = Outcome()
    bar = _Progress(len(names), progress_stream or sys.stderr, progress)
    started = time.perf_counter()
    try:
        for name in names:
            try:
                doc = read_document(name, stdin, validator.reads)
            except InputError as exc:
                outcome.errors.append(str(exc))
            else:
                kind, problems = validator.judge(doc, **extra)
                outcome.results.append(FileResult(_label(name), kind, list(problems)))
            bar.step()
    finally:
        bar.close()
    outcome.seconds = time.perf_counter() - started
    return outcome


# ----------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------


def render_text(outcome: Outcome, out: TextIO) -> None:
    for r in outcome.results:
        if r.valid:
            continue
        n = len(r.problems)
        what = "document" if r.kind == "unknown" else r.kind  # not even recognised
        print(f"{r.file}: invalid {what} ({n} problem{'s' if n != 1 else ''})", file=out)
        width = min(max(len(_where(p)) for p in r.problems), 48)
        for p in r.problems:
            print(f"  {_where(p):<{width}}  {p.rule}  {p.message}", file=out)
    valid = sum(r.valid for r in outcome.results)
    invalid = len(outcome.results) - valid
    parts = [f"{len(outcome.results)} file{'s' if len(outcome.results) != 1 else ''} judged",
             f"{valid} valid", f"{invalid} invalid"]
    if outcome.errors:
        parts.append(f"{len(outcome.errors)} not judged")
    print(", ".join(parts), file=out)


def render_json(outcome: Outcome, api: str, strict: bool, out: TextIO) -> None:
    valid = sum(r.valid for r in outcome.results)
    doc = {
        "api": api,
        "strict": strict,
        "valid": outcome.exit_code == 0,
        "files": [{"file": r.file, "kind": r.kind, "valid": r.valid,
                   "problems": [_problem_json(p) for p in r.problems]} for r in outcome.results],
        "errors": outcome.errors,
        "summary": {"files": len(outcome.results) + len(outcome.errors), "valid": valid,
                    "invalid": len(outcome.results) - valid, "not_judged": len(outcome.errors),
                    "seconds": round(outcome.seconds, 3)},
    }
    out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def _where(p: ProblemLike) -> str:
    line = getattr(p, "line", None)
    return p.path if line is None else f"line {line}"


def _problem_json(p: ProblemLike) -> dict[str, Any]:
    doc: dict[str, Any] = {"path": p.path, "rule": p.rule, "message": p.message}
    line = getattr(p, "line", None)
    if line is not None:
        doc = {"line": line, **doc}
    return doc


def render_rules(validator: Validator, out: TextIO) -> None:
    width = max((len(r) for r in validator.rules), default=0)
    for rule, text in validator.rules.items():
        print(f"{rule:<{width}}  {text}", file=out)
