"""Report writers: a run's results → run.json, summary.json, junit.xml, index.html.

Everything is redacted before it is rendered and scanned again after, so no credential given
to the writer (or found in a header/body) reaches disk.  Files are written atomically: a
reader (CI uploader, browser) never sees half a report.  allure-results come from
allure-pytest, not from here; `allurerc.mjs` beside them tells the Allure 3 CLI to show the
behaviours tree (API → operation → rule) rather than its default suites view.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from .html import render_html
from .junit import render_junit
from .model import CheckResult, Exchange, RunResult
from .redaction import redact, redact_headers, redact_run, run_secrets
from .summary import build_summary, render_summary

__all__ = ["CheckResult", "Exchange", "RunResult", "redact", "redact_headers", "redact_run",
           "write_reports", "render_from", "load_run", "build_summary", "FILES"]

RENDERERS: dict[str, Callable[[RunResult, RunResult | None], str]] = {
    "summary.json": render_summary, "junit.xml": lambda run, base: render_junit(run), "index.html": render_html,
}
FILES = ("run.json", *RENDERERS)
ALLURE_CONFIG = ('export default { name: "tbconform", '
                 'plugins: { awesome: { options: { groupBy: ["epic", "feature", "story"] } } } };\n')


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8", "replace"))  # "replace": a lone surrogate must not abort a report
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _render(run: RunResult, secrets: list[str], base: RunResult | None) -> dict[str, str]:
    """Render every file from an already-redacted run; the final `redact` is the safety net."""
    texts = {"run.json": run.to_json(), **{n: render(run, base) for n, render in RENDERERS.items()}}
    return {n: redact(t, secrets) if any(s in t for s in secrets) else t for n, t in texts.items()}


def write_reports(run: RunResult, out_dir: Path, secrets: Iterable[str] = (),
                  base: RunResult | None = None) -> dict[str, Path]:
    """Write all four reports into `out_dir` (created if needed); returns {file name: path}.
    With `base` (an earlier run), summary.json and index.html also say what changed since it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    secrets = run_secrets(run, secrets)
    if base is not None:  # normally already redacted (it was read from a run.json), but be sure
        base = redact_run(base, run_secrets(base, secrets))
    texts = _render(redact_run(run, secrets), secrets, base)  # render all before writing any
    paths = {}
    texts["allurerc.mjs"] = ALLURE_CONFIG  # `cd DIR && allure generate allure-results` groups by behaviour
    for name, text in texts.items():
        _atomic_write(out_dir / name, text)
        paths[name] = out_dir / name
    return paths


def load_run(dir: Path) -> RunResult:
    """The run stored in `dir/run.json` (or the file `dir` itself); ValueError (one line) if unusable."""
    src = Path(dir)
    run_path = src if src.is_file() else src / "run.json"
    try:
        raw = run_path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {run_path}: {exc.strerror or exc}") from None
    try:
        return RunResult.from_json(raw)
    except ValueError as exc:
        raise ValueError(f"{run_path}: {str(exc).splitlines()[0]}") from None


def render_from(dir: Path, secrets: Iterable[str] = (), compare: Path | None = None) -> dict[str, Path]:
    """Re-render reports from `dir/run.json` (`tbconform report --from DIR [--compare BASE]`);
    ValueError if either run is unusable."""
    src = Path(dir)
    run = load_run(src)
    base = load_run(Path(compare)) if compare is not None else None
    return write_reports(run, src if src.is_dir() else src.parent, secrets, base=base)
