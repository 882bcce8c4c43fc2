"""index.html: one self-contained page a person can open from a CI artefact, offline.

No external resources at all (a CSP meta forbids them too); every dynamic string goes through
`markup.e`.  The overview (overview.py) comes first; the full detail follows.  Details/summary
elements make it usable without JavaScript; the inline script only adds the filter bar (status,
API, text) and the copy buttons.
"""
from __future__ import annotations

from collections import defaultdict

from .junit import value_text
from .markup import e, statuses_attr
from .model import STATUSES, CheckResult, RunResult, tally
from .overview import render_overview

__all__ = ["render_html", "e"]

_CSS = """
:root{--ok:#1a7f37;--bad:#cf222e;--skip:#9a6700;--err:#8250df;--warn:#bf8700;--mut:#57606a;--bd:#d0d7de}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#1f2328}
h1{font-size:1.4rem;margin:.2rem 0}h2{border-bottom:1px solid var(--bd);padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
.verdict{display:inline-block;padding:.15rem .7rem;border-radius:4px;color:#fff;font-weight:700}
.PASS{background:var(--ok)}.FAIL{background:var(--bad)}.INCOMPLETE{background:#8a6d00}
.meta{color:var(--mut)}.chips span{margin-right:1rem;font-weight:600}
.passed{color:var(--ok)}.failed{color:var(--bad)}.skipped{color:var(--skip)}.error{color:var(--err)}.warning{color:var(--warn)}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
th,td{border:1px solid var(--bd);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;width:4.5rem;font-variant-numeric:tabular-nums}
tr.bad td:first-child{border-left:4px solid var(--bad)}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid var(--bd);padding:.5rem;overflow:auto;white-space:pre-wrap;word-break:break-all;max-height:24rem}
details{margin:.4rem 0}summary{cursor:pointer}details.fail{border:1px solid var(--bd);border-radius:4px;padding:.3rem .6rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:var(--mut)}dd{margin:0}
#filterbar{display:flex;gap:.5rem;flex-wrap:wrap;margin:.6rem 0}#filterbar input{flex:1;max-width:30rem;padding:.3rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid var(--bd);border-radius:6px;padding:.6rem 1rem;min-width:15rem}
.card h3{margin:0 0 .2rem}.score{font-size:2rem;font-weight:700}.score.ok{color:var(--ok)}.score.bad{color:var(--bad)}
table.matrix td.cell{font-weight:600;white-space:nowrap;width:9rem}
td.cell.passed{background:#dafbe1}td.cell.failed{background:#ffebe9}td.cell.error{background:#fbefff}
td.cell.warning{background:#fff8c5}td.cell.skipped{background:#f6f8fa}td.cell.na{color:var(--mut)}
article.rule{border:1px solid var(--bd);border-left:4px solid var(--bad);border-radius:4px;padding:.2rem .8rem;margin:.6rem 0}
article.rule.rule-error{border-left-color:var(--err)}.count{color:var(--bad);font-weight:400;margin-left:.5rem}
.curlbox{position:relative}.curlbox button{position:absolute;right:.3rem;top:.3rem}
#changes h3.chg-new_failures{color:var(--bad)}#changes h3.chg-fixed{color:var(--ok)}
"""

