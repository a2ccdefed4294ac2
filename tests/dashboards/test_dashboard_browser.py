"""Every page opened in headless Chromium over file://: no console errors, marks in every chart.

Uses Debian's chromium + chromium-driver (`make browser` installs them). Skips, naming the
missing file, when /usr/bin/chromium or /usr/bin/chromedriver is absent; in CI that skip is a
failure (tests/tool_skips.py). Screenshots go to test-artifacts/screenshots/ for a human look.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tool_skips import requires_tools

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    requires_tools(
        CHROMIUM, CHROMEDRIVER, install="make browser (apt-get install chromium chromium-driver)"
    ),
]


@pytest.fixture(scope="session")
def driver() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1300,1800",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_every_page_opens_over_file_without_errors_with_marks_in_charts_and_live_links(
    shipped_site, driver
):
    """One browser session for all pages (Chromium start-up dominates the cost)."""
    from selenium.webdriver.common.by import By

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = [*shipped_site.pages_built, shipped_site.flash_email_path.name]
    charts_seen = 0
    for name in pages:
        path = shipped_site.site_dir / name
        driver.get(path.as_uri())
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert errors == [], f"{name}: {errors}"
        assert driver.find_element(By.TAG_NAME, "h1").text.strip(), name
        for chart in driver.find_elements(By.CSS_SELECTOR, "figure.chart"):
            marks = chart.find_elements(
                By.CSS_SELECTOR, ".role-mark path, .role-mark rect, .role-mark circle"
            )
            assert marks, f"{name}: chart without marks: {chart.text[:80]!r}"
            charts_seen += 1
        links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "nav a")]
        for href in links:
            assert href.startswith("file://") and Path(href.removeprefix("file://")).is_file()
        if name != shipped_site.flash_email_path.name:
            # Home + every other page but those left out until they have data (nav_if)
            listed = len(shipped_site.pages_built) - len(shipped_site.pages_unlisted)
            assert len(links) == listed, name
        driver.save_screenshot(str(SCREENSHOTS / (name.replace("/", "__") + ".png")))
    assert charts_seen > 20


LONG_NAME = "Wellness" * 40  # 320 characters and no space: one word


def test_a_long_name_without_spaces_wraps_inside_the_nav_heading_and_table(tmp_path, driver):
    """The navigation stays 220px wide and nothing makes the page scroll sideways."""
    import textwrap

    import duckdb

    from dashboards import build_site

    serving = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(serving))
    con.execute("create schema marts")
    con.execute("create table marts.dim_locations (location_id varchar, location_name varchar)")
    con.execute("insert into marts.dim_locations values ('a', ?), ('b', 'Boston')", [LONG_NAME])
    con.close()
    pages = tmp_path / "pages"
    pages.mkdir()
    page = """
    ---
    title: "Location: {{ params.location_name }}"
    nav_label: "{{ params.location_name }}"
    nav_group: "Locations_of_the_whole_chain_grouped_together_in_one_long_word"
    each: locations
    ---
    ```sql locations
    select location_id, location_name, 1234567.5 as revenue from marts.dim_locations
    ```
    At {{ params.location_name }} this week.

    <DataTable data={locations} title="{{ params.location_name }}" />
    """
    (pages / "loc.md").write_text(textwrap.dedent(page).lstrip("\n"), encoding="utf-8")
    report = build_site(serving, tmp_path / "site", pages_dir=pages)
    assert report.ok, report.pages_failed
    driver.get((tmp_path / "site" / "loc" / "a.html").as_uri())
    sizes = driver.execute_script(
        """
        const overflowing = [...document.querySelectorAll('nav a, nav .group, h1, p, td, th')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.tagName);
        const content = document.querySelector('.content').getBoundingClientRect();
        return {
            nav: document.querySelector('nav').getBoundingClientRect().width,
            page: document.documentElement.scrollWidth,
            window: document.documentElement.clientWidth,
            table: document.querySelector('table').getBoundingClientRect().right,
            content: content.right,
            overflowing: overflowing,
        };
        """
    )
    assert sizes["nav"] == 220 + 2 * 12, sizes  # width plus padding, as with short names
    assert sizes["overflowing"] == [], sizes
    assert sizes["table"] <= sizes["content"], sizes
    assert sizes["page"] <= sizes["window"], sizes
    driver.save_screenshot(str(SCREENSHOTS / "long-name.png"))
