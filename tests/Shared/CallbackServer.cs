using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Edge.Testing;

/// <summary>
/// A real HTTP server on 127.0.0.1 and a free port (HttpListener) that records every request and
/// answers as a test scripts it: a status code per request, optionally after a delay.
/// </summary>
internal sealed class CallbackServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<int, RecordedRequest, (int Status, TimeSpan Delay)> _answer;
    private readonly Task _loop;
    private int _count;

    public CallbackServer(Func<int, RecordedRequest, (int Status, TimeSpan Delay)>? answer = null)
    {
        _answer = answer ?? ((_, _) => (200, TimeSpan.Zero));
        (_listener, BaseUrl) = ScriptedHttpServer.Listen();
        _loop = Task.Run(LoopAsync);
    }

    public sealed record RecordedRequest(string Method, string Path, string ContentType, string Body, DateTime At);

    public Uri BaseUrl { get; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public Uri Url(string path) => new(BaseUrl, path);

    public void Dispose()
    {
        _listener.Stop();
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // The managed listener looks its endpoint up again on close and may try to bind a port
            // another test has taken meanwhile ("Address already in use"); the listener is stopped either way.
        }
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
                var request = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", await reader.ReadToEndAsync(), DateTime.UtcNow);
                Requests.Enqueue(request);
                var (status, delay) = _answer(Interlocked.Increment(ref _count) - 1, request);
                await Task.Delay(delay);
                try
                {
                    context.Response.StatusCode = status;
                    var body = Encoding.UTF8.GetBytes(status >= 400 ? $"scripted {status}" : "ok");
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    // The client gave up (timeout test) and closed the connection.
                }
            });
        }
    }
}
