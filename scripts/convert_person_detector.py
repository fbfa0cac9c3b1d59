"""Convert MediaPipe's BlazePose person detector (``pose_detection.tflite``) into a TorchScript file.

Run once, by a maintainer; the product then loads the result with torch alone
(:mod:`avsep.models.person_detector`), so avsep gains no runtime dependency::

    pip download --no-deps mediapipe==0.10.21 --python-version 3.11 \\
        --platform manylinux_2_28_x86_64 --only-binary=:all: -d /tmp/mp
    pip install tflite==2.18.0 ai-edge-litert==2.3.0   # this script's own needs, not avsep's
    python scripts/convert_person_detector.py /tmp/mp/mediapipe-0.10.21-*.whl

The wheel is Apache-2.0 (its ``LICENSE``); the detector is
``mediapipe/modules/pose_detection/pose_detection.tflite``. The script

1. reads the flatbuffer's operators with the ``tflite`` package (a generated flatbuffers parser);
2. reads the constant weights from LiteRT's interpreter after one run (the file stores them as
   sparse float16 tensors that DENSIFY and DEQUANTIZE operators expand at load time: the
   interpreter's expanded copies are the exact values the detector computes with);
3. executes the same operators in torch (NCHW), traces that into TorchScript, and checks that
   the traced model gives LiteRT's outputs on random and on real-looking inputs;
4. writes ``weights/blazepose-detector-<sha8>.torchscript``, its card
   ``weights/blazepose-detector.json`` (origin, sha256 of the wheel and the .tflite, licence)
   and ``weights/blazepose-detector-LICENSE.txt`` (the Apache-2.0 text of the wheel's LICENSE).

Two runs trace the same model, but the TorchScript archive's bytes (and so its sha256 and file
name) differ from run to run; the card records the sha256 of the file that ships.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"
LICENSE = "mediapipe-0.10.21.dist-info/LICENSE"
NAME = "blazepose-detector"
SKIPPED = {"DEQUANTIZE", "DENSIFY"}  # weight expansion: their outputs are read as constants


def op_table(model):
    """[(name, inputs, outputs, options dict)] of the flatbuffer's first subgraph, in order."""
    import tflite

    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    option_types = {
        "CONV_2D": tflite.Conv2DOptions,
        "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
        "ADD": tflite.AddOptions,
        "RESIZE_BILINEAR": tflite.ResizeBilinearOptions,
        "DEPTH_TO_SPACE": tflite.DepthToSpaceOptions,
        "CONCATENATION": tflite.ConcatenationOptions,
    }
    graph = model.Subgraphs(0)
    table = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        options = {}
        raw = op.BuiltinOptions()
        if name in option_types and raw is not None:
            parsed = option_types[name]()
            parsed.Init(raw.Bytes, raw.Pos)
            for key in ("Padding", "StrideH", "StrideW", "FusedActivationFunction", "BlockSize", "Axis"):
                if hasattr(parsed, key):
                    options[key] = getattr(parsed, key)()
            for key in ("AlignCorners", "HalfPixelCenters"):
                if hasattr(parsed, key):
                    options[key] = bool(getattr(parsed, key)())
        table.append((name, [int(t) for t in op.InputsAsNumpy()], [int(t) for t in op.OutputsAsNumpy()], options))
    return table, graph


