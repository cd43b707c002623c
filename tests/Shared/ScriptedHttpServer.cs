using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Edge.Testing;

/// <summary>
/// A real HTTP server on 127.0.0.1 and a free port (HttpListener) for answers <see cref="CallbackServer"/>
/// cannot script: redirects with any Location, bodies that trickle or never end. Each request is
/// recorded, then handed to the test's handler, which writes the whole answer itself.
/// </summary>
internal sealed class ScriptedHttpServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<HttpListenerContext, CallbackServer.RecordedRequest, Task> _handler;
    private readonly Task _loop;

    public ScriptedHttpServer(Func<HttpListenerContext, CallbackServer.RecordedRequest, Task> handler)
    {
        _handler = handler;
        (_listener, BaseUrl) = Listen();
        _loop = Task.Run(LoopAsync);
    }

    public Uri BaseUrl { get; }

    public ConcurrentQueue<CallbackServer.RecordedRequest> Requests { get; } = new();

    public Uri Url(string path) => new(BaseUrl, path);

    /// <summary>
    /// A started listener on a port that was free a moment ago. Another test may take that port in
    /// between (HttpListener cannot bind port 0), so a port that turns out taken is replaced by another.
    /// </summary>
    public static (HttpListener Listener, Uri BaseUrl) Listen()
    {
        for (var attempt = 1; ; attempt++)
        {
            var url = new Uri($"http://127.0.0.1:{Ports.Free()}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(url.ToString());
            try
            {
                listener.Start();
                return (listener, url);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }
    }

    /// <summary>Answers with a redirect: <paramref name="status"/> and <paramref name="location"/>, written as given.</summary>
    public static void Redirect(HttpListenerContext context, string location, int status = 302)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["Location"] = location;
        context.Response.ContentLength64 = 0;
        context.Response.Close();
    }

    public static async Task AnswerAsync(HttpListenerContext context, int status, string body = "ok")
    {
        context.Response.StatusCode = status;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    public void Dispose()
    {
        _listener.Stop();
        try
        {
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // As in CallbackServer: the managed listener may fail to look its endpoint up again; it is stopped either way.
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
                var request = new CallbackServer.RecordedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", await reader.ReadToEndAsync(), DateTime.UtcNow);
                Requests.Enqueue(request);
                try
                {
                    await _handler(context, request);
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
                {
                    // The client gave up on an answer that never ended, as it should.
                }
            });
        }
    }
}
