"""TFLite MobileNetV2 (batch norm folded, uint8) → the weights of our `mobilenet_v2_tf` architecture.

The iNat 2017 experts are TensorFlow-trained MobileNetV2 1.0 graphs: 52 convolutions (stem, 17
inverted-residual blocks, head), each followed in TensorFlow by a batch norm that the TFLite
converter folded into the convolution's weights and bias, then a 7×7 average pool, a fully
connected layer and a softmax. timm's `mobilenetv2_100` visits its convolutions in the same order,
so the k-th convolution of the file fills the k-th convolution of the model, after a shape check.

Folded batch norm: each BatchNorm2d of the model is set to the identity on its running statistics
(weight 1, running_mean 0, running_var 1 − eps, so (x − 0)/√(1 − eps + eps) = x) with bias = the
folded bias. In eval mode this is exactly the TFLite arithmetic in float. The layers stay in the
model (rather than a bias on each conv) so the bundle is an ordinary `mobilenet_v2_tf` that
`train` can fine-tune; `inat.training.warmstart.recalibrate_batchnorm` gives them real statistics first.
We stop before the softmax: the bundle keeps logits, and the predictor takes the softmax.
"""
from __future__ import annotations

import numpy as np

from .architectures import create_model
from .tflite_reader import Graph, TFLiteError

ARCH = "mobilenet_v2_tf"
BN_EPS = 1e-5  # timm's BatchNorm2d default for mobilenetv2_100
_CONV_KINDS = ("CONV_2D", "DEPTHWISE_CONV_2D")


def _torch_layout(kind: str, w: np.ndarray) -> np.ndarray:
    """TFLite OHWI (conv) or 1HWC (depthwise) → PyTorch OIHW / C1HW."""
    if kind == "CONV_2D":
        return w.transpose(0, 3, 1, 2)
    return w.transpose(3, 0, 1, 2)


def check_mobilenet_v2(graph: Graph) -> None:
    """Raise TFLiteError (one line) unless `graph` is a MobileNetV2 classifier this converter maps.

    What is checked is what the float model assumes: SAME padding everywhere, ReLU6 after every
    convolution except the linear projections, one average pool, one fully connected layer, and
    nothing after it but an optional softmax.
    """
    kinds = graph.op_kinds()
    convs = [op for op in graph.ops if op.kind in _CONV_KINDS]
    if len(convs) != 52:
        raise TFLiteError(f"expected the 52 convolutions of MobileNetV2, found {len(convs)}")
    tail = [k for k in kinds if k not in _CONV_KINDS + ("ADD",)]
    if tail not in (["AVERAGE_POOL_2D", "FULLY_CONNECTED", "SOFTMAX"], ["AVERAGE_POOL_2D", "FULLY_CONNECTED"]):
        raise TFLiteError(f"unexpected operators for MobileNetV2: {', '.join(sorted(set(tail)))}")
    for i, op in enumerate(convs):
        if op.options.get("padding") != "SAME" or op.options.get("dilation", (1, 1)) != (1, 1):
            raise TFLiteError(f"convolution {i} is not SAME-padded and undilated")
        if op.kind == "DEPTHWISE_CONV_2D" and op.options.get("depth_multiplier", 1) != 1:
            raise TFLiteError(f"depthwise convolution {i} has a depth multiplier")
        # The linear bottleneck: the projection after each depthwise convolution has no activation.
        linear = op.kind == "CONV_2D" and i > 0 and convs[i - 1].kind == "DEPTHWISE_CONV_2D"
        want = None if linear else "RELU6"
        if op.options.get("activation") != want:
            raise TFLiteError(f"convolution {i} has activation {op.options.get('activation')}, expected {want}")


def mobilenet_v2_state_dict(graph: Graph, model_state: dict) -> dict:
    """The float32 state dict of a `mobilenet_v2_tf` model filled from a TFLite MobileNetV2 graph.

    `model_state` is the freshly built model's state dict (it gives the names, order and shapes).
    Returns a new dict of torch tensors with the same keys. Raises TFLiteError on any shape mismatch.
    """
    import torch  # keeps torch out of start-up: only conversion needs it
    check_mobilenet_v2(graph)
    convs = [op for op in graph.ops if op.kind in _CONV_KINDS]
    fc = next(op for op in graph.ops if op.kind == "FULLY_CONNECTED")
    conv_keys = [k for k, v in model_state.items() if k.endswith(".weight") and v.ndim == 4]
    bn_prefixes = [k[:-len(".running_var")] for k in model_state if k.endswith(".running_var")]
    if len(conv_keys) != len(convs) or len(bn_prefixes) != len(convs):
        raise TFLiteError(f"model has {len(conv_keys)} convolutions, the file {len(convs)}")
    out = {}
    for op, wkey, bn in zip(convs, conv_keys, bn_prefixes):
        w = _torch_layout(op.kind, graph.weights(op.inputs[1]))
        has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
        b = graph.weights(op.inputs[2]) if has_bias else np.zeros(w.shape[0], np.float32)
        if tuple(w.shape) != tuple(model_state[wkey].shape) or b.shape != tuple(model_state[bn + ".bias"].shape):
            raise TFLiteError(f"{wkey}: file has shape {tuple(w.shape)}, model {tuple(model_state[wkey].shape)}")
        n = b.shape[0]
        out[wkey] = torch.from_numpy(np.ascontiguousarray(w))
        out[bn + ".weight"] = torch.ones(n)
        out[bn + ".bias"] = torch.from_numpy(b.astype(np.float32))
        out[bn + ".running_mean"] = torch.zeros(n)
        out[bn + ".running_var"] = torch.full((n,), 1.0 - BN_EPS)
        out[bn + ".num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    w, b = graph.weights(fc.inputs[1]), graph.weights(fc.inputs[2])
    if w.shape != tuple(model_state["classifier.weight"].shape):
        want = tuple(model_state["classifier.weight"].shape)
        raise TFLiteError(f"classifier: file has shape {w.shape}, model {want}")
    out["classifier.weight"] = torch.from_numpy(np.ascontiguousarray(w))
    out["classifier.bias"] = torch.from_numpy(b.astype(np.float32))
    missing = sorted(set(model_state) - set(out))
    if missing:
        raise TFLiteError(f"nothing in the file fills {missing[0]}")
    return out


def num_outputs(graph: Graph) -> int:
    """How many classes the graph's fully connected layer scores."""
    fc = next((op for op in graph.ops if op.kind == "FULLY_CONNECTED"), None)
    if fc is None:
        raise TFLiteError("no fully connected layer")
    return int(graph.tensors[fc.inputs[1]].shape[0])


def convert_mobilenet_v2(graph: Graph):
    """A `mobilenet_v2_tf` torch model in eval mode holding the graph's weights in float32."""
    model = create_model(ARCH, num_outputs(graph))
    model.load_state_dict(mobilenet_v2_state_dict(graph, model.state_dict()))
    return model.eval()
