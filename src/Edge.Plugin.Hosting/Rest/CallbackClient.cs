using System.Net;
using System.Net.Http.Headers;
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

    /// <summary>True for a 4xx answer: the request itself was wrong, and was not retried.</summary>
    public bool IsPermanent { get; }
}

/// <summary>
/// Sends JSON to a URL (POST or PUT) and retries what may succeed later: 5xx answers, timeouts and
/// connection failures, with exponential backoff and full jitter. A 4xx answer is never retried:
/// the same request would be refused again.
/// </summary>
internal sealed partial class CallbackClient(HttpClient http, CallbackOptions options, ILogger logger)
{
    private readonly Backoff _backoff = new(options.InitialBackoff, options.MaxBackoff);

    public CallbackOptions Options => options;

    /// <exception cref="CallbackException">A 4xx answer, or every attempt failed.</exception>
    public async Task SendAsync(HttpMethod method, Uri url, ReadOnlyMemory<byte> body, string contentType, CancellationToken cancellationToken)
    {
        var attempts = Math.Max(1, options.MaxAttempts);
        var lastError = string.Empty;
        HttpStatusCode? lastStatus = null;
        Exception? lastException = null;
        for (var attempt = 1; attempt <= attempts; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.AttemptTimeout);
            try
            {
                using var request = new HttpRequestMessage(method, url) { Content = new ReadOnlyMemoryContent(body) };
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                lastStatus = response.StatusCode;
                var detail = await Snippet(response, timeout.Token).ConfigureAwait(false);
                lastError = $"{(int)response.StatusCode} {response.ReasonPhrase}{detail}";
                if ((int)response.StatusCode is >= 400 and < 500)
                {
                    throw new CallbackException($"{method} {Redaction.Url(url)} was refused with {lastError}; a 4xx answer is not retried.", url, response.StatusCode, isPermanent: true);
                }

                lastException = null;
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = $"no answer within {options.AttemptTimeout.TotalSeconds:0.###} s";
                lastStatus = null;
                lastException = e;
            }
            catch (HttpRequestException e)
            {
                lastError = e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message;
                lastStatus = null;
                lastException = e;
            }

            if (attempt < attempts)
            {
                var delay = _backoff.Delay(attempt - 1);
                LogRetry(logger, method.Method, Redaction.Url(url), lastError, attempt, attempts, delay.TotalSeconds);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new CallbackException($"{method} {Redaction.Url(url)} failed after {attempts} attempt(s): {lastError}.", url, lastStatus, isPermanent: false, lastException);
    }

    private static async Task<string> Snippet(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
            return text.Length == 0 ? string.Empty : ": " + (text.Length > 200 ? text[..200] + "..." : text);
        }
        catch (HttpRequestException)
        {
            return string.Empty;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Url} failed ({Reason}); attempt {Attempt} of {Attempts}, retrying in {Seconds:F2} s")]
    private static partial void LogRetry(ILogger logger, string method, string url, string reason, int attempt, int attempts, double seconds);
}