_JS = """
(function(){var bar=document.getElementById('filterbar');bar.hidden=false;
var q=document.getElementById('filter'),s=document.getElementById('fstatus'),a=document.getElementById('fapi');
function apply(){var t=q.value.toLowerCase(),st=s.value,ap=a.value;
document.querySelectorAll('#detail [data-f]').forEach(function(el){
var ok=(t===''||el.getAttribute('data-f').toLowerCase().indexOf(t)>=0)
&&(st===''||(' '+(el.getAttribute('data-s')||'')+' ').indexOf(' '+st+' ')>=0)
&&(ap===''||el.getAttribute('data-api')===ap);el.hidden=!ok;});
document.querySelectorAll('#detail section[data-api]').forEach(function(sec){
sec.hidden=ap!==''&&sec.getAttribute('data-api')!==ap;});}
[q,s,a].forEach(function(x){x.addEventListener('input',apply);x.addEventListener('change',apply);});
document.querySelectorAll('button[data-copy]').forEach(function(b){b.hidden=false;
b.addEventListener('click',function(){var pre=document.getElementById(b.getAttribute('data-copy'));
function done(){b.textContent='copied';setTimeout(function(){b.textContent='copy';},1500);}
function fallback(){var r=document.createRange();r.selectNodeContents(pre);var sel=window.getSelection();
sel.removeAllRanges();sel.addRange(r);try{document.execCommand('copy');done();}catch(err){}}
if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(pre.textContent).then(done,fallback);}
else{fallback();}});});})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _count_cells(results: list[CheckResult]) -> str:
    c = tally(results)
    return "".join(f'<td class="n {s}">{c[s] or ""}</td>' for s in STATUSES)


def _head_cells(*names: str) -> str:
    return "<tr>" + "".join(f"<th>{n}</th>" for n in names) + "".join(f"<th>{s}</th>" for s in STATUSES) + "</tr>"


def _group_table(api: str, groups: dict[str, list[CheckResult]], first: str, with_rule: bool) -> str:
    rows = []
    for key, results in sorted(groups.items()):
        bad = any(r.status in ("failed", "error") for r in results)
        extra = f"<td>{e(results[0].layer)}</td><td>{e(results[0].rule)}</td>" if with_rule else ""
        rows.append(f'<tr data-f="{e(key)}" data-s="{statuses_attr(results)}" data-api="{e(api)}"'
                    f'{" class=bad" if bad else ""}><td><code>{e(key)}</code></td>{extra}{_count_cells(results)}</tr>')
    head = _head_cells(first, "layer", "rule") if with_rule else _head_cells(first)
    return f"<table>{head}{''.join(rows)}</table>"


def _failure(r: CheckResult, open_: bool) -> str:
    ex = r.exchange
    parts = [f"<dt>rule</dt><dd><code>{e(r.id)}</code></dd>",
             f"<dt>statement</dt><dd>{e(r.rule) or '<span class=meta>(not given)</span>'}</dd>",
             f"<dt>operation</dt><dd><code>{e(r.operation)}</code> ({e(r.layer)})</dd>",
             f"<dt>message</dt><dd><pre>{e(r.message)}</pre></dd>"]
    if ex is not None:
        status = ex.status if ex.status is not None else "(no response)"
        parts += [f"<dt>request</dt><dd><pre>{e(ex.curl())}</pre></dd>",
                  f"<dt>response</dt><dd>status <b>{e(status)}</b><pre>{e(ex.response_body or '(empty body)')}</pre></dd>"]
    return (f'<details class=fail data-f="{e(" ".join((r.id, r.operation, r.message)))}" data-s="{r.status}" '
            f'data-api="{e(r.api)}"{" open" if open_ else ""}>'
            f'<summary><b class="{r.status}">{r.status.upper()}</b> <code>{e(r.id)}</code> — {e(r.operation)}</summary>'
            f"<dl>{''.join(parts)}</dl></details>")


def _api_section(api: str, results: list[CheckResult]) -> str:
    by_op: dict[str, list[CheckResult]] = defaultdict(list)
    by_rule: dict[str, list[CheckResult]] = defaultdict(list)
    for r in results:
        by_op[r.operation].append(r)
        by_rule[r.id].append(r)
    c = tally(results)
    chips = " ".join(f'<span class="{s}">{c[s]} {s}</span>' for s in STATUSES)
    rows = "".join(f'<tr data-f="{e(" ".join((r.id, r.operation, r.status, r.message)))}" data-s="{r.status}" '
                   f'data-api="{e(api)}"><td class="{r.status}">{r.status}</td><td><code>{e(r.operation)}</code></td>'
                   f"<td><code>{e(r.id)}</code></td><td>{e(r.message)}</td></tr>" for r in results)
    return (f'<section id="api-{e(api)}" data-api="{e(api)}"><h2>{e(api)}</h2><p class=chips>{chips}</p>'
            f"<h3>By operation</h3>{_group_table(api, by_op, 'operation', False)}"
            f"<h3>By rule</h3>{_group_table(api, by_rule, 'rule id', True)}"
            f"<details><summary>All {len(results)} checks</summary><table><tr><th>status</th><th>operation</th>"
            f"<th>rule id</th><th>message</th></tr>{rows}</table></details></section>")


def _filterbar(apis: list[str]) -> str:
    statuses = "".join(f'<option value="{s}">{s}</option>' for s in STATUSES)
    api_opts = "".join(f'<option value="{e(a)}">{e(a)}</option>' for a in apis)
    return ("<div id=filterbar hidden><input id=filter type=search placeholder=\"filter by rule id, operation or message\">"
            f"<select id=fstatus><option value=\"\">any status</option>{statuses}</select>"
            f"<select id=fapi><option value=\"\">any API</option>{api_opts}</select></div>")


def render_html(run: RunResult, base: RunResult | None = None) -> str:
    """The whole page as a string; `run` (and the comparison `base`) must already be redacted."""
    c, verdict = run.counts(), run.verdict()
    by_api: dict[str, list[CheckResult]] = defaultdict(list)
    for r in run.results:
        by_api[r.api].append(r)
    failures = [r for r in run.results if r.status in ("failed", "error")]
    settings = "".join(f"<dt>{e(k)}</dt><dd><code>{e(value_text(v))}</code></dd>" for k, v in sorted(run.settings.items(), key=str))
    nav = " · ".join(f'<a href="#api-{e(a)}">{e(a)}</a>' for a in sorted(by_api))
    fail_html = ("".join(_failure(r, len(failures) <= 10) for r in failures)
                 if failures else "<p>No failures.</p>")
    chips = " ".join(f'<span class="{s}">{c[s]} {s}</span>' for s in STATUSES)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tbconform {verdict} — {e(run.target)}</title><style>{_CSS}</style></head>
<body><header><h1>tbconform conformance report <span id=verdict class="verdict {verdict}">{verdict}</span></h1>
<p class=meta>target <code>{e(run.target)}</code> · started {e(run.started)} · finished {e(run.finished)} · {run.duration:.1f}s</p>
<p class=chips>{chips} <span>{len(run.results)} total</span></p>
<nav>{nav}</nav>
<details><summary>Settings</summary><dl>{settings}</dl></details>
</header>
{render_overview(run, base)}
<div id=detail><h2>Detail</h2>{_filterbar(sorted(by_api))}
<section id=failures><h2>Failures and errors ({len(failures)})</h2>{fail_html}</section>
{''.join(_api_section(api, rs) for api, rs in sorted(by_api.items()))}
</div>
<script>{_JS}</script>
</body></html>
"""
