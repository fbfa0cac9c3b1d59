"""Predictive-coding recurrent convolutional network (PCN) for visually guided separation.

The network follows the published method (patent "声源分离方法及装置"): a stack of 7 conv
layers and 7 transposed-conv layers that exchange signals for ``cycles`` iterations.

* **Predictions travel down.** The mixture's log-spectrogram enters the top conv layer; each
  conv layer turns the response above it into a prediction of the layer below (stride 2, so the
  256 x 256 input becomes a 2 x 2 map at layer 7).
* **The visual feature is the bottom response.** The guide vector of the box is projected and
  tiled onto the 2 x 2 grid: it is what the audio stream's deepest prediction is compared with.
* **Errors travel up.** At every layer the prediction error (response minus prediction) goes
  through a transposed conv to form the response of the layer above.
* **Recurrence.** In the next cycle each conv unit adds ``a_l`` times the same-layer response
  of the transposed-conv stream, and each transposed-conv unit adds ``b_l`` times the same-layer
  prediction of the conv stream: the learnable per-layer balance terms.

After the last cycle the top transposed-conv response (half resolution) goes through one 3 x 3
transposed conv to 1 channel, a x2 upsampling and a sigmoid: the mask on the warped grid.

Why this is cheaper than it looks: the first cycle's downward pass sees no transposed-conv
response yet, so it depends on the audio only and is shared by every box of the same mixture
(``forward`` takes ``[B, S, D]`` visual features for ``S`` boxes of ``B`` mixtures).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

#: Floor of the log-magnitude input (natural log of 1e-5).
SILENCE_FLOOR = math.log(1e-5)


def _conv(conv: nn.Conv2d | nn.ConvTranspose2d, h: torch.Tensor) -> torch.Tensor:
    """``conv(h)``, in float32 under CPU bfloat16 autocast where a convolution one column wide
    is computed: a conv's output, or (in its backward pass) a transposed conv's input. Why:
    oneDNN's bf16 kernel gives wrong numbers, NaN at times, for a 4 x 4 stride-2 convolution
    whose output is 1 wide (torch 2.9 and 2.13 on AMX CPUs, batches of 4 or more). A 32767-sample
    training crop makes the bottom layer so (``--amp`` diverged within six steps); the
    separation's 65535-sample windows do not (its bottom is 2 wide), and run as before."""
    narrow = h.shape[-1] < 4 if isinstance(conv, nn.Conv2d) else h.shape[-1] < 2
    if narrow and h.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
        with torch.autocast("cpu", enabled=False):
            return conv(h.float())
    return conv(h)


@dataclass(frozen=True)
class PCNConfig:
    """Hyper-parameters; stored in checkpoints so a file always rebuilds its own network."""

    visual_dim: int = 512
    #: Output channels of conv layers 1..7 (the transposed conv of layer l maps back to l-1).
    channels: tuple[int, ...] = (16, 32, 64, 128, 128, 128, 128)
    cycles: int = 4
    negative_slope: float = 0.2
    #: Initial value of the balance terms a_l, b_l.
    balance_init: float = 0.5
    #: Group normalisation of every conv / transposed-conv output (groups per layer; 0 = off).
    norm_groups: int = 8

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "PCNConfig":
        d = dict(d)
        d["channels"] = tuple(d["channels"])
        # Files written before group normalisation existed describe a network without it.
        d.setdefault("norm_groups", 0)
        return cls(**d)


