"""What a semantic check works with: the target's sessions, the catalog, sample data, cleanup."""
from __future__ import annotations

import json
import secrets
import signal
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import requests

from tbconform.harness.catalog import Catalog, OpInfo
from tbconform.harness.config import RunConfig
from tbconform.harness.http import HarnessSession, TokenFailure, TokenProvider
from tbconform.harness.rules import CheckFailed, NotApplicable
from tbconform.reports.model import Exchange

PARAM_HINTS = {  # path parameter name fragments → collection, for params a binding does not name
    "user": "users", "student": "users", "teacher": "users", "agent": "users", "school": "orgs", "org": "orgs",
    "class": "classes", "course": "courses", "term": "academicSessions", "academicSession": "academicSessions",
    "lineItem": "lineItems", "resource": "resources", "source": "resources", "credential": None,
}


_INTERRUPTED = threading.Event()


def _on_sigint(signum: int, frame: Any) -> None:
    _INTERRUPTED.set()
    raise KeyboardInterrupt


def watch_interrupts() -> Callable[[], None]:
    """Remember every Ctrl-C of the run; returns the function that puts the previous handler back.

    CPython swallows a KeyboardInterrupt raised inside a garbage-collection callback (it is only
    reported as unraisable), and hypothesis registers one, so a Ctrl-C can land there and be lost:
    `raise_if_interrupted` at the next safe point raises it again.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is None:  # started with Ctrl-C ignored: keep it so
        return lambda: None
    _INTERRUPTED.clear()
    signal.signal(signal.SIGINT, _on_sigint)
    return lambda: signal.signal(signal.SIGINT, previous)


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed during the run, even if it was swallowed."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


@contextmanager
def sigint_deferred(pending: int) -> Iterator[None]:
    """Let the deletions finish when Ctrl-C arrives; a second Ctrl-C abandons them."""
    if not pending or threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[bool] = []

    def on_sigint(signum: int, frame: Any) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)
        print(f"tbconform: removing the {pending} record(s) this run created first; Ctrl-C again to abandon "
              "that", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@dataclass
class Cleanup:
    """Records the run created, deleted at the end (also after a failure or Ctrl-C).

    With a `journal` file every registration is also appended to it before the write is sent, and
    every deletion after it succeeds, so another process can finish the job: under `--workers` the
    controller replays the workers' journals once they are gone (xdist stops a worker that is
    still cleaning up after Ctrl-C).
    """

    items: list[tuple[str, str]] = field(default_factory=list)  # (delete path, label)
    lock: threading.Lock = field(default_factory=threading.Lock)
    journal: Path | None = None

    def _log(self, event: str, entry: tuple[str, str]) -> None:
        if self.journal is not None:
            with self.journal.open("a", encoding="utf-8") as out:
                out.write(json.dumps([event, *entry]) + "\n")

    def add(self, delete_path: str, label: str) -> tuple[str, str]:
        """Register a record to delete; the returned entry can be `discard`ed again."""
        entry = (delete_path, label)
        with self.lock:
            self.items.append(entry)
            self._log("add", entry)
        return entry

    def discard(self, entries: list[tuple[str, str]]) -> None:
        """Forget entries `add` returned (the write they were registered for created nothing).

        Removes one registration per entry, so the same record registered by another write stays.
        """
        with self.lock:
            for entry in entries:
                for index in range(len(self.items) - 1, -1, -1):
                    if self.items[index] is entry:
                        del self.items[index]
                        self._log("discard", entry)
                        break

    def run(self, session: HarnessSession) -> list[str]:
        problems = []
        with self.lock:
            pending, self.items = list(reversed(self.items)), []
        for path, label in pending:
            try:
                response = session.request("DELETE", path)
                if response.status_code not in (200, 202, 204, 404):
                    problems.append(f"{label}: DELETE {path} answered {response.status_code}")
                    continue
            except requests.RequestException as exc:
                problems.append(f"{label}: DELETE {path} failed ({type(exc).__name__})")
                continue
            with self.lock:
                self._log("done", (path, label))
        return problems

    @classmethod
    def replay(cls, journals: list[Path]) -> "Cleanup":
        """What these journals registered and never deleted (or discarded), in registration order."""
        remaining: list[tuple[str, str]] = []
        for journal in journals:
            try:
                lines = journal.read_text(encoding="utf-8").splitlines()
            except OSError:
                continue
            for line in lines:
                try:
                    event, path, label = json.loads(line)
                except (ValueError, TypeError):
                    continue  # a line cut short by a killed process
                if event == "add":
                    remaining.append((path, label))
                elif (path, label) in remaining:
                    remaining.remove((path, label))
        return cls(items=remaining)


class CheckContext:
    def __init__(self, config: RunConfig, catalog: Catalog, session: HarnessSession,
                 readonly: HarnessSession | None = None, cleanup: Cleanup | None = None) -> None:
        self.config = config
        self.catalog = catalog
        self.session = session
        self.readonly = readonly
        self.cleanup = cleanup or Cleanup()
        self._samples: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._counter = 0
        self._reduced: HarnessSession | NotApplicable | None = None

    def close(self) -> None:
        """Close the sessions this context opened itself (the reduced-scope one)."""
        if isinstance(self._reduced, HarnessSession):
            self._reduced.close()

    # -- records of this run ----------------------------------------------------------------
    def own(self, record: Any) -> bool:
        """A record (or id) this run created: its id starts with the run id. Read-only rules leave
        these out, since the run's own writes (other workers' too) change them during a check."""
        record_id = record.get("sourcedId") if isinstance(record, dict) else record
        return isinstance(record_id, str) and record_id.startswith(f"{self.config.run_id}-")

    def others(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The records of a listing that this run did not create."""
        return [r for r in records if not self.own(r)]

    # -- a client with only the read-only scopes ------------------------------------------
    def readonly_session(self) -> HarnessSession:
        """The configured read-only client, else a session whose token the token endpoint limited to
        the read-only scopes (client-credentials `scope`): no second client needed. Skips the rule
        when the endpoint refuses or does not confirm the reduction in its answer's `scope`."""
        if self.readonly is not None:
            return self.readonly
        with self._lock:
            if self._reduced is None:
                self._reduced = self._reduced_scope_session()
            reduced = self._reduced
        if isinstance(reduced, NotApplicable):
            raise reduced
        return reduced

    def _reduced_scope_session(self) -> HarnessSession | NotApplicable:
        tokens = self.session.tokens
        if tokens is None:
            return NotApplicable("no read-only client configured, and no client credentials to ask a "
                                 "reduced-scope token with")
        wanted = sorted(s for s in self.catalog.scopes() if s.endswith("readonly"))
        if not wanted:
            return NotApplicable("no read-only client configured, and the specs declare no read-only scope")
        provider = TokenProvider(tokens.token_url, tokens.client_id, tokens.client_secret, scope=" ".join(wanted),
                                 timeout=self.session.timeout)
        try:
            provider.token()
        except TokenFailure as exc:
            return NotApplicable(f"no read-only client configured, and the token endpoint refused a token "
                                 f"limited to the read-only scopes: {exc}")
        if provider.granted is None:
            return NotApplicable("no read-only client configured, and the token answer names no scope, so "
                                 "the reduction to the read-only scopes is not confirmed")
        granted = set(provider.granted.split())
        if not granted or granted - set(wanted):
            extra = sorted(granted - set(wanted))
            return NotApplicable(f"no read-only client configured, and the token endpoint did not reduce the "
                                 f"token to the read-only scopes asked for (granted {len(granted)} scope(s)"
                                 + (f", e.g. {extra[0]}" if extra else "") + ")")
        session = HarnessSession(self.session.base_url, provider, self.session.writes_allowed,
                                 timeout=self.session.timeout)
        session.limiter = self.session.limiter  # one rate cap for both tokens
        session.local = self.session.local  # one "last exchange": a failure shows the read-only request
        return session

    # -- HTTP -----------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, path, **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return self.session.request("GET", path, params=params, **kwargs)

    def anonymous(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        """A request without the harness's token (optionally with a header of the check's own)."""
        return self.session.request(method, path, headers=headers or {}, authenticate=False, **kwargs)

    @property
    def last_exchange(self) -> Exchange | None:
        return self.session.last

    def fail(self, message: str) -> None:
        raise CheckFailed(message)

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise CheckFailed(f"{response.request.method} {response.url} answered {response.status_code} "
                              f"with a body that is not JSON") from None

    # -- data -----------------------------------------------------------------------------
    def list_key(self, op: OpInfo) -> str:
        keys = op.response_keys
        if not keys:
            raise NotApplicable(f"{op.label} declares no response key")
        return keys[0]

    def records(self, op: OpInfo, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        response = self.get(path, params)
        if response.status_code != 200:
            raise CheckFailed(f"GET {path} answered {response.status_code}, expected 200")
        body = self.json(response)
        items = body.get(self.list_key(op)) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise CheckFailed(f"GET {path}: body has no {self.list_key(op)!r} array")
        return items

    def samples(self, collection: str, limit: int = 50) -> list[dict[str, Any]]:
        """Some records of a collection (cached), read through its plain list operation."""
        with self._lock:
            cached = self._samples.get(collection)
        if cached is not None:
            return cached
        op = self.catalog.plain(collection, "list")
        if op is None:
            raise NotApplicable(f"no plain list operation for {collection}")
        items = [r for r in self.records(op, op.path, {"limit": limit})
                 if r.get("status") != "tobedeleted" and not self.own(r)]
        with self._lock:
            self._samples[collection] = items
        return items

    def sample_id(self, collection: str) -> str:
        items = self.samples(collection)
        if not items:
            raise NotApplicable(f"the target has no {collection} to test with")
        return items[0]["sourcedId"]

    def concrete_path(self, op: OpInfo) -> str:
        """The operation's path with every parameter filled by a record that exists."""
        path = op.path
        requires = op.binding.get("requires") or {}
        id_param = op.binding.get("id")
        for param in op.path_params:
            if param == id_param and op.collection:
                value = self._id_for_item(op)
            elif param in requires:
                value = self._linked_id(op, param, requires[param], requires)
            else:
                hint = next((c for k, c in PARAM_HINTS.items() if k.lower() in param.lower()), None)
                if hint is None:
                    raise NotApplicable(f"cannot find a value for path parameter {{{param}}}")
                value = self.sample_id(hint)
            path = path.replace("{" + param + "}", value)
        return path

    def _linked_id(self, op: OpInfo, param: str, collection: str, requires: dict[str, str]) -> str:
        """For nested paths, pick parents that belong together (a class of that school, ...)."""
        others = [p for p in requires if p != param]
        if collection == "classes" and others:
            return self.sample_id("classes")
        if collection == "orgs" and "classSourcedId" in requires:
            klass = self.samples("classes")[0] if self.samples("classes") else None
            school = (klass or {}).get("school") or (klass or {}).get("org")
            if isinstance(school, dict) and school.get("sourcedId"):
                return school["sourcedId"]
        return self.sample_id(collection)

    def _id_for_item(self, op: OpInfo) -> str:
        """An id the item operation should find: from the sibling list of the same view."""
        parent = op.path.rsplit("/", 1)[0]
        sibling = next((o for o in self.catalog.ops if o.path == parent and o.action == "list"), None)
        if sibling is not None and not sibling.path_params:
            items = self.records(sibling, sibling.path, {"limit": 5})
            live = [r for r in items if r.get("status") != "tobedeleted" and not self.own(r)]
            if live:
                return live[0]["sourcedId"]
            raise NotApplicable(f"{sibling.label} returned no records to test with")
        return self.sample_id(op.collection or "")

    def new_id(self, label: str) -> str:
        """Ids of records the run creates start with the run id, so they can be found and removed."""
        with self._lock:
            self._counter += 1
            # the random part keeps ids unique across parallel workers of the same run
            return f"{self.config.run_id}-{label}-{self._counter}{secrets.token_hex(2)}"

    def require_writes(self) -> None:
        if not self.session.writes_allowed:
            raise NotApplicable("writes are off for this target (pass --allow-writes)")
