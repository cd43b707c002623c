using System.Text.RegularExpressions;

namespace Edge.Plugin.Hosting;

/// <summary>
/// Turns the configuration binder's "Failed to convert configuration value 'abc' at 'Plugin:Interval'
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
        return $"{key} is '{value}', which is not {expected}: {byFlag}set {key} in appsettings.json or {key.Replace(":", "__", StringComparison.Ordinal)} in the environment.";
    }

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex BinderMessage();
}
