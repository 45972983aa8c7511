"""`make demo` end to end: real app, real local Flink, real headless Chromium, then a clean stop.

One demo run (one local Flink cluster) serves the whole scenario: with normal transactions streaming from
the page nothing is flagged; each fraud scenario clicked on the page is then flagged in the panel; SIGTERM
leaves no process behind. The flag delay is bounded by the SQL: flagged_user fires once the watermark
(received_at - 3 s) passes the scenario's last transaction (a burst spans about 1 s), so a user flag needs
a few seconds of further streaming; flagged_transaction (foreign IP) is immediate.
"""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
FLAG_SECONDS = 10  # the SQL's ~4 s event-time delay (see above) plus room for a loaded machine
FLINK_PYTHON = ROOT / ".venv-flink" / "bin" / "python"
SCENARIOS = ("large_amount", "foreign_ip", "burst_count", "burst_amount")
PANEL_JS = """return [...document.querySelectorAll('#local-flags tbody tr')].map(tr => JSON.parse(tr.dataset.json));"""


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
        process.kill()
        pytest.fail("demo did not start:\n" + "".join(output) + _logs(workdir))
    yield process, port, workdir
    if process.poll() is None:
        process.kill()
        process.wait()


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


def panel_rows(driver) -> list[dict]:
    return driver.execute_script(PANEL_JS)


def mentions(row: dict, username: str, account_id: int | None) -> bool:
    """A flag names the customer by username, or by id in a user/account column."""
    return any(str(value) == username for value in row.values()) or any(
        str(value) == str(account_id) for key, value in row.items() if "USER" in key.upper() or "ACCOUNT" in key.upper()
    )


def test_normal_streaming_flags_nothing_and_each_scenario_is_flagged_then_stop_is_clean(demo, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    process, port, workdir = demo
    browser.get(f"http://127.0.0.1:{port}/")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "flags-state").text.startswith("updated"))

    # Normal transactions stream from the page for the whole test (they also move Flink's watermark on).
    switch = browser.find_element(By.CSS_SELECTOR, "label.switch")
    switch.click()
    time.sleep(12)
    assert panel_rows(browser) == [], f"normal streaming was flagged: {panel_rows(browser)}"

    users = _customers(workdir)
    chosen = users[: len(SCENARIOS)]
    for (username, account_id), fraud_type in zip(chosen, SCENARIOS):
        field = browser.find_element(By.ID, "fraud-username")
        field.clear()
        field.send_keys(username)
        clicked = time.monotonic()
        browser.find_element(By.CSS_SELECTOR, f'button.scenario[data-fraud-type="{fraud_type}"]').click()
        try:
            WebDriverWait(browser, FLAG_SECONDS, poll_frequency=0.25).until(
                lambda d: any(mentions(row, username, account_id) for row in panel_rows(d)))
        except Exception:
            pytest.fail(f"{fraud_type} for {username} not flagged within {FLAG_SECONDS} s; panel: "
                        f"{panel_rows(browser)}" + _logs(workdir))
        print(f"{fraud_type}: flagged {time.monotonic() - clicked:.1f} s after the click")

    # Only the customers of the clicked scenarios are flagged, whatever else streamed meanwhile.
    flagged = panel_rows(browser)
    assert all(any(mentions(row, u, i) for u, i in chosen) for row in flagged), flagged
    switch.click()

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


def _customers(workdir: Path) -> list[tuple[str, int]]:
    """Customers (username, id) from the demo's own snapshot of auth_user, in id order."""
    rows = []
    for path in sorted((workdir / "feed" / "AUTH_USER").glob("*.json")):
        for line in path.read_text().splitlines():
            after = json.loads(line)["after"]
            if not after["IS_STAFF"] and not after["IS_SUPERUSER"]:
                rows.append((after["USERNAME"], after["ID"]))
    return sorted(rows, key=lambda row: row[1])[:10]
