using System.Collections.Concurrent;
using Edge.Plugin.Hosting;
using Edge.Plugin.Hosting.Inputs;
using Edge.Plugin.Hosting.Rest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.AiCsd.Tests;

/// <summary>Publishes the image's size: a real decode of a real file, no model needed; counts its runs.</summary>
internal sealed class CountingFrameSize : FramePlugin
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    protected internal override async ValueTask ProcessAsync(Frame frame, PluginContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        await context.PublishAsync("image.width", (long)frame.Width, cancellationToken: cancellationToken);
        await context.PublishAsync("image.height", (long)frame.Height, cancellationToken: cancellationToken);
    }
}

/// <summary>A logger that keeps every line it is given, with whether an exception (a stack trace) came with it.</summary>
internal sealed class CollectingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message, bool HasException)> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue((logLevel, formatter(state, exception), exception is not null));

    public string Text => string.Join('\n', Lines.Select(l => l.Message));
}

/// <summary>The real pipeline, frame pipeline and callback client, with a test's roots and settings.</summary>
internal static class PipelineHarness
{
    public static AiCsdOptions Options(params string[] roots)
    {
        var options = new AiCsdOptions { Callback = { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50), AttemptTimeout = TimeSpan.FromSeconds(60) } };
        options.AllowedRoots.Clear();
        foreach (var root in roots)
        {
            options.AllowedRoots.Add(root);
        }

        return options;
    }

    public static AiCsdPipeline Create(FramePlugin plugin, AiCsdOptions options, HttpClient http, ILogger? logger = null)
    {
        var log = logger ?? NullLogger.Instance;
        var frames = new FramePipeline(Microsoft.Extensions.Options.Options.Create(new InputOptions()), [], [], NullLogger<FramePipeline>.Instance);
        return new AiCsdPipeline(AiCsdPipeline.ForPlugin(plugin, frames, RunMode.Production, log), new CallbackClient(http, options.Callback, log), options, log);
    }
}
