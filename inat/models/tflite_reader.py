"""Reading a TensorFlow Lite flatbuffer: its operators, tensor shapes and dequantized weights.

    graph = read_tflite("mobilenet_v2_1.0_224_inat_bird_quant.tflite")
    graph.ops[0].kind, graph.ops[0].options   # 'CONV_2D', {'stride': (2, 2), 'padding': 'SAME', ...}
    graph.weights(graph.ops[0].inputs[1])     # float32 array, TFLite's OHWI layout

Parsing goes through the `tflite` package (the TFLite schema compiled to pure Python, Apache-2.0),
so no interpreter is needed. Only the conversion of downloaded experts imports this module; the app
never does. Quantized tensors come back as float32: (q − zero_point) × scale, per tensor or per
channel along the tensor's quantized dimension.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# TFLite TensorType → numpy dtype, for the types a weight buffer can hold.
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8}
_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATION = {0: None, 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH"}


class TFLiteError(ValueError):
    """A file that is not a TFLite model we can read; the message is one line naming it."""


@dataclass
class Tensor:
    """One tensor of the graph; `data` is the raw constant buffer (None for activations)."""

    name: str
    shape: tuple
    dtype: str                      # numpy dtype name of the stored values, e.g. "uint8"
    scale: np.ndarray | None        # quantization scale(s); None when not quantized
    zero_point: np.ndarray | None
    axis: int                       # the quantized dimension for per-channel scales
    data: np.ndarray | None = field(default=None, repr=False)


@dataclass
class Op:
    """One operator: its builtin name, tensor indices and the options that shape its arithmetic."""

    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict


@dataclass
class Graph:
    """The first subgraph of a TFLite model (the only one a classifier has)."""

    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    description: str = ""

    def weights(self, index: int) -> np.ndarray:
        """Tensor `index` as float32, dequantized when it is stored quantized; raises for activations."""
        t = self.tensors[index]
        if t.data is None:
            raise TFLiteError(f"tensor {t.name!r} has no constant data")
        values = t.data.astype(np.float32)
        if t.scale is None:
            return values
        shape = [1] * values.ndim
        if t.scale.size > 1:  # per-channel: broadcast along the quantized dimension
            shape[t.axis] = t.scale.size
        scale = t.scale.astype(np.float32).reshape(shape)
        zero = t.zero_point.astype(np.float32).reshape(shape) if t.zero_point is not None else np.float32(0)
        return (values - zero) * scale

    def op_kinds(self) -> list[str]:
        """The builtin name of every operator, in execution order."""
        return [op.kind for op in self.ops]


def read_tflite(source: str | Path | bytes, name: str | None = None) -> Graph:
    """Parse a .tflite file (path or bytes). Returns its first subgraph as a `Graph`.

    Raises TFLiteError with one line for anything that is not a readable TFLite model (a truncated
    file, another format, a model whose operators we do not know).
    """
    label = name or (str(source) if not isinstance(source, (bytes, bytearray)) else "<bytes>")
    if isinstance(source, (bytes, bytearray)):
        buf = bytes(source)
    else:
        try:
            buf = Path(source).read_bytes()
        except OSError as e:
            raise TFLiteError(f"{label}: cannot read ({e.strerror or e.__class__.__name__})") from None
    # A flatbuffer names its schema at bytes 4..8; without "TFL3" nothing further is worth trying.
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise TFLiteError(f"{label}: not a TensorFlow Lite model (no TFL3 identifier)")
    try:
        return _parse(buf)
    except TFLiteError as e:
        raise TFLiteError(f"{label}: {e}") from None
    except Exception as e:  # flatbuffers raises bare struct / index errors on a damaged file
        raise TFLiteError(f"{label}: damaged TFLite file ({e.__class__.__name__}: {str(e)[:80]})") from None


def _parse(buf: bytes) -> Graph:
    import tflite  # the schema package: imported only when a file is converted
    from tflite.utils import BUILTIN_OPCODE2NAME

    model = tflite.Model.GetRootAsModel(buf, 0)
    if model.SubgraphsLength() < 1:
        raise TFLiteError("no subgraph")
    g = model.Subgraphs(0)
    codes = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        # Schema v3a moved codes above 127 to BuiltinCode and left DeprecatedBuiltinCode as a cap.
        codes.append(max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()))
    tensors = [_tensor(model, g.Tensors(i), len(buf)) for i in range(g.TensorsLength())]
    ops = []
    for i in range(g.OperatorsLength()):
        op = g.Operators(i)
        kind = BUILTIN_OPCODE2NAME.get(codes[op.OpcodeIndex()])
        if kind is None:
            raise TFLiteError(f"operator {i} has unknown code {codes[op.OpcodeIndex()]}")
        ops.append(Op(kind, [int(x) for x in op.InputsAsNumpy()], [int(x) for x in op.OutputsAsNumpy()],
                      _options(tflite, kind, op)))
    description = model.Description().decode("utf-8", "replace") if model.Description() else ""
    return Graph(tensors, ops, [int(x) for x in g.InputsAsNumpy()], [int(x) for x in g.OutputsAsNumpy()],
                 description)


def _tensor(model, t, file_size: int) -> Tensor:
    shape = tuple(int(x) for x in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    dtype = _DTYPES.get(t.Type())
    q = t.Quantization()
    scale = zero = None
    axis = 0
    if q is not None and q.ScaleLength():
        scale = q.ScaleAsNumpy().astype(np.float64)
        zero = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else None
        axis = int(q.QuantizedDimension())
    data = None
    b = model.Buffers(t.Buffer()) if t.Buffer() < model.BuffersLength() else None
    if b is not None and b.DataLength():
        if dtype is None:
            raise TFLiteError(f"tensor {t.Name().decode()!r} has unsupported type {t.Type()}")
        data = np.frombuffer(b.DataAsNumpy().tobytes(), dtype=dtype)
        if data.size != int(np.prod(shape)):
            raise TFLiteError(f"tensor {t.Name().decode()!r}: {data.size} values for shape {shape}")
        data = data.reshape(shape)
    elif b is not None and b.Offset() > 1:  # large models keep buffers after the flatbuffer
        raise TFLiteError("buffers stored outside the flatbuffer are not supported")
    return Tensor(t.Name().decode("utf-8", "replace"), shape, np.dtype(dtype).name if dtype else str(t.Type()),
                  scale, zero, axis, data)


def _options(tflite, kind: str, op) -> dict:
    """The options of the operators a convolutional classifier uses; {} for the others."""
    table = op.BuiltinOptions()
    if table is None:
        return {}
    cls = {"CONV_2D": tflite.Conv2DOptions, "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
           "AVERAGE_POOL_2D": tflite.Pool2DOptions, "MAX_POOL_2D": tflite.Pool2DOptions,
           "FULLY_CONNECTED": tflite.FullyConnectedOptions, "ADD": tflite.AddOptions,
           "SOFTMAX": tflite.SoftmaxOptions}.get(kind)
    if cls is None:
        return {}
    o = cls()
    o.Init(table.Bytes, table.Pos)
    out: dict = {}
    if hasattr(o, "StrideH"):
        out["stride"] = (int(o.StrideH()), int(o.StrideW()))
        out["padding"] = _PADDING.get(o.Padding(), str(o.Padding()))
    if hasattr(o, "DilationHFactor"):
        out["dilation"] = (int(o.DilationHFactor()), int(o.DilationWFactor()))
    if hasattr(o, "DepthMultiplier"):
        out["depth_multiplier"] = int(o.DepthMultiplier())
    if hasattr(o, "FilterHeight"):
        out["filter"] = (int(o.FilterHeight()), int(o.FilterWidth()))
    if hasattr(o, "FusedActivationFunction"):
        out["activation"] = _ACTIVATION.get(o.FusedActivationFunction(), str(o.FusedActivationFunction()))
    if hasattr(o, "Beta"):
        out["beta"] = float(o.Beta())
    return out
