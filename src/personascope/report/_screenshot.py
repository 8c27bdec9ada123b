"""Headless Chromium through Playwright: screenshots for docs, and the browser tests.

Playwright's own browser download is never used: the system Chromium is, so
nothing is fetched from the network.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from personascope.errors import PersonascopeError

_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


def chromium_path() -> str | None:
    """The system Chromium ($PERSONASCOPE_CHROMIUM, else `chromium` or `chromium-browser` on PATH)."""
    for candidate in (os.environ.get("PERSONASCOPE_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser (Playwright's `Browser`), closed on exit."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PersonascopeError("screenshots need Playwright: pip install playwright (the browser download is not needed)") from None
    path = chromium_path()
    if path is None:
        raise PersonascopeError("no Chromium found: install it (e.g. apt-get install chromium) or set PERSONASCOPE_CHROMIUM")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(html_path: str | Path, png_path: str | Path, *, width: int = 1280, height: int | None = None) -> Path:
    """Save a PNG of a report as a browser shows it: the full page, or its top `height` pixels."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": height or 800})
        page.goto(html_path.as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(png_path), full_page=height is None)
    return png_path
