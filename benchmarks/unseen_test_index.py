"""Write a test index whose melodies neither of two dataset builds trained or validated on.

Two `avsep data build` runs with different `--hours` deal the music21 works to their splits
differently, so one build's test clips can use works the other build trained on. To compare
models trained on the two builds fairly, keep only the test clips of NEW whose work is in
neither the train nor the val split of OLD (NEW's own test clips are unseen by NEW's model by
construction; pictures are split by seed alone, so they are held out in both builds). The
output CSV is written into NEW's folder, beside its meta.json, so the frame rate is found.

    python -m benchmarks.unseen_test_index data/synth data/synth8 test-unseen-by-both.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def clips(dataset: Path) -> list[dict]:
    return [json.loads(line) for line in (dataset / "clips.jsonl").read_text().splitlines() if line]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path, help="the other build (its train/val works are excluded)")
    ap.add_argument("new", type=Path, help="the build whose test split is filtered")
    ap.add_argument("name", help="file name of the filtered CSV, written into NEW")
    args = ap.parse_args()

    seen = {c["work"] for c in clips(args.old) if c["split"] in ("train", "val")}
    work_of = {c["audio"]: c["work"] for c in clips(args.new)}
    rows = (args.new / "test.csv").read_text().splitlines(keepends=True)
    kept = [r for r in rows if work_of[r.split(",", 1)[0]] not in seen]
    (args.new / args.name).write_text("".join(kept))
    print(f"{args.new / args.name}: {len(kept)} of {len(rows)} test clips use works unseen by {args.old}")


if __name__ == "__main__":
    main()
