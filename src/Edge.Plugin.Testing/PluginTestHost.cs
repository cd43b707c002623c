using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Inputs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Edge.Plugin.Testing;

/// <summary>
/// Runs a plugin in memory the way its program runs it: the same builder, command line, options and
/// frame pipeline, with its input replaced by what a test gives and every publisher replaced by a
/// capture. Publishers the configuration registers (Waggle, MQTT, REST) are removed, so a test needs
/// no broker; the platform's own tests cover the wire.
/// </summary>
public sealed class PluginTestHost
{
    private const string Scheme = "edge-test";
    private readonly Action<EdgePluginBuilder> _configure;

    /// <summary>Creates a host that configures the builder as the plugin's program does.</summary>
    /// <param name="configure">What <c>Program.cs</c> does between <c>CreateBuilder</c> and <c>Build</c>: register services and <c>AddPlugin&lt;T&gt;()</c>.</param>
    public PluginTestHost(Action<EdgePluginBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        _configure = configure;
    }

    /// <summary>How long one run may take before it is stopped and fails the test. Default 2 minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Runs a frame plugin over image files (any format the host decodes), in the order given.</summary>
    /// <param name="files">The images.</param>
    /// <param name="arguments">The rest of the command line, such as <c>-model m.onnx</c>; <c>-input</c> is set by the host.</param>
    public Task<PluginRun> RunAsync(IReadOnlyList<string> files, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(files);
        var paths = files.Select(Path.GetFullPath).ToArray();
        return RunAsync(options => new ImageFileSource($"{paths.Length} test file(s)", paths, options), null, arguments);
    }

    /// <summary>
    /// Runs a frame plugin over frames made by the test (<see cref="Frame.Rent(int, int, PixelFormat, long, string)"/>), in the order given.
    /// The host takes ownership: each frame is disposed once processed.
    /// </summary>
    public Task<PluginRun> RunAsync(IReadOnlyList<Frame> frames, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(frames);
        return RunAsync(_ => new GivenFrames(frames), null, arguments);
    }

    /// <summary>Runs a subscription plugin on measurements, as if other plugins had published them, then stops.</summary>
    public Task<PluginRun> RunAsync(IReadOnlyList<Measurement> received, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(received);
        return RunAsync(null, new GivenMeasurements(received), arguments);
    }

    /// <summary>Runs a timer plugin for <paramref name="ticks"/> ticks, <c>-interval</c> apart (1 ms unless given).</summary>
    public Task<PluginRun> RunTicksAsync(int ticks, params string[] arguments)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ticks);
        ArgumentNullException.ThrowIfNull(arguments);
        string[] interval = arguments.Any(a => a.TrimStart('-').StartsWith("interval", StringComparison.OrdinalIgnoreCase)) ? [] : ["-interval", "0.001"];
        return RunAsync(null, null, [.. arguments, .. interval], maxTicks: ticks);
    }

    private async Task<PluginRun> RunAsync(Func<InputOptions, IFrameSource>? frames, IMeasurementSubscriber? subscriber, string[] arguments, int maxTicks = 0)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var capture = new CapturingPublisher();
        var log = new CapturingLoggerProvider();
        string[] input = frames is not null ? ["-input", $"{Scheme}://input"] : [];
        var builder = EdgePlugin.CreateBuilder([.. arguments, .. input]);
        _configure(builder);
        builder.Services.RemoveAll<IMeasurementPublisher>();
        builder.Services.AddSingleton<IMeasurementPublisher>(capture);
        builder.Configuration.AddInMemoryCollection([new("Publishing:Stdout:Enabled", "false"), new("Health:Port", ""), new("Plugin:MaxTicks", maxTicks.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        if (frames is not null)
        {
            builder.Services.AddSingleton<IFrameSourceProvider>(new GivenSource(frames));
        }

        if (subscriber is not null)
        {
            builder.Services.RemoveAll<IMeasurementSubscriber>();
            builder.Services.AddSingleton(subscriber);
        }

        builder.ConfigureTestLogging = logging => logging.AddProvider(log);
        using var timeout = new CancellationTokenSource(Timeout);
        var host = builder.Build();
        using var errors = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        host.ErrorOutput = errors;
        await using (host.ConfigureAwait(false))
        {
            var exitCode = await host.RunAsync(timeout.Token).ConfigureAwait(false);
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"The plugin ran longer than {Timeout.TotalSeconds:F0} s and was stopped; log:{Environment.NewLine}{string.Join(Environment.NewLine, log.Lines)}");
            }

            string[] errorLines = [.. errors.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries)];
            return new PluginRun(exitCode, capture.Snapshot(), [.. log.Lines, .. errorLines]);
        }
    }

    private sealed class GivenSource(Func<InputOptions, IFrameSource> open) : IFrameSourceProvider
    {
        public IReadOnlyCollection<string> Schemes { get; } = [Scheme];

        public IFrameSource Open(Uri input, InputOptions options) => open(options);
    }

    private sealed class GivenFrames(IReadOnlyList<Frame> frames) : IFrameSource
    {
        private int _next;

        public string Description => $"{frames.Count} test frame(s)";

        public ValueTask<Frame?> ReadAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(_next < frames.Count ? frames[_next++] : null);

        public ValueTask DisposeAsync()
        {
            // Frames the run never reached are still the host's to release.
            for (; _next < frames.Count; _next++)
            {
                frames[_next].Dispose();
            }

            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>What a test run did.</summary>
/// <param name="ExitCode">The process exit code the run would have had (see <see cref="ExitCodes"/>).</param>
/// <param name="Published">Every measurement published, in order.</param>
/// <param name="Log">Every log line, as <c>Level Category: message</c>.</param>
public sealed record PluginRun(int ExitCode, IReadOnlyList<Measurement> Published, IReadOnlyList<string> Log)
{
    /// <summary>The measurements published under <paramref name="name"/>, in order.</summary>
    public IReadOnlyList<Measurement> Named(string name) => [.. Published.Where(m => string.Equals(m.Name, name, StringComparison.Ordinal))];
}
