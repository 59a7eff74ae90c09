"""Debian's chromium, driven through Debian's chromium-driver by Selenium, and the workspace
served by ``resdesk serve`` (waitress) on a free loopback port.

Nothing is downloaded: Selenium is given the driver's path, so it never looks for one.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(case_file, path: Path, port: int) -> Path:
    s = case_file.settings
    path.write_text(
        f"""[partnership]
protocol = "oldham"
allowed_sender_domains = {list(s.partnership.allowed_sender_domains)!r}
[mailbox]
kind = "maildir"
path = "{s.mailbox.path}"
[smtp]
pickup_folder = "{s.smtp.pickup_folder}"
[storage]
database = "{s.storage.database}"
archive = "{s.storage.archive}"
[web]
host = "127.0.0.1"
port = {port}
secure_cookies = false
threads = 4
""".replace("'", '"'),
        encoding="utf-8",
    )
    return path


class Server:
    """``resdesk serve --config FILE`` in its own process, output kept in a file."""

    def __init__(self, config: Path, port: int, log: Path):
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "resdesk", "serve", "--config", str(config)],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"resdesk serve did not start: {log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def chromium(profile: Path, downloads: Path) -> webdriver.Chrome:
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "plugins.always_open_pdf_externally": True,
    })
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    return driver


def click_and_wait(driver, element) -> None:
    """Click a link or button and wait until the page it leads to has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_driver) -> bool:
        try:
            return expected_conditions.staleness_of(page)(_driver)
        except WebDriverException:  # chromium may say the old node "does not belong to the document": gone
            return True

    WebDriverWait(driver, 30).until(replaced)


def sign_in(driver, url: str, name: str, password: str) -> None:
    driver.get(url + "/login")
    driver.find_element(By.ID, "username").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def sign_out(driver) -> None:
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.signout button"))


def wait_for_file(folder: Path, suffix: str, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}")]
        if done:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file arrived in {folder}: {list(folder.iterdir())}")
