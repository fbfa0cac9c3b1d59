"""The stage-timing hook (:mod:`avsep.timing`): silent by default, every pipeline stage reported
to a listener, exclusive times."""

from __future__ import annotations

import time

import pytest

from avsep import Separator
from avsep.timing import STAGES, StageTotals, report_stages, stage, timed_iter
from tests.cli_support import SMALL


@pytest.mark.usefixtures("fast_model")
def test_a_separation_reports_every_stage(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)  # 44.1 kHz: resampled in and out
    separator_stages = StageTotals()
    with report_stages(separator_stages):
        separator = Separator(device="cpu")
    totals = StageTotals()
    with report_stages(totals):
        outcomes = separator.separate_many(video, tmp_path, [(0, 0, 32, 48), (32, 0, 64, 48)])
    assert outcomes[0].status == "ok"
    assert set(separator_stages.seconds) == {"model load"}
    # full band: the masks meet the mixture at its own rate, so nothing is resampled out
    # boxes given, on one thread (fast_model): no second thread to wait for
    assert set(totals.seconds) == set(STAGES) - {"model load", "resample out", "find players", "masks wait"}
    assert all(s >= 0 for s in totals.seconds.values())
    assert totals.calls["stitch"] == totals.calls["mask net"] + 1  # one batch of windows, then finish
    before = dict(totals.calls)
    band_limited = StageTotals()
    with report_stages(band_limited):
        Separator(device="cpu", full_band=False).separate_file(video, "strips")
    assert "resample out" in band_limited.seconds
    separator.separate_file(video, "strips")  # nobody listening: nothing reported, nothing breaks
    assert totals.calls == before


def test_times_are_exclusive_and_iterators_are_timed_per_item():
    seen: list[tuple[str, float]] = []

    def slow(n):
        for i in range(n):
            time.sleep(0.01)
            yield i

    with report_stages(lambda name, s: seen.append((name, s))):
        start = time.perf_counter()
        with stage("outer"):
            time.sleep(0.02)
            with stage("inner"):
                time.sleep(0.03)
        wall = time.perf_counter() - start
        assert list(timed_iter("items", slow(2))) == [0, 1]
    names = [n for n, _ in seen]
    assert names == ["inner", "outer", "items", "items", "items"]  # the last: the StopIteration
    inner, outer = seen[0][1], seen[1][1]
    assert inner >= 0.03 and outer >= 0.02
    assert inner + outer == pytest.approx(wall, abs=0.005)  # the inner time is not counted twice
    assert sum(s for n, s in seen if n == "items") >= 0.02
    with stage("nobody listens"):  # a no-op
        pass
    assert len(seen) == 5
