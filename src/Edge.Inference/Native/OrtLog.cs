using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Edge.Inference.Native;

/// <summary>
/// Receives ONNX Runtime's own log lines. A failed provider append returns only "Failed to load shared
/// library"; the line naming the missing file is logged just before it, so while a provider is being
/// attached the lines are captured on that thread and become part of the fallback reason.
/// Everything else goes to the configured logger, or to stderr as ORT itself would write it.
/// </summary>
internal static unsafe class OrtLog
{
    // ORT_LOGGING_LEVEL_WARNING: what the runtime prints by default.
    private const int MinimumLevel = 2;

    [ThreadStatic]
    private static List<string>? t_capture;

    private static volatile ILogger? s_logger;

    /// <summary>Where runtime log lines go once a host has a logger; stderr before that.</summary>
    public static ILogger? Logger
    {
        get => s_logger;
        set => s_logger = value;
    }

    public static nint CreateEnvironment() => OrtApi.CreateEnvWithCustomLogger(&OnLog, MinimumLevel, "edge");

    /// <summary>Captures the runtime's log lines on this thread until disposed.</summary>
    public static Capture StartCapture() => new();

    [UnmanagedCallersOnly]
    private static void OnLog(nint param, int severity, byte* category, byte* logId, byte* location, byte* message)
    {
        try
        {
            var text = Marshal.PtrToStringUTF8((nint)message) ?? string.Empty;
            if (t_capture is { } capture)
            {
                capture.Add(text);
                return;
            }

            var logger = s_logger;
            if (logger is null)
            {
                Console.Error.WriteLine($"onnxruntime [{LevelName(severity)}] {text}");
                return;
            }

            var level = severity switch
            {
                0 => LogLevel.Trace,
                1 => LogLevel.Debug,
                2 => LogLevel.Warning,
                3 => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            if (logger.IsEnabled(level))
            {
#pragma warning disable CA1848, CA2254 // a pass-through of the runtime's own text; there is no template to cache
                logger.Log(level, "onnxruntime: {Message}", text);
#pragma warning restore CA1848, CA2254
            }
        }
#pragma warning disable CA1031 // an exception must never unwind into native code
        catch
#pragma warning restore CA1031
        {
        }
    }

    private static string LevelName(int severity) => severity switch
    {
        0 => "V",
        1 => "I",
        2 => "W",
        3 => "E",
        _ => "F",
    };

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

        /// <summary>The captured lines as one string, file paths kept, source locations dropped.</summary>
        public string Text()
        {
            var text = new StringBuilder();
            foreach (var line in _lines)
            {
                if (text.Length > 0)
                {
                    text.Append(" | ");
                }

                text.Append(Shorten(line));
            }

            return text.ToString();
        }

        public void Dispose() => t_capture = _outer;

        /// <summary>
        /// Drops ORT's "/onnxruntime_src/...cc:123 Function() [ONNXRuntimeError] : 1 : FAIL : " prefix,
        /// which tells a plugin author nothing, and keeps the sentence after it.
        /// </summary>
        internal static string Shorten(string line)
        {
            const string Marker = "[ONNXRuntimeError] : ";
            var at = line.IndexOf(Marker, StringComparison.Ordinal);
            if (at < 0)
            {
                return line.Trim();
            }

            // What follows the marker is "<code number> : <code name> : <message>".
            var parts = line[(at + Marker.Length)..].Split(" : ", 3);
            return (parts.Length == 3 ? parts[2] : parts[^1]).Trim();
        }
    }
}
