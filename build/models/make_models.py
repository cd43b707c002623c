#!/usr/bin/python3
"""Writes the small ONNX models the samples, tests and benchmarks run.

Every model has fixed weights, so its answers are known in advance and tests can assert them.
A file is rewritten only when its bytes would change, so a second run touches nothing.
Needs Debian's python3-onnx (build/setup.sh installs it).
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 13)]
PRODUCER = "edge-sdk build/models"


def finish(graph, labels=None, doc=""):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name=PRODUCER, doc_string=doc)
    model.ir_version = 8
    if labels is not None:
        entry = model.metadata_props.add()
        entry.key = "labels"
        entry.value = json.dumps(labels)
    onnx.checker.check_model(model)
    return model


def colour_classifier(size=224):
    """Dominant-colour classifier: the mean of each channel, then a fixed linear layer and softmax.

    logit_c = 4 * (3 * mean_c - (mean_r + mean_g + mean_b)), so the channel with the largest mean wins.
    """
    return _colour_model("colour_classifier", 4.0, size, "Dominant colour of an RGB image scaled to 0..1.")


def colour_classifier_inverted(size=224):
    """A second version of the colour classifier that names the channel with the SMALLEST mean.

    Same inputs, outputs and labels as colour-classifier.onnx, different answers: the storage tests
    publish it as a new model version and watch a running plugin switch over.
    """
    return _colour_model("colour_classifier_inverted", -4.0, size, "Least present colour of an RGB image scaled to 0..1.")


def _colour_model(name, scale, size, doc):
    weights = scale * (3.0 * np.eye(3, dtype=np.float32) - np.ones((3, 3), dtype=np.float32))
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["channel_means"], axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["channel_means", "weights"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(weights.T.copy(), "weights")],
    )
    return finish(graph, ["red", "green", "blue"], doc)


def add():
    """The smallest useful model: C = A + B on four floats. Per-call overhead dominates its run time."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"])],
        "add",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 4]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 4]),
        ],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [1, 4])],
    )
    return finish(graph)


def unused_initializer():
    """Relu with a weight no node reads: ONNX Runtime warns while loading it, which tests its log routing."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "unused_initializer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(np.zeros(3, dtype=np.float32), "forgotten_weight")],
    )
    return finish(graph)


def dynamic_relu():
    """A symbolic batch dimension, to test shape descriptions and runs at several batch sizes."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "dynamic_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
    )
    return finish(graph)


def slow_loop():
    """A Loop of MatMul + Tanh whose trip count is an input, so a test can make one run last long
    enough to cancel it, and a short run still has a known answer (iterations=0 returns x)."""
    rng = np.random.default_rng(7)
    weights = (rng.standard_normal((256, 256)) / 16.0).astype(np.float32)
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("MatMul", ["v_in", "w"], ["product"]),
            helper.make_node("Tanh", ["product"], ["v_out"]),
        ],
        "step",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [64, 256]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [64, 256]),
        ],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["iterations", "", "x"], ["y"], body=body)],
        "slow_loop",
        [
            helper.make_tensor_value_info("iterations", TensorProto.INT64, []),
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [64, 256]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [64, 256])],
        [numpy_helper.from_array(weights, "w")],
    )
    return finish(graph)


# Every element type ORT's CPU provider handles, by the name the tests use for it.
ALL_TYPES = {
    "float": TensorProto.FLOAT, "double": TensorProto.DOUBLE, "float16": TensorProto.FLOAT16,
    "bfloat16": TensorProto.BFLOAT16, "int8": TensorProto.INT8, "int16": TensorProto.INT16,
    "int32": TensorProto.INT32, "int64": TensorProto.INT64, "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16, "uint32": TensorProto.UINT32, "uint64": TensorProto.UINT64,
    "bool": TensorProto.BOOL, "string": TensorProto.STRING,
}


def all_types():
    """One Identity per element type, x_<type> -> y_<type>, over a symbolic length, so a test can
    round-trip every type through the runtime and read outputs whose shape only the run knows."""
    nodes, inputs, outputs = [], [], []
    for name, kind in ALL_TYPES.items():
        nodes.append(helper.make_node("Identity", [f"x_{name}"], [f"y_{name}"]))
        inputs.append(helper.make_tensor_value_info(f"x_{name}", kind, ["n"]))
        outputs.append(helper.make_tensor_value_info(f"y_{name}", kind, ["n"]))
    return finish(helper.make_graph(nodes, "all_types", inputs, outputs))


