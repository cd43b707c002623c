using System.Text.Json;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// Resolves a Waggle camera name such as <c>bottom_camera</c> the way pywaggle does: through the
/// node's data config (<c>WAGGLE_DATA_CONFIG_PATH</c>, by default /run/waggle/data-config.json), an
/// array of <c>{name, match{id, ...}, handler{type, args{url}}}</c>, where the name is
/// <c>match.id</c> and the stream is <c>handler.args.url</c>.
/// </summary>
internal static class WaggleCameras
{
    public const string ConfigVariable = "WAGGLE_DATA_CONFIG_PATH";
    public const string DefaultConfigPath = "/run/waggle/data-config.json";

    public static string ConfigPath => Environment.GetEnvironmentVariable(ConfigVariable) is { Length: > 0 } path ? path : DefaultConfigPath;

    /// <summary>True for inputs that can only be a camera name: no path separators, dots or wildcards.</summary>
    public static bool LooksLikeName(string input) =>
        input.Length > 0 && input.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>The camera's URL; null when the config file does not exist.</summary>
    /// <exception cref="FileNotFoundException">The config exists but names no such camera; the message lists those it names.</exception>
    /// <exception cref="FormatException">The config is not the JSON shape Waggle writes.</exception>
    public static string? Resolve(string name, string configPath)
    {
        if (!File.Exists(configPath))
        {
            return null;
        }

        using var document = ParseConfig(configPath);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"Waggle data config {configPath} is not a JSON array of devices.");
        }

        var known = new List<string>();
        foreach (var device in document.RootElement.EnumerateArray())
        {
            var id = Text(device, "match", "id");
            if (id is null)
            {
                continue;
            }

            known.Add(id);
            if (string.Equals(id, name, StringComparison.Ordinal))
            {
                return Text(device, "handler", "args", "url")
                    ?? throw new FormatException($"Waggle data config {configPath}: camera '{name}' has no handler.args.url.");
            }
        }

        throw new FileNotFoundException($"No file named '{name}', and Waggle data config {configPath} names no camera '{name}' (it has: {(known.Count == 0 ? "none" : string.Join(", ", known))}).", name);
    }

    private static JsonDocument ParseConfig(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new FormatException($"Waggle data config {path} is not valid JSON: {e.Message}", e);
        }
    }

    private static string? Text(JsonElement element, params string[] path)
    {
        foreach (var key in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(key, out element))
            {
                return null;
            }
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }
}
