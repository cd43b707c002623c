using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference.Tests;

/// <summary>Official tensors over test arrays: ONNX Runtime reads and writes the arrays in place.</summary>
internal static class Values
{
    public static OrtValue Tensor<T>(T[] data, params long[] shape)
        where T : unmanaged => OrtValue.CreateTensorValueFromMemory(data, shape);

    public static T[] Read<T>(OrtValue value)
        where T : unmanaged => value.GetTensorDataAsSpan<T>().ToArray();
}
