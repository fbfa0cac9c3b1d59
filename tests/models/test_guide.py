"""Guide kinds: features, the classifier's music posterior, both, and the oracle label."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from avsep.errors import InputError
from avsep.models.guide import (
    GUIDES,
    LABELS,
    NAME_ALIASES,
    OTHER,
    class_posterior,
    class_views,
    combine,
    guide_dim,
    label_guide,
    name_class,
    picture_kind,
    posterior,
    with_other,
)
from avsep.models.imagenet_music import INSTRUMENT_CLASSES, MUSIC_CLASSES, MUSIC_INDICES
from tests.models.trunk_reference import imagenet_descriptions

M = len(MUSIC_INDICES)


def test_music_classes_match_imagenet_names():
    descriptions = imagenet_descriptions()
    for index, name in MUSIC_CLASSES.items():
        assert name.lower() in descriptions[index].lower(), (index, name)
    assert set(INSTRUMENT_CLASSES) == set(LABELS)
    assert all(set(v) <= set(MUSIC_INDICES) for v in INSTRUMENT_CLASSES.values())


def test_posterior_coordinates_are_pinned():
    """The posterior guide's coordinates, in order: a trained posterior-guided model reads its
    input by position, so changing this list silently breaks every such model (add classes to
    a new list and a new guide kind instead)."""
    assert MUSIC_INDICES == (
        401, 402, 420, 432, 486, 494, 513, 541, 546, 558, 566, 577, 579,
        593, 594, 641, 642, 683, 684, 687, 699, 776, 822, 875, 881, 889,
    )  # fmt: skip


def test_dims():
    assert [guide_dim(k, 1280) for k in GUIDES] == [1280, M + 1, 1280 + M + 1, len(LABELS), len(LABELS), 12, 12]
    assert picture_kind("label") == "classes" and picture_kind("posterior") == "posterior"
    with pytest.raises(InputError, match="--guide"):
        guide_dim("colour", 512)


def test_posterior_sums_to_one_with_a_rest_class():
    logits = torch.randn(5, 1000) * 3
    p = posterior(logits[:, list(MUSIC_INDICES)], torch.logsumexp(logits, -1))
    full = torch.softmax(logits, -1)[:, list(MUSIC_INDICES)]
    torch.testing.assert_close(p[:, :M], full)
    torch.testing.assert_close(p.sum(-1), torch.ones(5))


def test_combine_pools_frames():
    pooled = torch.rand(2, 3, 8)
    logits = torch.randn(2, 3, M)
    lse = torch.logsumexp(torch.cat([logits, torch.randn(2, 3, 50)], -1), -1)
    torch.testing.assert_close(combine("features", pooled, logits, lse), pooled.amax(1))
    post = combine("posterior", pooled, logits, lse)
    torch.testing.assert_close(post, posterior(logits, lse).mean(1))
    both = combine("both", pooled, logits, lse)
    assert both.shape == (2, 8 + M + 1)
    with pytest.raises(InputError):
        combine("label", pooled, logits, lse)


def test_class_posterior_gathers_the_instruments_of_each_class():
    post = torch.zeros(3, M + 1)
    post[0, MUSIC_INDICES.index(401)] = 0.9  # accordion
    post[0, -1] = 0.1
    post[1, MUSIC_INDICES.index(683)] = 0.5  # oboe: what a clarinet photo looks like
    post[1, MUSIC_INDICES.index(889)] = 0.3  # violin
    post[2, -1] = 1.0  # no instrument at all
    c = class_posterior(post)
    torch.testing.assert_close(c.sum(-1), torch.ones(3))
    assert c[0].argmax() == LABELS.index("accordion") and c[0].max() > 0.99
    assert c[1].argmax() == LABELS.index("clarinet") and abs(c[1, LABELS.index("violin")] - 0.375) < 1e-3
    assert c[2].max() - c[2].min() < 1e-6  # uniform: nothing to tell
    assert c[:2, LABELS.index("erhu")].max() < 1e-3  # no ImageNet class pictures an erhu


def test_class_views_take_the_view_that_sees_an_instrument():
    far = torch.full((1, 2, M), -10.0)  # the crop: nothing recognisable
    near = far.clone()
    near[0, :, MUSIC_INDICES.index(486)] = 10.0  # the closer view: a cello
    lse_far = torch.logsumexp(torch.cat([far, torch.zeros(1, 2, 1)], -1), -1)
    lse_near = torch.logsumexp(torch.cat([near, torch.zeros(1, 2, 1)], -1), -1)
    g = class_views(far, lse_far, near, lse_near)
    assert g.shape == (1, len(LABELS)) and abs(float(g.sum()) - 1) < 1e-5
    assert g[0].argmax() == LABELS.index("cello") and g[0].max() > 0.9


def test_centre_zoom_enlarges_the_middle():
    from avsep.models.visual import centre_zoom

    img = torch.zeros(1, 3, 100, 100)
    img[..., 40:60, 40:60] = 1.0  # a 20 px square in the middle
    z = centre_zoom(img)
    assert z.shape == img.shape and z.mean() > 2.5 * img.mean()


def test_label_guide_is_one_hot():
    g = label_guide(["violin", "accordion"])
    assert g.shape == (2, len(LABELS)) and g.sum() == 2
    assert g[0, LABELS.index("violin")] == 1 and g[1, LABELS.index("accordion")] == 1
    with pytest.raises(InputError, match="kazoo"):
        label_guide(["kazoo"])


@pytest.mark.parametrize("kind", ["posterior", "both"])
def test_trunk_guide_of_each_kind(kind):
    from avsep.models.visual import build_trunk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        trunk = build_trunk("resnet18")
    frames = torch.randint(0, 255, (2, 3, 64, 64, 3), dtype=torch.uint8)
    g = trunk.guide(frames, kind)
    assert g.shape == (2, guide_dim(kind, 512))
    post = g[:, -(M + 1) :]
    torch.testing.assert_close(post.sum(-1), torch.ones(2))
    # the same numbers as the parts the feature cache stores
    pooled, music, lse = trunk.frame_parts(trunk.normalize(frames.reshape(6, 64, 64, 3)))
    torch.testing.assert_close(g, combine(kind, pooled.view(2, 3, -1), music.view(2, 3, -1), lse.view(2, 3)))


@pytest.mark.parametrize(("kind", "seen"), [("label", "classes"), ("label-other", "classes")])
def test_a_label_model_reads_pictures_as_classes_and_takes_labels(tmp_path, kind, seen):
    from avsep.models.pcn import PCN, PCNConfig
    from avsep.models.serialize import load_checkpoint, save_checkpoint
    from avsep.separation.separator import Separator

    torch.manual_seed(0)
    dim = guide_dim(kind, 512)
    model = PCN(PCNConfig(visual_dim=dim, channels=(4, 4, 8, 8, 8, 8, 8), cycles=2))
    path = tmp_path / "oracle.pt"
    save_checkpoint(path, model, backbone="resnet18", guide=kind)
    assert load_checkpoint(path).guide == kind
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sep = Separator(path, device="cpu")
    assert sep.picture_kind == seen
    crops = np.random.default_rng(0).integers(0, 255, (1, 2, 3, 224, 224, 3), dtype=np.uint8)
    g = sep.guide(crops)
    # the separation's guides have an other coordinate whatever the model (here no guide head
    # reads a ResNet trunk, so an 11-class model's pictures are sure: other 0)
    assert sep.guide_space == "label-other" and g.shape == (1, 2, len(LABELS) + 1)
    torch.testing.assert_close(g.sum(-1), torch.ones(1, 2))
    # without the head (it reads EfficientNet-Lite0 only) the pictures' other share is 0, for a
    # label-other model too (ImageNet's "no music class" mass is high for many a player)
    to_model, rest = sep.model_guides(g)
    assert to_model.shape == (1, 2, dim) and g[..., -1].abs().max() == 0 and not rest.any()
    audio = np.random.default_rng(0).standard_normal(11025 * 2).astype(np.float32) * 0.1
    assert sep.separate_arrays(audio, 11025, [np.zeros((3, 32, 32, 3), np.uint8)] * 2).shape == (2, audio.size)
    out = sep.separate_arrays(audio, 11025, guides=label_guide(["violin", "flute"], kind))
    assert out.shape == (2, audio.size)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("violin", "violin"),
        ("Acoustic Guitar", "acoustic_guitar"),
        ("guitar", "acoustic_guitar"),
        ("acoustic-guitar", "acoustic_guitar"),
        ("sax", "saxophone"),
        ("violins", "violin"),
        ("violin2", "violin"),
        ("cello_1", "cello"),
        ("Tuba", "tuba"),
        ("piano", OTHER),
        ("Double Bass", OTHER),
        ("other", OTHER),
        ("lead", None),
        ("", None),
        (None, None),
    ],
)
def test_a_users_name_means_a_class_or_none(name, label):
    assert name_class(name) == label


def test_the_label_other_kind_adds_one_coordinate():
    assert guide_dim("label-other", 512) == guide_dim("classes-other", 512) == len(LABELS) + 1
    assert picture_kind("label-other") == "classes-other" and picture_kind("label") == "classes"
    g = label_guide(["other", "cello"], "label-other")
    assert g.shape == (2, len(LABELS) + 1) and g[0, -1] == 1 and g[1, LABELS.index("cello")] == 1
    with pytest.raises(InputError, match="other"):
        label_guide(["other"])  # an 11-class model has no such coordinate: training refuses it
    v = with_other(torch.tensor([[0.5, 0.5] + [0.0] * 9]), torch.tensor([0.2]))
    torch.testing.assert_close(v.sum(-1), torch.ones(1))
    assert float(v[0, -1]) == pytest.approx(0.2) and float(v[0, 0]) == pytest.approx(0.4)


def test_every_alias_names_a_class():
    assert set(NAME_ALIASES.values()) <= set(LABELS)
    assert all(name_class(label) == label for label in LABELS)
