#!/usr/bin/env python3
"""Drive Timeback's official Caliper and Webhooks clients (`timeback-caliper`, `timeback-webhooks`)
against a running sandbox, through every public method they offer.

Runs under Python >= 3.12 in a venv that has both packages installed; it imports nothing from this
repository but its sibling client_common.py. Usage:

    python caliper_client_driver.py --base-url http://127.0.0.1:8765 \
        --token-url http://127.0.0.1:8765/oauth2/token \
        --client-id tbconform-sandbox --client-secret tbconform-sandbox-secret --out report.json

Writes a JSON report ``{"client": {...}, "operations": [{"name", "ok", "error", "ms"}],
"summary": {...}}`` and exits 1 if any operation failed (2 on a usage error). Results are checked,
not only parsed: a sent event is listed and read back with its content, a job reports the sent
ids, a created webhook is read back, a matching event reaches a local receiver with a valid
signature, a deleted webhook or filter is gone.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from client_common import Runner, arguments, check, outcome, run_driver

try:
    import timeback_caliper as tc
    import timeback_webhooks as tw
    from timeback_common import TimebackProvider
except ImportError as exc:  # reported by main()
    IMPORT_ERROR: str | None = f"timeback-caliper/timeback-webhooks not importable ({sys.executable}): {exc}"
else:
    IMPORT_ERROR = None

SIGNATURE_HEADER = "X-Timeback-Signature"


def urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


class Receiver:
    """A loopback HTTP server that keeps every POST it gets (webhook deliveries)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append({"body": body, "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    async def wait_for(self, event_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for hit in self.received:
                if json.loads(hit["body"]).get("id") == event_id:
                    return hit
            await asyncio.sleep(0.05)
        raise AssertionError(f"no delivery of {event_id} within {timeout} s ({len(self.received)} received)")


# ----------------------------------------------------------------------------------------------
# Inputs built with the client's own types
# ----------------------------------------------------------------------------------------------


def user(run: str) -> Any:
    return tc.TimebackUser(id=f"https://example.edu/users/{run}", email=f"{run}@example.edu", name="Ada",
                           role="student")


def context(run: str) -> Any:
    return tc.TimebackActivityContext(id=f"https://example.edu/activities/{run}", subject="Math",
                                      app=tc.TimebackApp(name="tbconform client test"),
                                      course=tc.TimebackCourse(name="Algebra 1"))


def activity_input(run: str, event_id: str | None = None) -> Any:
    return tc.ActivityCompletedInput(
        id=event_id, actor=user(run), object=context(run), attempt=1,
        metrics=[tc.TimebackActivityMetric(type="totalQuestions", value=10),
                 tc.TimebackActivityMetric(type="correctQuestions", value=8),
                 tc.TimebackActivityMetric(type="xpEarned", value=1.5)])


def time_spent_input(run: str) -> Any:
    return tc.TimeSpentInput(actor=user(run), object=context(run),
                             metrics=[tc.TimeSpentMetric(type="active", value=1800),
                                      tc.TimeSpentMetric(type="inactive", value=300)])


def question(run: str) -> Any:
    return tc.QuestionObjectInput(id=f"https://example.edu/questions/{run}", name="What is 2+2?")


def envelope(sensor: str, events: list[dict[str, Any]]) -> Any:
    return tc.CaliperEnvelope(sensor=sensor, sendTime=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                              dataVersion=tc.CALIPER_DATA_VERSION, data=events)


def dump(event: Any) -> dict[str, Any]:
    return event.model_dump(mode="json", by_alias=True, exclude_none=True)


# ----------------------------------------------------------------------------------------------
# Caliper
# ----------------------------------------------------------------------------------------------


async def expect_job(client: Any, result: Any, external_ids: list[str]) -> Any:
    check(result is not None and result.job_id, f"send answered no jobId: {result!r}")
    status = await client.jobs.get_status(result.job_id)
    check(status.state == "completed", f"job {result.job_id} state {status.state!r}")
    got = [r.external_id for r in (status.return_value.results if status.return_value else [])]
    check(sorted(got) == sorted(external_ids), f"job results {got} != sent {external_ids}")
    return status


async def drive_caliper(r: Runner, args: argparse.Namespace, run: str) -> dict[str, list[str]]:
    sensor = f"https://example.edu/sensors/{run}"
    sent: dict[str, list[str]] = {}  # method -> external ids it sent
    client = tc.CaliperClient(base_url=args.base_url, auth_url=args.token_url, client_id=args.client_id,
                              client_secret=args.client_secret)
    async with client:
        await r.op("caliper.check_auth", lambda: _auth_ok(client))
        await r.op("caliper.get_transport", lambda: _transport_ok(client, args.base_url))

        async def send_activity() -> None:
            event_id = urn()
            result = await client.events.send_activity(sensor, activity_input(run, event_id))
            await expect_job(client, result, [event_id])
            sent["send_activity"] = [event_id]
        await r.op("caliper.events.send_activity", send_activity)

        async def one_send(name: str, call: Callable[[], Awaitable[Any]]) -> None:
            before = {e.external_id for e in (await client.events.list(sensor=sensor, limit=1000)).events}
            result = await call()
            status = await client.jobs.get_status(result.job_id)
            ids = [x.external_id for x in status.return_value.results]
            check(len(ids) == 1 and ids[0] not in before, f"{name}: job results {ids}")
            sent[name] = ids

        await r.op("caliper.events.send_time_spent",
                   lambda: one_send("send_time_spent", lambda: client.events.send_time_spent(sensor, time_spent_input(run))))
        await r.op("caliper.events.send_question_seen", lambda: one_send(
            "send_question_seen", lambda: client.events.send_question_seen(sensor, tc.QuestionSeenInput(
                actor=f"https://example.edu/users/{run}", object=question(run), edApp="https://example.edu/app"))))
        await r.op("caliper.events.send_question_answered", lambda: one_send(
            "send_question_answered", lambda: client.events.send_question_answered(sensor, tc.QuestionAnsweredInput(
                actor=f"https://example.edu/users/{run}", object=question(run), edApp="https://example.edu/app",
                generated=tc.ResponseGeneratedInput(id=urn(), attempt=urn())))))
        await r.op("caliper.events.send_question_graded", lambda: one_send(
            "send_question_graded", lambda: client.events.send_question_graded(sensor, tc.QuestionGradedInput(
                actor=f"https://example.edu/users/{run}", object=urn(), edApp="https://example.edu/app",
                generated=tc.ScoreGeneratedInput(scoreGiven=1, maxScore=1, attempt=urn(), comment="ok")))))

        async def send_raw() -> None:
            events = [tc.create_activity_event(activity_input(run)), tc.create_time_spent_event(time_spent_input(run))]
            ids = [dump(e)["id"] for e in events]
            await expect_job(client, await client.events.send(sensor, events), ids)
            sent["send"] = ids
        await r.op("caliper.events.send", send_raw)

        async def send_envelope() -> None:
            events = [dump(tc.create_activity_event(activity_input(run))) for _ in range(3)]
            ids = [e["id"] for e in events]
            await expect_job(client, await client.events.send_envelope(envelope(sensor, events)), ids)
            sent["send_envelope"] = ids
        await r.op("caliper.events.send_envelope", send_envelope)

        async def send_again() -> None:  # the same event twice: stored once, the job names it again
            event = dump(tc.create_activity_event(activity_input(run)))
            first = await client.events.send_envelope(envelope(sensor, [event]))
            second = await client.events.send_envelope(envelope(sensor, [event]))
            a, b = await client.jobs.get_status(first.job_id), await client.jobs.get_status(second.job_id)
            check(a.return_value.results[0].allocated_id == b.return_value.results[0].allocated_id,
                  "a resent event got a second allocated id")
            sent["resend"] = [event["id"]]
        await r.op("caliper.events.send_envelope (resend is idempotent)", send_again)

        async def validate_ok() -> None:
            event = dump(tc.create_question_seen_event(tc.QuestionSeenInput(
                actor=f"https://example.edu/users/{run}", object=question(run), edApp="https://example.edu/app")))
            result = await client.events.validate(envelope(sensor, [event]))
            check(result.status == "success", f"validate said {result!r}")
            listed = (await client.events.list(sensor=sensor, limit=1000)).events
            check(event["id"] not in {e.external_id for e in listed}, "validate stored the event")
        await r.op("caliper.events.validate (valid)", validate_ok)

        async def validate_bad() -> None:
            event = dump(tc.create_activity_event(activity_input(run)))
            event["action"] = "Flew"
            try:
                result = await client.events.validate(envelope(sensor, [event]))
            except tc.APIError as exc:  # a 4xx carrying the verdict is also a verdict
                check(getattr(exc, "status_code", 400) < 500, f"validate answered {exc}")
                return
            check(result.status == "error" and result.errors, f"an invalid action was judged {result!r}")
        await r.op("caliper.events.validate (invalid is refused)", validate_bad)

        all_ids = [i for ids in sent.values() for i in ids]
        unique = list(dict.fromkeys(all_ids))

        async def list_all() -> None:
            result = await client.events.list(sensor=sensor, limit=1000)
            check(isinstance(result, tc.ListEventsResult), type(result))
            got = [e.external_id for e in result.events]
            check(sorted(got) == sorted(unique), f"listed {len(got)} events, sent {len(unique)}: "
                  f"missing {set(unique) - set(got)}, extra {set(got) - set(unique)}")
            check(result.pagination.total == len(unique), f"pagination.total {result.pagination.total}")
            check(all(e.sensor == sensor for e in result.events), "an event of another sensor")
        await r.op("caliper.events.list (sensor)", list_all)

        async def list_filters() -> None:
            actor_id = f"https://example.edu/users/{run}"
            by_id = await client.events.list(actor_id=actor_id, limit=1000)
            check(by_id.events and all(_actor_id(e.actor) == actor_id for e in by_id.events), "actor_id filter")
            by_email = await client.events.list(actor_email=f"{run}@example.edu", limit=1000)
            check(by_email.events and {e.external_id for e in by_email.events} <= set(unique), "actor_email filter")
            page = await client.events.list(sensor=sensor, limit=2, offset=2)
            check(len(page.events) == 2 and page.pagination.current_page == 2 and page.pagination.limit == 2,
                  f"paging: {page.pagination!r}")
            window = await client.events.list(sensor=sensor, start_date="2000-01-01",
                                              end_date="2999-12-31T00:00:00Z", limit=1000)
            check(window.pagination.total == len(unique), "date window dropped events")
            none = await client.events.list(sensor=sensor, end_date="2000-01-01", limit=10)
            check(none.pagination.total == 0, "endDate in the past still listed events")
        await r.op("caliper.events.list (actor, email, paging, dates)", list_filters)

        async def get_each() -> None:
            event_id = sent["send_activity"][0]
            stored = await client.events.get(event_id)
            check(isinstance(stored, tc.StoredEvent) and stored.external_id == event_id, stored)
            check(stored.type == "ActivityEvent" and stored.action == "Completed" and stored.sensor == sensor,
                  f"stored event differs: {stored.type} {stored.action} {stored.sensor}")
            check(_actor_id(stored.actor) == f"https://example.edu/users/{run}", stored.actor)
            check(isinstance(stored.generated, dict) and
                  {m["type"] for m in stored.generated["items"]} == {"totalQuestions", "correctQuestions", "xpEarned"},
                  stored.generated)
            for ids in sent.values():
                for external in ids:
                    check((await client.events.get(external)).external_id == external, external)
        await r.op("caliper.events.get", get_each, sent.get("send_activity"))

        async def get_missing() -> None:
            try:
                await client.events.get(urn())
            except tc.NotFoundError:
                return
            except tc.APIError as exc:
                check(getattr(exc, "status_code", None) == 404, f"unknown event: {exc}")
                return
            raise AssertionError("an unknown event was found")
        await r.op("caliper.events.get (unknown is NotFound)", get_missing)

        async def stream() -> None:
            got = [e.external_id async for e in client.events.stream(sensor=sensor, limit=3)]
            check(sorted(got) == sorted(unique), f"stream gave {len(got)} of {len(unique)}")
            paginator = client.events.stream(sensor=sensor, limit=4)
            check(sorted(e.external_id for e in await paginator.to_list()) == sorted(unique), "to_list")
            paginator.reset()
            check(len(await paginator.to_array(max_items=1000)) == len(unique), "to_array")
            paginator.reset()
            try:
                await paginator.to_array(max_items=2)
            except RuntimeError:  # the client refuses to collect past max_items
                pass
            else:
                raise AssertionError("to_array(max_items=2) collected more than 2 events")
            check(paginator.total == len(unique), f"paginator.total {paginator.total}")
            first = await client.events.stream(sensor=sensor, limit=2).first()
            check(first is not None and first.external_id in unique, "first")
            page = await client.events.stream(sensor=sensor, limit=2).first_page()
            check(len(page.data) == 2 and page.has_more and page.total == len(unique), f"first_page {page!r}")
            capped = await client.events.stream(sensor=sensor, limit=2, max_items=3).to_list()
            check(len(capped) == 3, f"max_items=3 gave {len(capped)}")
            tail = await client.events.stream(sensor=sensor, limit=100, offset=len(unique) - 1).to_list()
            check(len(tail) == 1, f"offset stream gave {len(tail)}")
        await r.op("caliper.events.stream (iterate, to_list, to_array, first, first_page, max_items, offset)",
                   stream)

        async def wait() -> None:
            result = await client.events.send_activity(sensor, activity_input(run))
            status = await client.jobs.wait_for_completion(result.job_id, timeout=10, poll_interval=0.2)
            check(status.state == "completed" and status.return_value.status == "success", status)
        await r.op("caliper.jobs.wait_for_completion", wait)

        async def job_missing() -> None:
            try:
                await client.jobs.get_status(str(uuid.uuid4()))
            except tc.APIError as exc:
                check(getattr(exc, "status_code", 404) == 404, f"unknown job: {exc}")
                return
            raise AssertionError("an unknown job was found")
        await r.op("caliper.jobs.get_status (unknown is NotFound)", job_missing)

    await r.op("caliper.close", client.close)
    return sent


def _actor_id(actor: Any) -> Any:
    return actor.get("id") if isinstance(actor, dict) else actor


async def _auth_ok(client: Any) -> None:
    result = await client.check_auth()
    ok = result.get("ok") if isinstance(result, dict) else getattr(result, "ok", None)
    check(ok is True, f"check_auth: {result!r}")


async def _transport_ok(client: Any, base_url: str) -> None:
    transport = client.get_transport()
    check(str(transport.base_url).rstrip("/") == base_url.rstrip("/"), transport.base_url)


async def drive_learnwith(r: Runner, args: argparse.Namespace, run: str) -> None:
    """platform=LEARNWITH_AI: its envelope is transformed (AggregationProfile, Person, ...).

    Two ways to aim it at the sandbox: an explicit base_url (the client keeps Beyond's paths, so the
    transformed envelope goes to /caliper/event), and a provider with the LearnWith.AI path profile
    (sent to /caliper/v1p2, and validate/list/get/jobs are unsupported on the client side)."""
    sensor = f"https://example.edu/sensors/{run}-lwai"
    reader = tc.CaliperClient(base_url=args.base_url, auth_url=args.token_url, client_id=args.client_id,
                              client_secret=args.client_secret)

    async def stored(event_id: str) -> None:
        event = await reader.events.get(event_id)
        check(event.profile == "AggregationProfile", f"stored profile {event.profile!r}")

    async def explicit() -> None:
        actor = f"https://example.edu/users/{run}"
        async with tc.CaliperClient(platform="LEARNWITH_AI", base_url=args.base_url, auth_url=args.token_url,
                                    client_id=args.client_id, client_secret=args.client_secret) as client:
            events = client.events
            sends = {
                "send_activity": lambda i: events.send_activity(sensor, activity_input(run, i)),
                "send_time_spent": lambda i: events.send_time_spent(
                    sensor, time_spent_input(run).model_copy(update={"id": i})),
                "send_question_seen": lambda i: events.send_question_seen(sensor, tc.QuestionSeenInput(
                    id=i, actor=actor, object=question(run), edApp="https://example.edu/app")),
                "send_question_answered": lambda i: events.send_question_answered(sensor, tc.QuestionAnsweredInput(
                    id=i, actor=actor, object=question(run), edApp="https://example.edu/app",
                    generated=tc.ResponseGeneratedInput(id=urn()))),
                "send_question_graded": lambda i: events.send_question_graded(sensor, tc.QuestionGradedInput(
                    id=i, actor=actor, object=urn(), edApp="https://example.edu/app",
                    generated=tc.ScoreGeneratedInput(scoreGiven=0.5, maxScore=1))),
                "send": lambda i: events.send(sensor, [tc.create_activity_event(activity_input(run, i))]),
                "send_envelope": lambda i: events.send_envelope(
                    envelope(sensor, [dump(tc.create_time_spent_event(time_spent_input(run).model_copy(
                        update={"id": i})))])),
            }
            for name, send in sends.items():
                event_id = urn()
                result = await send(event_id)
                check(result.job_id, f"{name}: no jobId")
                event = await reader.events.get(event_id)
                check(event.session == "urn:tag:auto-attach", f"{name}: stored session {event.session!r}")
                if event.type in ("ActivityEvent", "TimeSpentEvent"):
                    check(event.profile == "AggregationProfile", f"{name}: stored profile {event.profile!r}")
    await r.op("caliper[LEARNWITH_AI, base_url].events.send* (all 7 send methods)", explicit)

    async def profile() -> None:
        provider = TimebackProvider(platform="LEARNWITH_AI", base_url=args.base_url, auth_url=args.token_url,
                                    client_id=args.client_id, client_secret=args.client_secret,
                                    path_profile="LEARNWITH_AI")
        async with tc.CaliperClient(platform="LEARNWITH_AI", provider=provider) as client:
            check(client.get_transport().paths.send == "/caliper/v1p2", client.get_transport().paths.send)
            event_id = urn()
            await client.events.send_activity(sensor, activity_input(run, event_id))
            await stored(event_id)
            for unsupported in (lambda: client.events.validate(envelope(sensor, [{"id": urn(), "type": "x"}])),
                                lambda: client.events.list(), lambda: client.events.get(event_id),
                                lambda: client.jobs.get_status("x")):
                try:
                    await unsupported()
                except tc.UnsupportedOperationError:
                    continue
                raise AssertionError("a Beyond-only operation ran on the LearnWith.AI profile")
    await r.op("caliper[LEARNWITH_AI, path profile].events.send_activity -> /caliper/v1p2", profile)
    await reader.close()


# ----------------------------------------------------------------------------------------------
# Webhooks
# ----------------------------------------------------------------------------------------------


async def drive_webhooks(r: Runner, args: argparse.Namespace, run: str) -> None:
    receiver = Receiver()
    sensor = f"https://example.edu/sensors/{run}-hooks"
    secret = f"secret-{run}"
    client = tw.WebhooksClient(base_url=args.base_url, auth_url=args.token_url, client_id=args.client_id,
                               client_secret=args.client_secret)
    caliper = tc.CaliperClient(base_url=args.base_url, auth_url=args.token_url, client_id=args.client_id,
                               client_secret=args.client_secret)
    try:
        await r.op("webhooks.check_auth", lambda: _auth_ok(client))
        await r.op("webhooks.get_transport", lambda: _transport_ok(client, args.base_url))
        hook_input = tw.WebhookCreateInput(name=f"hook {run}", targetUrl=receiver.url, secret=secret, active=True,
                                           sensor=sensor, description="tbconform client test")

        async def create() -> Any:
            hook = await client.webhooks.create(hook_input)
            check(isinstance(hook, tw.Webhook) and hook.id and hook.target_url == receiver.url and hook.active,
                  hook)
            return hook
        hook = await r.op("webhooks.webhooks.create", create)
        hook_id = hook.id if hook else None

        async def create_dict() -> Any:  # the dict form of the input
            other = await client.webhooks.create({"name": f"other {run}", "targetUrl": receiver.url,
                                                  "secret": secret, "active": False})
            check(other.active is False and other.sensor is None, other)
            return other
        other = await r.op("webhooks.webhooks.create (dict input)", create_dict)

        async def get() -> None:
            got = await client.webhooks.get(hook_id)
            check(got.model_dump() == hook.model_dump(), f"read back {got!r} != created {hook!r}")
        await r.op("webhooks.webhooks.get", get, hook_id)

        async def listing() -> None:
            ids = {h.id for h in await client.webhooks.list()}
            check({hook_id, other.id} <= ids, "created webhooks not listed")
            by_sensor = await client.webhooks.list(sensor=sensor)
            check([h.id for h in by_sensor] == [hook_id], f"list(sensor) gave {[h.id for h in by_sensor]}")
        await r.op("webhooks.webhooks.list (all, sensor)", listing, hook_id, other)

        async def update() -> None:
            changed = hook_input.model_copy(update={"description": "updated", "name": f"renamed {run}"})
            got = await client.webhooks.update(hook_id, changed)
            check(got.name == f"renamed {run}" and got.description == "updated", got)
            check((await client.webhooks.get(hook_id)).description == "updated", "update not kept")
        await r.op("webhooks.webhooks.update", update, hook_id)

        filter_input = tw.WebhookFilterCreateInput(webhookId=hook_id or "-", filterKey="action",
                                                   filterValue="Completed", filterType="string",
                                                   filterOperator="eq", active=True)

        async def create_filter() -> Any:
            flt = await client.webhook_filters.create(filter_input)
            check(isinstance(flt, tw.WebhookFilter) and flt.webhook_id == hook_id and flt.filter_operator == "eq",
                  flt)
            return flt
        flt = await r.op("webhooks.webhook_filters.create", create_filter, hook_id)
        flt_id = flt.id if flt else None

        async def filter_reads() -> None:
            check((await client.webhook_filters.get(flt_id)).model_dump() == flt.model_dump(), "get differs")
            check(flt_id in {f.id for f in await client.webhook_filters.list()}, "not in list()")
            check([f.id for f in await client.webhook_filters.list_by_webhook(hook_id)] == [flt_id],
                  "list_by_webhook")
        await r.op("webhooks.webhook_filters.get + list + list_by_webhook", filter_reads, flt_id)

        async def filter_update() -> None:
            changed = filter_input.model_copy(update={"filter_operator": "in", "filter_value": "Completed,Started"})
            got = await client.webhook_filters.update(flt_id, changed)
            check(got.filter_operator == "in" and got.filter_value == "Completed,Started", got)
            check((await client.webhook_filters.get(flt_id)).filter_operator == "in", "update not kept")
        await r.op("webhooks.webhook_filters.update", filter_update, flt_id)

        async def delivery() -> None:  # a matching event is delivered, signed; a non-matching one is not
            seen = dump(tc.create_question_seen_event(tc.QuestionSeenInput(
                actor=f"https://example.edu/users/{run}", object=question(run), edApp="https://example.edu/app")))
            graded = dump(tc.create_question_graded_event(tc.QuestionGradedInput(
                actor=f"https://example.edu/users/{run}", object=urn(), edApp="https://example.edu/app",
                generated=tc.ScoreGeneratedInput(scoreGiven=1, maxScore=1))))
            done = dump(tc.create_activity_event(activity_input(run)))
            await caliper.events.send_envelope(envelope(sensor, [seen, graded, done]))
            for wanted in (seen, done):  # action Started / Completed: both in the filter
                hit = await receiver.wait_for(wanted["id"])
                expected = "sha256=" + hmac.new(secret.encode(), hit["body"], hashlib.sha256).hexdigest()
                check(hit["headers"].get(SIGNATURE_HEADER.lower()) == expected, "bad signature")
                check(json.loads(hit["body"]) == wanted, "delivered body differs from the sent event")
            await asyncio.sleep(0.5)
            check(graded["id"] not in {json.loads(h["body"]).get("id") for h in receiver.received},
                  "a Graded event was delivered through an action-in filter")
        await r.op("webhooks delivery (signed, filtered) of events sent by the Caliper client", delivery,
                   hook_id, flt_id)

        async def deactivate() -> None:
            got = await client.webhooks.deactivate(hook_id)
            check(got.active is False and (await client.webhooks.get(hook_id)).active is False, got)
            event = dump(tc.create_activity_event(activity_input(run)))
            await caliper.events.send_envelope(envelope(sensor, [event]))
            await asyncio.sleep(0.7)
            check(event["id"] not in {json.loads(h["body"]).get("id") for h in receiver.received},
                  "a deactivated webhook was delivered to")
        await r.op("webhooks.webhooks.deactivate (stops delivery)", deactivate, hook_id)

        async def activate() -> None:
            got = await client.webhooks.activate(hook_id)
            check(got.active is True and (await client.webhooks.get(hook_id)).active is True, got)
            event = dump(tc.create_activity_event(activity_input(run)))
            await caliper.events.send_envelope(envelope(sensor, [event]))
            await receiver.wait_for(event["id"])
        await r.op("webhooks.webhooks.activate (resumes delivery)", activate, hook_id)

        async def filter_delete() -> None:
            answer = await client.webhook_filters.delete(flt_id)
            check(isinstance(answer, tw.WebhookFilterDeleteResponse) and answer.message, answer)
            check(await client.webhook_filters.list_by_webhook(hook_id) == [], "filter still listed")
            try:
                await client.webhook_filters.get(flt_id)
            except tw.NotFoundError:
                return
            raise AssertionError("a deleted filter is still readable")
        await r.op("webhooks.webhook_filters.delete", filter_delete, flt_id)

        async def delete() -> None:
            for target in (hook_id, other.id):
                answer = await client.webhooks.delete(target)
                check(isinstance(answer, tw.WebhookDeleteResponse) and answer.message, answer)
                try:
                    await client.webhooks.get(target)
                except tw.NotFoundError:
                    continue
                raise AssertionError(f"deleted webhook {target} is still readable")
            check(not {hook_id, other.id} & {h.id for h in await client.webhooks.list()}, "still listed")
        await r.op("webhooks.webhooks.delete", delete, hook_id, other)
    finally:
        await r.op("webhooks.close", client.close)
        await caliper.close()
        receiver.close()


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    r = Runner(args.verbose)
    run = f"tbc{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    sent = await drive_caliper(r, args, run)
    await drive_learnwith(r, args, run)
    await drive_webhooks(r, args, run)
    return {"client": {"caliper": tc.__version__, "webhooks": tw.__version__, "python": sys.version.split()[0]},
            "sent": sent, **outcome(r, started)}


def main() -> int:
    args = arguments(__doc__.splitlines()[0]).parse_args()
    return run_driver(args, main_async, IMPORT_ERROR)


if __name__ == "__main__":
    sys.exit(main())
