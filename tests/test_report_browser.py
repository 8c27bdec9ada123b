"""The report in headless Chromium: the script runs cleanly, injected model text stays
text, search and filters narrow the transcripts. Skipped without Playwright or
Chromium, unless PERSONASCOPE_REQUIRE_BROWSER=1 makes that a failure."""

import os

import pytest

from personascope.report import build_report
from test_report import INJECTION, make_run


@pytest.fixture
def browser():
    # One browser per test: a Playwright session left open would block the one
    # `screenshot()` starts (the sync API allows one per thread).
    from personascope.errors import PersonascopeError
    from personascope.report._screenshot import chromium

    try:
        with chromium() as b:
            yield b
    except PersonascopeError as exc:
        if os.environ.get("PERSONASCOPE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PERSONASCOPE_REQUIRE_BROWSER=1 but no browser: {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def page(browser, tmp_path):
    """The demo run's report, loaded, with every console error, page error and dialog recorded."""
    path = build_report(make_run(tmp_path / "demo-20260101-000000"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.problems = []
    page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"))
    page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    yield page
    page.close()


def _cards(page):
    return page.locator("#ps-list article.transcript")


def _search(page, text):
    page.fill("#ps-search", text)
    page.wait_for_timeout(300)  # the search box is debounced


def test_page_runs_cleanly_and_injection_is_text(page, tmp_path):
    assert _cards(page).count() == 9  # 4 contrast + 4 generate + 1 odd: all transcripts
    _search(page, "onerror=alert(2)")
    assert _cards(page).count() == 1
    assert INJECTION in _cards(page).first.inner_text()
    # Nothing the model wrote became an element.
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("document.scripts.length") == 2
    page.wait_for_timeout(200)
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.problems == []


def test_filters_and_search_narrow_the_list(page):
    page.select_option("#ps-f-step", "steer")
    assert _cards(page).count() == 4
    page.select_option("#ps-f-arm", "up <b>")
    assert _cards(page).count() == 2
    _search(page, "SUNNY")
    assert _cards(page).count() == 1 and "sunny!" in _cards(page).first.inner_text()
    _search(page, "sunny nothing-like-this")
    assert _cards(page).count() == 0
    assert "0 of 9" in page.inner_text("#ps-count")
    page.select_option("#ps-f-step", "")
    page.select_option("#ps-f-arm", "")
    _search(page, "")
    assert _cards(page).count() == 9
    page.click("#step-mood button.browse")
    assert page.input_value("#ps-f-step") == "mood" and _cards(page).count() == 4
    assert page.problems == []


def test_long_runs_are_paginated(browser, tmp_path):
    from personascope.store import STORE_NAME, RunStore, Transcript

    run = make_run(tmp_path / "big-20260101-000000")
    RunStore(run / STORE_NAME).add_transcripts(
        Transcript(id=f"x{i}", step="odd", model="tiny", arm="", sample=f"s{i:03d}", messages=[{"role": "user", "content": f"n{i}"}], output="")
        for i in range(120)
    )
    page = browser.new_page()
    page.goto(build_report(run).as_uri())
    assert _cards(page).count() == 50
    page.click("#ps-more")
    page.click("#ps-more")
    assert _cards(page).count() == 129 and page.locator("#ps-more").is_hidden()
    page.close()


def test_screenshot_helper(tmp_path):
    from personascope.errors import PersonascopeError
    from personascope.report import screenshot

    path = build_report(make_run(tmp_path / "demo-20260101-000000"))
    try:
        png = screenshot(path, tmp_path / "shots" / "top.png", height=900)
    except PersonascopeError as exc:
        if os.environ.get("PERSONASCOPE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PERSONASCOPE_REQUIRE_BROWSER=1 but no browser: {exc}")
        pytest.skip(str(exc))
    assert png.stat().st_size > 20_000
