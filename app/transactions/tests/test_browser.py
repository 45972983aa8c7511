"""The page in real headless Chromium: streaming on, each fraud scenario clicked and seen in the table."""
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from transactions import scenarios
from transactions.models import UserTransaction

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path(__file__).resolve().parents[3] / "artifacts" / "app-screenshot.png"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

ROWS_JS = "return [...document.querySelectorAll('#transactions tbody tr')].map(tr => ({...tr.dataset}));"


@pytest.fixture
def browser(tmp_path):
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        message = f"missing {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1500"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Explicit paths: Selenium Manager has nothing to look up or download.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout=20):
    def rows_when_ready(d):
        rows = d.execute_script(ROWS_JS)
        return rows if condition(rows) else False

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(rows_when_ready)


def tagged(rows, fraud_type):
    return [row for row in rows if row["scenario"] == fraud_type]


def one_customer(rows):
    return len({row["username"] for row in rows}) == 1


SCENARIO_SEEN = {
    "burst_count": lambda rows: len(rows) == scenarios.BURST_COUNT and one_customer(rows),
    "burst_amount": lambda rows: (
        len(rows) >= 2 and one_customer(rows)
        and sum(Decimal(r["amount"]) for r in rows) > scenarios.MAX_TOTAL_AMOUNT
        and all(Decimal(r["amount"]) <= scenarios.MAX_TOTAL_AMOUNT for r in rows)
    ),
    "large_amount": lambda rows: len(rows) == 1 and Decimal(rows[0]["amount"]) > scenarios.MAX_TOTAL_AMOUNT,
    "foreign_ip": lambda rows: len(rows) == 1 and rows[0]["ip"] in scenarios.FOREIGN_IPS,
}


def test_stream_and_simulate_every_scenario(browser, live_server, transactional_db, settings):
    call_command("seed", users=25, stdout=io.StringIO())
    UserTransaction.objects.all().delete()
    settings.STREAM_INTERVAL_MS = 300

    browser.get(live_server.url + "/")
    assert browser.title == "Fraud detection demo"
    assert browser.find_element(By.ID, "stream-interval").text == "300 ms"
    assert browser.find_element(By.ID, "empty").is_displayed()

    browser.find_element(By.CSS_SELECTOR, "label.switch").click()
    assert browser.find_element(By.ID, "stream-toggle").is_selected()
    rows = wait_for(browser, lambda rows: len(rows) >= 3)
    assert all(row["ip"] in scenarios.ALLOWED_IPS and Decimal(row["amount"]) <= 50 for row in rows)
    assert not browser.find_element(By.ID, "empty").is_displayed()

    for fraud_type in scenarios.FRAUD_TYPES:
        browser.find_element(By.CSS_SELECTOR, f'button[data-fraud-type="{fraud_type}"]').click()
        rows = wait_for(browser, lambda rows, t=fraud_type: SCENARIO_SEEN[t](tagged(rows, t)))
        username = tagged(rows, fraud_type)[0]["username"]
        status = browser.find_element(By.ID, "status").text
        assert username in status and status.startswith(
            browser.find_element(By.CSS_SELECTOR, f'button[data-fraud-type="{fraud_type}"]').get_attribute("data-label"))
        ids = {int(row["id"]) for row in tagged(rows, fraud_type)}
        assert set(UserTransaction.objects.filter(id__in=ids).values_list("account__username", flat=True)) == {username}

    assert int(browser.find_element(By.ID, "stream-count").text) >= 3
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

    browser.find_element(By.CSS_SELECTOR, "label.switch").click()
    assert not browser.find_element(By.ID, "stream-toggle").is_selected()

    # A named customer that does not exist: the API's error reaches the page, nothing is written.
    before = UserTransaction.objects.count()
    browser.find_element(By.ID, "fraud-username").send_keys("no.such.customer")
    browser.find_element(By.CSS_SELECTOR, 'button[data-fraud-type="large_amount"]').click()
    WebDriverWait(browser, 10).until(lambda d: "no customer account named" in d.find_element(By.ID, "status").text)
    assert UserTransaction.objects.count() == before

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    # The only console error allowed is the deliberate 400 above.
    assert all("/api/fraud" in entry["message"] and "400" in entry["message"] for entry in errors), errors
