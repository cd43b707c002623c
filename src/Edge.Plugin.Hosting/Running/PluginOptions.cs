namespace Edge.Plugin.Hosting;

/// <summary>The plugin's run settings, bound from the <c>Plugin</c> configuration section and the command line.</summary>
public sealed class PluginOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Plugin";

    /// <summary>Where frames come from (<c>-input</c>).</summary>
    public string? Input { get; set; }

    /// <summary>Seconds between frames (<c>-interval</c>); 0 processes frames as they come.</summary>
    public double IntervalSeconds { get; set; }

    /// <summary>
    /// Stops a timer plugin after this many ticks, or a subscription plugin after this many
    /// measurements; 0 runs until stopped. For tests and benchmarks.
    /// </summary>
    public int MaxTicks { get; set; }

    /// <summary>
    /// Significant digits of published real numbers, 1 to 17 (<c>Plugin:SignificantDigits</c>); 0, the
    /// default, publishes each in its shortest exact form.
    /// </summary>
    public int SignificantDigits { get; set; }

    /// <summary>Debug logging (<c>-verbose</c>).</summary>
    public bool Verbose { get; set; }

    /// <summary><c>dev</c> or <c>prod</c> (<c>-mode</c>); empty chooses from the environment.</summary>
    public string? Mode { get; set; }
}
