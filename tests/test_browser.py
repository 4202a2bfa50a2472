"""The HR report in a real browser: Debian's chromium driven by playwright, checked by axe-core.

Each report page must load with no console error, no network request (the page itself is a file:// URL; nothing
else may be asked for), a non-blank page, no axe-core violation, headings in order, and no sideways scrolling at
390 px. Screenshots (desktop and 390 px) are saved under tmp/report/ (or $RMSTUDY_SCREENSHOTS) for review; they
are not committed. Marked ``browser``; CI installs chromium (.ci/run) and runs this tier with the rest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hr_runs import run_cohort, screenshot_dir

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed at /usr/bin/chromium: run `apt-get install -y chromium` "
                    "(.ci/run and `make browser-deps` do)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _visit(browser, url: str, viewport: dict, shot: Path):
    # bypass_csp: the page's own Content-Security-Policy would block a stray fetch silently; the test must see it
    ctx = browser.new_context(viewport=viewport, bypass_csp=True)
    page = ctx.new_page()
    requests, console, errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(200)
    page.screenshot(path=str(shot), full_page=True)
    info = page.evaluate("""() => ({
        text: document.body.innerText.length,
        width: document.documentElement.scrollWidth,
        headings: [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]),
        tabstops: [...document.querySelectorAll('[tabindex]')].filter(e => e.tabIndex >= 0).length,
        images: [...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0})),
    })""")
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe().run(page)
    ctx.close()
    return requests, console, errors, info, axe


@pytest.mark.parametrize("name", ["demo", "other", "hostile"])
@pytest.mark.parametrize("view", list(VIEWPORTS))
def test_hr_report_in_chromium(browser, name, view):
    out, _ = run_cohort(name)
    html = out / "hr" / "hr_report.html"
    url = html.resolve().as_uri()
    shots = screenshot_dir()
    shot = shots / f"hr_{name}_{view}.png"
    requests, console, errors, info, axe = _visit(browser, url, VIEWPORTS[view], shot)
    assert [r for r in requests if r != url and not r.startswith("data:")] == [], "the report asked the network"
    assert [m for m in console if m[0] in ("error", "warning")] == [] and errors == []
    assert info["text"] > 1500, "blank page"
    assert shot.stat().st_size > 20_000
    assert info["headings"][0] == 1 and all(b - a <= 1 for a, b in zip(info["headings"], info["headings"][1:]))
    assert info["tabstops"] == 0
    assert info["images"] and all(i["alt"] and i["ok"] for i in info["images"])
    if view == "mobile":
        assert info["width"] <= VIEWPORTS["mobile"]["width"] + 1, "sideways scrolling at 390 px"
    violations = [(v["id"], len(v["nodes"])) for v in axe.response["violations"]]
    assert violations == [], violations


def test_hr_pdf_pages_for_review():
    """The PDF is A4 with bookmarks; its first pages are saved as PNG for review when pdftoppm is there."""
    import subprocess

    import weasyprint  # noqa: F401  (the PDF came from it)

    out, _ = run_cohort("demo")
    pdf = out / "hr" / "hr_report.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000      # pages and bookmarks: tests/test_hr_report.py
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-l", "4", str(pdf), str(screenshot_dir() / "hr_demo_pdf")],
                       check=True)
