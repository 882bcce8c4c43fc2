"""`tbconform validate qti` benchmark: items/s on 1,000 seeded items, as files, through the real CLI.

Measures, in one run:

    a) the whole command (`python -m tbconform.harness.cli validate qti FILE x 1000`, a subprocess,
       start-up included) and the same less a 1-file run (start-up excluded), items/s;
    b) the checker in this process (`specs.qti.structure.check_document` on the files' bytes),
       items/s, and the parse alone (`specs.xmlsafe.parse`) for its cost floor;
    c) with `--xsd DIR`, (a) again with `--qti-xsd DIR`.

Items come from the seed's own generator (`tbconform.fixtures.qti.build_item`, every interaction
type it knows, several subjects and grades) when it is importable, else from a small generator
here (choice, multiple choice with a mapping, text entry, order, with 3 to 6 choices). Every item
must be judged valid: a problem on a seeded item is a false alarm and fails the bench.

Target (issue 10; exit status 1 if missed): >= 300 items/s for the whole command.

Usage: python bench/qti_validate_bench.py [--items 1000] [--seed 7] [--xsd DIR] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 300.0  # items/s, the whole command
NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
RPT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"


def _own_item(n: int, rng: random.Random) -> str:
    """A fallback item of one of four shapes, n choices varying (used without fixtures.qti)."""
    shape = n % 4
    choices = [f"C{i}" for i in range(rng.randint(3, 6))]
    right = rng.sample(choices, 2 if shape == 1 else 1)
    listing = "".join(f'<qti-simple-choice identifier="{c}">option {c}</qti-simple-choice>' for c in choices)
    score = '<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>'
    if shape == 0:
        decl = ('<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">'
                f"<qti-correct-response><qti-value>{right[0]}</qti-value></qti-correct-response>"
                "</qti-response-declaration>")
        body = f'<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">{listing}</qti-choice-interaction>'
        rp = "match_correct"
    elif shape == 1:
        entries = "".join(f'<qti-map-entry map-key="{c}" mapped-value="{1 if c in right else -1}"/>' for c in choices)
        decl = ('<qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="identifier">'
                "<qti-correct-response>" + "".join(f"<qti-value>{c}</qti-value>" for c in right)
                + f'</qti-correct-response><qti-mapping lower-bound="0" upper-bound="2">{entries}</qti-mapping>'
                "</qti-response-declaration>")
        body = f'<qti-choice-interaction response-identifier="RESPONSE" max-choices="0">{listing}</qti-choice-interaction>'
        rp = "map_response"
    elif shape == 2:
        decl = ('<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string">'
                f"<qti-correct-response><qti-value>answer{n}</qti-value></qti-correct-response>"
                "</qti-response-declaration>")
        body = '<p>Type it: <qti-text-entry-interaction response-identifier="RESPONSE"/></p>'
        rp = "match_correct"
    else:
        decl = ('<qti-response-declaration identifier="RESPONSE" cardinality="ordered" base-type="identifier">'
                "<qti-correct-response>" + "".join(f"<qti-value>{c}</qti-value>" for c in choices)
                + "</qti-correct-response></qti-response-declaration>")
        body = f'<qti-order-interaction response-identifier="RESPONSE">{listing}</qti-order-interaction>'
        rp = "match_correct"
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<qti-assessment-item xmlns="{NS}" identifier="item-{n}" '
            f'title="Item {n}" adaptive="false" time-dependent="false">{decl}{score}'
            f'<qti-item-body>{body}</qti-item-body><qti-response-processing template="{RPT}{rp}"/>'
            "</qti-assessment-item>\n")


def generate(count: int, seed: int) -> tuple[list[str], str]:
    """`count` item documents and the name of the generator that made them."""
    rng = random.Random(seed)
    try:
        from tbconform.fixtures.qti import KINDS, build_item
    except ImportError:
        return [_own_item(n, rng) for n in range(count)], "bench's own"
    subjects = ("Math", "Reading", "Science", "Social Studies")
    docs = [build_item(KINDS[n % len(KINDS)], f"item-{n}", f"Item {n}", rng,
                       subjects[(n // len(KINDS)) % len(subjects)], 1 + n % 8) for n in range(count)]
    return docs, "tbconform.fixtures.qti.build_item"


def _cli(files: list[str], extra: list[str]) -> tuple[float, int, str]:
    cmd = [sys.executable, "-m", "tbconform.harness.cli", "validate", "qti", "--no-progress", *extra, *files]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return time.perf_counter() - started, proc.returncode, (proc.stdout + proc.stderr).strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--xsd", metavar="DIR", help="also time --qti-xsd DIR")
    ap.add_argument("--json", metavar="FILE", help="write the figures here too")
    args = ap.parse_args(argv)

    from tbconform.specs import xmlsafe
    from tbconform.specs.qti.structure import check_document

    docs, source = generate(args.items, args.seed)
    figures: dict[str, object] = {"items": len(docs), "generator": source, "target_items_per_s": TARGET}
    with tempfile.TemporaryDirectory(prefix="qti-bench-") as tmp:
        files = []
        for n, doc in enumerate(docs):
            path = Path(tmp) / f"item-{n:04d}.xml"
            path.write_text(doc, encoding="utf-8")
            files.append(str(path))
        raw = [Path(f).read_bytes() for f in files]

        started = time.perf_counter()
        results = [check_document(b) for b in raw]
        in_process = time.perf_counter() - started
        false_alarms = [(files[i], r.problems[0]) for i, r in enumerate(results) if r.problems]
        started = time.perf_counter()
        for b in raw:
            xmlsafe.parse(b)
        parse_only = time.perf_counter() - started

        whole, code, output = _cli(files, [])
        one, _, _ = _cli(files[:1], [])
        figures.update({
            "in_process_items_per_s": round(len(raw) / in_process),
            "parse_only_items_per_s": round(len(raw) / parse_only),
            "cli_seconds": round(whole, 3), "cli_startup_seconds": round(one, 3),
            "cli_items_per_s": round(len(files) / whole),
            "cli_items_per_s_without_startup": round((len(files) - 1) / max(whole - one, 1e-9)),
            "cli_exit": code, "false_alarms": len(false_alarms),
        })
        if args.xsd:
            xsd_whole, xsd_code, xsd_output = _cli(files, ["--qti-xsd", args.xsd])
            figures.update({"xsd_cli_items_per_s": round(len(files) / xsd_whole), "xsd_cli_exit": xsd_code})
            if xsd_code == 2:
                print(f"--qti-xsd: {xsd_output.splitlines()[-1]}", file=sys.stderr)

    print(f"tbconform validate qti, {len(docs)} items ({source})")
    print(f"  whole command        {figures['cli_items_per_s']:>8} items/s  ({whole:.2f} s, exit {code})")
    print(f"  without start-up     {figures['cli_items_per_s_without_startup']:>8} items/s  "
          f"(start-up {one:.2f} s)")
    print(f"  in process           {figures['in_process_items_per_s']:>8} items/s")
    print(f"  xmlsafe.parse alone  {figures['parse_only_items_per_s']:>8} items/s")
    if args.xsd:
        print(f"  with --qti-xsd       {figures['xsd_cli_items_per_s']:>8} items/s  (exit {figures['xsd_cli_exit']})")
    if false_alarms:
        print(f"  FALSE ALARMS on {len(false_alarms)} generated items, e.g. {false_alarms[0]}", file=sys.stderr)
    ok = code == 0 and not false_alarms and figures["cli_items_per_s"] >= TARGET  # type: ignore[operator]
    print(f"target >= {TARGET:.0f} items/s (whole command): {'met' if ok else 'MISSED'}")
    if code != 0:
        print(output[-2000:], file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
