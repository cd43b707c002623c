namespace Edge.Storage;

/// <summary>
/// Bounds on what a model archive may unpack to, so a hostile or broken archive (a zip bomb, a
/// million empty entries) cannot fill the disk. Sizes count the bytes actually written, not the sizes
/// the archive claims.
/// </summary>
public sealed class ArchiveLimits
{
    /// <summary>The most bytes all entries together may unpack to. Default 8 GiB.</summary>
    public long MaxTotalBytes { get; set; } = 8L << 30;

    /// <summary>The most bytes one entry may unpack to. Default 4 GiB.</summary>
    public long MaxEntryBytes { get; set; } = 4L << 30;

    /// <summary>The most entries an archive may hold. Default 10,000.</summary>
    public int MaxEntries { get; set; } = 10_000;

    internal void Validate(List<string> failures)
    {
        if (MaxTotalBytes <= 0 || MaxEntryBytes <= 0 || MaxEntries <= 0)
        {
            failures.Add($"Storage:Archives limits must all be more than 0; got MaxTotalBytes={MaxTotalBytes}, MaxEntryBytes={MaxEntryBytes}, MaxEntries={MaxEntries}.");
        }
    }
}
