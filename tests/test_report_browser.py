"""index.html in a real browser: headless Chromium renders a report with one injected failure; the
overview (verdict, compliance score, rule × API matrix, the failure's curl command with its copy
button shown by the script) is in the DOM after JavaScript ran, and the screenshot is a real picture.

Skipped (with the reason) when no Chromium is installed; CI installs it (.ci/run), so there it runs.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tbconform.reports import write_reports
from tbconform.reports.model import CheckResult, Exchange, RunResult

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
RULE_ID = "contract.response_schema_conformance"
MESSAGE = "Response violates schema: '3' is not of type 'integer' at totalCount"
URL = "http://127.0.0.1:8765/ims/oneroster/rostering/v1p2/users?limit=5"


def chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
        if found:
            return found
    return None


def run_with_failure() -> RunResult:
    exchange = Exchange(method="GET", url=URL, request_headers={"Accept": "application/json"},
                        status=200, response_headers={"Content-Type": "application/json"},
                        response_body='{"users": [], "totalCount": "3"}')
    failed = CheckResult(id=RULE_ID, api="oneroster", operation="GET /ims/oneroster/rostering/v1p2/users",
                         status="failed", message=MESSAGE, rule="The response body validates against the documented schema.",
                         layer="contract", duration=0.2, exchange=exchange)
    passed = CheckResult(id="contract.not_a_server_error", api="oneroster",
                         operation="GET /ims/oneroster/rostering/v1p2/users", status="passed",
                         rule="The API never answers with a 5xx server error.", layer="contract")
    return RunResult(target="http://127.0.0.1:8765", started="2025-01-01T00:00:00Z", finished="2025-01-01T00:00:05Z",
                     duration=5.0, settings={"maxExamples": 3, "seed": 42}, results=[failed, passed],
                     operations={"oneroster": ["GET /ims/oneroster/rostering/v1p2/users",
                                               "GET /ims/oneroster/rostering/v1p2/classes"]})


def png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and (a sample of) distinct pixels of an 8-bit RGB/RGBA PNG, stdlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    height = bit_depth = colour = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, bit_depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    channels = {2: 3, 6: 4}.get(colour)
    if bit_depth != 8 or channels is None:  # another layout: the length and header check must do
        return width, height, {raw[:64], raw[-64:]}
    stride = width * channels + 1
    colours: set[bytes] = set()
    for row in range(0, height, max(1, height // 200)):  # filtered bytes differ iff content varies
        line = raw[row * stride + 1:(row + 1) * stride]
        colours.update(line[i:i + channels] for i in range(0, len(line), channels * 7))
    return width, height, colours


@pytest.fixture(scope="module")
def browser() -> str:
    exe = chromium()
    if exe is None:
        pytest.skip("headless Chromium not found (/usr/bin/chromium or chromium on PATH); "
                    "install it (e.g. apt-get install chromium) to run the browser rendering test")
    return exe


def test_report_renders_failure_in_chromium(browser, tmp_path: Path):
    paths = write_reports(run_with_failure(), tmp_path / "report")
    page = paths["index.html"].resolve().as_uri()
    profile = tmp_path / "profile"
    shot = tmp_path / "report.png"

    dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page],
                         capture_output=True, text=True, timeout=90)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert RULE_ID in html
    assert "&#x27;3&#x27; is not of type" in html or "'3' is not of type" in html
    assert "curl -sS -X GET" in html and "rostering/v1p2/users?limit=5" in html
    # The overview, as rendered (after the script ran): verdict, score, matrix, the failure's curl.
    assert re.search(r'id="?verdict"? class="verdict FAIL">FAIL<', html)
    assert re.search(r'class="score bad">50(\.0)?%<', html) and "1 of 2 operations answered" in html
    assert re.search(r'<table id="?matrix"?.*?class="cell failed"[^>]*>1 of 1 fail<', html, re.S)
    failing = re.search(r'<section id="?failing-rules"?>.*?</section>', html, re.S).group(0)
    assert "curl -sS -X GET" in failing and re.search(r'<button [^>]*data-copy="curl-0"[^>]*>copy</button>', failing)
    assert 'data-copy="curl-0" hidden' not in failing  # the script revealed the copy button
    assert '<div id="filterbar">' in html or "<div id=filterbar>" in html  # and the filter bar

    done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                           "--window-size=1280,2000", "--hide-scrollbars", page],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert len(data) > 10_000, f"screenshot only {len(data)} bytes"
    width, height, colours = png_pixels(data)
    assert (width, height) == (1280, 2000)
    assert len(colours) > 3, "the screenshot is (nearly) one colour"
    keep = os.environ.get("TBCONFORM_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
