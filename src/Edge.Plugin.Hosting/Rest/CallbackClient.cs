using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Edge.Plugin.Hosting.Publishing;
using Edge.Plugin.Hosting.Secrets;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Hosting.Rest;

/// <summary>Retry settings for HTTP callbacks.</summary>
public sealed class CallbackOptions
{
    /// <summary>Attempts in all, the first included. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How long one attempt may take before it counts as a timeout. Default 10 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first backoff ceiling; it doubles per attempt, with full jitter. Default 0.5 s.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The largest backoff ceiling. Default 10 s.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Redirects followed per attempt, to http or https only; one more fails the callback without a
    /// retry. 0 follows none. Default 5.
    /// </summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>The longest silence allowed while an answer's body is read. Default 10 s.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>An HTTP callback failed. The message names the method, the URL and what went wrong.</summary>
public sealed class CallbackException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CallbackException(string message, Uri? url, HttpStatusCode? status, bool isPermanent, Exception? innerException = null)
        : base(message, innerException)
    {
        Url = url;
        StatusCode = status;
        IsPermanent = isPermanent;
    }

    /// <summary>Creates the exception.</summary>
    public CallbackException()
        : this("The callback failed.", null, null, isPermanent: false)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CallbackException(string message)
        : this(message, null, null, isPermanent: false)
    {
    }

    /// <summary>Creates the exception.</summary>
    public CallbackException(string message, Exception innerException)
        : this(message, null, null, isPermanent: false, innerException)
    {
    }

    /// <summary>The URL called.</summary>
    public Uri? Url { get; }

    /// <summary>The last HTTP status, if the server answered at all.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>
    /// True for an answer a retry would get again, so none was made: a 4xx, a redirect that is not
    /// followed (to another scheme, or one too many), or a request the client could not even form.
    /// </summary>
    public bool IsPermanent { get; }
}


/// <summary>
/// Sends JSON to a URL (POST or PUT) and retries what may succeed later: 5xx answers, timeouts and
/// connection failures, with exponential backoff and full jitter. A 4xx answer is never retried:
/// the same request would be refused again. Redirects (301, 302, 307, 308) are followed here, with
/// the same method and body, to http and https only and at most <see cref="CallbackOptions.MaxRedirects"/>
/// times; a 303 counts as accepted. Of an answer's body only the start of an error is read, with
/// <see cref="CallbackOptions.ReadTimeout"/> as the longest silence, so a server cannot make a callback
/// read forever or fill memory. Every failure, whatever its cause, ends as a <see cref="CallbackException"/>.
/// </summary>
internal sealed partial class CallbackClient(HttpClient http, CallbackOptions options, ILogger logger)
{
    // How much of an error answer is read for the message: enough for a server's one-line reason.
    private const int SnippetBytes = 1024;
    private const int SnippetChars = 200;

    // A URL from a request can be tens of kilobytes; a message shows its start.
    private const int UrlChars = 300;

    private readonly Backoff _backoff = new(options.InitialBackoff, options.MaxBackoff);

    public CallbackOptions Options => options;

