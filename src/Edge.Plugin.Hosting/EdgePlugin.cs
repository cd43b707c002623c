using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Edge.Plugin.Hosting.Health;
using Edge.Plugin.Hosting.Publishing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Edge.Plugin.Hosting;

/// <summary>The entry point of a plugin program.</summary>
public static class EdgePlugin
{
    /// <summary>
    /// Creates a builder from the command line. Configuration comes, lowest first, from
    /// appsettings.json next to the program, the environment (<c>Plugin__Input</c>), then the
    /// command line (<c>-input</c>).
    /// </summary>
    public static EdgePluginBuilder CreateBuilder(string[] args) => new(args);
}

/// <summary>Configures a plugin's services, options and arguments before <see cref="Build"/>.</summary>
public sealed class EdgePluginBuilder
{
    private readonly string[] _args;
    private readonly HostApplicationBuilder _host;
    private readonly List<PluginArgument> _arguments = [.. PluginArguments.Standard];
    private Action<IServiceCollection>? _addRunner;
    private string? _pluginName;
    private bool _needsInput = true;

    internal EdgePluginBuilder(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        _args = args;
        _host = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            // The host's own command-line provider rejects pywaggle's single-dash options; ours maps them.
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = ProgramName,
        });
    }

    /// <summary>The services: register publishers, model sources and the plugin's own dependencies here.</summary>
    public IServiceCollection Services => _host.Services;

    /// <summary>Configuration, before the command line is applied.</summary>
    public IConfigurationManager Configuration => _host.Configuration;

    /// <summary>Logging configuration.</summary>
    public ILoggingBuilder Logging => _host.Logging;

    /// <summary>The options the plugin accepts, the standard ones first.</summary>
    public IReadOnlyList<PluginArgument> Arguments => _arguments;

    /// <summary>Lets Edge.Plugin.Testing add its log capture after the host's own logging is set up.</summary>
    internal Action<ILoggingBuilder>? ConfigureTestLogging { get; set; }

    private static string ProgramName => Assembly.GetEntryAssembly()?.GetName().Name ?? "plugin";

    /// <summary>
    /// Adds an option of the plugin's own, such as <c>-threshold 0.5</c>. Its value lands at
    /// <paramref name="configurationKey"/> (default <c>Plugin:&lt;name&gt;</c>) and shows in --help.
    /// </summary>
    public EdgePluginBuilder AddArgument(string name, string description, string? defaultValue = null, string? configurationKey = null, bool isFlag = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        if (_arguments.Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ArgumentException($"Option -{name} is already defined.", nameof(name));
        }

        var key = configurationKey ?? $"{PluginOptions.SectionName}:{name}";
        _arguments.Add(new PluginArgument(name, description, key, isFlag, defaultValue));
        if (defaultValue is not null && _host.Configuration[key] is null)
        {
            _host.Configuration.AddInMemoryCollection([new KeyValuePair<string, string?>(key, defaultValue)]);
        }

        return this;
    }

    /// <summary>
    /// Registers the plugin, of one of three kinds: a <see cref="FramePlugin"/> the host feeds frames
    /// from <c>-input</c>; a <see cref="TimerPlugin"/> it calls every <c>-interval</c> seconds, as
    /// pywaggle's sensor plugins loop; or a <see cref="SubscriptionPlugin"/> it hands the measurements
    /// other plugins publish.
    /// </summary>
    public EdgePluginBuilder AddPlugin<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TPlugin>()
        where TPlugin : class
    {
        if (_pluginName is not null)
        {
            throw new InvalidOperationException($"{_pluginName} is already registered; a program runs one plugin.");
        }

        var name = typeof(TPlugin).Name;
        _host.Services.AddSingleton<TPlugin>();
        if (typeof(FramePlugin).IsAssignableFrom(typeof(TPlugin)))
        {
            _host.Services.AddSingleton(sp => (FramePlugin)(object)sp.GetRequiredService<TPlugin>());
            _addRunner = services => services.AddHostedService(sp => new FramePluginRunner(sp.GetRequiredService<FramePlugin>(), sp, PluginLogger(sp, typeof(TPlugin))));
            _needsInput = true;
        }
        else if (typeof(TimerPlugin).IsAssignableFrom(typeof(TPlugin)))
        {
            _addRunner = services => services.AddHostedService(sp => new TimerPluginRunner((TimerPlugin)(object)sp.GetRequiredService<TPlugin>(), sp, PluginLogger(sp, typeof(TPlugin))));
            _needsInput = false;
        }
        else if (typeof(SubscriptionPlugin).IsAssignableFrom(typeof(TPlugin)))
        {
            _addRunner = services => services.AddHostedService(sp => new SubscriptionPluginRunner((SubscriptionPlugin)(object)sp.GetRequiredService<TPlugin>(), sp, PluginLogger(sp, typeof(TPlugin))));
            _needsInput = false;
        }
        else
        {
            throw new ArgumentException($"{name} is not a plugin: derive it from FramePlugin, TimerPlugin or SubscriptionPlugin.", nameof(TPlugin));
        }

        _pluginName = name;
        return this;
    }

    private static ILogger PluginLogger(IServiceProvider services, Type plugin) =>
        services.GetRequiredService<ILoggerFactory>().CreateLogger(plugin.FullName ?? plugin.Name);

    /// <summary>
    /// Applies the command line and builds the host. A bad command line does not throw here: the
    /// returned host prints the problem and usage, and <see cref="EdgePluginHost.RunAsync"/> returns 2.
    /// </summary>
    public EdgePluginHost Build()
    {
        Dictionary<string, string?>? values;
        try
        {
            values = PluginArguments.Parse(_args, _arguments);
        }
        catch (UsageException e)
        {
            return EdgePluginHost.ForUsage(PluginArguments.Usage(ProgramName, _arguments), e.Message);
        }

        if (values is null)
        {
            return EdgePluginHost.ForUsage(PluginArguments.Usage(ProgramName, _arguments), error: null);
        }

        try
        {
            return BuildHost(values);
        }
        catch (InvalidOperationException e) when (ConfigurationErrors.TryDescribe(e, _arguments, out var message))
        {
            return EdgePluginHost.ForUsage(PluginArguments.Usage(ProgramName, _arguments), message);
        }
    }

    private EdgePluginHost BuildHost(Dictionary<string, string?> values)
    {
        _host.Configuration.AddInMemoryCollection(values);
        var settings = new PluginOptions();
        _host.Configuration.GetSection(PluginOptions.SectionName).Bind(settings);
        RunMode mode;
        Uri? download = null;
        AbacoTrigger.DownloadLimits? limits = null;
        var parameters = PluginRunState.NoParameters;
        PluginTrigger? trigger;
        try
        {
            trigger = ChooseTrigger(settings.Mode);
            if (AbacoTrigger.IsRequested(settings.Mode, Environment.GetEnvironmentVariable))
            {
                // One shot, parameters from MSG: they override the command line, as Abaco passes nothing else.
                (var fromMessage, download, parameters) = AbacoTrigger.Configure(Environment.GetEnvironmentVariable(AbacoTrigger.MessageVariable), _arguments);
                _host.Configuration.AddInMemoryCollection(fromMessage);
                limits = AbacoTrigger.DownloadLimits.From(_host.Configuration);
                _host.Configuration.GetSection(PluginOptions.SectionName).Bind(settings);
                mode = RunMode.Production;
            }
            else
            {
                mode = trigger is not null ? RunMode.Production : ChooseMode(settings.Mode, knownModes: KnownModes());
            }
        }
        catch (UsageException e)
        {
            return EdgePluginHost.ForUsage(PluginArguments.Usage(ProgramName, _arguments), e.Message);
        }

        ConfigureLogging(settings.Verbose);
        if (download is not null)
        {
            AbacoTrigger.AddDownload(_host.Services, download, settings.Input!, limits!);
        }

        ConfigureServices(new PluginRunState { Mode = mode, Parameters = parameters }, trigger);
        return new EdgePluginHost(_host.Build(), _arguments);
    }

    private IEnumerable<PluginTrigger> Triggers() =>
        _host.Services.Where(s => s.ServiceType == typeof(PluginTrigger)).Select(s => s.ImplementationInstance).OfType<PluginTrigger>();

    private string KnownModes() => string.Join(", ", ["dev", "prod", "abaco", .. Triggers().Select(t => t.Mode)]);

    /// <summary>The trigger a platform package registered that this run asks for (-mode aicsd), or detects, if any.</summary>
    private PluginTrigger? ChooseTrigger(string? mode)
    {
        if (!string.IsNullOrWhiteSpace(mode))
        {
            return Triggers().FirstOrDefault(t => string.Equals(t.Mode, mode.Trim(), StringComparison.OrdinalIgnoreCase));
        }

        return Triggers().FirstOrDefault(t => t.IsDetected(_host.Configuration));
    }

    internal static RunMode ChooseMode(string? text, Func<string, string?>? environment = null, string knownModes = "dev, prod, abaco")
    {
        environment ??= Environment.GetEnvironmentVariable;
        return text?.Trim().ToLowerInvariant() switch
        {
            "dev" or "development" => RunMode.Development,
            "prod" or "production" => RunMode.Production,
            null or "" => environment("WAGGLE_PLUGIN_HOST") is not null || environment("WAGGLE_APP_ID") is not null
                ? RunMode.Production
                : RunMode.Development,
            "aicsd" => throw new UsageException("option -mode aicsd needs the Edge.Plugin.AiCsd package: add it and call builder.Services.AddAiCsd()."),
            _ => throw new UsageException($"option -mode takes {knownModes}; not '{text}'"),
        };
    }

    private void ConfigureLogging(bool verbose)
    {
        _host.Logging.ClearProviders();
        _host.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });

        // stdout carries results only; every log line goes to stderr.
        _host.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        _host.Logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
        _host.Logging.AddFilter("Microsoft", verbose ? LogLevel.Information : LogLevel.Warning);

        // The host logs a start-up failure with its stack trace; RunAsync reports it in one line instead.
        _host.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", verbose ? LogLevel.Information : LogLevel.None);
        ConfigureTestLogging?.Invoke(_host.Logging);
    }

    private void ConfigureServices(PluginRunState state, PluginTrigger? trigger)
    {
        var services = _host.Services;
        services.AddSingleton(state);
        services.AddOptions<PluginOptions>().BindConfiguration(PluginOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PluginOptions>>(new PluginOptionsValidator(inputRequired: trigger is null && _needsInput)));
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HealthOptions>, HealthOptionsValidator>());
        services.AddSingleton<PluginHealth>();
        services.AddSingleton<HealthEndpoint>();
        services.AddHostedService(sp => sp.GetRequiredService<HealthEndpoint>());
        services.AddFramePipeline();

        services.TryAddSingleton(sp => new FileUploads(FileUploads.DefaultRoot(Environment.GetEnvironmentVariable), sp.GetServices<IMeasurementPublisher>()));

        var stdout = new StdoutPublisherOptions();
        _host.Configuration.GetSection("Publishing:Stdout").Bind(stdout);
        services.AddOptions<StdoutPublisherOptions>().BindConfiguration("Publishing:Stdout");
        var otherPublishers = services.Any(s => s.ServiceType == typeof(IMeasurementPublisher));
        if (stdout.Enabled ?? (state.Mode == RunMode.Development || !otherPublishers))
        {
            services.AddSingleton<IMeasurementPublisher>(sp => new StdoutPublisher(sp.GetRequiredService<IOptions<StdoutPublisherOptions>>()));
        }

        if (Environment.GetEnvironmentVariable(RunLogPublisher.DirectoryVariable) is { Length: > 0 } runLog)
        {
            services.AddSingleton<IMeasurementPublisher>(_ => new RunLogPublisher(runLog));
        }

        if (_addRunner is null)
        {
            throw new InvalidOperationException("No plugin registered: call builder.AddPlugin<YourPlugin>() before Build().");
        }

        if (trigger is not null)
        {
            // Requests name their own inputs; the frame loop does not run.
            trigger.AddServices(services);
        }
        else
        {
            _addRunner(services);
        }
    }

    private sealed class PluginOptionsValidator(bool inputRequired) : IValidateOptions<PluginOptions>
    {
        public ValidateOptionsResult Validate(string? name, PluginOptions options)
        {
            var failures = new List<string>();
            if (inputRequired && string.IsNullOrWhiteSpace(options.Input))
            {
                failures.Add("Plugin:Input is not set: give -input <file, folder or glob>, or set Plugin__Input.");
            }

            if (options.IntervalSeconds < 0 || double.IsNaN(options.IntervalSeconds) || double.IsInfinity(options.IntervalSeconds))
            {
                failures.Add($"Plugin:IntervalSeconds must be 0 or more seconds; got {options.IntervalSeconds}.");
            }

            if (options.SignificantDigits is < 0 or > 17)
            {
                failures.Add($"Plugin:SignificantDigits must be 0 (shortest exact form) or 1 to 17; got {options.SignificantDigits}.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

/// <summary>A built plugin, ready to run.</summary>
public sealed class EdgePluginHost : IAsyncDisposable
{
    private readonly IHost? _host;
    private readonly string? _usage;
    private readonly string? _usageError;
    private readonly IReadOnlyList<PluginArgument> _arguments = [];

    internal EdgePluginHost(IHost host, IReadOnlyList<PluginArgument> arguments)
    {
        _host = host;
        _arguments = arguments;
    }

    private EdgePluginHost(string usage, string? error)
    {
        _usage = usage;
        _usageError = error;
    }

    /// <summary>Where usage and start-up errors go; Edge.Plugin.Testing keeps them with the run's log.</summary>
    internal TextWriter ErrorOutput { get; set; } = Console.Error;

    /// <summary>The services, once built; null when the command line was wrong or asked for help.</summary>
    public IServiceProvider? Services => _host?.Services;

    internal static EdgePluginHost ForUsage(string usage, string? error) => new(usage, error);

    /// <summary>
    /// Runs until the input is exhausted or the process is stopped, and returns the exit code:
    /// 0 success, 1 a frame or publish failed, 2 bad command line, 3 start-up failed.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        if (_host is null)
        {
            if (_usageError is null)
            {
                await Console.Out.WriteLineAsync(_usage).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            await ErrorOutput.WriteLineAsync($"error: {_usageError}{Environment.NewLine}{Environment.NewLine}{_usage}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        try
        {
            await _host.StartAsync(cancellationToken).ConfigureAwait(false);
            await _host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OptionsValidationException e)
        {
            await ErrorOutput.WriteLineAsync($"error: invalid configuration: {string.Join(" ", e.Failures.Select(f => ConfigurationErrors.DescribeValidation(f, _arguments)))}").ConfigureAwait(false);
            return ExitCodes.StartFailed;
        }
        catch (Exception e) when (ConfigurationErrors.TryDescribe(e, _arguments, out var message))
        {
            // A value that does not convert is the user's to fix, like a bad command line.
            await ErrorOutput.WriteLineAsync($"error: {message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await ErrorOutput.WriteLineAsync($"error: the plugin could not start: {e.Message}").ConfigureAwait(false);
            return ExitCodes.StartFailed;
        }

        return _host.Services.GetRequiredService<PluginRunState>().ExitCode;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _host?.Dispose();
        }
    }
}
