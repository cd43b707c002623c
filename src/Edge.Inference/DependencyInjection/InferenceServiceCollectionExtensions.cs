using Edge.Inference.Native;
using Edge.Plugin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Inference;

/// <summary>Registers ONNX inference with dependency injection.</summary>
public static partial class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="InferenceSession"/> for the configured model, with options
    /// bound from the <c>Inference</c> configuration section and validated at start-up.
    /// </summary>
    public static IServiceCollection AddOnnxInference(this IServiceCollection services, Action<InferenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceOptions>, InferenceOptionsValidator>());
        services.TryAddSingleton(CreateSession);
        // The host sizes decoded frames to the model (see IFrameSizeHint) when Inputs:Width/Height are unset.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFrameSizeHint, InferenceSession>(s => s.GetRequiredService<InferenceSession>()));
        return services;
    }

    private static InferenceSession CreateSession(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<InferenceOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Inference");
        var reference = ModelReference.Parse(options.Model!);
        var path = ResolveLocalPath(reference, services.GetServices<IModelSource>());
        OrtLog.Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("OnnxRuntime");
        OnnxRuntime.EnsureLoaded();
        if (logger.IsEnabled(LogLevel.Information))
        {
            LogRuntime(logger, OnnxRuntime.Version, OnnxRuntime.LibraryPath, string.Join(", ", OnnxRuntime.CompiledProviders));
        }

        var sessionOptions = options.ToSessionOptions();
        sessionOptions.Logger = logger;
        var session = InferenceSession.Load(path, sessionOptions);
        if (logger.IsEnabled(LogLevel.Information))
        {
            // The session logged its provider choice and skip reasons through sessionOptions.Logger.
            LogSession(logger, session.Describe(withSkipped: false));
        }

        return session;
    }

    private static string ResolveLocalPath(ModelReference reference, IEnumerable<IModelSource> sources)
    {
        foreach (var source in sources)
        {
            if (source.Schemes.Contains(reference.Scheme))
            {
                // Service construction is synchronous; model sources resolve local files without waiting
                // and fetch remote ones before the host starts (Edge.Storage warms its cache at start-up).
                return source.GetLocalPathAsync(reference, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }

        if (!reference.IsLocal)
        {
            throw new InvalidOperationException($"Model reference '{reference.Location}' uses scheme '{reference.Scheme}', which no registered model source serves. Add Edge.Storage's model sources (AddModelStore) or give a local path.");
        }

        return reference.LocalPath;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "ONNX Runtime {Version} loaded from {Path}; compiled-in providers: {Providers}")]
    private static partial void LogRuntime(ILogger logger, string version, string path, string providers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Description}")]
    private static partial void LogSession(ILogger logger, string description);

    private sealed class InferenceOptionsValidator : IValidateOptions<InferenceOptions>
    {
        public ValidateOptionsResult Validate(string? name, InferenceOptions options)
        {
            var failures = new List<string>();
            if (string.IsNullOrWhiteSpace(options.Model))
            {
                failures.Add("Inference:Model is not set: give -model <path or URI>, or set Inference__Model.");
            }
            else
            {
                try
                {
                    _ = ModelReference.Parse(options.Model);
                }
                catch (FormatException e)
                {
                    failures.Add($"Inference:Model: {e.Message}");
                }
            }

            try
            {
                options.ToSessionOptions().Validate();
            }
            catch (ArgumentException e)
            {
                failures.Add($"Inference: {e.Message}");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
