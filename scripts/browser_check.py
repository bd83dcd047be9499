"""Open a zoning HTML map in headless Chromium (network blocked) and take a screenshot.

    .venv/bin/python scripts/browser_check.py [MAP.html] [-o maps/screenshot.png]
        [--click LON,LAT] [--project NAME=VALUE,...] [--date YYYY-MM-DD] [--zoom Z] [--size 1280x800]

With --click and --project, the panel shows the verdict for that project (the form is
filled in as a planner would); it also prints the page's answer as JSON.

Without MAP.html it builds the offline map of the shipped pack into maps/jincheng.html.
Prints the requests that were attempted (all aborted) and any console errors; exits 1
if there were any. Uses Debian's /usr/bin/chromium through Playwright (never a browser
that Playwright downloads). The README image is made with:

    .venv/bin/python scripts/browser_check.py -o docs/jincheng-map.png --click 112.85,35.50
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("map", nargs="?", type=Path)
    ap.add_argument("-o", "--output", type=Path, default=REPO / "maps" / "screenshot.png")
    ap.add_argument("--click", default=None, help="LON,LAT to click (the query panel shows it)")
    ap.add_argument("--project", default=None,
                    help="project attributes for the verdict, e.g. construction=new,industry=2710 "
                         "(an industry as a GB/T 4754-2017 code or name, or a word)")
    ap.add_argument("--date", default=None, help="date the rules are read on (default: the map's date)")
    ap.add_argument("--zoom", type=int, default=None)
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)

    path = args.map
    if path is None:
        from zoning.core.layers import open_pack
        from zoning.core.settings import default_pack
        from zoning.maps import build_map

        path = REPO / "maps" / "jincheng.html"
        path.parent.mkdir(exist_ok=True)
        build_map(open_pack(default_pack), offline=True).save(str(path))
    width, height = (int(v) for v in args.size.split("x"))

    import tempfile

    from playwright.sync_api import sync_playwright

    attempted: list[str] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=args.chromium, headless=True,
                                                   args=FLAGS, viewport={"width": width, "height": height})
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                  else (attempted.append(r.request.url), r.abort()))
        page = ctx.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.resolve().as_uri())
        page.wait_for_function("window.ZoningMap && ZoningMap.maps.length > 0")
        if args.zoom is not None:
            page.evaluate("z => { ZoningMap.maps[0].setZoom(z, {animate: false}); }", args.zoom)
        if args.click:
            lon, lat = (float(v) for v in args.click.split(","))
            xy = page.evaluate(
                """([lat, lon]) => { const m = ZoningMap.maps[0];
                     const p = m.latLngToContainerPoint([lat, lon]);
                     const r = m.getContainer().getBoundingClientRect();
                     return [r.left + p.x, r.top + p.y]; }""", [lat, lon])
            page.mouse.click(*xy)
            page.wait_for_timeout(200)
            page.evaluate("ZoningMap.maps[0].closePopup()")  # keep the query panel, not the popup
            project = None
            if args.project:
                project = {}
                for item in args.project.split(","):
                    name, _, value = item.partition("=")
                    project[name.strip()] = value.strip()
            answer = page.evaluate(
                """([lat, lon, project, date]) => { const a = ZoningMap.lastAnswer;
                     return (project || date) ? ZoningMap.query(a.lat, a.lng, project || undefined, date || undefined) : a; }""",
                [lat, lon, project, args.date])
            print(json.dumps(answer, ensure_ascii=False))
        page.wait_for_timeout(300)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.output))
        ctx.close()
    print(f"screenshot {args.output} ({args.output.stat().st_size} bytes)")
    for url in attempted:
        print(f"blocked request: {url}")
    for err in errors:
        print(f"console error: {err}")
    return 1 if attempted or errors else 0


if __name__ == "__main__":
    sys.exit(main())
