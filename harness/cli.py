"""`tbconform` command line: mock, seed, run, report, validate.

Usage errors print one line and exit 2; conformance failures exit 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from tbconform import __version__
from tbconform.harness.options import PORT as _port
from tbconform.harness.options import RUN_OPTIONS
from tbconform.harness.options import SEED as _seed
from tbconform.harness.options import WORKERS as _workers
from tbconform.harness.options import number as _number_type

# school weeks of seeded Caliper activity history (fixtures/caliper.py; bounds: fixtures/world.py)
_history_weeks = _number_type(int, "a whole number of school weeks from 0 to 52", 0, 52)

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad flag or environment value: one line to stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; we want one line
        raise UsageError(f"{self.prog}: {message} (see --help)")


class _IntermixedParser(_Parser):
    """Options may come between positionals (`validate caliper --format json a.json b.json`)."""

    _mixing = False

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        if self._mixing:
            return super().parse_known_args(args, namespace)
        self._mixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._mixing = False


def _sizes() -> list[str]:
    from tbconform.fixtures.world import SIZES

    return list(SIZES)


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a number, got {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"{what} must be a finite number >= 0, got {text!r}")
    return value


def _latency(text: str) -> tuple[float, float]:
    """`MS` or `MS:JITTER` (milliseconds) -> (latency, jitter)."""
    ms, sep, jitter = text.partition(":")
    if sep and not jitter.strip():
        raise argparse.ArgumentTypeError(f"expected MS or MS:JITTER in milliseconds, got {text!r}")
    return _number(ms, "MS"), _number(jitter, "JITTER") if sep else 0.0


def _rate(text: str) -> float:
    """`N/s` or `N` -> N requests per second (N > 0)."""
    raw = text.strip()
    raw = raw[:-2] if raw.lower().endswith("/s") else raw
    value = _number(raw, "N")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"N must be more than 0 requests per second, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tbconform", description="Conformance harness and stateful sandbox for Timeback's education APIs.")
    parser.add_argument("--version", action="version", version=f"tbconform {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    mock = sub.add_parser("mock", help="serve the stateful sandbox (all APIs, one port, OAuth2)",
                          description="Serve every spec operation from a seeded SQLite store on one port.")
    mock.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    mock.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    mock.add_argument("--seed", type=_seed, default=42, help="world seed (default 42)")
    mock.add_argument("--size", choices=_sizes(), default="small", help="world size (default small)")
    mock.add_argument("--db", metavar="FILE", help="persist the store in this SQLite file (default: in memory)")
    mock.add_argument("--history-weeks", type=_history_weeks, default=None, metavar="N",
                      help="school weeks of seeded Caliper activity history per student (default 4, 1 for large; 0: none)")
    mock.add_argument("--client-id", default=None, help="client id of the all-scopes client")
    mock.add_argument("--client-secret", default=None, help="its secret (required with --client-id)")
    mock.add_argument("--api", default=None, help="comma-separated APIs to serve (default: all)")
    mock.add_argument("--token-ttl", type=int, default=3600, help="token lifetime in seconds (default 3600)")
    mock.add_argument("--access-log", action="store_true", help="log every request (never logs credentials)")
    mock.add_argument("--fault", action="append", default=[], metavar="NAME",
                      help="break one behaviour on purpose, to see the harness catch it (repeatable; "
                           "names in mocks/faults/, e.g. filter-ignored)")
    mock.add_argument("--latency", type=_latency, default=(0.0, 0.0), metavar="MS[:JITTER]",
                      help="delay every answer by MS milliseconds, plus or minus up to JITTER (uniform; "
                           "e.g. 80:20 gives 60-100 ms; default 0)")
    mock.add_argument("--rate-limit", type=_rate, default=None, metavar="N/s",
                      help="answer 429 with Retry-After once more than N requests arrive within a second "
                           "(all clients and paths, the token endpoint too; N or N/s, e.g. 20/s; default: no limit)")
    mock.add_argument("--analytics-delay", type=float, default=0.0, metavar="S",
                      help="EduBridge analytics leave out events stored less than S seconds ago, as staging's "
                           "batch processing does (default 0: counted at once)")
    mock.add_argument("--qti-xsd", default=None, metavar="DIR",
                      help="a folder holding the official QTI 3.0 ASI XSD (imsqti_asiv3p0_v1p0.xsd and what it "
                           "imports, read from local files only): POST /validate also checks documents against it")

    seed = sub.add_parser("seed", help="write a deterministic school world as JSON and OneRoster CSV",
                          description="Generate the seeded world and write <out>/json/*.json and <out>/csv/*.csv.")
    seed.add_argument("--seed", type=_seed, default=42, help="world seed (default 42)")
    seed.add_argument("--size", choices=_sizes(), default="small", help="world size (default small)")
    seed.add_argument("--out", required=True, metavar="DIR", help="output folder (must be empty or absent)")
    seed.add_argument("--history-weeks", type=_history_weeks, default=None, metavar="N",
                      help="school weeks of Caliper activity history per student, in json/caliperEvents.json "
                           "(default 4, 1 for large; 0: none)")
    seed.add_argument("--overwrite", action="store_true", help="replace an existing non-empty folder")
    seed.add_argument("--no-progress", action="store_true", help="no progress bar")
    run = sub.add_parser(
        "run", help="run the conformance suite against a target (default: the embedded sandbox)",
        description="Contract tests (schemathesis) and semantic checks against a Timeback-style endpoint. "
                    "Exit 0 when every selected check passes, 1 on conformance failures, 2 on usage or "
                    "connection problems. Settings also come from TIMEBACK_API_URL, TIMEBACK_AUTH_URL, "
                    "CLIENT_ID and CLIENT_SECRET.")
    for option in RUN_OPTIONS:
        run.add_argument(f"--{option.name}", **option.kwargs())
    run.add_argument("--workers", type=_workers, default="auto", metavar="N",
                     help="parallel worker processes, or auto: one per CPU, at most 4 (default auto); "
                          "--max-rps is shared among them")
    run.add_argument("--quiet", action="store_true", help="print only the verdict line (no progress, no report paths)")

    validate = sub.add_parser(
        "validate", help="check payloads offline against an API's schemas and profile rules",
        description="Judge files offline with an API's own validator. caliper: JSON Caliper 1.2 "
                    "envelopes, events and entities (Timeback profile), each file recognised by its "
                    "shape; every problem is printed with its JSON path and rule id. qti: QTI 3.0 XML "
                    "items, tests, sections and stimuli (XML safety, namespace, identifiers declared "
                    "before use, response declarations against their interactions, outcomes, test "
                    "structure); every problem is printed with its line and rule id. Exit 0 when every "
                    "file is valid, 1 when any is invalid, 2 on usage errors (unknown API, unreadable "
                    "file, invalid JSON for caliper, unknown option, unusable --qti-xsd). Works offline.",
        epilog="examples:  tbconform validate caliper event.json  |  "
               "cat envelope.json | tbconform validate caliper -  |  "
               "tbconform validate caliper --format json out/*.json  |  tbconform validate caliper --rules  |  "
               "tbconform validate qti items/*.xml  |  tbconform validate qti --qti-xsd ~/qti-xsd item.xml")
    validate.__class__ = _IntermixedParser  # FILE... may follow the options
    validate.add_argument("api", metavar="API", help="the API whose validator judges the files (e.g. caliper)")
    validate.add_argument("files", nargs="*", metavar="FILE",
                          help="files to judge (JSON for caliper, XML for qti); - reads one document "
                               "from standard input")
    validate.add_argument("--format", choices=("text", "json"), default="text",
                          help="text (default): problems of invalid files and a summary; json: one document "
                               "with every file's verdict and problems")
    validate.add_argument("--strict", action="store_true",
                          help="also apply the readings of the standard's own conformance fixtures that the "
                               "Timeback service does not (caliper: a Decimal written as 50 instead of 50.0, "
                               "date-times not exactly YYYY-MM-DDTHH:mm:ss.SSSZ)")
    validate.add_argument("--qti-xsd", default=None, metavar="DIR",
                          help="qti only: also validate against the official QTI 3.0 ASI XSD found in DIR "
                               "(any *.xsd there with the QTI 3.0 targetNamespace, imsqti_asiv3p0_v1p0.xsd "
                               "preferred; imports are read from local files only); XSD errors have rule qti.xsd")
    validate.add_argument("--rules", action="store_true", help="list the validator's rule ids and exit")
    validate.add_argument("--no-progress", action="store_true",
                          help="no progress on stderr (shown by default when more than 100 files are given)")

    report = sub.add_parser("report", help="re-render the reports of a finished run",
                            description="Re-render summary.json, junit.xml and index.html from DIR/run.json.")
    report.add_argument("--from", dest="source", required=True, metavar="DIR", help="a report folder with run.json")
    report.add_argument("--out", metavar="DIR", help="write here instead of DIR")
    report.add_argument("--compare", metavar="BASE_DIR",
                        help="a base run's report folder: add what changed since it (new failures, fixed, "
                             "still failing) to index.html and summary.json")
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    from tbconform.harness.options import OptionError, build_config
    from tbconform.harness.runner import run_suite

    try:
        config = build_config(lambda dest: getattr(args, dest))
    except OptionError as exc:
        raise UsageError(f"tbconform run: {exc}") from None
    config.workers = args.workers
    if config.target is None and config.client_id:
        raise UsageError("tbconform run: --client-id without --target; the embedded sandbox uses its own credentials")
    return run_suite(config, rules=args.rules, quiet=args.quiet)


def cmd_report(args: argparse.Namespace) -> int:
    import shutil

    from tbconform.reports import FILES, load_run, render_from

    source = Path(args.source)
    if args.compare:  # check the base before writing anything
        try:
            load_run(Path(args.compare))
        except ValueError as exc:
            raise UsageError(f"tbconform report: --compare: {exc}") from None
    if args.out:
        out = Path(args.out)
        if not (source / "run.json").is_file():
            raise UsageError(f"tbconform report: {source / 'run.json'} not found; point --from at a report folder")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "run.json", out / "run.json")
        source = out
    try:
        paths = render_from(source, compare=Path(args.compare) if args.compare else None)
    except ValueError as exc:
        raise UsageError(f"tbconform report: {exc}") from None
    print("rendered " + ", ".join(str(paths[name]) for name in FILES if name in paths))
    return 0


def cmd_mock(args: argparse.Namespace) -> int:
    from tbconform.mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    from tbconform.mocks.sandbox import SandboxConfig
    from tbconform.mocks.server import port_free, serve
    from tbconform.mocks.store import StoreError
    from tbconform.specs.loader import SpecError, available_apis

    if (args.client_id is None) != (args.client_secret is None):
        raise UsageError("tbconform mock: give --client-id and --client-secret together")
    if args.token_ttl < 1:
        raise UsageError("tbconform mock: --token-ttl must be at least 1 second")
    if not 0 <= args.analytics_delay < float("inf"):
        raise UsageError("tbconform mock: --analytics-delay must be a number of seconds, 0 or more")
    apis = [a.strip() for a in args.api.split(",") if a.strip()] if args.api else None
    unknown = sorted(set(apis or []) - set(available_apis()))
    if unknown:
        raise UsageError(f"tbconform mock: unknown API(s) {', '.join(unknown)}; known: {', '.join(available_apis())}")
    if args.db:
        parent = Path(args.db).expanduser().resolve().parent
        if not parent.is_dir():
            raise UsageError(f"tbconform mock: folder for --db does not exist: {parent}")
    if not port_free(args.host, args.port):
        raise UsageError(f"tbconform mock: cannot listen on {args.host}:{args.port} (in use or not allowed); pick another --port")
    from tbconform.mocks.faults import FAULTS

    unknown_faults = sorted(set(args.fault) - set(FAULTS))
    if unknown_faults:
        raise UsageError(f"tbconform mock: unknown fault(s) {', '.join(unknown_faults)}; known: {', '.join(sorted(FAULTS))}")
    qti_xsd_dir = _qti_xsd(args.qti_xsd, "tbconform mock")
    config = SandboxConfig(
        qti_xsd_dir=qti_xsd_dir,
        seed=args.seed, size=args.size, db=args.db, apis=apis, token_ttl=args.token_ttl, faults=frozenset(args.fault),
        latency_ms=args.latency[0], jitter_ms=args.latency[1], rate_limit=args.rate_limit,
        history_weeks=args.history_weeks,
        analytics_delay=args.analytics_delay,
        client_id=args.client_id or DEFAULT_CLIENT_ID, client_secret=args.client_secret or DEFAULT_CLIENT_SECRET,
    )
    try:
        serve(config, args.host, args.port, access_log=args.access_log)
    except (SpecError, StoreError) as exc:
        raise UsageError(f"tbconform mock: {exc}") from None
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from tbconform.fixtures.bundle import write_bundle

    try:
        counts = write_bundle(args.out, seed=args.seed, size=args.size, history_weeks=args.history_weeks,
                              progress=not args.no_progress, overwrite=args.overwrite)
    except (ValueError, OSError) as exc:
        raise UsageError(f"tbconform seed: {exc}") from None
    total = sum(counts.values())
    print(f"wrote {total} records ({len(counts)} collections) to {args.out}")
    return 0


def _qti_xsd(folder: str | None, prog: str) -> Path | None:
    """`--qti-xsd DIR` checked (and its schema loaded, then cached) by the qti validator's hook."""
    if folder is None:
        return None
    from tbconform.harness import validate as v

    validator = v.registry().get("qti")
    if validator is None or validator.prepare is None:
        raise UsageError(f"{prog}: --qti-xsd needs the qti validator, which is not installed")
    path = Path(folder).expanduser()
    try:
        validator.prepare({"xsd_dir": path})
    except ValueError as exc:
        raise UsageError(f"{prog}: --qti-xsd: {exc}") from None
    return path


