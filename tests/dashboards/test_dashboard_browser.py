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
