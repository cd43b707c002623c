using System.Net;
using Edge.Testing;

namespace Edge.BadInput.Tests;

/// <summary>
/// A real HTTP server on 127.0.0.1 with the answers a hostile or broken download server gives, by path:
/// errors, redirects off http and in circles, bodies that stall, drip, never end or are not images.
/// </summary>
internal sealed class Server : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _jpeg;

    public Server(byte[] jpeg)
    {
        _jpeg = jpeg;
        Port = Ports.Free();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url(string path) => $"http://127.0.0.1:{Port}/{path}";

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
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
                try
                {
                    await AnswerAsync(context.Request.Url!.AbsolutePath.TrimStart('/'), context.Response, _stop.Token);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or OperationCanceledException or ObjectDisposedException or IOException or InvalidOperationException)
                {
                    // The client gave up, as it should.
                }
            });
        }
    }

    private async Task AnswerAsync(string path, HttpListenerResponse response, CancellationToken stop)
    {
        switch (path)
        {
            case "ok.jpg":
                await response.OutputStream.WriteAsync(_jpeg, stop);
                break;
            case "truncated.jpg":
                await response.OutputStream.WriteAsync(_jpeg.AsMemory(0, _jpeg.Length / 3), stop);
                break;
            case "text.jpg":
                response.ContentType = "text/html";
                await response.OutputStream.WriteAsync("<html>not an image</html>"u8.ToArray(), stop);
                break;
            case "empty.jpg":
                break;
            case "stall.jpg":
                response.SendChunked = true;
                await response.OutputStream.WriteAsync(_jpeg.AsMemory(0, 10), stop);
                await response.OutputStream.FlushAsync(stop);
                await Task.Delay(Timeout.Infinite, stop);
                break;
            case "drip.jpg":
                response.SendChunked = true;
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    await response.OutputStream.WriteAsync(_jpeg.AsMemory(i % _jpeg.Length, 1), stop);
                    await response.OutputStream.FlushAsync(stop);
                    await Task.Delay(500, stop);
                }

                break;
            case "endless.jpg":
                response.SendChunked = true;
                var block = new byte[64 * 1024];
                while (!stop.IsCancellationRequested)
                {
                    await response.OutputStream.WriteAsync(block, stop);
                }

                break;
            case "loop.jpg":
                response.Redirect(Url("loop.jpg"));
                break;
            case "to-file.jpg":
                response.Redirect("file:///etc/passwd");
                break;
            case "to-ftp.jpg":
                response.Redirect("ftp://127.0.0.1/x.jpg");
                break;
            case "no-location.jpg":
                response.StatusCode = 302;
                break;
            case "forbidden.jpg":
                response.StatusCode = 403;
                break;
            case "error.jpg":
                response.StatusCode = 500;
                break;
            case "unavailable.jpg":
                response.StatusCode = 503;
                break;
            default:
                response.StatusCode = 404;
                break;
        }
    }
}
