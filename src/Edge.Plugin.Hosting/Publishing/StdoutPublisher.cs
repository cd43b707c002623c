using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting.Publishing;

/// <summary>How results appear on stdout.</summary>
public enum StdoutFormat
{
    /// <summary><c>name: value (key=value, ...)</c>, for people.</summary>
    Text,

    /// <summary>One compact JSON object per line, in Waggle's message shape.</summary>
    Json,

    /// <summary>The value alone, one per line: what an Abaco actor prints.</summary>
    Value,
}

/// <summary>Options for the stdout publisher, bound from <c>Publishing:Stdout</c>.</summary>
public sealed class StdoutPublisherOptions
{
    /// <summary>Whether results go to stdout. Default: on in development mode, off in production.</summary>
    public bool? Enabled { get; set; }

    /// <summary>The line format. Default <see cref="StdoutFormat.Text"/>.</summary>
    public StdoutFormat Format { get; set; } = StdoutFormat.Text;
}

/// <summary>
/// Results to stdout, one line each. Logs never go to stdout (they go to stderr), so stdout can be
/// piped or captured as the plugin's output.
/// </summary>
internal sealed class StdoutPublisher(IOptions<StdoutPublisherOptions> options, TextWriter? output = null) : IMeasurementPublisher
{
    private readonly TextWriter _output = output ?? Console.Out;
    private readonly StdoutFormat _format = options.Value.Format;
    private readonly Lock _gate = new();

    public string Name => "stdout";

    public ValueTask PublishAsync(Measurement measurement, CancellationToken cancellationToken)
    {
        var line = Format(measurement, _format);
        lock (_gate)
        {
            _output.WriteLine(line);
            _output.Flush();
        }

        return ValueTask.CompletedTask;
    }

    internal static string Format(Measurement measurement, StdoutFormat format)
    {
        switch (format)
        {
            case StdoutFormat.Value:
                return measurement.Value.ToString();
            case StdoutFormat.Json:
                using (var buffer = new MemoryStream())
                {
                    using (var writer = new Utf8JsonWriter(buffer))
                    {
                        MeasurementJson.WriteWaggleMessage(writer, measurement);
                    }

                    return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
                }

            default:
                var text = new StringBuilder(measurement.Name).Append(": ").Append(measurement.Value.ToString());
                if (measurement.Meta.Count > 0)
                {
                    text.Append(" (").AppendJoin(", ", measurement.Meta.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}")).Append(')');
                }

                return text.ToString();
        }
    }
}
