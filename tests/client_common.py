"""What every official-client driver (client_driver.py, caliper_client_driver.py,
edubridge_client_driver.py) shares: running named operations, recording failures and divergences,
the command line and the JSON report.

The drivers run as scripts in a venv of their own (Python >= 3.12, the official client installed,
nothing of this repository), so this module uses the standard library only and is imported as the
drivers' sibling (`from client_common import ...`: a script's folder is first on sys.path).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

# Attributes of the clients' exceptions that say what the server answered.
EXCEPTION_DETAILS = ("status_code", "response", "details", "body", "issues")
SKIPPED = "skipped: a prerequisite operation failed or found nothing"


class Skipped(Exception):
    """A prerequisite operation failed or found nothing; this one cannot run."""


def check(condition: Any, message: Any) -> None:
    """An assertion that survives `python -O` and reads as a failed operation in the report."""
    if not condition:
        raise AssertionError(message)


def uid(prefix: str) -> str:
    """A fresh id for a record a driver creates, so reruns against one sandbox never collide."""
    return f"tbc-{prefix}-{uuid.uuid4()}"


def describe(exc: BaseException) -> str:
    """One line for the report: the exception and whatever it knows of the server's answer."""
    text = f"{type(exc).__name__}: {exc}"
    for attr in EXCEPTION_DETAILS:
        value = getattr(exc, attr, None)
        if value is not None and str(value) not in text:
            text += f" | {attr}={str(value)[:600]}"
    return text[:1500]


class Runner:
    """Runs one named client operation at a time and records what happened.

    `failed` is what an operation gives back when it failed or was skipped; a later operation that
    needs that value is skipped. When it is None, an operation that succeeds with None gives True, so
    success and failure never look alike.
    """

    def __init__(self, verbose: bool = False, failed: Any = None) -> None:
        self.operations: list[dict[str, Any]] = []
        self.verbose = verbose
        self.failed = failed

    def unmet(self, needs: tuple[Any, ...]) -> bool:
        return any(n is None or n is self.failed for n in needs)

    def _keep(self, record: dict[str, Any], started: float) -> None:
        record["ms"] = round((time.perf_counter() - started) * 1000, 1)
        self.operations.append(record)

    async def op(self, name: str, fn: Callable[[], Awaitable[Any]], *needs: Any) -> Any:
        """Run `fn`; record ok/error; return its value (`self.failed` when it failed or was skipped)."""
        started = time.perf_counter()
        record: dict[str, Any] = {"name": name, "ok": False, "error": None}
        try:
            if self.unmet(needs):
                raise Skipped(SKIPPED)
            value = await fn()
            record["ok"] = True
            return True if value is None and self.failed is None else value
        except Skipped as exc:
            record["error"] = str(exc)
            return self.failed
        except Exception as exc:  # noqa: BLE001 - every failure is a reported result
            record["error"] = describe(exc)
            if self.verbose:
                record["traceback"] = traceback.format_exc()[-3000:]
            return self.failed
        finally:
            self._keep(record, started)

    async def divergence(self, name: str, fn: Callable[[], Awaitable[Any]], why: str, *needs: Any) -> Any:
        """A client call whose request the spec does not describe (a client/spec divergence).

        Run and recorded with what happened, but never counted as a failure: the sandbox follows
        the spec, so the call may legitimately be refused. `why` says what differs.
        """
        record: dict[str, Any] = {"name": name, "ok": True, "divergence": why, "error": None}
        started = time.perf_counter()
        try:
            if self.unmet(needs):
                record["observed"] = "skipped: a prerequisite operation failed"
                return self.failed
            value = await fn()
            record["observed"] = "accepted"
            return value
        except Exception as exc:  # noqa: BLE001
            record["observed"] = f"refused: {describe(exc)[:400]}"
            return self.failed
        finally:
            self._keep(record, started)

    def note(self, name: str, why: str, observed: str) -> None:
        """Record a divergence met inside an operation (once per name)."""
        label = f"{name} [divergence]"
        if not any(o["name"] == label for o in self.operations):
            self.operations.append({"name": label, "ok": True, "divergence": why, "observed": observed,
                                    "error": None, "ms": 0.0})


def outcome(runner: Runner, started: float) -> dict[str, Any]:
    """The report's summary, divergences, failures and operations (the client block is the driver's)."""
    ops = runner.operations
    failed = [o for o in ops if not o["ok"]]
    diverged = [o for o in ops if o.get("divergence")]
    return {
        "summary": {"operations": len(ops), "ok": len(ops) - len(failed), "failed": len(failed),
                    "divergences": len(diverged), "seconds": round(time.perf_counter() - started, 2)},
        "divergences": [{"name": o["name"], "why": o["divergence"], "observed": o.get("observed")}
                        for o in diverged],
        "failures": [o["name"] for o in failed],
        "operations": ops,
    }


def arguments(description: str, *, default_credentials: bool = False) -> argparse.ArgumentParser:
    """The command line every driver takes; a driver adds its own options to the parser."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token-url", required=True)
    if default_credentials:
        parser.add_argument("--client-id", default="tbconform-sandbox")
        parser.add_argument("--client-secret", default="tbconform-sandbox-secret")
    else:
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
    parser.add_argument("--timeout", type=float, default=15.0, help="per-request timeout (s)")
    parser.add_argument("--out", help="write the JSON report here (else on stdout)")
    parser.add_argument("--verbose", action="store_true", help="include tracebacks of failures")
    return parser


def run_driver(args: argparse.Namespace, main_async: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]],
               import_error: str | None, *, always_print: bool = False) -> int:
    """Run a driver and write its report: exit 0 when every operation passed, 1 when one failed,
    2 when the client is not importable."""
    if import_error:
        print(import_error, file=sys.stderr)
        return 2
    report = asyncio.run(main_async(args))
    text = json.dumps(report, indent=2, default=str)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    if always_print or not args.out:
        print(text)
    return 0 if report["summary"]["failed"] == 0 else 1
