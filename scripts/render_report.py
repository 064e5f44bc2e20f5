#!/usr/bin/env python3
"""Render a macforge report.html to PNG with headless Chromium (the README image, and a check
that the page opens as a readable page).

    python scripts/render_report.py report/report.html docs/img/pareto_digits.png [--width 1280] [--height 1900]

Needs Chromium (Debian/Ubuntu: ``apt-get install chromium``); without it, one line on stderr
and exit status 2.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser():
    for b in BROWSERS:
        p = shutil.which(b)
        if p:
            return p
    return None


def render(html_path: str, png_path: str, width: int = 1280, height: int = 1900) -> str:
    browser = find_browser()
    if browser is None:
        raise RuntimeError("headless Chromium not found (looked for " + ", ".join(BROWSERS)
                           + "); install it: apt-get install chromium")
    if not os.path.exists(html_path):
        raise RuntimeError(f"{html_path}: no such file (run `macforge pareto` first)")
    png_path = os.path.abspath(png_path)
    os.makedirs(os.path.dirname(png_path), exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        # no network: without the background-networking flags Chromium keeps dialling out
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic",
               f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--screenshot={png_path}", "file://" + os.path.abspath(html_path)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not os.path.exists(png_path):
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{browser} failed (exit {r.returncode}): {last}")
    return png_path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html")
    ap.add_argument("png")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1900)
    a = ap.parse_args(argv)
    try:
        out = render(a.html, a.png, a.width, a.height)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"render_report: error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
