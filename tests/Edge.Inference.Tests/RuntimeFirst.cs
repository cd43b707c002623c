using System.Runtime.CompilerServices;

namespace Edge.Inference.Tests;

internal static class RuntimeFirst
{
    /// <summary>
    /// Opens ONNX Runtime through Edge.Inference before any test touches an ORT type directly, as a
    /// plugin does; otherwise which test ran first would decide who created the runtime's environment
    /// (and with it whether ORT's log reaches our logger).
    /// </summary>
#pragma warning disable CA2255 // a test assembly's set-up, not a library's
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Open() => OnnxRuntimeLibrary.EnsureLoaded();
}