def mobilenet_v2(classes=1000):
    """MobileNetV2's layer plan (width 1.0, 224x224, batch norm folded into conv bias) with fixed
    random weights: 3.5M parameters and ~300M multiply-adds, the cost of the real network without
    its download. Used by the overhead benchmark, never for answers."""
    rng = np.random.default_rng(2)
    nodes, weights = [], []
    counter = [0]

    def conv(x, cin, cout, k, stride, group=1, relu6=True):
        counter[0] += 1
        n = counter[0]
        fan_in = cin // group * k * k
        w = (rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (rng.standard_normal(cout) * 0.01).astype(np.float32)
        weights.extend([numpy_helper.from_array(w, f"w{n}"), numpy_helper.from_array(b, f"b{n}")])
        out = f"conv{n}"
        nodes.append(helper.make_node("Conv", [x, f"w{n}", f"b{n}"], [out], kernel_shape=[k, k],
                                      strides=[stride, stride], pads=[k // 2] * 4, group=group))
        if not relu6:
            return out
        nodes.append(helper.make_node("Clip", [out, "zero", "six"], [f"relu{n}"]))
        return f"relu{n}"

    weights.extend([numpy_helper.from_array(np.array(0, np.float32), "zero"),
                    numpy_helper.from_array(np.array(6, np.float32), "six")])
    x = conv("input", 3, 32, 3, 2)
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = cin * t
            y = conv(x, cin, hidden, 1, 1) if t != 1 else x
            y = conv(y, hidden, hidden, 3, stride, group=hidden)
            y = conv(y, hidden, c, 1, 1, relu6=False)
            if stride == 1 and cin == c:
                nodes.append(helper.make_node("Add", [x, y], [y + "_res"]))
                y = y + "_res"
            x, cin = y, c
    x = conv(x, cin, 1280, 1, 1)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["features"], axis=1))
    fc = (rng.standard_normal((classes, 1280)) * np.sqrt(1.0 / 1280)).astype(np.float32)
    weights.extend([numpy_helper.from_array(fc, "fc_w"), numpy_helper.from_array(np.zeros(classes, np.float32), "fc_b")])
    nodes.append(helper.make_node("Gemm", ["features", "fc_w", "fc_b"], ["logits"], transB=1))
    graph = helper.make_graph(
        nodes,
        "mobilenet_v2_random",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, classes])],
        weights,
    )
    return finish(graph, doc="MobileNetV2 layer plan with fixed random weights (benchmark only).")


def map_type(key, value):
    """TypeProto of map(key, value): onnx 1.12's helper has no maker for it."""
    proto = onnx.TypeProto()
    proto.map_type.key_type = key
    proto.map_type.value_type.CopyFrom(value)
    return proto


def maps():
    """Non-tensor values: m (map int64 -> float) through DictVectorizer over keys 1, 2, 3 into vec;
    scores [1,3] through ZipMap into zipped, a sequence of maps (class 10, 20, 30 -> score);
    items (a sequence of float tensors) through SequenceLength into count."""
    ml = "ai.onnx.ml"
    graph = helper.make_graph(
        [
            helper.make_node("DictVectorizer", ["m"], ["vec"], domain=ml, int64_vocabulary=[1, 2, 3]),
            helper.make_node("ZipMap", ["scores"], ["zipped"], domain=ml, classlabels_int64s=[10, 20, 30]),
            helper.make_node("SequenceLength", ["items"], ["count"]),
        ],
        "maps",
        [
            helper.make_value_info("m", map_type(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, []))),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3]),
            helper.make_value_info("items", helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, None))),
        ],
        [
            helper.make_tensor_value_info("vec", TensorProto.FLOAT, [1, 3]),
            helper.make_value_info("zipped", helper.make_sequence_type_proto(
                map_type(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, [])))),
            helper.make_tensor_value_info("count", TensorProto.INT64, []),
        ],
    )
    model = helper.make_model(graph, opset_imports=[*OPSET, helper.make_opsetid(ml, 1)], producer_name=PRODUCER)
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def image_stats(name, channels, size=16, element=TensorProto.FLOAT, nhwc=False):
    """The mean, minimum and maximum of each channel of the image it is given, so a test reads back
    exactly what preprocessing wrote: channel means for colour, the grey statistics for 1 channel."""
    shape = [1, size, size, channels] if nhwc else [1, channels, size, size]
    axes = [1, 2] if nhwc else [2, 3]
    nodes, source = [], "image"
    if element != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["image"], ["pixels"], to=TensorProto.FLOAT))
        source = "pixels"
    outputs = []
    for op, out in (("ReduceMean", "mean"), ("ReduceMin", "min"), ("ReduceMax", "max")):
        nodes.append(helper.make_node(op, [source], [out], axes=axes, keepdims=0))
        outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, channels]))
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("image", element, shape)], outputs)
    return finish(graph, doc=f"Per-channel mean, min and max of a {'x'.join(map(str, shape))} image.")


