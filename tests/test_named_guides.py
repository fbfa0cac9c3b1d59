"""The user's names steer the guide (issue 28 item 0): a box named with one of the model's
classes is guided by that class, through the CLI and the Python API; a box named with an
instrument outside them takes what the others leave; other names, automatic mode and
``--guide frames`` leave the frames in charge, and the report line says which."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from avsep.models.guide import LABELS, label_guide
from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import save_checkpoint
from avsep.separation.named import AlikeGuidesWarning, named_guides
from avsep.separation.separator import Separator
from avsep.signal import dsp
from avsep.train.guide_gain import gain_guide
from tests.cli_support import cli
from tests.media import make_video

BOXES = ("0,0,112,112", "112,0,224,112")


@pytest.fixture(scope="module")
def label_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny, random label-guided PCN: its masks depend on the guide, so a changed guide shows."""
    torch.manual_seed(3)
    model = PCN(PCNConfig(visual_dim=len(LABELS), channels=(4, 4, 8, 8, 8, 8, 8), cycles=2))
    path = tmp_path_factory.mktemp("models") / "label.pt"
    save_checkpoint(path, model, backbone="resnet18", guide="label")
    return path


@pytest.fixture(scope="module")
def swapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One soundtrack under two pictures: red | blue, and blue | red."""
    folder = tmp_path_factory.mktemp("videos")
    red, blue = (255, 0, 0), (0, 0, 255)
    a = make_video(folder / "a" / "duet.mp4", duration=2.0, width=224, height=112, panels=(red, blue))
    b = make_video(folder / "b" / "duet.mp4", duration=2.0, width=224, height=112, panels=(blue, red))
    return a, b


def _separate(video: Path, model: Path, out: Path, *extra: str) -> tuple[list[bytes], str]:
    result = cli("separate", video, "--model", model, "--boxes", *BOXES, "-o", out, "--device", "cpu", *extra)
    files = sorted((out / "duet").glob("*.wav"))
    return [f.read_bytes() for f in files], result.output


def test_named_boxes_ignore_their_pictures_and_say_so(label_model: Path, swapped, tmp_path: Path):
    a, b = swapped
    names = ("--names", "violin", "fiddle2")
    out_a, said = _separate(a, label_model, tmp_path / "a", *names)
    out_b, _ = _separate(b, label_model, tmp_path / "b", *names)
    assert out_a == out_b  # the names, not the swapped pictures, guided both boxes
    assert "guided by the names violin, fiddle2 (violin)" in said
    frames_a, said_frames = _separate(a, label_model, tmp_path / "fa", *names, "--guide", "frames")
    frames_b, _ = _separate(b, label_model, tmp_path / "fb", *names, "--guide", "frames")
    assert frames_a != frames_b and frames_a != out_a  # the pictures guide: they show
    assert "guided by" not in said_frames


def test_names_of_one_class_warn_that_their_boxes_come_out_alike(label_model: Path, swapped, tmp_path: Path):
    """guitar and acoustic_guitar (or violin1 and violin2) get one guide, hence one mask: said, with
    the option that splits players of one instrument; not said for two instruments, nor when
    that option is on."""
    a, _ = swapped
    _, said = _separate(a, label_model, tmp_path / "same", "--names", "guitar", "acoustic_guitar")
    assert (
        f"warning: {a}: guitar and acoustic_guitar are both guided by acoustic_guitar (their names), so they "
        "will come out alike; --same-instrument motion splits players of one instrument" in " ".join(said.split())
    )
    _, said = _separate(a, label_model, tmp_path / "two", "--names", "violin", "cello")
    assert "come out alike" not in said
    _, said = _separate(a, label_model, tmp_path / "others", "--names", "piano", "voice")  # both take the rest
    assert "come out alike" not in said
    _, said = _separate(
        a, label_model, tmp_path / "motion", "--names", "violin1", "violin2", "--same-instrument", "motion"
    )
    assert "come out alike" not in said
    with pytest.warns(AlikeGuidesWarning, match=r"violin1 and violin2 .* same_instrument='motion' splits"):
        Separator(label_model, device="cpu").separate_file(
            a, [(0, 0, 112, 112), (112, 0, 224, 112)], names=["violin1", "violin2"]
        )


def test_the_cli_gives_what_the_label_guide_gives_in_process(label_model: Path, swapped, tmp_path: Path):
    a, _ = swapped
    _separate(a, label_model, tmp_path / "cli", "--names", "flute", "tuba", "--format", "float", "--mono")
    got = np.stack([sf.read(tmp_path / "cli" / "duet" / f"{n}.wav", dtype="float32")[0] for n in ("flute", "tuba")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sep = Separator(label_model, device="cpu")
        want = sep.separate_file(a, [(0, 0, 112, 112), (112, 0, 224, 112)], names=["flute", "tuba"], mono=True)
        oracle = sep.separate_file(a, [(0, 0, 112, 112), (112, 0, 224, 112)], mono=True)
    np.testing.assert_allclose(got, want.sources, atol=1e-6)
    assert not np.allclose(got, oracle.sources, atol=1e-4)  # without names the frames guide


def test_a_name_that_is_no_instrument_leaves_its_frames_in_charge(label_model: Path, swapped, tmp_path: Path):
    a, b = swapped
    out_a, said = _separate(a, label_model, tmp_path / "a", "--names", "lead", "flute")
    out_b, _ = _separate(b, label_model, tmp_path / "b", "--names", "lead", "flute")
    assert out_a != out_b  # the lead box reads its (swapped) pictures
    assert "by the frames: lead (not one of the model's classes)" in said


def test_an_outside_instrument_takes_what_the_named_boxes_leave(label_model: Path, swapped, tmp_path: Path):
    a, b = swapped
    out_a, said = _separate(a, label_model, tmp_path / "a", "--names", "piano", "flute")
    out_b, _ = _separate(b, label_model, tmp_path / "b", "--names", "piano", "flute")
    assert out_a == out_b  # neither box reads its (swapped) pictures
    assert "guided by the names flute; piano (other) takes what the other boxes leave" in said
    rate = 11025  # the model's rate: no band above it, whose extension looks across the boxes
    mix = np.random.default_rng(0).standard_normal(3 * rate).astype(np.float32) * 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sep = Separator(label_model, device="cpu", mask="soft")
        piano, flute = sep.separate_arrays(mix, rate, names=["piano", "flute"])
        (alone,) = sep.separate_arrays(mix, rate, names=["flute"])
        lead = sep.separate_arrays(mix, rate, [np.zeros((1, 8, 8, 3), np.uint8)] * 2, names=["lead", "flute"])
        ratio = Separator(label_model, device="cpu", mask="ratio").separate_arrays(mix, rate, names=["piano", "flute"])
    np.testing.assert_allclose(flute, alone, atol=1e-5)  # the named box is not changed by it
    # ratio masks: the flute has no named rival, so nothing is sharpened (the rest keeps its share)
    np.testing.assert_allclose(ratio[1], alone, atol=1e-5)
    np.testing.assert_allclose(piano + flute, mix, atol=2e-3)  # the rest: the mixture less the flute
    assert np.abs(lead[0] + lead[1] - mix).max() > 1e-2  # a box guided by its frames has its own mask


def test_a_model_that_knows_other_guides_an_outside_instrument_by_it(swapped, tmp_path: Path):
    torch.manual_seed(4)
    model = PCN(PCNConfig(visual_dim=len(LABELS) + 1, channels=(4, 4, 8, 8, 8, 8, 8), cycles=2))
    path = tmp_path / "label-other.pt"
    save_checkpoint(path, model, backbone="resnet18", guide="label-other")
    a, b = swapped
    out_a, said = _separate(a, path, tmp_path / "a", "--names", "piano", "flute")
    out_b, _ = _separate(b, path, tmp_path / "b", "--names", "piano", "flute")
    assert out_a == out_b  # both boxes named: the swapped pictures change nothing
    assert "piano (other) takes what the other boxes leave" in said
    named = named_guides(["viola", "lead"], 2, "label-other")
    assert named is not None and named.classes == ("other", None)
    got = named.apply(lambda: torch.zeros(1, 2, len(LABELS) + 1), 1)
    torch.testing.assert_close(got[0, 0], label_guide(["other"], "label-other")[0])


def test_boxes_all_outside_the_classes_keep_the_models_masks(label_model: Path):
    named = named_guides(["piano", "other"], 2, "label-other")
    assert named is not None and named.all_named
    assert "guided as an instrument outside the model's classes: piano (other), other" in named.describe()
    guides = named.apply(lambda: pytest.fail("no pictures needed"), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sep = Separator(label_model, device="cpu")
    to_model, rest = sep.model_guides(guides)  # an 11-class model: "none of the 11" is uniform
    torch.testing.assert_close(to_model[0], torch.full((2, len(LABELS)), 1 / len(LABELS)))
    assert rest.all()
    masks = torch.rand(1, 2, 4, 5)
    assert torch.equal(dsp.take_rest(masks, rest), masks)  # nobody named: nothing to take the rest of


def test_found_players_are_not_steered_by_names(label_model: Path, swapped, tmp_path: Path):
    a, _ = swapped
    result = cli("separate", a, "--model", label_model, "--names", "violin", "flute", "-o", tmp_path, "--device", "cpu")
    assert "--names only name the files of players found" in result.output


def test_named_guides_apply_only_where_a_name_means_a_class():
    assert named_guides(["violin", "flute"], 2, "features") is None  # a model without class labels
    assert named_guides(["violin"], 2, "label") is None  # not one name per box
    named = named_guides(["violin", "lead"], 2, "label")
    assert named is not None and named.classes == ("violin", None) and not named.all_named
    pictures = torch.full((3, 2, len(LABELS)), 0.5)
    got = named.apply(lambda: pictures, 3)
    torch.testing.assert_close(got[:, 0], label_guide(["violin"]).expand(3, -1))
    torch.testing.assert_close(got[:, 1], pictures[:, 1])
    everyone = named_guides(["violin", "cello"], 2, "label")
    assert everyone.all_named
    assert everyone.apply(lambda: pytest.fail("no pictures needed"), 1).shape == (1, 2, len(LABELS))


def test_a_gained_model_is_louder_only_where_boxes_compete(label_model: Path, tmp_path: Path):
    """A model file's guide gain (avsep.train.guide_gain) multiplies the guides of two or more
    boxes the network guides, as a larger guide vector would (also boxes all outside the classes,
    which keep their own masks); a lone box (alone, or beside one taking the rest) is separated
    exactly as by the model without it."""
    gained = tmp_path / "gained.pt"
    gain_guide(label_model, 3.0, gained)
    rate = 11025
    mix = np.random.default_rng(1).standard_normal(3 * rate).astype(np.float32) * 0.1
    duet = ["violin", "flute"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain, loud = (Separator(m, device="cpu", mask="soft") for m in (label_model, gained))
        louder = loud.separate_arrays(mix, rate, names=duet)
        np.testing.assert_allclose(louder, plain.separate_arrays(mix, rate, guides=3 * label_guide(duet)), atol=1e-5)
        assert np.abs(louder - plain.separate_arrays(mix, rate, names=duet)).max() > 1e-3
        # boxes all outside the classes keep their own masks (nothing to take the rest of): they compete
        outside = loud.separate_arrays(mix, rate, names=["piano", "viola"])
        uniform = torch.full((2, len(LABELS)), 3 / len(LABELS))
        np.testing.assert_allclose(outside, plain.separate_arrays(mix, rate, guides=uniform), atol=1e-5)
        for lone in (["flute"], ["piano", "flute"]):
            np.testing.assert_array_equal(
                loud.separate_arrays(mix, rate, names=lone), plain.separate_arrays(mix, rate, names=lone)
            )
