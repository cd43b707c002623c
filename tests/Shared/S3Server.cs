using System.Diagnostics;
using System.Text;

namespace Edge.Testing;

/// <summary>
/// A real S3 server (s3rver from npm, installed by build/fetch-s3rver.sh) on 127.0.0.1. The first
/// start lets the OS pick a free port; <see cref="Kill"/> and <see cref="RestartAsync"/> reuse that
/// port and data folder, so a client sees the same store go away and come back.
/// </summary>
internal sealed class S3Server : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    public const string Bucket = "models";

    private readonly StringBuilder _log = new();
    private readonly bool _ownsDirectory;
    private Process? _process;

    private S3Server(string directory, bool ownsDirectory)
    {
        DataDirectory = directory;
        _ownsDirectory = ownsDirectory;
    }

    public string DataDirectory { get; }

    public int Port { get; private set; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Everything the server printed (one line per request).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static string Program
    {
        get
        {
            var path = Path.Combine(RepoPaths.Root, "artifacts", "tools", "s3rver", "node_modules", ".bin", "s3rver");
            return File.Exists(path) ? path : throw new FileNotFoundException($"s3rver is not installed at {path}. Run build/setup.sh --test (it calls build/fetch-s3rver.sh).", path);
        }
    }

    public static async Task<S3Server> StartAsync(string? directory = null)
    {
        var server = new S3Server(directory ?? Directory.CreateTempSubdirectory("s3rver-").FullName, directory is null);
        await server.LaunchAsync(0);
        return server;
    }

    /// <summary>Kills the server process at once, as a crash or a pulled cable would, mid-request or not.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }

            process.Dispose();
            _process = null;
        }
    }

    public Task RestartAsync()
    {
        Kill();
        return LaunchAsync(Port);
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        if (_ownsDirectory)
        {
            await Task.Run(() =>
            {
                try
                {
                    Directory.Delete(DataDirectory, recursive: true);
                }
                catch (IOException)
                {
                }
            });
        }
    }

    private async Task LaunchAsync(int port)
    {
        var info = new ProcessStartInfo(Program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-d", DataDirectory, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--configure-bucket", Bucket })
        {
            info.ArgumentList.Add(arg);
        }

        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info };
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_log)
            {
                _log.AppendLine(line);
            }

            const string marker = "S3rver listening on 127.0.0.1:";
            var at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0 && int.TryParse(line.AsSpan(at + marker.Length).Trim(), out var bound))
            {
                listening.TrySetResult(bound);
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // A restart may find the old socket not yet released; s3rver then exits and is started again.
        var started = await Task.WhenAny(listening.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
        if (started != listening.Task)
        {
            Kill();
            throw new InvalidOperationException($"s3rver did not start on port {port}:\n{Log}");
        }

        Port = await listening.Task;
    }
}
