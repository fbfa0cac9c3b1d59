"""The ``avsep pick`` page in a real headless browser (issue 32's "done when"): it opens for a
generated two-panel video, shows the players found, a box is drawn with the mouse, renamed and
resized by its edge (another drawn and deleted),
the boxes are saved, Separate runs to the end, the page lists each stem with a playable
``<audio>`` and a download link, and the files equal those of ``avsep separate`` run with the
line the page shows. Then Ctrl-C stops ``avsep pick`` cleanly."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from avsep.boxes.box import load_boxes_file
from tests.browser import headless_chromium, start_pick
from tests.cli_support import GREEN, SINGLE_THREAD, YELLOW, cli_command
from tests.media import make_video

pytestmark = pytest.mark.slow

#: Waits for the page: finding and separating with the tiny model take seconds on a busy CPU.
PATIENCE_S = 120

#: Plays each stem's metadata and answers its duration (-1: the browser could not read it).
DURATIONS = """
const done = arguments[arguments.length - 1];
const audios = [...document.querySelectorAll("#stems audio")];
Promise.all(audios.map((a) => a.readyState >= 1 ? a.duration : new Promise((ok) => {
  a.addEventListener("loadedmetadata", () => ok(a.duration));
  a.addEventListener("error", () => ok(-1));
}))).then(done);
"""


def drag(driver, layer, start: tuple[int, int], end: tuple[int, int], size: tuple[int, int]) -> None:
    """A mouse drag on ``layer`` between two points given in video pixels (``size``: the video's)."""
    shown = layer.rect

    def offset(point: tuple[int, int]) -> tuple[int, int]:  # selenium: from the element's centre
        return (
            round(point[0] * shown["width"] / size[0] - shown["width"] / 2),
            round(point[1] * shown["height"] / size[1] - shown["height"] / 2),
        )

    (x0, y0), (x1, y1) = offset(start), offset(end)
    actions = ActionChains(driver).move_to_element_with_offset(layer, x0, y0).click_and_hold()
    actions.move_by_offset((x1 - x0) // 2, (y1 - y0) // 2).move_by_offset(
        x1 - x0 - (x1 - x0) // 2, y1 - y0 - (y1 - y0) // 2
    )
    actions.release().perform()


def test_the_page_draws_saves_separates_and_plays(tmp_path: Path, tiny_weights: Path):
    video = make_video(tmp_path / "duo.mp4", panels=(GREEN, YELLOW), width=192, height=96, duration=3.0)
    env = {"AVSEP_WEIGHTS_DIR": str(tiny_weights)}
    page_dir, cli_dir = tmp_path / "page", tmp_path / "cli"
    page_dir.mkdir()
    cli_dir.mkdir()
    pick, url = start_pick(video, page_dir, env, colour_trunk=True)
    driver = headless_chromium()
    try:
        driver.get(url)
        wait = WebDriverWait(driver, PATIENCE_S)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#boxes .box")) == 2)
        assert [t.text for t in driver.find_elements(By.CSS_SELECTOR, "#boxes .tag")] == ["violin", "flute"]
        assert "found: violin" in driver.find_element(By.ID, "list").text

        drag(driver, driver.find_element(By.ID, "boxes"), (20, 20), (80, 70), (192, 96))
        name = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#list li[data-index="2"] input.name'))
        assert name.get_attribute("value") == "source3"
        name.send_keys(Keys.CONTROL, "a")
        name.send_keys("cello", Keys.TAB)
        wait.until(lambda d: "--names violin flute cello" in d.find_element(By.ID, "line").text)
        line = driver.find_element(By.ID, "line").text
        drawn = shlex.split(line)[6]  # avsep separate VIDEO --boxes VIOLIN FLUTE DRAWN
        x0, y0, x1, y1 = map(int, drawn.split(","))
        assert abs(x0 - 20) <= 2 and abs(y0 - 20) <= 2 and abs(x1 - 80) <= 2 and abs(y1 - 70) <= 2, drawn

        scale = driver.find_element(By.ID, "boxes").rect["width"] / 192
        east = driver.find_element(By.CSS_SELECTOR, '#boxes .box[data-index="2"] .handle[data-edge="e"]')
        ActionChains(driver).click_and_hold(east).move_by_offset(round(10 * scale), 0).release().perform()
        WebDriverWait(driver, 10).until(lambda d: shlex.split(d.find_element(By.ID, "line").text)[6] != drawn)
        resized = shlex.split(driver.find_element(By.ID, "line").text)[6]
        assert abs(int(resized.split(",")[2]) - (x1 + 10)) <= 1 and resized.startswith(f"{x0},{y0},"), resized
        drag(driver, driver.find_element(By.ID, "boxes"), (110, 10), (150, 50), (192, 96))
        wait.until(lambda d: "--names violin flute cello source4" in d.find_element(By.ID, "line").text)
        driver.find_element(By.CSS_SELECTOR, '#list li[data-index="3"] button.delete').click()
        wait.until(lambda d: d.find_element(By.ID, "line").text.count(",") == 9)  # 3 boxes again
        line = driver.find_element(By.ID, "line").text

        driver.find_element(By.ID, "save").click()
        sidecar = video.with_name("duo.mp4.boxes.json")
        wait.until(lambda d: d.find_element(By.ID, "saved").text == f"saved {sidecar}")
        assert [b.name for b in load_boxes_file(sidecar)] == ["violin", "flute", "cello"]

        driver.find_element(By.ID, "separate").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#stems li")) == 4)
        assert driver.find_element(By.ID, "job").text == "done: 4 files"
        durations = driver.execute_async_script(DURATIONS)
        assert durations == pytest.approx([3.0] * 4, abs=0.1), "each stem plays"
        links = [a.get_attribute("download") for a in driver.find_elements(By.CSS_SELECTOR, "#stems a")]
        assert links == ["violin.wav", "flute.wav", "cello.wav", "residual.wav"]
        assert driver.find_element(By.ID, "line").text == line
    finally:
        driver.quit()
        pick.send_signal(signal.SIGINT)
        _, said = pick.communicate(timeout=PATIENCE_S)
    assert pick.returncode == 0, said
    assert "saved the boxes to" in said and said.rstrip().endswith("stopped")  # no separation was running

    argv = cli_command(*shlex.split(line)[1:], colour_trunk=True)  # the line without "avsep"
    subprocess.run(argv, cwd=cli_dir, check=True, timeout=PATIENCE_S, env={**os.environ, **SINGLE_THREAD, **env})
    for name in links:
        page_file, cli_file = page_dir / "separated/duo" / name, cli_dir / "separated/duo" / name
        assert page_file.read_bytes() == cli_file.read_bytes(), name
