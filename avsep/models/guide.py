"""What the mask network is told about a box: the kinds of visual guide.

The method's guide is the pooled last conv map of the frozen trunk (``features``): 512 or 1280
numbers that describe the picture. It names the instrument only through what the mask network
learned from its training pictures, so pictures unlike real frames (clipart) give a guide that
does not transfer. The trunk's own ImageNet classifier was trained on real photographs and
already names the instrument of a real frame; its posterior over the music classes
(:mod:`avsep.models.imagenet_music`) is a guide that transfers by construction. Kinds:

* ``features``: max over the frames and over space of the conv map, ``[C]`` (Sound of Pixels);
* ``posterior``: the classifier's probabilities of the music classes, averaged over the
  frames, plus the probability of "none of them" (so a picture with no instrument says so),
  ``[M + 1]``;
* ``both``: the two concatenated, ``[C + M + 1]``;
* ``classes``: the same posterior gathered into avsep's 11 classes
  (:data:`~avsep.models.imagenet_music.INSTRUMENT_CLASSES`: the ImageNet classes that picture
  each instrument) and renormalised, ``[11]``: the classifier's answer to "which of our
  instruments is this?". From pictures it is read from two views of each crop, the crop and
  its centre enlarged, whichever sees more of our instruments (:func:`class_views`): a wide
  box shows its player small;
* ``label``: a one-hot of the true class. A network trained with true labels learns what each
  instrument sounds like from a guide that is never wrong; on a video the label is unknown, so
  it is given the ``classes`` vector of the box instead (the same 11 coordinates: a confident
  frame is nearly the one-hot it was trained with). With true labels at evaluation time it is
  the *oracle*: what a perfect guide would give.

Every kind is a function of three per-frame quantities (:func:`combine`): the spatially
max-pooled map, the music-class logits and the log-sum-exp of all 1000 logits, which is what
the feature cache stores.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from avsep.errors import InputError, check_one_of
from avsep.models.imagenet_music import INSTRUMENT_CLASSES, MUSIC_INDICES
from avsep.signal.dsp import taking_rest

#: the label guide widened by :data:`OTHER`, and the picture-read guide in the same coordinates
LABEL_OTHER = "label-other"
CLASSES_OTHER = "classes-other"
GUIDES = ("features", "posterior", "both", "classes", "label", CLASSES_OTHER, LABEL_OTHER)
#: the classes a ``label`` guide can name: the MUSIC dataset's 11 (avsep's instruments)
LABELS = (
    "accordion", "acoustic_guitar", "cello", "clarinet", "erhu", "flute",
    "saxophone", "trumpet", "tuba", "violin", "xylophone",
)  # fmt: skip
#: every instrument outside :data:`LABELS`, as one class
OTHER = "other"
#: the coordinates of each one-hot kind: ``label-other`` adds :data:`OTHER` to the 11, a
#: learnt guide for "an instrument, not one of these"
LABEL_KINDS: dict[str, tuple[str, ...]] = {"label": LABELS, LABEL_OTHER: (*LABELS, OTHER)}
#: the kinds read from a box's pictures by naming its instrument (the head or ImageNet's classes)
CLASS_KINDS = ("classes", CLASSES_OTHER)


#: Words people write for a class (a user's ``--names``, a boxes file): the class each means.
NAME_ALIASES = {
    "guitar": "acoustic_guitar", "acoustic": "acoustic_guitar", "classical_guitar": "acoustic_guitar",
    "nylon_guitar": "acoustic_guitar", "sax": "saxophone", "alto_sax": "saxophone", "tenor_sax": "saxophone",
    "alto_saxophone": "saxophone", "tenor_saxophone": "saxophone", "fiddle": "violin", "violoncello": "cello",
    "trumpets": "trumpet", "xylo": "xylophone", "marimba": "xylophone", "accordian": "accordion",
    "squeezebox": "accordion", "bass_tuba": "tuba", "huqin": "erhu",
}  # fmt: skip


#: Instruments people name that are none of the 11: each means :data:`OTHER`.
OTHER_NAMES = frozenset(
    {
        "other", "piano", "keyboard", "keys", "organ", "harpsichord", "voice", "vocal", "vocals", "singer",
        "drum", "drums", "percussion", "bass", "double_bass", "contrabass", "electric_bass", "bass_guitar",
        "electric_guitar", "viola", "oboe", "bassoon", "horn", "french_horn", "trombone", "harp", "banjo",
        "mandolin", "sitar", "tabla", "harmonica", "ukulele", "recorder", "synth", "synthesizer",
    }
)  # fmt: skip


def name_class(name: str | None) -> str | None:
    """The class a user's name for a box means: one of :data:`LABELS`, :data:`OTHER`, or None.

    Case, spaces, hyphens, a plural ``s`` and a player number (``violin2``, ``violin_1``) do not
    matter: ``"Acoustic Guitar"``, ``"guitar"`` and ``"violins"`` all name a class; ``"lead"``
    does not. ``"piano"`` (an instrument of :data:`OTHER_NAMES`) means :data:`OTHER`: whatever
    the model, such a box takes what the named boxes leave (:mod:`avsep.separation.named`)."""
    if not name:
        return None
    word = "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
    word = word.rstrip("0123456789").rstrip("_")
    for candidate in (word, word[:-1] if word.endswith("s") else word):
        if candidate in LABELS:
            return candidate
        if candidate in NAME_ALIASES:
            return NAME_ALIASES[candidate]
        if candidate in OTHER_NAMES:
            return OTHER
    return None


def check_guide(kind: str) -> str:
    check_one_of("--guide", kind, GUIDES)
    return kind


def is_label(kind: str) -> bool:
    """A one-hot kind (trained with true classes; read from pictures as ``classes``)."""
    return kind in LABEL_KINDS


def labels_of(kind: str) -> tuple[str, ...]:
    """The classes a label-trained network knows (``label``: the 11; ``label-other``: + other)."""
    return LABEL_KINDS[kind]


def guide_dim(kind: str, feature_dim: int) -> int:
    """The length of a guide vector of ``kind`` for a trunk with ``feature_dim`` channels."""
    posterior = len(MUSIC_INDICES) + 1
    return {
        "features": feature_dim,
        "posterior": posterior,
        "both": feature_dim + posterior,
        "classes": len(LABELS),
        "label": len(LABELS),
        CLASSES_OTHER: len(LABELS) + 1,
        LABEL_OTHER: len(LABELS) + 1,
    }[check_guide(kind)]


def picture_kind(kind: str) -> str:
    """The kind computed from pictures for a network trained with ``kind`` (a label-trained
    network reads the frames' ``classes`` vector, which has the label's coordinates)."""
    return {"label": "classes", LABEL_OTHER: CLASSES_OTHER}.get(kind, kind)


def posterior(music_logits: torch.Tensor, logsumexp: torch.Tensor) -> torch.Tensor:
    """Per-frame probabilities ``[..., M + 1]``: the music classes, then everything else."""
    p = torch.exp(music_logits.float() - logsumexp.float().unsqueeze(-1))
    rest = (1.0 - p.sum(-1, keepdim=True)).clamp_min(0.0)
    return torch.cat([p, rest], -1)


def _class_map() -> torch.Tensor:
    """``[M + 1, len(LABELS)]``: 1 where a posterior coordinate pictures a label."""

    where = {index: k for k, index in enumerate(MUSIC_INDICES)}
    out = torch.zeros(len(MUSIC_INDICES) + 1, len(LABELS))
    for j, label in enumerate(LABELS):
        for index in INSTRUMENT_CLASSES[label]:
            out[where[index], j] = 1.0
    return out


def class_posterior(post: torch.Tensor, floor: float = 1e-4) -> torch.Tensor:
    """A music posterior ``[..., M + 1]`` gathered into avsep's classes ``[..., 11]``, summing
    to 1 (a picture of no known instrument gives a near-uniform vector, not a confident one)."""
    mass = post.float() @ _class_map() + floor
    return mass / mass.sum(-1, keepdim=True)


def class_views(
    music_logits: torch.Tensor,
    logsumexp: torch.Tensor,
    zoom_logits: torch.Tensor,
    zoom_lse: torch.Tensor,
    other: bool = False,
) -> torch.Tensor:
    """The ``classes`` guide from two views of each frame (the crop and a closer one): each
    frame takes the class posterior of the view that sees more of avsep's instruments (the
    larger probability mass on their ImageNet classes), then the frames are averaged.
    ``[B, F, M]`` logits and ``[B, F]`` log-sum-exps per view -> ``[B, 11]``; with ``other``,
    ``classes-other`` ``[B, 12]`` (the crop's "none of the music classes" mass as ``other``)."""
    views = [posterior(music_logits, logsumexp), posterior(zoom_logits, zoom_lse)]
    mass = torch.stack([(v.float() @ _class_map()).sum(-1) for v in views])  # [2, B, F]
    best = torch.where((mass[1] > mass[0]).unsqueeze(-1), class_posterior(views[1]), class_posterior(views[0]))
    mean = best.mean(dim=1)
    mean = mean / mean.sum(-1, keepdim=True)
    return with_other(mean, views[0][..., -1].mean(dim=1)) if other else mean


def combine(kind: str, pooled: torch.Tensor, music_logits: torch.Tensor, logsumexp: torch.Tensor) -> torch.Tensor:
    """The guide of a box from its frames: ``pooled [B, F, C]``, ``music_logits [B, F, M]``,
    ``logsumexp [B, F]`` -> ``[B, D]``."""
    if kind == "features":
        return pooled.amax(dim=1)
    post = posterior(music_logits, logsumexp).mean(dim=1)
    if kind == "posterior":
        return post
    if kind == "both":
        return torch.cat([pooled.amax(dim=1).float(), post], -1)
    if kind == "classes":
        return class_posterior(post)
    if kind == CLASSES_OTHER:
        return with_other(class_posterior(post), post[..., -1])
    raise InputError(f"a {kind!r} guide is not computed from pictures")


def with_other(classes: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """The 12-coordinate ``classes-other`` vector from an 11-class vector summing to 1 and the
    probability that the picture shows none of them: ``[(1 - o) * classes, o]``."""
    o = other.float().clamp(0.0, 1.0).unsqueeze(-1)
    return torch.cat([classes.float() * (1.0 - o), o], -1)


def label_guide(labels: Sequence[str], kind: str = "label") -> torch.Tensor:
    """One-hot guides ``[len(labels), len(labels_of(kind))]`` for a one-hot (oracle) kind."""
    known = labels_of(kind)
    unknown = [lab for lab in labels if lab not in known]
    if unknown:
        raise InputError(f"no label guide for {', '.join(unknown)}; the classes are {', '.join(known)}")
    out = torch.zeros(len(labels), len(known))
    for i, lab in enumerate(labels):
        out[i, known.index(lab)] = 1.0
    return out


def louder_where_competing(guides: torch.Tensor, rest: torch.Tensor | None, gain: float) -> torch.Tensor:
    """``guides`` ``[B, S, D]`` times ``gain`` in each mixture where two or more boxes are guided
    by the network (all boxes when ``rest`` is None; otherwise those not taking what the others
    leave, :func:`avsep.signal.dsp.taking_rest`), unchanged elsewhere.

    Why only there: a louder guide makes competing boxes' masks differ more, so the shared
    masks divide each bin more decisively; a lone box only gets a larger mask and lets more of
    the rest in (:mod:`avsep.train.guide_gain`).
    """
    if gain == 1.0:
        return guides
    guided = torch.ones(guides.shape[:2], dtype=torch.bool, device=guides.device)
    if rest is not None:
        guided = ~taking_rest(rest.to(guides.device))
    competing = guided.sum(1) >= 2  # [B]
    scale = torch.where(competing, gain, 1.0).to(guides.dtype)
    return guides * scale[:, None, None]
