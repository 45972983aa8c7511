"""`make demo` end to end: real app, real local Flink, real headless Chromium, then a clean stop.

One demo run (one local Flink cluster) serves the whole scenario: with normal transactions streaming from
the page nothing is flagged; then, with the stream switched off, each fraud scenario is clicked on the page for
a customer of its own and must be flagged, as judged by the same definition of "flagged" as `make e2e` uses on a
real account (e2e/scenarios.py), while nothing else is written: flagged_user raises a flag as the transaction
that crosses a threshold arrives, and flagged_transaction (foreign IP) is immediate. The page's panel shows
exactly those flags; SIGTERM leaves no process behind. The printed delays (click answered -> flag read) are the
README's figure; the bound below only keeps a broken run from hanging.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from e2e.scenarios import Flags, Posted, page_flags, verdict, wait_for_flags
from e2e.waiting import CheckFailed
from localdemo import procs
from tests.system import free_port, require

# Not marked flink: the Flink job runs in the demo's own .venv-flink process; this test runs in the app's venv.
pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = ROOT / "artifacts" / "demo-screenshot.png"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
FLAG_SECONDS = 30  # not the figure (the printed delays are): room for a loaded machine
FLINK_PYTHON = ROOT / ".venv-flink" / "bin" / "python"
SCENARIOS = ("large_amount", "foreign_ip", "burst_count", "burst_amount")
PANEL_JS = """return ['#flagged-users', '#flagged-transactions'].map(
  table => [...document.querySelectorAll(`${table} tbody tr`)].map(tr => JSON.parse(tr.dataset.json)));"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    require(CHROMIUM.exists() and CHROMEDRIVER.exists(), "missing chromium/chromedriver (apt-get install chromium chromium-driver)")
    require(shutil.which("java") is not None, "missing java (apt-get install openjdk-17-jre-headless)")
    require(FLINK_PYTHON.exists(), f"missing {FLINK_PYTHON} with PyFlink (python3 -m venv .venv-flink && "
            ".venv-flink/bin/pip install -r requirements-flink.txt)")
    workdir = tmp_path_factory.mktemp("demo")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "localdemo", "--port", str(port), "--users", "200",
                                "--workdir", str(workdir)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    started = time.monotonic()
    output = []
    for line in process.stdout:
        output.append(line)
        if "demo running" in line or time.monotonic() - started > 240:
            break
    if process.poll() is not None or "demo running" not in "".join(output):
        _stop_everything(process, workdir)
        pytest.fail("demo did not start:\n" + "".join(output) + _logs(workdir))
    yield process, port, workdir
    _stop_everything(process, workdir)


def _stop_everything(process: subprocess.Popen, workdir: Path) -> None:
    """Whatever the test's outcome, nothing of this demo outlives it: a clean stop first, then what is left
    (its descendants, and any process fed from its workdir) is killed."""
    leftovers = procs.descendants(process.pid) if process.poll() is None else set()
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pid in leftovers | procs.with_environment("LOCAL_CDC_FEED", str(workdir / "feed")):
        with contextlib.suppress(ProcessLookupError):  # it may have ended meanwhile
            os.kill(pid, signal.SIGKILL)


def _logs(workdir: Path) -> str:
    return "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(workdir.glob("*.log")))


@pytest.fixture(scope="module")
def browser(demo, tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("profile")
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def panel_flags(driver) -> Flags:
    """What the page's panel shows, read back from its two tables."""
    users, transactions = driver.execute_script(PANEL_JS)
    return Flags(users=users, transactions=transactions)


def test_normal_streaming_flags_nothing_and_each_scenario_is_flagged_then_stop_is_clean(demo, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    process, port, workdir = demo
    url = f"http://127.0.0.1:{port}"
    http = requests.Session()
    browser.get(f"{url}/")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "flags-state").text.startswith("updated"))

    # Normal transactions stream from the page: nothing is flagged.
    switch = browser.find_element(By.CSS_SELECTOR, "label.switch")
    switch.click()
    time.sleep(12)
    assert verdict([], page_flags(http, url)).complete, f"normal streaming was flagged: {page_flags(http, url)}"
    switch.click()
    streamed = _settled_stream_count(browser)

    # Each scenario is clicked for its own customer with the stream off, and its flag must come with nothing
    # written after it; judged by the same definition of "flagged" as the real pipeline's.
    posted = []
    for (username, _account_id), fraud_type in zip(_customers(workdir), SCENARIOS):
        posted.append(_click_scenario(browser, fraud_type, username))
        try:
            wait_for_flags(lambda: page_flags(http, url), posted, FLAG_SECONDS, poll=0.25)
        except CheckFailed as error:
            pytest.fail(f"{error}{_logs(workdir)}")
        print(f"{fraud_type}: flagged {time.time() - posted[-1].posted_at:.1f} s after it was posted")
    assert browser.find_element(By.ID, "stream-count").text == streamed, "the page streamed during the scenarios"

    # The page's panel shows exactly those flags.
    WebDriverWait(browser, 10, poll_frequency=0.25).until(lambda d: verdict(posted, panel_flags(d)).complete)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    # Stop as Ctrl-C/SIGTERM would: everything the demo started goes away.
    children = procs.descendants(process.pid)
    assert len(children) >= 2, f"expected the web server and the Flink job under the demo, got {children}"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(procs.alive(pid) for pid in children):
        time.sleep(0.2)
    assert [pid for pid in children if procs.alive(pid)] == []
    assert procs.with_environment("LOCAL_CDC_FEED", str(workdir / "feed")) == set()


def _settled_stream_count(driver) -> str:
    """The page's count of streamed transactions once a request still under way has landed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    seen: list[str] = []

    def settled(d) -> bool:
        seen.append(d.find_element(By.ID, "stream-count").text)
        return len(seen) >= 3 and len(set(seen[-3:])) == 1

    WebDriverWait(driver, 10, poll_frequency=0.5).until(settled)
    return seen[-1]


def _click_scenario(driver, fraud_type: str, username: str) -> Posted:
    """Click the page's button for ``fraud_type`` for ``username``; the transactions as the page then lists them."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    field = driver.find_element(By.ID, "fraud-username")
    field.clear()
    field.send_keys(username)
    driver.find_element(By.CSS_SELECTOR, f'button.scenario[data-fraud-type="{fraud_type}"]').click()
    status = WebDriverWait(driver, 20, poll_frequency=0.1).until(
        lambda d: (text := d.find_element(By.ID, "status").text).endswith(f"for {username}.") and text)
    posted_at = time.time()
    count = int(status.split(":", 1)[1].split("transaction", 1)[0])
    rows = f'#transactions tbody tr[data-scenario="{fraud_type}"][data-username="{username}"]'
    WebDriverWait(driver, 20, poll_frequency=0.1).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == count)
    ids = tuple(int(row.get_attribute("data-id")) for row in driver.find_elements(By.CSS_SELECTOR, rows))
    return Posted(fraud_type, username, ids, posted_at)


def _customers(workdir: Path) -> list[tuple[str, int]]:
    """Customers (username, id) from the demo's own snapshot of auth_user, in id order."""
    rows = []
    for path in sorted((workdir / "feed" / "AUTH_USER").glob("*.json")):
        for line in path.read_text().splitlines():
            after = json.loads(line)["after"]
            if not after["IS_STAFF"] and not after["IS_SUPERUSER"]:
                rows.append((after["USERNAME"], after["ID"]))
    return sorted(rows, key=lambda row: row[1])[:10]
