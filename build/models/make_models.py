#!/usr/bin/python3
"""Writes the small ONNX models the samples, tests and benchmarks run.

Every model has fixed weights, so its answers are known in advance and tests can assert them.
A file is rewritten only when its bytes would change, so a second run touches nothing.
Needs Debian's python3-onnx (build/setup.sh installs it).
"""
import json
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


def dynamic_relu():
    """A symbolic batch dimension, to test shape descriptions and runs at several batch sizes."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "dynamic_relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
    )
    return finish(graph)


MODELS = {
    "colour-classifier.onnx": colour_classifier,
    "add.onnx": add,
    "dynamic-relu.onnx": dynamic_relu,
    "colour-classifier-inverted.onnx": colour_classifier_inverted,
}


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, build in MODELS.items():
        data = build().SerializeToString()
        path = out / name
        if path.exists() and path.read_bytes() == data:
            continue
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        print(f"models: wrote {path}")
    print(f"models: {len(MODELS)} in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "artifacts/models")
