"""dlib's face-descriptor ResNet, run by ONNX Runtime instead of dlib's own CPU code.

The weights are read from the very file dlib loads (``dlib_face_recognition_resnet_model_v1.dat``
from ``face_recognition_models``); nothing is downloaded and no converted model is stored. The
network is rebuilt as an ONNX graph in memory and run by ONNX Runtime, whose convolutions use
the CPU's vector units: the ``dlib-bin`` wheel is built without BLAS and runs one descriptor in
~80 ms on one core, ONNX Runtime in a fraction of that (``bench/faces``).

The descriptors are the same network's: ``tests/test_face_resnet.py`` compares them with dlib's
on real aligned faces (largest difference ~1e-6 on values of ~0.1), so thresholds calibrated with
either engine hold for both and galleries need no re-embedding.

dlib's serialisation (``dlib/serialize.h``, ``dlib/dnn``):

* integers: one byte holding the byte count (low nibble) and the sign (``0x80``), then the
  magnitude little-endian; strings: their length as such an integer, then the bytes;
* tensors (version 2): version, ``num_samples, k, nr, nc`` as integers, then the values as
  little-endian IEEE float32;
* the file holds the loss layer first, then the input layer and every layer from the input up.
  Only the layers with parameters are read here; the wiring (residual blocks, pooling) is
  dlib's published ``anet_type`` (``dnn_face_recognition_ex.cpp``), checked against the file:
  the number of convolutions and strides, the channel counts and the pooling layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facematch.errors import FaceError

CHIP = 150
DESCRIPTOR_SIZE = 128


@dataclass(frozen=True)
class Conv:
    weights: np.ndarray  # (filters, channels, rows, cols)
    bias: np.ndarray  # (filters,)
    stride: int
    padding: int


@dataclass(frozen=True)
class Affine:
    gamma: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True)
class ResNetWeights:
    """The parameters of dlib's face ResNet, in network order (input to output)."""

    means: tuple[float, float, float]  # red, green, blue, subtracted before dividing by 256
    size: int
    convs: tuple[Conv, ...]
    affines: tuple[Affine, ...]
    fc: np.ndarray  # (256, 128): descriptor = pooled @ fc
    avg_pools: int  # 2x2 pools on the residual shortcuts, plus the final global pool
    max_pools: int


class _Reader:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path
        self._next: dict[bytes, int] = {}  # where each name's next occurrence is

    def fail(self, what: str) -> FaceError:
        return FaceError(
            f"{str(self.path)!r}: not dlib's face ResNet as expected ({what} at byte {self.pos})"
        )

    def integer(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("file ends early")
        head = self.data[self.pos]
        count = head & 0x0F
        if count > 8:
            raise self.fail(f"integer of {count} bytes")
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + count], "little")
        self.pos += 1 + count
        return -value if head & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        return float(mantissa) * 2.0**exponent

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise self.fail(f"tensor version {version}")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        end = self.pos + 4 * count
        if count < 0 or end > len(self.data):
            raise self.fail(f"tensor of shape {shape}")
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos = end
        return values.astype(np.float32)

    def find(self, names: tuple[bytes, ...]) -> bytes | None:
        """Move past the next serialised layer name among ``names``; None at the end."""
        best: tuple[int, bytes] | None = None
        for name in names:
            at = self._next.get(name, -1)
            if at < self.pos:  # not looked for yet, or already passed
                found = self.data.find(bytes((1, len(name))) + name, self.pos)
                at = self._next[name] = found if found >= 0 else len(self.data) + 1
            if at <= len(self.data) and (best is None or at < best[0]):
                best = (at, name)
        if best is None:
            return None
        self.pos = best[0] + 2 + len(best[1])
        return best[1]


