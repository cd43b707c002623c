using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Edge.Inference;

/// <summary>
/// Receives ONNX Runtime's own log lines. While a provider is being attached, the lines are captured
/// on that thread: a failed append says only "Failed to load shared library", and the line before it
/// says which. Everything else goes to the host's logger, or to stderr as ORT itself would write it.
/// </summary>
internal static class OrtLog
{
    [ThreadStatic]
    private static List<string>? t_capture;

    private static volatile ILogger? s_logger;

    // Held in a static field: native code keeps calling the delegate for the life of the process.
    private static readonly DOrtLoggingFunction Callback = OnLog;

    public static ILogger? Logger
    {
        get => s_logger;
        set => s_logger = value;
    }

    /// <summary>Creates ORT's environment with our logger, unless someone created it already (then ORT logs to stderr itself).</summary>
    public static void CreateEnvironment()
    {
        if (OrtEnv.IsCreated)
        {
            return;
        }

        var options = new EnvironmentCreationOptions
        {
            logId = "edge",
            logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
            loggingFunction = Callback,
        };
        try
        {
            OrtEnv.CreateInstanceWithOptions(ref options);
        }
        catch (OnnxRuntimeException) when (OrtEnv.IsCreated)
        {
            // Another caller, not through Edge.Inference, created it between the check and here.
        }
    }

    public static Capture StartCapture() => new();

    private static void OnLog(nint param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        try
        {
            if (t_capture is { } capture)
            {
                capture.Add(message);
                return;
            }

            var logger = s_logger;
            if (logger is null)
            {
                Console.Error.WriteLine($"onnxruntime [{severity}] {message}");
                return;
            }

            var level = severity switch
            {
                OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE => LogLevel.Trace,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO => LogLevel.Debug,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING => LogLevel.Warning,
                OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            if (logger.IsEnabled(level))
            {
#pragma warning disable CA1848, CA2254 // a pass-through of the runtime's own text; there is no template to cache
                logger.Log(level, "onnxruntime: {Message}", message);
#pragma warning restore CA1848, CA2254
            }
        }
#pragma warning disable CA1031 // an exception must never unwind into native code
        catch
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>The lines captured on one thread.</summary>
    internal sealed class Capture : IDisposable
    {
        private readonly List<string>? _outer;
        private readonly List<string> _lines = [];

        public Capture()
        {
            _outer = t_capture;
            t_capture = _lines;
        }

        public IReadOnlyList<string> Lines => _lines;

        public void Dispose() => t_capture = _outer;
    }

    /// <summary>
    /// Drops ORT's "[ErrorCode:Fail] /onnxruntime_src/...cc:123 Function() [ONNXRuntimeError] : 1 : FAIL : "
    /// prefixes, which tell a plugin author nothing, and keeps the sentence after them.
    /// </summary>
    internal static string Shorten(string line)
    {
        const string Marker = "[ONNXRuntimeError] : ";
        var at = line.IndexOf(Marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            var parts = line[(at + Marker.Length)..].Split(" : ", 3);
            return (parts.Length == 3 ? parts[2] : parts[^1]).Trim();
        }

        return SplitErrorCode(line).Sentence.Trim();
    }

    /// <summary>ORT's error code name from its managed exception's "[ErrorCode:Name] ..." message.</summary>
    internal static string ErrorCode(OnnxRuntimeException e) => SplitErrorCode(e.Message).Code;

    /// <summary>The managed package's "[ErrorCode:Name] sentence" form, split; no code where there is no such prefix.</summary>
    private static (string Code, string Sentence) SplitErrorCode(string message)
    {
        const string Prefix = "[ErrorCode:";
        return message.StartsWith(Prefix, StringComparison.Ordinal) && message.IndexOf(']', StringComparison.Ordinal) is var close and > 0
            ? (message[Prefix.Length..close], message[(close + 1)..])
            : (string.Empty, message);
    }
}