def constants(path: Path, table) -> dict[int, np.ndarray]:
    """Every tensor the operators read that is not computed from the input: LiteRT's values."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interp = Interpreter(
        str(path),
        experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], np.zeros((1, 224, 224, 3), np.float32))
    interp.invoke()
    computed = {interp.get_input_details()[0]["index"]}
    for name, inputs, outputs, _ in table:
        if name not in SKIPPED:
            computed.update(outputs)
    wanted = {t for name, inputs, _, _ in table if name not in SKIPPED for t in inputs if t not in computed}
    return {t: np.array(interp.get_tensor(t)) for t in sorted(wanted)}


def _same_pad(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) of one axis: the extra pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Graph(torch.nn.Module):
    """The tflite operators run in torch, NCHW; tensors are kept by their tflite index."""

    def __init__(self, table, consts: dict[int, np.ndarray], shapes: dict[int, list[int]], inp: int, outs) -> None:
        super().__init__()
        self.table = [op for op in table if op[0] not in SKIPPED]
        self.shapes, self.inp, self.outs = shapes, inp, outs
        self.weights = torch.nn.ParameterDict()
        for name, inputs, _, _ in self.table:
            if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                w, b = consts[inputs[1]], consts[inputs[2]]
                w = w.transpose(0, 3, 1, 2) if name == "CONV_2D" else w.transpose(3, 0, 1, 2)
                # float16 is lossless: the file stores its weights as float16 (DEQUANTIZE expands them)
                for key, value in ((f"w{inputs[1]}", w), (f"b{inputs[1]}", b)):
                    half = torch.from_numpy(value.copy()).half()
                    assert torch.equal(half.float(), torch.from_numpy(value)), f"{key} is not float16"
                    self.weights[key] = torch.nn.Parameter(half, requires_grad=False)
        self.consts = consts

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = {self.inp: x}
        for name, inputs, outputs, o in self.table:
            t[outputs[0]] = self._op(name, inputs, o, t)
        return t[self.outs[0]], t[self.outs[1]]

    def _op(self, name, inputs, o, t):
        x = t[inputs[0]]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w, b = self.weights[f"w{inputs[1]}"].float(), self.weights[f"b{inputs[1]}"].float()
            k, s = int(w.shape[-1]), o["StrideH"]
            if o["Padding"] == 0:  # SAME
                (top, bottom), (left, right) = _same_pad(int(x.shape[2]), k, s), _same_pad(int(x.shape[3]), k, s)
                x = F.pad(x, (left, right, top, bottom))
            groups = int(x.shape[1]) if name == "DEPTHWISE_CONV_2D" else 1
            y = F.conv2d(x, w, b, stride=s, groups=groups)
            return y.clamp(0, 6) if o["FusedActivationFunction"] == 3 else _no_activation(y, o)
        if name == "ADD":
            y = x + t[inputs[1]]
            return y.clamp(0, 6) if o["FusedActivationFunction"] == 3 else _no_activation(y, o)
        if name == "PAD":
            (n0, n1), (h0, h1), (w0, w1), (c0, c1) = self.consts[inputs[1]].tolist()
            assert n0 == n1 == 0
            return F.pad(x, (w0, w1, h0, h1, c0, c1))
        if name == "RESIZE_BILINEAR":
            assert o["HalfPixelCenters"] and not o["AlignCorners"]
            size = [int(v) for v in self.consts[inputs[1]]]
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        if name == "DEPTH_TO_SPACE":  # TF's order: channel index = (i * block + j) * C + c
            r = o["BlockSize"]
            n, c, h, w = x.shape
            y = x.reshape(n, r, r, c // (r * r), h, w).permute(0, 3, 4, 1, 5, 2)
            return y.reshape(n, c // (r * r), h * r, w * r)
        if name == "RESHAPE":  # from NHWC order: [n, h*w*anchors, values]
            last = int(self.consts[inputs[1]][-1]) if inputs[1] in self.consts else 1
            return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, last)
        if name == "CONCATENATION":
            assert o["Axis"] == 1
            return torch.cat([t[i] for i in inputs], 1)
        raise ValueError(f"operator {name} is not converted")


def _no_activation(y: torch.Tensor, o: dict) -> torch.Tensor:
    if o["FusedActivationFunction"] != 0:
        raise ValueError(f"fused activation {o['FusedActivationFunction']} is not converted")
    return y


def reference(path: Path, batch: np.ndarray) -> list[np.ndarray]:
    """LiteRT's two outputs (boxes+keypoints, scores) for one NHWC picture in [-1, 1]."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(str(path))
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], batch.astype(np.float32))
    interp.invoke()
    details = sorted(interp.get_output_details(), key=lambda d: -int(d["shape"][-1]))
    return [interp.get_tensor(d["index"]) for d in details]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(traced, tflite_path: Path) -> float:
    """Largest difference between the traced model and LiteRT, on noise and on smooth pictures."""
    rng = np.random.default_rng(0)
    pictures = [rng.uniform(-1, 1, (1, 224, 224, 3))]
    yy, xx = np.mgrid[0:224, 0:224] / 224.0
    pictures.append(np.stack([np.sin(6 * xx), np.cos(5 * yy), xx * yy * 2 - 1], -1)[None])
    worst = 0.0
    for pic in pictures:
        want = reference(tflite_path, pic)
        got = traced(torch.from_numpy(pic.transpose(0, 3, 1, 2)).float())
        for w, g in zip(want, got):
            worst = max(worst, float(np.abs(w - g.numpy()).max()))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="mediapipe-0.10.21-cp311-...-manylinux_2_28_x86_64.whl")
    ap.add_argument("--out", type=Path, default=ROOT / "weights")
    args = ap.parse_args()
    import tflite

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(args.wheel) as wheel:
            tflite_path = Path(wheel.extract(MEMBER, tmp))
            licence = wheel.read(LICENSE).decode("utf-8").split("=" * 20)[0].rstrip() + "\n"
        model = tflite.Model.GetRootAsModel(tflite_path.read_bytes(), 0)
        table, graph = op_table(model)
        shapes = {i: graph.Tensors(i).ShapeAsNumpy().tolist() for i in range(graph.TensorsLength())}
        consts = constants(tflite_path, table)
        module = Graph(table, consts, shapes, int(graph.Inputs(0)), [int(graph.Outputs(0)), int(graph.Outputs(1))])
        module.eval()
        with torch.inference_mode(False), torch.no_grad():
            traced = torch.jit.trace(module, torch.zeros(1, 3, 224, 224), check_trace=False)
            worst = check(traced, tflite_path)
        print(f"largest difference from LiteRT: {worst:.2e}")
        if worst > 1e-3:
            raise SystemExit("the converted detector does not match LiteRT")
        tmp_out = Path(tmp) / "detector.torchscript"
        traced.save(str(tmp_out))
        digest = sha256(tmp_out)
        out = args.out / f"{NAME}-{digest[:8]}.torchscript"
        for old in args.out.glob(f"{NAME}-*.torchscript"):
            old.unlink()
        out.write_bytes(tmp_out.read_bytes())
        card = {
            "name": NAME,
            "file": out.name,
            "sha256": digest,
            "file_bytes": out.stat().st_size,
            "what": "BlazePose person detector (MediaPipe's pose_detection), converted to TorchScript: "
            "input [N, 3, 224, 224] RGB in [-1, 1] (letterboxed); outputs [N, 2254, 12] box + 4 "
            "keypoints per SSD anchor and [N, 2254, 1] score logits",
            "origin": {
                "package": "mediapipe==0.10.21 (PyPI)",
                "wheel": args.wheel.name,
                "wheel_sha256": sha256(args.wheel),
                "member": MEMBER,
                "member_bytes": tflite_path.stat().st_size,
                "member_sha256": sha256(tflite_path),
                "licence": "Apache-2.0 (the wheel's LICENSE; https://github.com/google-ai-edge/mediapipe)",
                "copyright": "Copyright The MediaPipe Authors",
                "licence_file": f"{NAME}-LICENSE.txt",
                "changes": "file format only: the same operators and weights (float16, as in the .tflite), "
                "as TorchScript",
            },
            "converted_by": "scripts/convert_person_detector.py (tflite 2.18.0, ai-edge-litert 2.3.0, "
            f"torch {torch.__version__})",
            "max_difference_from_litert": float(f"{worst:.3g}"),
        }
        (args.out / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n")
        (args.out / f"{NAME}-LICENSE.txt").write_text(licence)
        print(f"wrote {out} ({out.stat().st_size} bytes) and {NAME}.json")


if __name__ == "__main__":
    main()