    /// <summary>
    /// An HttpClient for <see cref="CallbackClient"/>: the handler follows no redirect itself (the client
    /// decides which to follow) and drains an unread body only a little before dropping the connection.
    /// </summary>
    public static HttpClient CreateHttpClient(CallbackOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            MaxResponseDrainSize = 64 * 1024,
            ResponseDrainTimeout = options.ReadTimeout > TimeSpan.Zero ? options.ReadTimeout : TimeSpan.FromSeconds(10),
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>A URL as messages and logs show it: redacted (no user info, no signed query values), and its start only when it is very long.</summary>
    public static string Display(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var text = Redaction.Url(url);
        return text.Length <= UrlChars ? text : $"{text[..UrlChars]}... ({text.Length} characters)";
    }

    /// <exception cref="CallbackException">A 4xx answer, a redirect not followed, or every attempt failed.</exception>
    public async Task SendAsync(HttpMethod method, Uri url, ReadOnlyMemory<byte> body, string contentType, CancellationToken cancellationToken)
    {
        var attempts = Math.Max(1, options.MaxAttempts);
        var shown = Display(url);
        var lastError = string.Empty;
        HttpStatusCode? lastStatus = null;
        Exception? lastException = null;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.AttemptTimeout);
            try
            {
                if (await SendOnceAsync(method, url, shown, body, contentType, timeout.Token).ConfigureAwait(false) is not { } failure)
                {
                    return;
                }

                (lastStatus, lastError) = failure;
                lastException = null;
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = $"no answer within {options.AttemptTimeout.TotalSeconds:0.###} s";
                lastStatus = null;
                lastException = e;
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                lastError = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
                lastStatus = null;
                lastException = e;
            }
            catch (Exception e) when (e is not CallbackException and not OperationCanceledException)
            {
                // Not a network failure: the request could not be made at all, and would not be next time.
                throw new CallbackException($"{method} {shown} could not be sent: {e.Message}", url, null, isPermanent: true, e);
            }

            if (attempt < attempts)
            {
                var delay = _backoff.Delay(attempt - 1);
                LogRetry(logger, method.Method, shown, lastError, attempt, attempts, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new CallbackException($"{method} {shown} failed after {attempts} attempt(s): {lastError}.", url, lastStatus, isPermanent: false, lastException);
    }

    /// <summary>One attempt, redirects included: null once accepted, else the status and reason of a retryable failure.</summary>
    private async Task<(HttpStatusCode Status, string Error)?> SendOnceAsync(HttpMethod method, Uri url, string shown, ReadOnlyMemory<byte> body, string contentType, CancellationToken cancellationToken)
    {
        var maxRedirects = Math.Max(0, options.MaxRedirects);
        var target = url;
        for (var followed = 0; ; followed++)
        {
            using var request = new HttpRequestMessage(method, target) { Content = new ReadOnlyMemoryContent(body) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);

            // 303 See Other: the server took the request and points at its result, which a callback does not need.
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.SeeOther)
            {
                return null;
            }

            var code = (int)response.StatusCode;
            var via = target == url ? string.Empty : $" (redirected to {Display(target)})";
            if (code is 301 or 302 or 307 or 308)
            {
                target = NextHop(method, url, shown, target, response, followed, maxRedirects);
                continue;
            }

            var detail = await SnippetAsync(response, cancellationToken).ConfigureAwait(false);
            var error = $"{code} {response.ReasonPhrase}{detail}{via}";
            if (code is >= 300 and < 500)
            {
                var why = code < 400 ? $"a {code} answer cannot be followed" : "a 4xx answer is not retried";
                throw new CallbackException($"{method} {shown} was refused with {error}; {why}.", url, response.StatusCode, isPermanent: true);
            }

            return (response.StatusCode, error);
        }
    }

    private static Uri NextHop(HttpMethod method, Uri url, string shown, Uri current, HttpResponseMessage response, int followed, int maxRedirects)
    {
        var code = (int)response.StatusCode;
        if (response.Headers.Location is not { } location)
        {
            throw new CallbackException($"{method} {shown} was answered {code} without a Location to follow.", url, response.StatusCode, isPermanent: true);
        }

        var next = location.IsAbsoluteUri ? location : new Uri(current, location);
        if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
        {
            throw new CallbackException($"{method} {shown} was redirected ({code}) to {Display(next)}; only http and https redirects are followed.", url, response.StatusCode, isPermanent: true);
        }

        if (followed >= maxRedirects)
        {
            throw new CallbackException($"{method} {shown} was redirected more than {maxRedirects} time(s), the last to {Display(next)}; Callback:MaxRedirects allows {maxRedirects}.", url, response.StatusCode, isPermanent: true);
        }

        return next;
    }

    /// <summary>The start of an error answer's body, on one line: at most <see cref="SnippetBytes"/> are read, each read bounded by <see cref="CallbackOptions.ReadTimeout"/>.</summary>
    private async Task<string> SnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[SnippetBytes];
        var filled = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                while (filled < buffer.Length)
                {
                    quiet.CancelAfter(options.ReadTimeout);
                    var read = await stream.ReadAsync(buffer.AsMemory(filled), quiet.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The server went quiet mid-body: the status says what matters; keep what came.
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            // The connection broke mid-body: likewise.
        }

        var text = new StringBuilder(Math.Min(filled, SnippetChars + 1));
        foreach (var c in Encoding.UTF8.GetString(buffer, 0, filled))
        {
            if (text.Length > SnippetChars)
            {
                break;
            }

            text.Append(char.IsControl(c) ? ' ' : c);
        }

        var snippet = text.ToString().Trim();
        return snippet.Length == 0 ? string.Empty : ": " + (snippet.Length > SnippetChars ? snippet[..SnippetChars] + "..." : snippet);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Url} failed ({Reason}); attempt {Attempt} of {Attempts}, retrying in {Seconds:F2} s")]
    private static partial void LogRetry(ILogger logger, string method, string url, string reason, int attempt, int attempts, double seconds);
}