def read_weights(path: Path) -> ResNetWeights:
    """Read the parameters of ``dlib_face_recognition_resnet_model_v1.dat``.

    Raises
    ------
    FaceError
        The file is missing or its layers are not the face ResNet's.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FaceError(f"{str(path)!r}: cannot read the face model ({exc.strerror})") from None
    return parse_weights(data, path)


def parse_weights(data: bytes, path: Path) -> ResNetWeights:
    """:func:`read_weights` on the file's bytes (``path`` names it in errors)."""
    r = _Reader(data, path)
    if r.find((b"input_rgb_image_sized",)) is None:
        raise r.fail("no input layer")
    means = (r.real(), r.real(), r.real())
    rows, cols = r.integer(), r.integer()
    if rows != cols:
        raise r.fail(f"input {rows}x{cols}")
    convs: list[Conv] = []
    affines: list[Affine] = []
    fc: np.ndarray | None = None
    pools = {"avg": 0, "max": 0}
    # between two tensors there is only metadata, so searching from the cursor never looks
    # inside parameter data
    names = (b"con_4", b"affine_", b"fc_2", b"avg_pool_2", b"max_pool_2")
    while (name := r.find(names)) is not None:
        if name == b"con_4":
            params = r.tensor()
            filters, nr, nc, sy, sx, py, px = (r.integer() for _ in range(7))
            if filters <= 0 or nr <= 0 or nr != nc or sy != sx or py != px or params.size % filters:
                raise r.fail(f"convolution {nr}x{nc} stride {sy},{sx} padding {py},{px}")
            channels = (params.size - filters) // (filters * nr * nc)
            if channels * filters * nr * nc + filters != params.size:
                raise r.fail(f"convolution of {params.size} parameters")
            split = channels * filters * nr * nc
            convs.append(
                Conv(
                    params[:split].reshape(filters, channels, nr, nc), params[split:].copy(), sy, py
                )
            )
        elif name == b"affine_":
            params = r.tensor()
            half = params.size // 2
            affines.append(Affine(params[:half].copy(), params[half:].copy()))
        elif name == b"fc_2":
            outputs, inputs = r.integer(), r.integer()
            params = r.tensor()
            if params.size not in (inputs * outputs, (inputs + 1) * outputs):
                raise r.fail(f"fully connected {inputs}->{outputs} of {params.size}")
            fc = params[: inputs * outputs].reshape(inputs, outputs)
        elif name == b"avg_pool_2":
            pools["avg"] += 1
        else:
            pools["max"] += 1
    if fc is None:
        raise r.fail("no fully connected layer")
    return ResNetWeights(means, rows, tuple(convs), tuple(affines), fc, pools["avg"], pools["max"])


def check_network(w: ResNetWeights) -> list[tuple[Conv, Affine, Conv, Affine]]:
    """The residual blocks, after checking the file against dlib's published network."""
    problems = []
    if len(w.convs) != len(w.affines):
        problems.append(f"{len(w.convs)} convolutions but {len(w.affines)} affine layers")
    if len(w.convs) % 2 != 1:
        problems.append(f"{len(w.convs)} convolutions (expected a stem and pairs)")
    stem = w.convs[0] if w.convs else None
    if stem is None or stem.weights.shape[1] != 3 or stem.stride != 2:
        problems.append("the first convolution is not the 7x7/2 RGB stem")
    for i, (c, a) in enumerate(zip(w.convs, w.affines, strict=False)):
        if a.gamma.size != c.weights.shape[0] or a.beta.size != c.weights.shape[0]:
            problems.append(
                f"affine layer {i} has {a.gamma.size} scales for {c.weights.shape[0]} filters"
            )
            break
    if w.max_pools != 1:
        problems.append(f"{w.max_pools} max pools")
    if w.fc.shape[1] != DESCRIPTOR_SIZE:
        problems.append(f"descriptor of {w.fc.shape[1]} values")
    if problems:
        raise FaceError("the face ResNet file is not the expected network: " + "; ".join(problems))
    blocks = []
    for i in range(1, len(w.convs), 2):
        blocks.append((w.convs[i], w.affines[i], w.convs[i + 1], w.affines[i + 1]))
    downs = sum(1 for b in blocks if b[0].stride == 2)
    if w.avg_pools != downs + 1:
        raise FaceError(
            f"the face ResNet file has {w.avg_pools} average pools for {downs} "
            "down-sampling blocks (expected one each, plus the final pool)"
        )
    return blocks


