"""A real headless browser for the ``avsep pick`` page: Debian's chromium and its driver
(``install.sh --train`` installs both; nothing is downloaded at run time), driven by selenium
(the ``dev`` extra), and ``avsep pick`` started as a real process that prints its URL.

Shared by tests/test_pick_browser.py and benchmarks/pick_page.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.cli_support import cli_process

#: The Debian packages of the browser (install.sh --train installs them; tests/test_packaging.py compares).
BROWSER_PACKAGES = ("chromium", "chromium-driver")
#: Where Debian installs them (``apt-get install chromium chromium-driver``).
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def headless_chromium(width: int = 1280, height: int = 860) -> webdriver.Chrome:
    """Debian's chromium, headless, with a window of ``width`` x ``height``; a one-line error
    naming the packages when it is not installed."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        raise RuntimeError("no chromium/chromedriver: apt-get install chromium chromium-driver (install.sh --train)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def start_pick(video: Path, cwd: Path, env: dict[str, str], colour_trunk: bool = False) -> tuple[subprocess.Popen, str]:
    """``avsep pick VIDEO --no-browser`` as a real process in ``cwd``, and the URL it printed."""
    process = cli_process(
        "pick",
        video,
        "--no-browser",
        env=env,
        colour_trunk=colour_trunk,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        raise RuntimeError(f"avsep pick printed no URL: {url!r} {process.communicate()[1]}")
    return process, url
