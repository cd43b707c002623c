namespace Edge.Plugin;

/// <summary>How a plugin runs.</summary>
public enum RunMode
{
    /// <summary>On a developer's machine: files in, verbose logs, results to stdout and the run log.</summary>
    Development,

    /// <summary>On a node: the configured camera or stream in, results to the platform.</summary>
    Production,
}
