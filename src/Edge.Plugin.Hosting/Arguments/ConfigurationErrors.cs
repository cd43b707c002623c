using System.Text.RegularExpressions;
using Edge.Plugin.Hosting.Secrets;

namespace Edge.Plugin.Hosting;

/// <summary>
/// Turns the configuration binder's "Failed to convert configuration value 'abc' at 'Plugin:IntervalSeconds'
/// to type 'System.Double'" into a sentence that names every way a user may have set it: the key, its
/// command-line flag and its environment variable. The binder throws that as a bare
/// InvalidOperationException, which would otherwise crash the process or read as a start-up failure.
/// </summary>
internal static partial class ConfigurationErrors
{
    public static bool TryDescribe(Exception error, IReadOnlyList<PluginArgument> arguments, out string message)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is InvalidOperationException && BinderMessage().Match(e.Message) is { Success: true } match)
            {
                message = Describe(match.Groups["key"].Value, match.Groups["value"].Value, match.Groups["type"].Value, arguments);
                return true;
            }
        }

        message = string.Empty;
        return false;
    }

    internal static string Describe(string key, string value, string type, IReadOnlyList<PluginArgument> arguments)
    {
        var expected = type switch
        {
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Int32" or "System.Int64" or "System.Int16" or "System.Byte" or "System.UInt32" or "System.UInt64" => "a whole number",
            "System.Boolean" => "true or false",
            "System.TimeSpan" => "a duration such as 00:00:05",
            "System.Uri" => "a URI",
            _ => $"a {type[(type.LastIndexOf('.') + 1)..]}",
        };
        var flag = arguments.FirstOrDefault(a => string.Equals(a.ConfigurationKey, key, StringComparison.OrdinalIgnoreCase));
        var byFlag = flag is null ? string.Empty : $"give -{flag.Name} {flag.ValueName}, or ";
        return $"{key} is '{Redaction.Setting(key, value)}', which is not {expected}: {byFlag}set {key} in appsettings.json or {key.Replace(":", "__", StringComparison.Ordinal)} in the environment.";
    }

    /// <summary>
    /// Adds to a validator's failure, which starts with the key it is about ("Publishing:Rest:Url is not
    /// set"), the other ways that key is set: its flag and its environment variable, unless it names them.
    /// </summary>
    public static string DescribeValidation(string failure, IReadOnlyList<PluginArgument> arguments)
    {
        if (LeadingKey().Match(failure) is not { Success: true } match)
        {
            return failure;
        }

        var key = match.Groups["key"].Value;
        var variable = key.Replace(":", "__", StringComparison.Ordinal);
        if (failure.Contains(variable, StringComparison.OrdinalIgnoreCase))
        {
            return failure;
        }

        var flag = arguments.FirstOrDefault(a => string.Equals(a.ConfigurationKey, key, StringComparison.OrdinalIgnoreCase));
        var byFlag = flag is null ? string.Empty : $"-{flag.Name}, ";
        return $"{failure.TrimEnd()} (set by {byFlag}{key} in appsettings.json or {variable} in the environment)";
    }

    [GeneratedRegex(@"^(?<key>[A-Z][A-Za-z0-9]*(?::[A-Za-z0-9]+)+)\b")]
    private static partial Regex LeadingKey();

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();
}
