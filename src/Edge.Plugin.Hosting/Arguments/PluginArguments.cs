using System.Globalization;
using System.Text;

namespace Edge.Plugin.Hosting;

/// <summary>A command-line option a plugin accepts, shown in --help and mapped to a configuration key.</summary>
/// <param name="Name">The option's name without dashes, such as <c>input</c>.</param>
/// <param name="Description">One line for --help.</param>
/// <param name="ConfigurationKey">Where the value lands in configuration, such as <c>Plugin:Input</c>.</param>
/// <param name="IsFlag">True for a switch that takes no value, such as <c>-verbose</c>.</param>
/// <param name="DefaultValue">Shown in --help; applied through configuration defaults.</param>
/// <param name="ValueName">The placeholder shown in --help, such as <c>PATH</c>.</param>
public sealed record PluginArgument(string Name, string Description, string ConfigurationKey, bool IsFlag = false, string? DefaultValue = null, string ValueName = "VALUE");

/// <summary>The command line was wrong. The message says what was wrong; usage follows it.</summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public UsageException()
        : this("invalid command line")
    {
    }

    /// <summary>Creates the exception.</summary>
    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Parses pywaggle-style command lines: <c>-input x</c>, <c>--input x</c>, <c>-input=x</c> and
/// <c>--input=x</c> all mean the same, as argparse accepts them in the Python plugins this replaces.
/// </summary>
internal static class PluginArguments
{
    public static readonly PluginArgument Input = new("input", "Where frames come from: an image file, a folder or a glob.", "Plugin:Input", ValueName: "SOURCE");
    public static readonly PluginArgument Model = new("model", "The ONNX model: a path or URI.", "Inference:Model", ValueName: "MODEL");
    public static readonly PluginArgument Interval = new("interval", "Seconds between frames; 0 processes frames as they come.", "Plugin:IntervalSeconds", DefaultValue: "0", ValueName: "SECONDS");
    public static readonly PluginArgument Verbose = new("verbose", "Log debug detail to stderr.", "Plugin:Verbose", IsFlag: true);
    public static readonly PluginArgument Mode = new("mode", "dev, prod or abaco (one shot, parameters from MSG). Default: prod when WAGGLE_* variables are set, abaco under Abaco, else dev.", "Plugin:Mode", ValueName: "MODE");

    public static IReadOnlyList<PluginArgument> Standard { get; } = [Input, Model, Interval, Verbose, Mode];

    /// <summary>Parses arguments into configuration values. Returns null when help was asked for.</summary>
    /// <exception cref="UsageException">An option is unknown, repeated or missing its value.</exception>
    public static Dictionary<string, string?>? Parse(IReadOnlyList<string> args, IReadOnlyList<PluginArgument> known)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-help" or "-?")
            {
                return null;
            }

            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
            {
                throw new UsageException($"unexpected argument '{arg}': options start with - or --, for example -input {arg}");
            }

            var body = arg.TrimStart('-');
            string? inline = null;
            var equals = body.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                inline = body[(equals + 1)..];
                body = body[..equals];
            }

            var option = known.FirstOrDefault(o => string.Equals(o.Name, body, StringComparison.OrdinalIgnoreCase))
                ?? throw new UsageException($"unknown option '{arg}'{Suggest(body, known)}");
            if (!seen.Add(option.Name))
            {
                throw new UsageException($"option -{option.Name} is given more than once");
            }

            if (option.IsFlag)
            {
                values[option.ConfigurationKey] = inline is null ? "true" : ParseBool(option, inline);
                continue;
            }

            if (inline is null)
            {
                if (i + 1 >= args.Count || IsOption(args[i + 1], known))
                {
                    throw new UsageException($"option -{option.Name} needs a value: -{option.Name} {option.ValueName}");
                }

                inline = args[++i];
            }

            values[option.ConfigurationKey] = inline;
        }

        return values;
    }

    private static bool IsOption(string next, IReadOnlyList<PluginArgument> known)
    {
        // A negative number is a value, not an option.
        if (!next.StartsWith('-') || double.TryParse(next, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        var body = next.TrimStart('-').Split('=')[0];
        return body.Length == 0 || known.Any(o => string.Equals(o.Name, body, StringComparison.OrdinalIgnoreCase)) || body is "h" or "help";
    }

    private static string ParseBool(PluginArgument option, string text) => text.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => "true",
        "false" or "0" or "no" => "false",
        _ => throw new UsageException($"option -{option.Name} takes true or false, not '{text}'"),
    };

    private static string Suggest(string body, IReadOnlyList<PluginArgument> known)
    {
        var close = known.Where(o => o.Name.StartsWith(body, StringComparison.OrdinalIgnoreCase) || body.StartsWith(o.Name, StringComparison.OrdinalIgnoreCase)).Select(o => "-" + o.Name).ToList();
        return close.Count > 0 ? $"; did you mean {string.Join(" or ", close)}?" : string.Empty;
    }

    public static string Usage(string program, IReadOnlyList<PluginArgument> known)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Usage: {program} [options]");
        text.AppendLine();
        text.AppendLine("Options (a single or double dash; -name value or -name=value):");
        var width = known.Max(o => o.Name.Length + (o.IsFlag ? 0 : o.ValueName.Length + 1)) + 3;
        foreach (var option in known)
        {
            var left = option.IsFlag ? $"-{option.Name}" : $"-{option.Name} {option.ValueName}";
            var line = $"  {left.PadRight(width)}{option.Description}";
            if (option.DefaultValue is not null)
            {
                line += $" Default: {option.DefaultValue}.";
            }

            text.AppendLine(line);
        }

        text.AppendLine($"  {"-help".PadRight(width)}Show this help and exit.");
        text.AppendLine();
        text.AppendLine("Every option can also be set in appsettings.json or the environment, e.g. Plugin__Input, Inference__Model.");
        text.Append("Exit codes: 0 success, 1 a frame or the plugin failed, 2 bad command line, 3 start-up failed.");
        return text.ToString();
    }
}
