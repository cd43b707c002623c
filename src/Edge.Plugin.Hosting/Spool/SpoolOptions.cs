namespace Edge.Plugin.Hosting.Spool;

/// <summary>When the spool forces its writes to stable storage.</summary>
public enum SpoolFsync
{
    /// <summary>
    /// fsync every record before the publish returns. Survives a power cut as well as a crash; costs
    /// one disk flush per undeliverable message. The default.
    /// </summary>
    Always,

    /// <summary>
    /// fsync at most once per <see cref="SpoolOptions.FsyncInterval"/>, on an append, and on shutdown.
    /// A crash of the process loses nothing; a power cut may lose up to one interval.
    /// </summary>
    Interval,

    /// <summary>
    /// Never fsync; the operating system writes back when it likes. A crash of the process (kill -9)
    /// still loses nothing, because every record reaches the kernel before the publish returns; a
    /// power cut or kernel panic may lose what the kernel had not yet written.
    /// </summary>
    Never,
}

/// <summary>What the spool does with a new record when it is full.</summary>
public enum SpoolFullPolicy
{
    /// <summary>Drop the oldest spooled records to make room: recent data is usually worth more. The default.</summary>
    DropOldest,

    /// <summary>Refuse the new record: the publish fails with <see cref="SpoolFullException"/>.</summary>
    DropNewest,
}

/// <summary>Settings of the on-disk queue in front of a network publisher, bound from <c>Publishing:Spool</c>.</summary>
public sealed class SpoolOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Publishing:Spool";

    /// <summary>
    /// The folder that holds the spool. One process owns a folder at a time. Default: a folder per
    /// publisher under the system temporary folder; on a node, point it at a volume that outlives the container.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>The most bytes the spool holds, framing included. Default 64 MiB.</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The most records the spool holds, whatever their size; past it <see cref="WhenFull"/> applies as
    /// for <see cref="MaxBytes"/>. Not a configuration key of its own: the MQTT publisher sets it from
    /// its <c>QueueCapacity</c>, which bounded its in-memory queue before the spool replaced it.
    /// </summary>
    internal int MaxRecords { get; set; } = int.MaxValue;

    /// <summary>The size at which a segment file is closed and a new one begun. Default 4 MiB.</summary>
    public long SegmentBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary>The fsync policy. Default <see cref="SpoolFsync.Always"/>.</summary>
    public SpoolFsync Fsync { get; set; } = SpoolFsync.Always;

    /// <summary>The longest time between fsyncs under <see cref="SpoolFsync.Interval"/>. Default 1 s.</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>What happens to a new record when the spool is full. Default <see cref="SpoolFullPolicy.DropOldest"/>.</summary>
    public SpoolFullPolicy WhenFull { get; set; } = SpoolFullPolicy.DropOldest;

    /// <summary>
    /// What is wrong with these settings, each failure starting with its full key under
    /// <paramref name="section"/>: the spool sits under each publisher's section, and the start-up
    /// error must name the key (and so the environment variable) the user really set. An unset
    /// <see cref="Directory"/> is not a failure here: each publisher chooses its default after validation.
    /// </summary>
    internal IEnumerable<string> Problems(string section)
    {
        if (Directory is not null && string.IsNullOrWhiteSpace(Directory))
        {
            yield return $"{section}:Directory is empty; leave it unset for the default, or name a folder.";
        }

        if (SegmentBytes < 1024)
        {
            yield return $"{section}:SegmentBytes must be at least 1024; got {SegmentBytes}.";
        }

        if (MaxBytes < SegmentBytes)
        {
            yield return $"{section}:MaxBytes ({MaxBytes}) must be at least {section}:SegmentBytes ({SegmentBytes}).";
        }
    }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new InvalidOperationException($"{SectionName}:Directory is not set.");
        }

        if (Problems(SectionName).FirstOrDefault() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }
}

/// <summary>The spool was full and its policy is <see cref="SpoolFullPolicy.DropNewest"/>: the record was not kept.</summary>
public sealed class SpoolFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SpoolFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SpoolFullException()
        : this("The spool is full.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public SpoolFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
