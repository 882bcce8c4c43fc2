"""The run options, declared once for both `tbconform run` and the pytest plugin
(`--target` there is `--tbconform-target` here), with the validators both share."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from tbconform.harness.config import RunConfig, from_environment


def number(kind: type, what: str, low: float | None = None, high: float | None = None) -> Callable[[str], Any]:
    """An argparse type that parses `kind` within [low, high] and says what it expected."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


PORT = number(int, "a port number 1-65535", 1, 65535)
SEED = number(int, "a non-negative integer seed", 0)
POSITIVE = number(int, "a positive integer", 1)
RATE = number(float, "a non-negative number of requests per second", 0)
TIMEOUT = number(float, "a number of seconds between 0.1 and 600", 0.1, 600)


def WORKERS(text: str) -> int:  # noqa: N802 - an argparse type, named like the others
    """`auto` (every usable CPU, at most 4) or a positive number of parallel workers."""
    from tbconform.harness.config import auto_workers

    if text.strip().lower() == "auto":
        return auto_workers()
    try:
        return POSITIVE(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") from None


@dataclass(frozen=True)
class Option:
    name: str  # flag without dashes, e.g. "client-id"
    help: str
    metavar: str | None = None
    type: Callable[[str], Any] | None = None
    default: Any = None
    flag: bool = False  # store_true

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    def kwargs(self) -> dict[str, Any]:
        if self.flag:
            return {"action": "store_true", "default": False, "help": self.help}
        out: dict[str, Any] = {"default": self.default, "help": self.help, "metavar": self.metavar}
        if self.type is not None:
            out["type"] = self.type
        return out


RUN_OPTIONS = [
    Option("target", "API base URL (env TIMEBACK_API_URL; default: start the embedded sandbox)", "URL"),
    Option("auth-url", "OAuth2 token URL (env TIMEBACK_AUTH_URL; default <target>/oauth2/token)", "URL"),
    Option("client-id", "OAuth2 client id (env CLIENT_ID)", "ID"),
    Option("client-secret", "OAuth2 client secret (env CLIENT_SECRET; never written to reports)", "SECRET"),
    Option("readonly-client-id", "a read-only client, enables the scope checks", "ID"),
    Option("readonly-client-secret", "its secret", "SECRET"),
    Option("api", "comma-separated APIs to test (default: all with specs)", "LIST"),
    Option("allow-writes", "allow write requests to a non-loopback target (records are tagged and deleted)", flag=True),
    Option("max-examples", "fuzzed cases per operation in each mode, positive and negative (default 5); spec "
           "examples and coverage probes come on top", "N", POSITIVE, 5),
    Option("max-rps", "request-rate cap (default 10 for non-loopback targets, none for loopback; 0 = none)", "N", RATE),
    Option("request-timeout", "seconds one request may take (default 10); a timeout or dropped connection fails "
           "that check and the run goes on", "S", TIMEOUT, 10.0),
    Option("report-dir", "report folder (default reports/latest)", "DIR", None, "reports/latest"),
    Option("seed", "generation and sandbox seed (default 42)", "N", SEED, 42),
    Option("layers", "contract,semantic (default both)", "LIST", None, "contract,semantic"),
    Option("rules", "only semantic rules whose id starts with one of these (comma-separated)", "LIST"),
]


class OptionError(ValueError):
    """A run option that parses but makes no sense (unknown API, layer, half a credential pair)."""


def _split(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def build_config(value: Callable[[str], Any]) -> RunConfig:
    """A RunConfig from option values (`value(dest)`), then the environment; checks the combination."""
    from tbconform.specs.loader import available_apis

    layers = tuple(_split(value("layers")) or ())
    if not layers or set(layers) - {"contract", "semantic"}:
        raise OptionError(f"--layers takes contract and/or semantic, got {value('layers')!r}")
    apis = _split(value("api"))
    unknown = sorted(set(apis or []) - set(available_apis()))
    if unknown:
        raise OptionError(f"unknown API(s) {', '.join(unknown)}; known: {', '.join(available_apis())}")
    config = from_environment(RunConfig(
        target=value("target"), auth_url=value("auth_url"), client_id=value("client_id"),
        client_secret=value("client_secret"), readonly_client_id=value("readonly_client_id"),
        readonly_client_secret=value("readonly_client_secret"), apis=apis, allow_writes=value("allow_writes"),
        max_examples=value("max_examples"), max_rps=value("max_rps"),
        request_timeout=value("request_timeout") or 10.0, report_dir=Path(value("report_dir") or "reports/latest"),
        seed=value("seed"), layers=layers,
    ))
    if (config.client_id is None) != (config.client_secret is None):
        raise OptionError("give the client id and secret together (or CLIENT_ID and CLIENT_SECRET)")
    return config