def red_box_detector(size=64):
    """A one-class detector with a YOLOv8 head ([1, 4 + 1, 1]: centre x, centre y, width, height,
    score) that finds the red pixels in its input (red over green by more than half the range) and
    boxes them exactly, so a test knows where the box must land. Letterbox padding (grey) and black
    are not red; the score is 1 when any pixel is red and 0 otherwise."""
    ramp = numpy_helper.from_array(np.arange(size, dtype=np.float32), "ramp")
    consts = [
        ramp,
        numpy_helper.from_array(np.array(0, dtype=np.int64), "red_channel"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "green_channel"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"),
        numpy_helper.from_array(np.array(1, dtype=np.float32), "one"),
        numpy_helper.from_array(np.array(2, dtype=np.float32), "two"),
        numpy_helper.from_array(np.array(1e6, dtype=np.float32), "far"),
        numpy_helper.from_array(np.array([1, 5, 1], dtype=np.int64), "head_shape"),
    ]
    nodes = [
        helper.make_node("Gather", ["image", "red_channel"], ["red"], axis=1),
        helper.make_node("Gather", ["image", "green_channel"], ["green"], axis=1),
        helper.make_node("Sub", ["red", "green"], ["redness"]),
        helper.make_node("Greater", ["redness", "half"], ["is_red"]),
        helper.make_node("Cast", ["is_red"], ["mask"], to=TensorProto.FLOAT),
        # A column holds red when any of its rows does, and a row when any of its columns does.
        helper.make_node("ReduceMax", ["mask"], ["columns"], axes=[1], keepdims=0),
        helper.make_node("ReduceMax", ["mask"], ["rows"], axes=[2], keepdims=0),
        helper.make_node("ReduceMax", ["columns"], ["score"], axes=[1], keepdims=0),
    ]
    edges = {}
    for axis in ("columns", "rows"):
        nodes += [
            helper.make_node("Mul", [axis, "ramp"], [f"{axis}_at"]),
            helper.make_node("ReduceMax", [f"{axis}_at"], [f"{axis}_last"], axes=[1], keepdims=0),
            # Where nothing is red the index is pushed far out, so the minimum is the first red one.
            helper.make_node("Sub", ["one", axis], [f"{axis}_empty"]),
            helper.make_node("Mul", [f"{axis}_empty", "far"], [f"{axis}_away"]),
            helper.make_node("Add", [f"{axis}_at", f"{axis}_away"], [f"{axis}_from"]),
            helper.make_node("ReduceMin", [f"{axis}_from"], [f"{axis}_first"], axes=[1], keepdims=0),
            # Pixel i covers [i, i + 1): the box runs from the first red pixel to past the last.
            helper.make_node("Add", [f"{axis}_last", "one"], [f"{axis}_end"]),
            helper.make_node("Sub", [f"{axis}_end", f"{axis}_first"], [f"{axis}_size"]),
            helper.make_node("Add", [f"{axis}_end", f"{axis}_first"], [f"{axis}_sum"]),
            helper.make_node("Div", [f"{axis}_sum", "two"], [f"{axis}_centre"]),
        ]
        edges[axis] = (f"{axis}_centre", f"{axis}_size")
    nodes += [
        helper.make_node("Concat", [edges["columns"][0], edges["rows"][0], edges["columns"][1], edges["rows"][1], "score"], ["head"], axis=0),
        helper.make_node("Reshape", ["head", "head_shape"], ["detections"]),
    ]
    graph = helper.make_graph(
        nodes,
        "red_box_detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, [1, 5, 1])],
        initializer=consts,
    )
    return finish(graph, labels=["red"], doc=f"Boxes the red pixels of a {size}x{size} image, as a one-class YOLOv8 head.")


MODELS = {
    "red-box-detector.onnx": red_box_detector,
    "colour-classifier.onnx": colour_classifier,
    "add.onnx": add,
    "dynamic-relu.onnx": dynamic_relu,
    "slow-loop.onnx": slow_loop,
    "all-types.onnx": all_types,
    "mobilenet-v2-random.onnx": mobilenet_v2,
    "colour-classifier-inverted.onnx": colour_classifier_inverted,
    "maps.onnx": maps,
    "unused-initializer.onnx": unused_initializer,
    # What a frame becomes in colour, grey and uint8 NHWC grey inputs; and two inputs that are no images.
    "channel-stats.onnx": lambda: image_stats("channel_stats", 3),
    "grey-stats.onnx": lambda: image_stats("grey_stats", 1),
    "grey-stats-uint8-nhwc.onnx": lambda: image_stats("grey_stats_uint8_nhwc", 1, element=TensorProto.UINT8, nhwc=True),
    "four-channel-stats.onnx": lambda: image_stats("four_channel_stats", 4),
    "int32-image-stats.onnx": lambda: image_stats("int32_image_stats", 3, element=TensorProto.INT32),
}


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        data = build().SerializeToString()
        path = out / name
        if path.exists() and path.read_bytes() == data:
            continue
        # A name of this process's own: parallel project builds may run the generator at once.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        print(f"models: wrote {path}")
    print(f"models: {len(MODELS)} in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "artifacts/models")
