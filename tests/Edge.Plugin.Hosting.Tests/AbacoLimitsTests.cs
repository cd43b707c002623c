using System.Net;
using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// An Abaco run ends, with an error that names what was wrong, whatever MSG and the download server do:
/// no input, an oversized MSG, a stalled or dripping body, a redirect off http, a URL with credentials.
/// </summary>
public sealed class AbacoLimitsTests : IDisposable
{
    private readonly HttpListener _server = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly int _port = Ports.Free();

    public AbacoLimitsTests()
    {
        _server.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _server.Start();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _server.Close();
        _stop.Dispose();
    }

    private static string Probe => Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll");

    private static Tool.Result RunAbaco(string message, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string?>
        {
            ["MSG"] = message,
            ["_abaco_actor_id"] = "ef2cb526-fae2-11e6-bf76-0242ac110005-059",
            ["WAGGLE_PLUGIN_HOST"] = null,
            ["PYWAGGLE_LOG_DIR"] = null,
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return Tool.Run("dotnet", [Probe, "plugin"], environment: environment, timeout: TimeSpan.FromMinutes(2));
    }

    /// <summary>Answers every request with <paramref name="answer"/> until the test ends.</summary>
    private void Serve(Func<HttpListenerResponse, CancellationToken, Task> answer) => _ = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _server.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await answer(context.Response, _stop.Token);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or OperationCanceledException or ObjectDisposedException or IOException)
                {
                    // The client gave up, as it should.
                }
            });
        }
    });

    private static void FailedNaming(Tool.Result result, int exitCode, string expected)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.True(result.StandardError.Contains(expected, StringComparison.Ordinal), result.ToString());
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Fact]
    public void MessageWithoutAnInput_ExitsTwo_InsteadOfRunningTheConfiguredSample()
    {
        var result = RunAbaco("{'predictions': 3}");

        FailedNaming(result, ExitCodes.Usage, "error: MSG names no input: give 'input' (a file) or 'data_url' (an http(s) URL)");
        Assert.Contains("it has 'predictions'", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void OversizedMessage_ExitsTwoNamingTheLimit()
    {
        var result = RunAbaco("{'input': 'a.jpg', 'blob': '" + new string('x', 70_000) + "'}");

        FailedNaming(result, ExitCodes.Usage, "over the 65536-character limit");
    }

    [Fact]
    public void StalledDownload_EndsAfterTheIdleTimeout()
    {
        Serve(async (response, stop) =>
        {
            response.ContentLength64 = 100_000;
            await response.OutputStream.WriteAsync(new byte[10], stop);
            await response.OutputStream.FlushAsync(stop);
            await Task.Delay(Timeout.Infinite, stop);
        });

        var result = RunAbaco($"{{'data_url': 'http://127.0.0.1:{_port}/barn.jpg'}}", ("Triggers__Abaco__DownloadIdleTimeout", "00:00:01"));

        FailedNaming(result, ExitCodes.StartFailed, $"downloading the input http://127.0.0.1:{_port}/barn.jpg stalled: nothing arrived for 00:00:01 (Triggers:Abaco:DownloadIdleTimeout)");
    }

    [Fact]
    public void DrippingDownload_EndsAtTheWholeDownloadTimeout()
    {
        Serve(async (response, stop) =>
        {
            response.SendChunked = true;
            while (true)
            {
                await response.OutputStream.WriteAsync(new byte[1], stop);
                await response.OutputStream.FlushAsync(stop);
                await Task.Delay(200, stop);
            }
        });

        var result = RunAbaco(
            $"{{'data_url': 'http://127.0.0.1:{_port}/barn.jpg'}}",
            ("Triggers__Abaco__DownloadIdleTimeout", "00:00:05"),
            ("Triggers__Abaco__DownloadTimeout", "00:00:03"));

        FailedNaming(result, ExitCodes.StartFailed, "took longer than 00:00:03 (Triggers:Abaco:DownloadTimeout)");
    }

    [Fact]
    public void EndlessDownload_StopsAtTheSizeLimit()
    {
        Serve(async (response, stop) =>
        {
            response.SendChunked = true;
            var block = new byte[64 * 1024];
            while (true)
            {
                await response.OutputStream.WriteAsync(block, stop);
            }
        });

        var result = RunAbaco($"{{'data_url': 'http://127.0.0.1:{_port}/barn.jpg'}}", ("Triggers__Abaco__MaxDownloadBytes", "1000000"));

        FailedNaming(result, ExitCodes.StartFailed, "more than 1000000 bytes arrived, over the 1000000-byte limit (Triggers:Abaco:MaxDownloadBytes)");
    }

    [Theory]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("ftp://127.0.0.1/barn.jpg", "ftp")]
    public void RedirectOffHttp_IsNotFollowed(string target, string scheme)
    {
        Serve((response, _) =>
        {
            response.StatusCode = 302;
            response.RedirectLocation = target;
            return Task.CompletedTask;
        });

        var result = RunAbaco($"{{'data_url': 'http://127.0.0.1:{_port}/barn.jpg'}}");

        FailedNaming(result, ExitCodes.StartFailed, $"failed: 302 Found to a {scheme}: URL, which is not followed (only http and https)");
    }

    [Fact]
    public void RedirectLoop_EndsAfterFiveHops()
    {
        Serve((response, _) =>
        {
            response.StatusCode = 307;
            response.RedirectLocation = $"http://127.0.0.1:{_port}/again";
            return Task.CompletedTask;
        });

        var result = RunAbaco($"{{'data_url': 'http://127.0.0.1:{_port}/barn.jpg'}}");

        FailedNaming(result, ExitCodes.StartFailed, "failed: more than 5 redirects");
    }

    [Fact]
    public void CredentialsInTheUrl_NeverReachTheOutput()
    {
        Serve((response, _) =>
        {
            response.StatusCode = 403;
            return Task.CompletedTask;
        });

        var result = RunAbaco($"{{'data_url': 'http://reader:hunter2@127.0.0.1:{_port}/barn.jpg?X-Amz-Signature=abcdef0123&id=7'}}");

        FailedNaming(result, ExitCodes.StartFailed, $"downloading the input http://***@127.0.0.1:{_port}/barn.jpg?X-Amz-Signature=***&id=7 failed: 403 Forbidden");
        Assert.DoesNotContain("hunter2", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdef0123", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Triggers__Abaco__DownloadTimeout", "10", "Triggers:Abaco:DownloadTimeout is '10', which is not a positive TimeSpan of at most a day")]
    [InlineData("Triggers__Abaco__MaxDownloadBytes", "-1", "Triggers:Abaco:MaxDownloadBytes is '-1', which is not a positive whole number of bytes")]
    public void BadLimit_ExitsTwoNamingTheKey(string key, string value, string expected)
    {
        var result = RunAbaco($"{{'data_url': 'http://127.0.0.1:{_port}/barn.jpg'}}", (key, value));

        FailedNaming(result, ExitCodes.Usage, expected);
    }
}
