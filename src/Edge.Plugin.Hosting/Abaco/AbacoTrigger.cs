using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Edge.Plugin.Hosting;

/// <summary>
/// Abaco's function-style run: parameters come from the <c>MSG</c> environment variable, the plugin
/// runs once on its input, only the result goes to stdout (logs go to stderr), and the exit code
/// says whether it worked. Chosen by <c>-mode abaco</c>, or when Abaco's own variables
/// (<c>_abaco_actor_id</c>, <c>_abaco_execution_id</c>) are set beside <c>MSG</c>.
/// </summary>
internal static class AbacoTrigger
{
    public const string MessageVariable = "MSG";

    private static readonly string[] InputKeys = ["input", "data_url", "url", "image_url"];

    public static bool IsRequested(string? mode, Func<string, string?> environment) =>
        string.Equals(mode?.Trim(), "abaco", StringComparison.OrdinalIgnoreCase)
        || (string.IsNullOrWhiteSpace(mode) && environment(MessageVariable) is not null
            && (environment("_abaco_actor_id") is not null || environment("_abaco_execution_id") is not null));

    /// <summary>
    /// Turns MSG into configuration: a key naming a plugin option (<c>input</c>, <c>model</c>, or one
    /// added with AddArgument) lands on that option; <c>data_url</c>, <c>url</c> and <c>image_url</c>
    /// mean the input; any other key lands at <c>Plugin:&lt;key&gt;</c>. An http(s) input is
    /// downloaded first, to a file named by <c>data_name</c> when given. Every key, as sent, also
    /// becomes the plugin's <see cref="PluginContext.Parameters"/>.
    /// </summary>
    /// <exception cref="UsageException">MSG is missing or malformed; the message says where.</exception>
    public static (Dictionary<string, string?> Configuration, Uri? Download, IReadOnlyDictionary<string, string> Parameters) Configure(string? message, IReadOnlyList<PluginArgument> arguments)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            throw new UsageException("Abaco mode needs the parameters in the MSG environment variable, for example MSG=\"{'data_url': 'https://example.org/barn.jpg'}\".");
        }

        Dictionary<string, string> values;
        try
        {
            values = AbacoMessage.Parse(message);
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message, e);
        }

        var configuration = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Publishing:Stdout:Enabled"] = "true",
            ["Publishing:Stdout:Format"] = "Value",
        };
        Uri? download = null;
        foreach (var (key, value) in values)
        {
            if (InputKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                configuration[PluginArguments.Input.ConfigurationKey] = value;
                continue;
            }

            var option = arguments.FirstOrDefault(a => string.Equals(a.Name, key, StringComparison.OrdinalIgnoreCase));
            configuration[option?.ConfigurationKey ?? $"{PluginOptions.SectionName}:{key}"] = value;
        }

        if (configuration.TryGetValue(PluginArguments.Input.ConfigurationKey, out var input)
            && Uri.TryCreate(input, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            var name = values.TryGetValue("data_name", out var given) && given.Length > 0 ? Path.GetFileName(given) : Path.GetFileName(url.AbsolutePath);
            var folder = Path.Combine(Path.GetTempPath(), "edge-plugin", "abaco", Guid.NewGuid().ToString("N"));
            configuration[PluginArguments.Input.ConfigurationKey] = Path.Combine(folder, string.IsNullOrEmpty(name) ? "input" : name);
            download = url;
        }

        return (configuration, download, values.AsReadOnly());
    }

    /// <summary>Downloads the input before the plugin starts, so the plugin reads a local file.</summary>
    public static void AddDownload(IServiceCollection services, Uri url, string path) =>
        services.AddSingleton<IHostedService>(new InputDownload(url, path));

    private sealed class InputDownload(Uri url, string path) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"downloading the input {url} failed: {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var file = File.Create(path);
            await using (file.ConfigureAwait(false))
            {
                await response.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            try
            {
                Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
            }
            catch (IOException)
            {
            }

            return Task.CompletedTask;
        }
    }
}
