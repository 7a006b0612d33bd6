"""Debian's Chromium driven by Selenium through Debian's chromedriver (Selenium Manager downloads nothing).

``make test`` installs ``chromium`` and ``chromium-driver`` with apt when they are missing (Makefile
target ``browser-deps``). Waiting helpers wait for a condition in the page, never for a fixed time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 30  # an upper bound for cold starts of the local functions, not a pause
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",  # the voice player and the chime may start without a click
    "--lang=en-US",
)


def chromium(user_data_dir: Path, *, width: int = 1280, height: int = 800) -> WebDriver:
    """A headless Chromium with a fresh profile in ``user_data_dir``; the caller quits it."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


def tid(value: str, **data: str) -> str:
    """CSS selector for ``data-testid=value`` with optional ``data-*`` attributes (camelCase names)."""
    extra = "".join(f'[data-{_kebab(name)}="{text}"]' for name, text in data.items())
    return f'[data-testid="{value}"]{extra}'


def _kebab(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name)


def wait_for[T](driver: WebDriver, condition: Callable[[WebDriver], T | bool | None], message: str) -> T:
    """Wait until ``condition(driver)`` is truthy (elements going stale meanwhile are retried)."""

    def check(d: WebDriver) -> Any:
        try:
            return condition(d)
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    return WebDriverWait(driver, WAIT_SECONDS).until(check, message)


def visible(driver: WebDriver, selector: str) -> WebElement:
    """The first displayed element for ``selector`` (waits for it)."""

    def find(d: WebDriver) -> WebElement | None:
        return next((el for el in d.find_elements(By.CSS_SELECTOR, selector) if el.is_displayed()), None)

    return wait_for(driver, find, f"no visible {selector}")


def click(driver: WebDriver, selector: str) -> None:
    """Click the first displayed element for ``selector`` (waits for it). The console re-renders lists as data
    arrives (the accounts' names, a live update), so an element found a moment ago may be gone by the click:
    that is retried with the element as it is now."""

    def press(d: WebDriver) -> bool:
        element = next((el for el in d.find_elements(By.CSS_SELECTOR, selector) if el.is_displayed()), None)
        if element is None:
            return False
        element.click()
        return True

    wait_for(driver, press, f"nothing to click at {selector}")


def click_in_page(driver: WebDriver, selector: str) -> None:
    """Click the first displayed element for ``selector`` from inside the page, found and clicked in one script: no
    element reference is held between the two, so a list re-rendered meanwhile cannot make it stale. For two
    browsers pressing the same button "at once": the second press goes out a few milliseconds after the first."""
    script = """
        const element = [...document.querySelectorAll(arguments[0])].find((el) => el.offsetParent !== null);
        if (!element) return false;
        element.click();
        return true;
    """
    wait_for(driver, lambda d: d.execute_script(script, selector), f"nothing to click at {selector}")


def all_of(driver: WebDriver, selector: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, selector)


def page_errors(driver: WebDriver) -> list[str]:
    """JavaScript errors logged by the page since the last call; network failures the page handles (a refused
    WebSocket handshake, a missing picture, an API error answer) are not errors here."""
    network = ("Failed to load resource", "WebSocket connection to")
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and not any(text in entry["message"] for text in network)
    ]
