using System.Globalization;
using Edge.Inference;
using Edge.Plugin;
using Edge.Plugin.Hosting.Secrets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers ONNX inference with dependency injection.</summary>
public static partial class InferenceServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="OnnxModel"/> for the configured model, with options
    /// bound from the <c>Inference</c> configuration section and validated at start-up.
    /// </summary>
    public static IServiceCollection AddOnnxInference(this IServiceCollection services, Action<InferenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<InferenceOptions>();
        if (!services.Any(d => d.ServiceType == typeof(OnnxModel)))
        {
            // Bound a second time, the binder would append the configured Preprocessing:Mean/Std to the
            // values the first binding gave, and start-up would fail on six of each.
            options.BindConfiguration(InferenceOptions.SectionName).ValidateOnStart();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InferenceOptions>, InferenceOptionsValidator>());
        services.TryAddSingleton(CreateModel);
        // The host sizes decoded frames to the model (see IFrameSizeHint) when Inputs:Width/Height are unset.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IFrameSizeHint, OnnxModel>(s => s.GetRequiredService<OnnxModel>()));
        return services;
    }

    private static OnnxModel CreateModel(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<InferenceOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Inference");
        var reference = ModelReference.Parse(options.Model!);
        var path = ResolveLocalPath(reference, services.GetServices<IModelSource>());
        OrtLog.Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("OnnxRuntime");
        OnnxRuntimeLibrary.EnsureLoaded(options.RuntimePath);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            // The paths are for whoever debugs a node; the info lines below say what a plugin author needs.
            LogRuntime(logger, OnnxRuntimeLibrary.Version, OnnxRuntimeLibrary.LibraryPath, OnnxRuntimeLibrary.ManagedVersion, string.Join(", ", OnnxRuntimeLibrary.CompiledProviders));
        }

        var modelOptions = options.ToModelOptions();
        modelOptions.Logger = logger;
        var model = OnnxModel.Load(path, modelOptions);
        if (logger.IsEnabled(LogLevel.Information))
        {
            // The model logged its provider choice and skip reasons through modelOptions.Logger.
            LogModel(logger, model.Describe(withSkipped: false));
        }

        return model;
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
            throw new InvalidOperationException($"Model reference '{Redaction.Url(reference.Location)}' uses scheme '{reference.Scheme}', which no registered model source serves: {(reference.Scheme == "s3" ? "add Edge.Storage.S3 and call services.AddS3Storage()" : "add Edge.Storage and call services.AddModelStore() for http(s)")}, or give a local path.");
        }

        return reference.LocalPath;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "ONNX Runtime {Version} loaded from {Path} (managed package {Managed}); compiled-in providers: {Providers}")]
    private static partial void LogRuntime(ILogger logger, string version, string path, string managed, string providers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Description}")]
    private static partial void LogModel(ILogger logger, string description);

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

            // EDGE_ONNXRUNTIME_PATH wins over the setting, so a stale setting under it does not matter.
            if (!string.IsNullOrWhiteSpace(options.RuntimePath) && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(OnnxRuntimeLibrary.PathVariable))
                && !File.Exists(options.RuntimePath) && !Directory.Exists(options.RuntimePath))
            {
                failures.Add($"Inference:RuntimePath: {options.RuntimePath} does not exist; give the ONNX Runtime library file or its folder, or leave it unset to use the runtime package.");
            }

            try
            {
                options.ToModelOptions().Validate();
            }
            catch (ArgumentException e)
            {
                failures.Add(UnderSection(e));
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        /// <summary>
        /// A model option's own failure starts with its key within the section ("IntraOpThreads must
        /// be ..."); shown as the whole key with the value given, and without the exception's
        /// "(Parameter ...)" suffix, the start-up error can name the environment variable as well.
        /// </summary>
        private static string UnderSection(ArgumentException e)
        {
            var text = e.Message;
            var suffix = text.IndexOf(" (Parameter '", StringComparison.Ordinal);
            if (suffix >= 0)
            {
                text = text[..suffix];
            }

            if (e is ArgumentOutOfRangeException { ActualValue: { } actual })
            {
                text = $"{text.TrimEnd('.')}; got {Convert.ToString(actual, CultureInfo.InvariantCulture)}.";
            }

            return $"{InferenceOptions.SectionName}:{text}";
        }
    }
}
