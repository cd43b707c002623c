using Edge.Plugin.Hosting.Secrets;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
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

    // Abaco passes parameters, not data: a megabyte MSG is a mistake or an attack, either way not a request.
    private const int MaxMessageLength = 64 * 1024;

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

        if (message.Length > MaxMessageLength)
        {
            throw new UsageException($"MSG is {message.Length} characters, over the {MaxMessageLength}-character limit: pass large data by URL ('data_url'), not inline.");
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

        if (!values.Keys.Any(k => InputKeys.Contains(k, StringComparer.OrdinalIgnoreCase)))
        {
            // Never fall back to the configured input: a function answering for a sample image is a wrong answer, not a default.
            throw new UsageException($"MSG names no input: give 'input' (a file) or 'data_url' (an http(s) URL), for example MSG=\"{{'data_url': 'https://example.org/barn.jpg'}}\"; it has {(values.Count == 0 ? "no keys" : string.Join(", ", values.Keys.Select(k => $"'{k}'")))}.");
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
    public static void AddDownload(IServiceCollection services, Uri url, string path, DownloadLimits limits) =>
        services.AddSingleton<IHostedService>(new InputDownload(url, path, limits));

    /// <summary>
    /// Bounds on the input download, from <c>Triggers:Abaco</c>: a server that stalls, drips a byte a
    /// second or sends without end must end the run with an error, not hold the actor forever.
    /// </summary>
    internal sealed record DownloadLimits(TimeSpan IdleTimeout, TimeSpan Timeout, long MaxBytes)
    {
        public const string Section = "Triggers:Abaco";

        public static DownloadLimits From(IConfiguration configuration)
        {
            var idle = Duration(configuration, "DownloadIdleTimeout", TimeSpan.FromSeconds(30));
            var whole = Duration(configuration, "DownloadTimeout", TimeSpan.FromMinutes(5));
            var key = $"{Section}:MaxDownloadBytes";
            var max = 256L * 1024 * 1024;
            if (configuration[key] is { Length: > 0 } text && (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out max) || max <= 0))
            {
                throw new UsageException($"{key} is '{text}', which is not a positive whole number of bytes: set {key} in appsettings.json or {key.Replace(":", "__", StringComparison.Ordinal)} in the environment.");
            }

            return new DownloadLimits(idle, whole, max);
        }

        private static TimeSpan Duration(IConfiguration configuration, string name, TimeSpan fallback)
        {
            var key = $"{Section}:{name}";
            if (configuration[key] is not { Length: > 0 } text)
            {
                return fallback;
            }

            if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) || value <= TimeSpan.Zero || value > TimeSpan.FromDays(1))
            {
                throw new UsageException($"{key} is '{text}', which is not a positive TimeSpan of at most a day such as {fallback:c}: set {key} in appsettings.json or {key.Replace(":", "__", StringComparison.Ordinal)} in the environment.");
            }

            return value;
        }
    }

    private sealed class InputDownload(Uri url, string path, DownloadLimits limits) : IHostedService
    {
        // Redirects are followed to http(s) only (the handler never follows another scheme) and at most this often.
        private const int MaxRedirects = 5;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            var shown = Redaction.Url(url);
            using var whole = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            whole.CancelAfter(limits.Timeout);
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(whole.Token);
            // Redirects are followed here, not by the handler, so that the rule is ours: http(s) only, a few hops.
            using var handler = new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = limits.IdleTimeout };
            using var http = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            try
            {
                idle.CancelAfter(limits.IdleTimeout);
                using var response = await GetFollowingRedirectsAsync(http, shown, idle.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"downloading the input {shown} failed: {(int)response.StatusCode} {response.ReasonPhrase}");
                }

                if (response.Content.Headers.ContentLength > limits.MaxBytes)
                {
                    throw TooLarge(shown, $"it announces {response.Content.Headers.ContentLength} bytes");
                }

                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
                var file = File.Create(path);
                await using (body.ConfigureAwait(false))
                await using (file.ConfigureAwait(false))
                {
                    var buffer = new byte[81920];
                    long received = 0;
                    while (true)
                    {
                        idle.CancelAfter(limits.IdleTimeout);
                        var read = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        received += read;
                        if (received > limits.MaxBytes)
                        {
                            throw TooLarge(shown, $"more than {limits.MaxBytes} bytes arrived");
                        }

                        await file.WriteAsync(buffer.AsMemory(0, read), whole.Token).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException(whole.IsCancellationRequested
                    ? $"downloading the input {shown} took longer than {limits.Timeout:c} ({DownloadLimits.Section}:DownloadTimeout)"
                    : $"downloading the input {shown} stalled: nothing arrived for {limits.IdleTimeout:c} ({DownloadLimits.Section}:DownloadIdleTimeout)");
            }
            catch (HttpRequestException e)
            {
                // The handler's message can quote the URL as given, credentials and all.
                throw new InvalidOperationException($"downloading the input {shown} failed: {(e.HttpRequestError == HttpRequestError.Unknown ? "the request failed" : e.HttpRequestError.ToString())}{(e.StatusCode is HttpStatusCode code ? $" ({(int)code})" : string.Empty)}");
            }
        }

        private async Task<HttpResponseMessage> GetFollowingRedirectsAsync(HttpClient http, string shown, CancellationToken cancellationToken)
        {
            var current = url;
            for (var hop = 0; ; hop++)
            {
                var response = await http.GetAsync(current, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if ((int)response.StatusCode is not (301 or 302 or 303 or 307 or 308))
                {
                    return response;
                }

                var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
                var location = response.Headers.TryGetValues("Location", out var values) ? values.FirstOrDefault() : null;
                response.Dispose();
                if (hop == MaxRedirects)
                {
                    throw new InvalidOperationException($"downloading the input {shown} failed: more than {MaxRedirects} redirects");
                }

                if (location is null || !Uri.TryCreate(current, location, out var next))
                {
                    throw new InvalidOperationException($"downloading the input {shown} failed: {status} without a usable Location");
                }

                if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                {
                    throw new InvalidOperationException($"downloading the input {shown} failed: {status} to a {next.Scheme}: URL, which is not followed (only http and https)");
                }

                current = next;
            }
        }

        private InvalidOperationException TooLarge(string shown, string what) =>
            new($"downloading the input {shown} stopped: {what}, over the {limits.MaxBytes}-byte limit ({DownloadLimits.Section}:MaxDownloadBytes)");

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