# CLI flags that become a validator's declared keyword options: option name -> (dest, flag)
_VALIDATOR_OPTIONS = {"xsd_dir": ("qti_xsd", "--qti-xsd")}


def cmd_validate(args: argparse.Namespace) -> int:
    from tbconform.harness import validate as v

    validator = v.registry().get(args.api)
    if validator is None:
        known = ", ".join(v.registry().names()) or "none"
        raise UsageError(f"tbconform validate: unknown API {args.api!r}; known: {known}")
    if args.rules:
        v.render_rules(validator, sys.stdout)
        return 0
    if not args.files:
        raise UsageError("tbconform validate: give at least one FILE, or - for standard input (see --help)")
    if args.strict and not validator.strict:
        raise UsageError(f"tbconform validate: {args.api} has no --strict mode")
    if args.files.count("-") > 1:
        raise UsageError("tbconform validate: standard input (-) can be read only once")
    options: dict[str, Any] = {}
    for option, (dest, flag) in _VALIDATOR_OPTIONS.items():
        value = getattr(args, dest)
        if value is None:
            continue
        if option not in validator.options:
            raise UsageError(f"tbconform validate: {args.api} has no {flag} option")
        options[option] = Path(value).expanduser()
        if validator.prepare is not None:  # e.g. loads the XSD once: a bad folder is exit 2
            try:
                validator.prepare({option: options[option]})
            except ValueError as exc:
                raise UsageError(f"tbconform validate: {flag}: {exc}") from None
    outcome = v.run(validator, args.files, strict=args.strict, progress=not args.no_progress,
                    options=options)
    for line in outcome.errors:
        print(f"tbconform validate: {line}", file=sys.stderr)
    if args.format == "json":
        v.render_json(outcome, args.api, args.strict, sys.stdout)
    else:
        v.render_text(outcome, sys.stdout)
    return outcome.exit_code


COMMANDS = {"mock": cmd_mock, "seed": cmd_seed, "run": cmd_run, "report": cmd_report,
            "validate": cmd_validate}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
