#!/usr/bin/python3
"""Runs backend node test cases through ONNX Runtime's C API alone (ort_case.c, no .NET) and compares
with the suite's expected outputs, to show that a case our binding fails is failed by the runtime itself.

usage: prove-runtime-differences.py LIBONNXRUNTIME ORT_CASE_BINARY CASE_NAME...
Needs Debian's python3-onnx and python3-numpy.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

SUITE = Path("/usr/share/libonnx-testdata/data/node")


def load(path):
    proto = onnx.TensorProto()
    proto.ParseFromString(path.read_bytes())
    return proto, numpy_helper.to_array(proto)


def tensor_args(array, elem, raw):
    """TYPE RANK DIM... FILE for ort_case, writing the elements raw (strings NUL-separated) to RAW."""
    if array.dtype.kind in "OUS":
        raw.write_bytes(b"".join(str(s if isinstance(s, str) else s.decode()).encode() + b"\0" for s in array.flat))
    else:
        raw.write_bytes(np.ascontiguousarray(array).tobytes())
    return [str(elem), str(array.ndim), *map(str, array.shape), str(raw)]


def main(lib, runner, cases):
    for case in cases:
        folder = SUITE / case
        model = onnx.load(str(folder / "model.onnx"))
        initialisers = {i.name for i in model.graph.initializer}
        graph_inputs = [i for i in model.graph.input if i.name not in initialisers]
        data = folder / "test_data_set_0"
        with tempfile.TemporaryDirectory() as tmp:
            args = [runner, lib, str(folder / "model.onnx"), tmp]
            for k, pb in enumerate(sorted(data.glob("input_*.pb"), key=lambda p: int(p.stem[6:]))):
                declared = graph_inputs[k].type
                if declared.HasField("sequence_type"):
                    sequence = onnx.SequenceProto()
                    sequence.ParseFromString(pb.read_bytes())
                    elem = declared.sequence_type.elem_type.tensor_type.elem_type
                    args += [sequence.name or graph_inputs[k].name, "seq", str(len(sequence.tensor_values))]
                    for e, tensor in enumerate(sequence.tensor_values):
                        args += tensor_args(numpy_helper.to_array(tensor), elem, Path(tmp) / f"in_{k}_{e}.bin")
                    continue
                proto, array = load(pb)
                name = proto.name or graph_inputs[k].name
                args += [name, *tensor_args(array, declared.tensor_type.elem_type, Path(tmp) / f"in_{k}.bin")]
            run = subprocess.run(args, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{case}: the C API run failed: {run.stderr.strip()}")
                continue
            verdicts = []
            for k, pb in enumerate(sorted(data.glob("output_*.pb"), key=lambda p: int(p.stem[7:]))):
                _, expected = load(pb)
                got = (Path(tmp) / f"output_{k}.bin").read_bytes()
                if expected.dtype.kind in "OUS":
                    text = lambda s: s.decode() if isinstance(s, bytes) else str(s)
                    actual = np.array([s.decode() for s in got.split(b"\0")[:-1]], dtype=object)
                    expected = np.array([text(s) for s in expected.flat], dtype=object)
                    same = list(actual) == list(expected)
                else:
                    actual = np.frombuffer(got, dtype=expected.dtype).reshape(expected.shape)
                    same = np.allclose(actual, expected, rtol=1e-3, atol=1e-7, equal_nan=True) if expected.dtype.kind == "f" \
                        else np.array_equal(actual, expected)
                if same:
                    verdicts.append(f"output {k} matches")
                else:
                    flat_e, flat_a = expected.reshape(-1), actual.reshape(-1)
                    i = next(i for i in range(flat_e.size) if not np.allclose(flat_a[i], flat_e[i], rtol=1e-3, atol=1e-7, equal_nan=True)) \
                        if expected.dtype.kind == "f" else int(np.argmax(flat_a != flat_e))
                    verdicts.append(f"output {k}[{i}] is {flat_a[i]!r}, expected {flat_e[i]!r}")
            print(f"{case}: ONNX Runtime C API: {'; '.join(verdicts)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