def build_onnx(w: ResNetWeights) -> bytes:
    """The network as a serialised ONNX model.

    Input ``chips``: ``(n, 150, 150, 3)`` uint8 RGB aligned faces (``dlib.get_face_chip``);
    output ``descriptors``: ``(n, 128)`` float32, dlib's raw descriptor.
    """
    from onnx import TensorProto, helper, numpy_helper

    blocks = check_network(w)
    nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]

    def name(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def const(values: np.ndarray, prefix: str = "c") -> str:
        n = name(prefix)
        inits.append(numpy_helper.from_array(values, n))
        return n

    def conv(x: str, c: Conv, a: Affine, *, relu: bool) -> str:
        # affine folded into the convolution: gamma * (W x + b) + beta
        with np.errstate(all="ignore"):
            weights = (c.weights * a.gamma[:, None, None, None]).astype(np.float32)
            bias = (c.bias * a.gamma + a.beta).astype(np.float32)
        if not (np.isfinite(weights).all() and np.isfinite(bias).all()):
            raise FaceError(
                "the face ResNet file's parameters are not finite numbers (a damaged file)"
            )
        out = name("conv")
        k = c.weights.shape[2]
        nodes.append(
            helper.make_node(
                "Conv",
                [x, const(weights, "w"), const(bias, "b")],
                [out],
                kernel_shape=[k, k],
                strides=[c.stride, c.stride],
                pads=[c.padding] * 4,
            )
        )
        if relu:
            act = name("relu")
            nodes.append(helper.make_node("Relu", [out], [act]))
            return act
        return out

    def pad_to(x: str, have: tuple[int, int], want: tuple[int, int]) -> str:
        """Zero-pad channels and bottom/right rows and columns (dlib's add_prev of unequal
        tensors adds over the top-left corner and leaves the rest to the larger one)."""
        if have == want:
            return x
        (hc, hs), (wc, ws) = have, want
        out = name("pad")
        pads = np.array([0, 0, 0, 0, 0, wc - hc, ws - hs, ws - hs], dtype=np.int64)
        nodes.append(helper.make_node("Pad", [x, const(pads, "p")], [out], mode="constant"))
        return out

    # uint8 NHWC -> float NCHW, minus the channel means, over 256 (dlib's input layer)
    x = name("f")
    nodes.append(helper.make_node("Cast", ["chips"], [x], to=TensorProto.FLOAT))
    t = name("t")
    nodes.append(helper.make_node("Transpose", [x], [t], perm=[0, 3, 1, 2]))
    mean = np.array(w.means, dtype=np.float32).reshape(1, 3, 1, 1)
    s = name("s")
    nodes.append(helper.make_node("Sub", [t, const(mean, "mean")], [s]))
    x = name("in")
    nodes.append(helper.make_node("Mul", [s, const(np.array(1 / 256, dtype=np.float32))], [x]))

    size = w.size
    stem = w.convs[0]
    x = conv(x, stem, w.affines[0], relu=True)
    size = (size + 2 * stem.padding - stem.weights.shape[2]) // stem.stride + 1
    pooled = name("maxpool")
    nodes.append(helper.make_node("MaxPool", [x], [pooled], kernel_shape=[3, 3], strides=[2, 2]))
    x, size = pooled, (size - 3) // 2 + 1
    channels = stem.weights.shape[0]
    for c1, a1, c2, a2 in blocks:
        if c1.weights.shape[1] != channels or c2.weights.shape[1] != c1.weights.shape[0]:
            raise FaceError(
                "the face ResNet file's convolutions do not chain "
                f"({channels} channels into {c1.weights.shape[1]})"
            )
        y = conv(x, c1, a1, relu=True)
        ysize = (size + 2 * c1.padding - c1.weights.shape[2]) // c1.stride + 1
        y = conv(y, c2, a2, relu=False)
        ysize = (ysize + 2 * c2.padding - c2.weights.shape[2]) // c2.stride + 1
        filters = c2.weights.shape[0]
        shortcut, ssize = x, size
        if c1.stride == 2:
            shortcut = name("avgpool")
            nodes.append(
                helper.make_node(
                    "AveragePool", [x], [shortcut], kernel_shape=[2, 2], strides=[2, 2]
                )
            )
            ssize = (size - 2) // 2 + 1
        out_c, out_s = max(channels, filters), max(ssize, ysize)
        summed = name("add")
        nodes.append(
            helper.make_node(
                "Add",
                [
                    pad_to(y, (filters, ysize), (out_c, out_s)),
                    pad_to(shortcut, (channels, ssize), (out_c, out_s)),
                ],
                [summed],
            )
        )
        x = name("relu")
        nodes.append(helper.make_node("Relu", [summed], [x]))
        channels, size = out_c, out_s
    g = name("gap")
    nodes.append(helper.make_node("GlobalAveragePool", [x], [g]))
    flat = name("flat")
    nodes.append(helper.make_node("Flatten", [g], [flat], axis=1))
    if w.fc.shape[0] != channels:
        raise FaceError(
            f"the face ResNet file's last layer takes {w.fc.shape[0]} values, "
            f"the network gives {channels}"
        )
    if not np.isfinite(w.fc).all():
        raise FaceError("the face ResNet file's parameters are not finite numbers (a damaged file)")
    nodes.append(
        helper.make_node("MatMul", [flat, const(w.fc.astype(np.float32), "fc")], ["descriptors"])
    )
    graph = helper.make_graph(
        nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", w.size, w.size, 3])],
        [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["n", DESCRIPTOR_SIZE])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="superbrain.facematch"
    )
    model.ir_version = 8
    return bytes(model.SerializeToString())


class OnnxResNet:
    """The face ResNet on ONNX Runtime; ``describe`` is thread-safe.

    Parameters
    ----------
    path:
        dlib's ``.dat`` model file.
    threads:
        ONNX Runtime's intra-op threads. 1 for batch workers (one process per core, like
        dlib); the console may pass more.
    """

    def __init__(self, path: Path, *, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise FaceError(f"{exc.name or 'onnxruntime'} is not installed ({exc})") from None
        from facematch.model_cache import onnx_model

        def build() -> bytes:
            try:
                import onnx  # noqa: F401  (build_onnx needs it; a cached model does not)
            except ImportError as exc:
                raise FaceError(f"{exc.name or 'onnx'} is not installed ({exc})") from None
            return build_onnx(read_weights(path))

        try:
            model = onnx_model(Path(path), build)
        except OSError as exc:
            raise FaceError(f"{str(path)!r}: cannot read the face model: {exc}") from None
        except FaceError as exc:
            message = str(exc)
            raise FaceError(
                message if str(path) in message else f"{str(path)!r}: {message}"
            ) from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                model, sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise FaceError(f"onnxruntime cannot load the face ResNet: {exc}") from None
        self.threads = threads
        self.version = str(ort.__version__)

    def describe(self, chips: np.ndarray) -> np.ndarray:
        """Descriptors of aligned ``(n, 150, 150, 3)`` (or one ``(150, 150, 3)``) uint8 chips."""
        batch = chips[None] if chips.ndim == 3 else chips
        if batch.shape[1:] != (CHIP, CHIP, 3) or batch.dtype != np.uint8:
            raise FaceError(
                f"face chips must be uint8 (n, {CHIP}, {CHIP}, 3), not {batch.dtype} {batch.shape}"
            )
        # InferenceSession.run is thread-safe
        out = self._session.run(["descriptors"], {"chips": np.ascontiguousarray(batch)})[0]
        result = np.asarray(out, dtype=np.float32)
        return result[0] if chips.ndim == 3 else result
