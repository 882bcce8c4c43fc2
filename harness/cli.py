"""`tbconform` command line: mock, seed, run, report.

Usage errors print one line and exit 2; conformance failures exit 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad flag or environment value: one line to stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + exits 2; we want one line
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be a non-negative integer, got {value}")
    return value


def _sizes() -> list[str]:
    from fixtures.world import SIZES

    return list(SIZES)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tbconform", description="Conformance harness and stateful sandbox for Timeback's education APIs.")
    parser.add_argument("--version", action="version", version=f"tbconform {__import__('harness').__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    mock = sub.add_parser("mock", help="serve the stateful sandbox (all APIs, one port, OAuth2)",
                          description="Serve every spec operation from a seeded SQLite store on one port.")
    mock.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    mock.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    mock.add_argument("--seed", type=_seed, default=42, help="world seed (default 42)")
    mock.add_argument("--size", choices=_sizes(), default="small", help="world size (default small)")
    mock.add_argument("--db", metavar="FILE", help="persist the store in this SQLite file (default: in memory)")
    mock.add_argument("--client-id", default=None, help="client id of the all-scopes client")
    mock.add_argument("--client-secret", default=None, help="its secret (required with --client-id)")
    mock.add_argument("--api", default=None, help="comma-separated APIs to serve (default: all)")
    mock.add_argument("--token-ttl", type=int, default=3600, help="token lifetime in seconds (default 3600)")
    mock.add_argument("--access-log", action="store_true", help="log every request (never logs credentials)")

    seed = sub.add_parser("seed", help="write a deterministic school world as JSON and OneRoster CSV",
                          description="Generate the seeded world and write <out>/json/*.json and <out>/csv/*.csv.")
    seed.add_argument("--seed", type=_seed, default=42, help="world seed (default 42)")
    seed.add_argument("--size", choices=_sizes(), default="small", help="world size (default small)")
    seed.add_argument("--out", required=True, metavar="DIR", help="output folder (must be empty or absent)")
    seed.add_argument("--overwrite", action="store_true", help="replace an existing non-empty folder")
    seed.add_argument("--no-progress", action="store_true", help="no progress bar")
    run = sub.add_parser(
        "run", help="run the conformance suite against a target (default: the embedded sandbox)",
        description="Contract tests (schemathesis) and semantic checks against a Timeback-style endpoint. "
                    "Exit 0 when every selected check passes, 1 on conformance failures, 2 on usage or "
                    "connection problems. Settings also come from TIMEBACK_API_URL, TIMEBACK_AUTH_URL, "
                    "CLIENT_ID and CLIENT_SECRET.")
    run.add_argument("--target", metavar="URL", help="API base URL (default: start the embedded sandbox)")
    run.add_argument("--auth-url", metavar="URL", help="OAuth2 token URL (default <target>/oauth2/token)")
    run.add_argument("--client-id", metavar="ID", help="OAuth2 client id")
    run.add_argument("--client-secret", metavar="SECRET", help="OAuth2 client secret (never written to reports)")
    run.add_argument("--readonly-client-id", metavar="ID", help="a read-only client, enables the scope checks")
    run.add_argument("--readonly-client-secret", metavar="SECRET", help="its secret")
    run.add_argument("--api", metavar="LIST", help="comma-separated APIs to test (default: all with specs)")
    run.add_argument("--allow-writes", action="store_true",
                     help="allow write requests to a non-loopback target (records are tagged and deleted)")
    run.add_argument("--max-examples", type=_positive, default=5, metavar="N", help="generated cases per operation (default 5)")
    run.add_argument("--workers", type=_positive, default=1, metavar="N", help="parallel workers (default 1)")
    run.add_argument("--max-rps", type=_rate, default=None, metavar="N",
                     help="request-rate cap (default 10 for non-loopback targets, 0 = none)")
    run.add_argument("--report-dir", default="reports/latest", metavar="DIR", help="report folder (default reports/latest)")
    run.add_argument("--seed", type=_seed, default=42, help="generation and sandbox seed (default 42)")
    run.add_argument("--layers", default="contract,semantic", metavar="LIST", help="contract,semantic (default both)")
    run.add_argument("--rules", metavar="LIST", help="only semantic rules whose id starts with one of these")
    run.add_argument("--quiet", action="store_true", help="no progress display")

    report = sub.add_parser("report", help="re-render the reports of a finished run",
                            description="Re-render summary.json, junit.xml and index.html from DIR/run.json.")
    report.add_argument("--from", dest="source", required=True, metavar="DIR", help="a report folder with run.json")
    report.add_argument("--out", metavar="DIR", help="write here instead of DIR")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of requests per second, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--max-rps cannot be negative, got {value}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    from harness.config import RunConfig, from_environment
    from harness.runner import run_suite
    from specs.loader import available_apis

    layers = tuple(x.strip() for x in args.layers.split(",") if x.strip())
    if not layers or set(layers) - {"contract", "semantic"}:
        raise UsageError(f"tbconform run: --layers takes contract and/or semantic, got {args.layers!r}")
    apis = [a.strip() for a in args.api.split(",") if a.strip()] if args.api else None
    unknown = sorted(set(apis or []) - set(available_apis()))
    if unknown:
        raise UsageError(f"tbconform run: unknown API(s) {', '.join(unknown)}; known: {', '.join(available_apis())}")
    config = from_environment(RunConfig(
        target=args.target, auth_url=args.auth_url, client_id=args.client_id, client_secret=args.client_secret,
        readonly_client_id=args.readonly_client_id, readonly_client_secret=args.readonly_client_secret,
        apis=apis, allow_writes=args.allow_writes, max_examples=args.max_examples, workers=args.workers,
        max_rps=args.max_rps, report_dir=Path(args.report_dir), seed=args.seed, layers=layers,
    ))
    if (config.client_id is None) != (config.client_secret is None):
        raise UsageError("tbconform run: give --client-id and --client-secret together (or CLIENT_ID and CLIENT_SECRET)")
    if config.target is None and config.client_id:
        raise UsageError("tbconform run: --client-id without --target; the embedded sandbox uses its own credentials")
    return run_suite(config, rules=args.rules, progress=not args.quiet)


def cmd_report(args: argparse.Namespace) -> int:
    import shutil

    from reports import FILES, render_from

    source = Path(args.source)
    if args.out:
        out = Path(args.out)
        if not (source / "run.json").is_file():
            raise UsageError(f"tbconform report: {source / 'run.json'} not found; point --from at a report folder")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "run.json", out / "run.json")
        source = out
    try:
        paths = render_from(source)
    except ValueError as exc:
        raise UsageError(f"tbconform report: {exc}") from None
    print("rendered " + ", ".join(str(paths[name]) for name in FILES if name in paths))
    return 0


def cmd_mock(args: argparse.Namespace) -> int:
    from mocks.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
    from mocks.sandbox import SandboxConfig
    from mocks.server import port_free, serve
    from mocks.store import StoreError
    from specs.loader import SpecError, available_apis

    if (args.client_id is None) != (args.client_secret is None):
        raise UsageError("tbconform mock: give --client-id and --client-secret together")
    if args.token_ttl < 1:
        raise UsageError("tbconform mock: --token-ttl must be at least 1 second")
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
    config = SandboxConfig(
        seed=args.seed, size=args.size, db=args.db, apis=apis, token_ttl=args.token_ttl,
        client_id=args.client_id or DEFAULT_CLIENT_ID, client_secret=args.client_secret or DEFAULT_CLIENT_SECRET,
    )
    try:
        serve(config, args.host, args.port, access_log=args.access_log)
    except (SpecError, StoreError) as exc:
        raise UsageError(f"tbconform mock: {exc}") from None
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from fixtures.bundle import write_bundle

    try:
        counts = write_bundle(args.out, seed=args.seed, size=args.size,
                              progress=not args.no_progress, overwrite=args.overwrite)
    except (ValueError, OSError) as exc:
        raise UsageError(f"tbconform seed: {exc}") from None
    total = sum(counts.values())
    print(f"wrote {total} records ({len(counts)} collections) to {args.out}")
    return 0


COMMANDS = {"mock": cmd_mock, "seed": cmd_seed, "run": cmd_run, "report": cmd_report}


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