class PCN(nn.Module):
    """Mask predictor: ``forward(log_mag [B,1,H,W], visual [B,D] or [B,S,D]) -> [B,(S,)H,W]``."""

    arch = "pcn"

    def __init__(self, config: PCNConfig = PCNConfig()) -> None:
        super().__init__()
        if len(config.channels) != 7:
            raise ValueError("the PCN has exactly 7 conv layers; give 7 channel counts")
        self.config = config
        ch = (1,) + tuple(config.channels)
        self.down = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], kernel_size=4, stride=2, padding=1) for i in range(7))
        # up[i] maps layer i+1's error to layer i's response, for i = 1..6 (index 0 unused
        # would be the head; the head is separate because it ends at 1 channel, full size).
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(ch[i + 1], ch[i], kernel_size=4, stride=2, padding=1) for i in range(1, 7)
        )
        self.down_norm = nn.ModuleList(self._norm(c) for c in ch[1:])
        self.up_norm = nn.ModuleList(self._norm(c) for c in ch[1:7])
        self.head = nn.ConvTranspose2d(ch[1], 1, kernel_size=3, stride=1, padding=1)
        self.visual = nn.Linear(config.visual_dim, ch[7])
        self.a = nn.Parameter(torch.full((7,), config.balance_init))
        self.b = nn.Parameter(torch.full((6,), config.balance_init))
        self._init_weights()

    def _init_weights(self) -> None:
        """Variance-preserving init for LeakyReLU stacks.

        With PyTorch's default init every layer shrinks its input about threefold, so the
        visual bottom response reached the mask ~1000x attenuated and the untrained network
        ignored the box. He init (for transposed convs: fan-in = in_channels x (k/stride)^2
        taps per output) lets the visual error travel up from the start.
        """
        slope = self.config.negative_slope
        gain = math.sqrt(2.0 / (1 + slope**2))
        for conv in self.down:
            nn.init.kaiming_normal_(conv.weight, a=slope, nonlinearity="leaky_relu")
            nn.init.zeros_(conv.bias)
        for deconv in self.up:
            taps = deconv.in_channels * (deconv.kernel_size[0] // deconv.stride[0]) ** 2
            nn.init.normal_(deconv.weight, 0.0, gain / math.sqrt(taps))
            nn.init.zeros_(deconv.bias)
        # Start near mask = 0.5 everywhere: an uncommitted guess, not a saturated sigmoid.
        nn.init.normal_(self.head.weight, 0.0, 0.01)
        nn.init.zeros_(self.head.bias)

    def _norm(self, channels: int) -> nn.Module:
        """GroupNorm, not BatchNorm: the same layer runs once per cycle, with different
        statistics each time, and inference runs on batches of one window."""
        groups = self.config.norm_groups
        return nn.GroupNorm(min(groups, channels), channels) if groups else nn.Identity()

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.config.negative_slope)

    def _down(self, x: torch.Tensor, responses: list[torch.Tensor] | None) -> list[torch.Tensor]:
        """Predictions p_1..p_7; ``responses`` (r_1..r_7 of the previous cycle) feed back."""
        preds = []
        h = x
        for layer, conv in enumerate(self.down):
            h = self.down_norm[layer](_conv(conv, h))
            if responses is not None:
                h = h + self.a[layer] * responses[layer]
            h = self._act(h)
            preds.append(h)
        return preds

    def _up(self, preds: list[torch.Tensor], bottom: torch.Tensor) -> list[torch.Tensor]:
        """Responses r_1..r_7 from the errors, starting at the visual bottom response r_7."""
        responses = [bottom]
        r = bottom
        for layer in range(6, 0, -1):  # error at layer l = layer+1 goes to layer l-1
            err = r - preds[layer]
            up = self.up_norm[layer - 1](_conv(self.up[layer - 1], err))
            r = self._act(up + self.b[layer - 1] * preds[layer - 1])
            responses.append(r)
        responses.reverse()
        return responses

    @staticmethod
    def standardize(log_mag: torch.Tensor) -> torch.Tensor:
        """Zero-mean, unit-variance log-spectrogram per example.

        A gain change is a constant shift of the log-magnitude, so this makes the mask
        independent of the recording's loudness, and keeps activations in range.
        """
        # Bins more than 100 dB below full scale carry nothing audible, but digital silence
        # (log 1e-10 = -23) would otherwise dominate the statistics of a sparse spectrogram.
        log_mag = log_mag.clamp_min(SILENCE_FLOOR)
        mean = log_mag.mean(dim=(1, 2, 3), keepdim=True)
        std = log_mag.std(dim=(1, 2, 3), keepdim=True).clamp_min(1e-3)
        return (log_mag - mean) / std

    def forward(self, log_mag: torch.Tensor, visual: torch.Tensor, return_logits: bool = False) -> torch.Tensor:
        log_mag = self.standardize(log_mag)
        per_box = visual.dim() == 3
        if not per_box:
            visual = visual.unsqueeze(1)
        batch, sources = visual.shape[:2]
        # Cycle 1's downward pass is audio-only: compute it once per mixture, share it.
        preds = [p.repeat_interleave(sources, dim=0) for p in self._down(log_mag, None)]
        x = log_mag.repeat_interleave(sources, dim=0)
        bottom_hw = preds[-1].shape[-2:]
        bottom = self.visual(visual.reshape(batch * sources, -1))[:, :, None, None]
        bottom = bottom.expand(-1, -1, *bottom_hw)
        responses = self._up(preds, bottom)
        for _ in range(self.config.cycles - 1):
            preds = self._down(x, responses)
            responses = self._up(preds, bottom)
        logits = F.interpolate(self.head(responses[0]), scale_factor=2, mode="bilinear", align_corners=False).squeeze(1)
        logits = logits.reshape(batch, sources, *logits.shape[-2:])
        if not per_box:
            logits = logits.squeeze(1)
        return logits if return_logits else torch.sigmoid(logits)
