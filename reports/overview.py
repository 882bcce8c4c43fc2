"""The top of index.html: verdict, per-API compliance scores, the rule × API matrix, failing rules
first (with a copyable curl command), warnings apart, and changes since a base run.

A reader of a CI artefact wants "how bad, where, and how do I reproduce it" before any table of
every check; the full detail follows below the overview (html.py).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .changes import compare
from .markup import e, worst
from .model import CheckResult, RunResult, tally

RESPONSE_EXCERPT = 1500  # characters of the first failure's response shown in the overview
ANSWERED_DEFINITION = ("An operation counts as answered when at least one of its checks was judged (not skipped) "
                   "and either passed (or warned) or recorded an exchange that got an HTTP status; operations "
                   "whose every check was skipped, or failed without any HTTP answer (timeouts, dropped "
                   "connections), were not answered.")
SCORE_DEFINITION = ("Compliance score: passed (rule, operation) checks over judged ones; warnings count as passed "
                    "(allowed by the spec) and skipped checks are left out.")


@dataclass(frozen=True)
class ApiScore:
    """Compliance figures of one API; the fractions are None when there is nothing to divide by."""

    api: str
    passed: int
    judged: int
    answered: int
    operations: int

    @property
    def score(self) -> float | None:
        return 100.0 * self.passed / self.judged if self.judged else None

    @property
    def answered_share(self) -> float | None:
        return 100.0 * self.answered / self.operations if self.operations else None


def _answered(results: list[CheckResult]) -> bool:
    for r in results:
        if r.status in ("passed", "warning"):
            return True
        if r.status in ("failed", "error") and r.exchange is not None and r.exchange.status is not None:
            return True
    return False


def api_scores(run: RunResult) -> list[ApiScore]:
    """One ApiScore per API seen in the results or the catalog, sorted by name."""
    by_api: dict[str, list[CheckResult]] = defaultdict(list)
    for r in run.results:
        by_api[r.api].append(r)
    scores = []
    for api in sorted(set(by_api) | set(run.operations)):
        results = by_api.get(api, [])
        by_op: dict[str, list[CheckResult]] = defaultdict(list)
        for r in results:
            by_op[r.operation].append(r)
        c = tally(results)
        # Stateful sequences are labelled by document, not operation: only catalog operations count.
        ops = set(run.operations.get(api) or by_op)
        scores.append(ApiScore(api, c["passed"] + c["warning"], len(results) - c["skipped"],
                               sum(1 for op in ops if _answered(by_op.get(op, []))), len(ops)))
    return scores


def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}%" if value < 100 else "100%"


def _scores_html(scores: list[ApiScore]) -> str:
    cards = []
    for s in scores:
        good = s.score is not None and s.score >= 100
        cards.append(
            f'<div class="card" data-api="{e(s.api)}"><h3>{e(s.api)}</h3>'
            f'<div class="score {"ok" if good else "bad"}">{_pct(s.score)}</div>'
            f"<div>compliance: {s.passed} of {s.judged} checks passed</div>"
            f'<div class="answered">{s.answered} of {s.operations} operations answered ({_pct(s.answered_share)})</div>'
            "</div>")
    return (f'<div id=scores class=cards>{"".join(cards)}</div>'
            f"<p class=meta>{e(SCORE_DEFINITION)} {e(ANSWERED_DEFINITION)}</p>")


def _cell(results: list[CheckResult]) -> str:
    if not results:
        return '<td class="cell na">—</td>'
    c, status = tally(results), worst(results)
    n = len(results)
    text = {"error": f"{c['error']} of {n} error", "failed": f"{c['failed']} of {n} fail",
            "warning": f"{c['warning']} of {n} warn", "passed": f"{n} pass", "skipped": "skipped"}[status]
    title = ", ".join(f"{v} {k}" for k, v in c.items() if v)
    return f'<td class="cell {status}" title="{e(title)}">{e(text)}</td>'


def _matrix_html(run: RunResult) -> str:
    grid: dict[str, dict[str, list[CheckResult]]] = defaultdict(lambda: defaultdict(list))
    statements: dict[str, str] = {}
    for r in run.results:
        grid[r.id][r.api].append(r)
        statements.setdefault(r.id, r.rule)
    apis = sorted({r.api for r in run.results})
    order = {s: i for i, s in enumerate(("error", "failed", "warning", "passed", "skipped"))}
    rows = sorted(grid, key=lambda rid: (order[worst([x for rs in grid[rid].values() for x in rs])], rid))
    head = "<tr><th>rule</th>" + "".join(f"<th>{e(a)}</th>" for a in apis) + "</tr>"
    body = "".join(f'<tr><td><code>{e(rid)}</code><div class=meta>{e(statements[rid])}</div></td>'
                   + "".join(_cell(grid[rid].get(a, [])) for a in apis) + "</tr>" for rid in rows)
    return f"<table id=matrix class=matrix>{head}{body}</table>"


def _first_failure(r: CheckResult, n: int) -> str:
    ex = r.exchange
    parts = [f"<p>first failure: <code>{e(r.operation)}</code></p><pre class=msg>{e(r.message)}</pre>"]
    if ex is not None:
        body = ex.response_body or "(empty body)"
        if len(body) > RESPONSE_EXCERPT:
            body = body[:RESPONSE_EXCERPT] + " …"
        status = ex.status if ex.status is not None else "(no response)"
        parts.append(f'<div class=curlbox><button type=button data-copy="curl-{n}" hidden>copy</button>'
                     f'<pre class=curl id="curl-{n}">{e(ex.curl())}</pre></div>'
                     f"<p>response status <b>{e(status)}</b></p><pre class=resp>{e(body)}</pre>")
    return "".join(parts)


def _grouped(results: list[CheckResult]) -> list[tuple[str, list[CheckResult]]]:
    groups: dict[str, list[CheckResult]] = defaultdict(list)
    for r in results:
        groups[r.id].append(r)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _failing_rules_html(run: RunResult) -> str:
    failing = [r for r in run.results if r.status in ("failed", "error")]
    if not failing:
        return "<section id=failing-rules><h2>Failing rules (0)</h2><p>No rule fails.</p></section>"
    items = []
    for n, (rid, rs) in enumerate(_grouped(failing)):
        ops = len({r.operation for r in rs})
        items.append(f'<article class="rule rule-{worst(rs)}"><h3><code>{e(rid)}</code> '
                     f'<span class=count>fails on {ops} operation{"s" if ops != 1 else ""}</span></h3>'
                     f"<p class=statement>{e(rs[0].rule) or '(no statement given)'}</p>{_first_failure(rs[0], n)}</article>")
    return f"<section id=failing-rules><h2>Failing rules ({len(items)})</h2>{''.join(items)}</section>"


def _warnings_html(run: RunResult) -> str:
    warned = [r for r in run.results if r.status == "warning"]
    rows = "".join(f"<tr><td><code>{e(rid)}</code><div class=meta>{e(rs[0].rule)}</div></td>"
                   f'<td class=n>{len({r.operation for r in rs})}</td><td><code>{e(rs[0].operation)}</code>: {e(rs[0].message)}</td></tr>'
                   for rid, rs in _grouped(warned))
    table = (f"<table><tr><th>rule</th><th>operations</th><th>first warning</th></tr>{rows}</table>"
             if warned else "<p>No warnings.</p>")
    return (f"<section id=warnings><h2>Warnings ({len(warned)})</h2>"
            f"<p class=meta>Allowed by the spec but harmful to real clients; they never change the verdict.</p>"
            f"{table}</section>")


def _changes_html(run: RunResult, base: RunResult) -> str:
    diff = compare(run, base)
    titles = {"new_failures": "New failures", "fixed": "Fixed", "still_failing": "Still failing",
              "not_rechecked": "Failing in base, not judged now"}
    parts = []
    for kind, title in titles.items():
        rows = "".join(f"<li><code>{e(r.id)}</code> — <code>{e(r.operation)}</code> <span class={r.status}>{r.status}</span></li>"
                       for r in diff[kind])
        parts.append(f'<h3 class="chg-{kind}">{title} ({len(diff[kind])})</h3>' + (f"<ul>{rows}</ul>" if rows else ""))
    return (f"<section id=changes><h2>Changed since base</h2><p class=meta>base: <code>{e(base.target)}</code> "
            f"started {e(base.started)}, verdict {e(base.verdict())}; keyed by (check id, operation)</p>"
            f"{''.join(parts)}</section>")


def render_overview(run: RunResult, base: RunResult | None = None) -> str:
    """The overview sections as one HTML fragment; `run` (and `base`) must already be redacted."""
    return (f"<section id=overview><h2>Compliance</h2>{_scores_html(api_scores(run))}"
            f"<h3>Rules × APIs</h3>{_matrix_html(run)}</section>"
            + (_changes_html(run, base) if base is not None else "")
            + _failing_rules_html(run) + _warnings_html(run))
