"""Reading folders of real material: names, classes, licences, splits by file and by pitch."""

from __future__ import annotations

from pathlib import Path

import pytest

from avsep.errors import InputError
from avsep.models.guide import OTHER
from avsep.train.dataset.instruments import CLASSES, INSTRUMENTS
from avsep.train.dataset.library import file_split, note_midi, parse_audio_name, pitch_split, scan
from avsep.train.dataset.sources import SampledNotesSource
from tests.train.real_material import make_tree, write_notes, write_recordings


@pytest.mark.parametrize(
    "stem, expected",
    [
        ("violin_A3_025_forte_arco-normal", (57, 4, "arco-normal")),
        ("violin_A3_025_pianissimo_arco-normal", (57, 0, "arco-normal")),
        ("flute_C5_1_mezzo-piano_normal", (72, 2, "normal")),
        ("saxophone_Cs4_15_fortissimo_normal", (61, 5, "normal")),
        ("violin_A3_phrase_forte_arco-spiccato", (None, 3, "phrase")),  # a phrase names its first note
        ("harmonium-As2", (46, 3, "normal")),  # tonejs
        ("cello-F2 v2", (41, 3, "normal")),
        ("G4_pp", (67, 0, "normal")),  # VSCO
        ("Medley-solos-DB_test-0_0a282672-c22c-59ff-faaa-ff9eb73fc8e6", (None, 3, "normal")),
        ("john-garner_bwv1002_mov6", (None, 3, "normal")),
    ],
)
def test_file_names_say_pitch_dynamic_and_articulation(stem, expected):
    assert parse_audio_name(stem) == expected


def test_note_names():
    assert note_midi("A4") == 69 and note_midi("Cs6") == 85 and note_midi("C#6") == 85 and note_midi("Bb2") == 46
    assert note_midi("b2") is None and note_midi("mov6") is None


def test_scan_sorts_notes_recordings_photos_and_licences(tmp_path: Path):
    audio, photos = make_tree(tmp_path)
    lib = scan([audio], [photos], INSTRUMENTS)
    assert {n.pitch for n in lib.notes("violin")} == set(range(55, 80))
    assert len(lib.recordings("violin")) == 6 and not lib.notes("cello") and len(lib.recordings("cello")) == 5
    assert all(f.source == "npm" and f.licence == "CC-BY 3.0 test notes" for f in lib.audio["flute"])
    assert lib.audio["violin"][0].licence.startswith("unknown")
    assert len(lib.pictures["violin"]) == 10 and lib.pictures["violin"][0].licence == "test photos, public domain"
    assert lib.ignored == {"theremin": 3}
    assert lib.audio_roots == [audio] and lib.picture_roots == [photos]


def test_instruments_outside_the_11_are_the_class_other_when_a_build_asks_for_it(tmp_path: Path):
    audio = tmp_path / "audio"
    write_recordings(audio / "orchestra" / "viola", 2, 3.0)
    write_recordings(audio / "medley" / "piano", 1, 3.0)
    write_notes(audio / "orchestra" / "bassoon", "bassoon", range(40, 44))
    write_recordings(audio / "orchestra" / "theremin", 1, 3.0)
    write_recordings(audio / "orchestra" / "cello", 1, 3.0)
    lib = scan([audio], [], CLASSES)
    assert len(lib.recordings(OTHER)) == 3 and {n.pitch for n in lib.notes(OTHER)} == set(range(40, 44))
    assert lib.ignored == {"theremin": 1}  # not an instrument the build knows: still ignored
    notes = SampledNotesSource()
    notes.setup(lib, CLASSES, 12.0, None)
    assert not notes.available(OTHER, "train")  # many instruments' notes make no melody
    eleven = scan([audio], [], INSTRUMENTS)
    assert OTHER not in eleven.audio and set(eleven.ignored) == {"viola", "piano", "bassoon", "theremin"}


def test_manifest_licences_are_read(tmp_path: Path):
    audio, _ = make_tree(tmp_path)
    f = sorted((audio / "orchestra" / "cello").iterdir())[0]
    (tmp_path / "MANIFEST.tsv").write_text(
        f"path\tsource\tcommit\tlicence\tclass\naudio/orchestra/cello/{f.name}\tx\t0\tCC0 from the manifest\tcello\n"
    )
    lib = scan([audio], [], INSTRUMENTS)
    licences = {r.path.name: r.licence for r in lib.recordings("cello")}
    assert licences[f.name] == "CC0 from the manifest"


def test_a_tree_without_our_classes_is_an_input_error(tmp_path: Path):
    (tmp_path / "kazoo").mkdir()
    (tmp_path / "kazoo" / "a.wav").write_bytes(b"")
    with pytest.raises(InputError, match="no audio or picture files"):
        scan([tmp_path], [], INSTRUMENTS)
    with pytest.raises(InputError, match="folder not found"):
        scan([tmp_path / "missing"], [], INSTRUMENTS)


def test_file_split_is_disjoint_stable_and_independent_of_the_others(tmp_path: Path):
    items = [type("F", (), {"rel": f"src/violin/{i}.wav"})() for i in range(30)]
    a = file_split(items)
    assert len(a["val"]) == len(a["test"]) == 3 and len(a["train"]) == 24
    keys = {s: {f.rel for f in v} for s, v in a.items()}
    assert not keys["train"] & (keys["val"] | keys["test"]) and not keys["val"] & keys["test"]
    b = file_split(list(reversed(items)))
    assert {s: {f.rel for f in v} for s, v in b.items()} == keys


def test_pitch_split_spreads_held_out_pitches_over_the_range():
    split = pitch_split(range(40, 90))
    held = sorted(p for p, s in split.items() if s != "train")
    assert {s for s in split.values()} == {"train", "val", "test"}
    assert max(b - a for a, b in zip(held, held[1:])) <= 8  # a held-out melody shifts <= 4 semitones
    assert pitch_split(reversed(range(40, 90))) == split
