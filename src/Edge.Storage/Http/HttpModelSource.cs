using System.Net;
using System.Net.Http.Headers;
using Edge.Plugin;
using Edge.Storage.Caching;
using Microsoft.Extensions.Logging;
using Edge.Plugin.Hosting.Secrets;

namespace Edge.Storage.Http;

/// <summary>
/// Serves <c>http://</c> and <c>https://</c> references with conditional GETs: the ETag (or
/// Last-Modified) of the cached copy goes in <c>If-None-Match</c>/<c>If-Modified-Since</c>, so an
/// unchanged model costs one 304; a changed one arrives on that same request.
/// </summary>
internal sealed class HttpModelSource(HttpClient client, ModelCache cache, StorageOptions options, ILogger logger)
    : RemoteModelSource(cache, options, logger)
{
    public override IReadOnlyCollection<string> Schemes { get; } = ["http", "https"];

    protected override async Task<RemoteObject> ProbeAsync(ModelReference reference, CacheEntry? known, CancellationToken cancellationToken)
    {
        var uri = new Uri(reference.Location, UriKind.Absolute);
        var shown = Redaction.Url(uri);
        var fileName = Uri.UnescapeDataString(uri.Segments[^1]);
        fileName = ObjectKeys.IsSafeFileName(fileName) ? fileName : "model";
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (known is not null)
        {
            if (EntityTagHeaderValue.TryParse(known.Version, out var etag))
            {
                request.Headers.IfNoneMatch.Add(etag);
            }
            else if (DateTimeOffset.TryParse(known.Version, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var modified))
            {
                request.Headers.IfModifiedSince = modified;
            }
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode == HttpStatusCode.NotModified && known is not null)
            {
                response.Dispose();
                return new RemoteObject(known.Location, known.Version, known.Size, null, known.FileName);
            }

            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new FileNotFoundException($"Model {shown} does not exist (HTTP 404).", shown);
            }

            if ((int)response.StatusCode >= 500)
            {
                throw new HttpRequestException($"{shown} answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"Model {shown} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}; expected 200 or 304.");
            }

            // Without a validator every check would download again; the content's hash then decides whether it changed.
            var version = response.Headers.ETag?.ToString()
                ?? response.Content.Headers.LastModified?.ToString("R")
                ?? $"unvalidated:{DateTimeOffset.UtcNow:O}";
            var remote = new RemoteObject(uri.ToString(), version, response.Content.Headers.ContentLength, null, fileName)
            {
                PrefetchedBody = new ResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false)),
            };
            return remote;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    protected override async Task<RemoteBody> OpenAsync(RemoteObject remote, long offset, CancellationToken cancellationToken)
    {
        if (offset == 0 && remote.PrefetchedBody is { } prefetched)
        {
            remote.PrefetchedBody = null;
            return new RemoteBody(prefetched, 0);
        }

        remote.PrefetchedBody?.Dispose();
        remote.PrefetchedBody = null;
        using var request = new HttpRequestMessage(HttpMethod.Get, remote.Location);
        if (offset > 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);

            // If-Range: a changed object comes back whole (200) rather than as a range of the new bytes.
            if (EntityTagHeaderValue.TryParse(remote.Version, out var etag))
            {
                request.Headers.IfRange = new RangeConditionHeaderValue(etag);
            }
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode >= 500)
        {
            response.Dispose();
            throw new HttpRequestException($"{remote.Shown} answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
        }

        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.PartialContent))
        {
            response.Dispose();
            throw new InvalidOperationException($"Model {remote.Shown} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase} to a download.");
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return new RemoteBody(new ResponseStream(response, stream), response.StatusCode == HttpStatusCode.PartialContent ? offset : 0);
    }

    /// <summary>A body stream that disposes its response with it.</summary>
    internal sealed class ResponseStream(HttpResponseMessage response, Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
