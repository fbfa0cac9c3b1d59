"""How fast the ``avsep pick`` page opens on the bundled example (issue 32: the page loads in
<= 1 s, the first frame shows in <= 2 s).

Starts ``avsep pick duet.mp4 --no-browser`` on a copy of examples/duet.mp4 in a temporary folder
(the bundled model), opens the printed URL in Debian's headless chromium (tests/browser.py) and prints, from
the browser's own clock (ms since the navigation started): the page's load event and the first
frame shown (the page records ``window.avsepFirstFrame`` when the first frame's image loads). The
first visit decodes the frame; ``--reloads N`` visits again (the frame is then kept encoded).
The time from the command's start to its URL (Python, torch and PyAV imports) is printed too.

    python -m benchmarks.pick_page [--reloads 3] [--screenshot docs/pick.png]

``--screenshot`` also waits for the players found, separates, and saves a picture of the page
with the stems listed (the README's).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import headless_chromium, start_pick

ROOT = Path(__file__).resolve().parents[1]

EXAMPLE = ROOT / "examples" / "duet.mp4"
TIMES = """
const done = arguments[arguments.length - 1];
const waitFrame = () => window.avsepFirstFrame === undefined ? setTimeout(waitFrame, 10) : done({
  load: performance.getEntriesByType("navigation")[0].loadEventEnd,
  frame: window.avsepFirstFrame,
});
waitFrame();
"""


def visit(driver, url: str) -> dict[str, float]:
    """One visit: the load event and the first frame, in ms since the navigation started."""
    driver.get(url)
    return driver.execute_async_script(TIMES)


def screenshot(driver, path: Path) -> None:
    """The page with the players found and the stems of one separation listed."""
    wait = WebDriverWait(driver, 600)
    wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#boxes .box")
        and not d.find_element(By.ID, "separate").get_attribute("disabled")
    )
    driver.find_element(By.ID, "separate").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#stems li"))
    time.sleep(1)  # the <audio> players draw their controls
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reloads", type=int, default=3, help="visits after the first")
    parser.add_argument("--screenshot", type=Path, help="save a picture of the page, stems listed")
    args = parser.parse_args()
    driver = headless_chromium(1280, 1000)
    with tempfile.TemporaryDirectory() as folder:
        start = time.monotonic()
        shutil.copy(EXAMPLE, folder)  # the page's line then reads as the README's: avsep separate duet.mp4 ...
        pick, url = start_pick(Path(EXAMPLE.name), Path(folder), {})
        print(f"avsep pick: URL printed after {time.monotonic() - start:.2f} s")
        try:
            for visit_number in range(1 + args.reloads):
                times = visit(driver, url)
                what = "first visit" if visit_number == 0 else f"reload {visit_number}"
                print(
                    f"{what}: page loaded in {times['load'] / 1000:.3f} s, first frame in {times['frame'] / 1000:.3f} s"
                )
            if args.screenshot:
                screenshot(driver, args.screenshot)
        finally:
            driver.quit()
            pick.send_signal(signal.SIGINT)
            pick.communicate(timeout=120)


if __name__ == "__main__":
    main()
