using Edge.Plugin.Hosting.Secrets;
using System.Net;
using System.Net.Http.Headers;
using Edge.Plugin.Hosting.Codecs;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Inputs;

/// <summary>
/// A camera over HTTP(S). The response decides what it is: a multipart/x-mixed-replace stream
/// (MJPEG, as <c>http://camera:8090/live</c>) is read part by part as it arrives; a single image is a
/// snapshot URL, fetched again each time the plugin wants a frame. Servers that label an MJPEG
/// stream application/octet-stream (ffmpeg's own) are recognised by their first bytes.
/// Parts are decoded only when the plugin reads them; the ones it skips are never decoded.
/// </summary>
internal sealed class HttpFrameSource : LiveFrameSource<EncodedImage>
{
    // A camera image is at most a few megabytes; this bounds memory against a broken or hostile server.
    private const int MaxImageBytes = 64 * 1024 * 1024;
    private readonly Uri _url;
    private readonly HttpClient _http;

    public HttpFrameSource(Uri url, InputOptions options, ILogger logger)
        : base(Redaction.Url(url), options, logger, finite: false)
    {
        _url = url;
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = options.StallTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("edge-plugin", "1.0"));
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            var credentials = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(url.UserInfo)));
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", credentials);
        }
    }

    /// <summary>What the last connection turned out to be; for tests and logs.</summary>
    public string? Kind { get; private set; }

    protected override async Task GrabAsync(CancellationToken cancellationToken)
    {
        var lastRequest = 0L;
        for (var first = true; ; first = false)
        {
            if (!first)
            {
                // A snapshot URL is fetched again only when the plugin wants the next frame, so an
                // interval of a minute costs one request a minute; and never sooner than SnapshotInterval
                // after the last, so a plugin without an interval does not hammer the camera.
                await WaitForDemandAsync(cancellationToken).ConfigureAwait(false);
                var wait = Options.SnapshotInterval - System.Diagnostics.Stopwatch.GetElapsedTime(lastRequest);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }
            }

            lastRequest = System.Diagnostics.Stopwatch.GetTimestamp();
            using var response = await GetAsync(cancellationToken).ConfigureAwait(false);
            var headersNs = Clock.NowNs();
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var type = response.Content.Headers.ContentType;
                var boundary = type?.Parameters.FirstOrDefault(p => string.Equals(p.Name, "boundary", StringComparison.OrdinalIgnoreCase))?.Value;
                using var reader = new MultipartReader(stream, boundary, Options.StallTimeout, MaxImageBytes, cancellationToken);
                if (await IsStreamAsync(type, reader).ConfigureAwait(false))
                {
                    Kind = "mjpeg";
                    Connected();
                    while (await reader.ReadPartAsync().ConfigureAwait(false) is { } part)
                    {
                        await EmitAsync(part, part.TimestampNs, cancellationToken).ConfigureAwait(false);
                    }

                    return;
                }

                Kind = "snapshot";
                var image = await reader.ReadToEndAsync(response.Content.Headers.ContentLength ?? -1, headersNs).ConfigureAwait(false);
                Connected();
                await EmitAsync(image, headersNs, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    protected override Frame ToFrame(EncodedImage item)
    {
        try
        {
            return ImageDecoder.Decode(item.Span, Description, item.TimestampNs, Options.Target, Options.MaxPixels);
        }
        finally
        {
            item.Release();
        }
    }

    protected override void Release(EncodedImage item) => item.Release();

    protected override ValueTask CloseAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async ValueTask<bool> IsStreamAsync(MediaTypeHeaderValue? type, MultipartReader reader)
    {
        var media = type?.MediaType ?? string.Empty;
        if (media.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (media.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var head = await reader.PeekAsync(2).ConfigureAwait(false);
        return head.Span.StartsWith("--"u8);
    }

    private async Task<HttpResponseMessage> GetAsync(CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(Options.StallTimeout);
            try
            {
                response = await _http.GetAsync(_url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no response within {Options.StallTimeout.TotalSeconds:0.#} s");
            }
        }

        if (!response.IsSuccessStatusCode)
        {
            var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            response.Dispose();
            throw new HttpRequestException(status);
        }

        return response;
    }
}
