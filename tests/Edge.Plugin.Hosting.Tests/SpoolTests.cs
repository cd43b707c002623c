using System.Text;
using Edge.Plugin.Hosting.Spool;
using Microsoft.Extensions.Logging.Abstractions;

namespace Edge.Plugin.Hosting.Tests;

public sealed class SpoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DurableSpool Open(long maxBytes = 1 << 20, long segmentBytes = 4096, SpoolFullPolicy whenFull = SpoolFullPolicy.DropOldest, SpoolFsync fsync = SpoolFsync.Always) =>
        DurableSpool.Open(new SpoolOptions { Directory = _dir, MaxBytes = maxBytes, SegmentBytes = segmentBytes, WhenFull = whenFull, Fsync = fsync }, NullLogger.Instance);

    private static byte[] Record(int i) => Encoding.UTF8.GetBytes($"record-{i:D5}");

    private static List<string> Drain(DurableSpool spool)
    {
        var seen = new List<string>();
        while (spool.Peek() is { } record)
        {
            seen.Add(Encoding.UTF8.GetString(record));
            spool.RemoveHead();
        }

        return seen;
    }

    [Fact]
    public void Records_SurviveReopenInOrder_AcrossSegments()
    {
        using (var spool = Open())
        {
            for (var i = 0; i < 1000; i++)
            {
                spool.Append(Record(i));
            }

            Assert.Equal(1000, spool.Count);
        }

        Assert.True(Directory.GetFiles(_dir, "*.seg").Length > 1, "1000 records of 24 bytes should span several 4 KiB segments");
        using var reopened = Open();
        Assert.Equal(1000, reopened.Count);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"record-{i:D5}"), Drain(reopened));
        Assert.Equal(0, reopened.Count);
        Assert.Single(Directory.GetFiles(_dir, "*.seg"));
    }

    [Fact]
    public void Head_IsRemembered_SoDeliveredRecordsAreNotSentAgain()
    {
        using (var spool = Open())
        {
            for (var i = 0; i < 10; i++)
            {
                spool.Append(Record(i));
            }

            spool.RemoveHead();
            spool.RemoveHead();
            spool.RemoveHead();
        }

        using var reopened = Open();
        Assert.Equal(7, reopened.Count);
        Assert.Equal("record-00003", Encoding.UTF8.GetString(reopened.Peek()!));
    }

    [Fact]
    public void TornTail_IsCutOffOnOpen_AndAppendingContinues()
    {
        using (var spool = Open())
        {
            spool.Append(Record(0));
            spool.Append(Record(1));
            spool.Append(Record(2));
        }

        // A crash in the middle of writing the third record leaves only part of it.
        var segment = Directory.GetFiles(_dir, "*.seg").Single();
        var length = new FileInfo(segment).Length;
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(length - 5);
        }

        using var reopened = Open();
        Assert.Equal(2, reopened.Count);
        Assert.Equal(DurableSpool.HeaderBytes + Record(2).Length - 5, reopened.DiscardedBytes);
        reopened.Append(Record(3));
        Assert.Equal(["record-00000", "record-00001", "record-00003"], Drain(reopened));
    }

    [Fact]
    public void CorruptLastRecord_FailsItsChecksum_AndIsDropped()
    {
        using (var spool = Open())
        {
            spool.Append(Record(0));
            spool.Append(Record(1));
        }

        var segment = Directory.GetFiles(_dir, "*.seg").Single();
        var bytes = File.ReadAllBytes(segment);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(segment, bytes);

        using var reopened = Open();
        Assert.Equal(["record-00000"], Drain(reopened));
    }

    [Fact]
    public void Full_DropOldest_KeepsTheNewestAndCountsTheDropped()
    {
        var frame = DurableSpool.HeaderBytes + Record(0).Length;
        using var spool = Open(maxBytes: frame * 100, segmentBytes: 1024);
        for (var i = 0; i < 250; i++)
        {
            spool.Append(Record(i));
        }

        Assert.Equal(100, spool.Count);
        Assert.Equal(150, spool.DroppedOldest);
        Assert.Equal(Enumerable.Range(150, 100).Select(i => $"record-{i:D5}"), Drain(spool));
    }

    [Fact]
    public void Full_DropNewest_RefusesWithAnErrorAndKeepsTheOldest()
    {
        var frame = DurableSpool.HeaderBytes + Record(0).Length;
        using var spool = Open(maxBytes: frame * 100, segmentBytes: 1024, whenFull: SpoolFullPolicy.DropNewest);
        for (var i = 0; i < 100; i++)
        {
            spool.Append(Record(i));
        }

        var error = Assert.Throws<SpoolFullException>(() => spool.Append(Record(100)));
        Assert.Contains("is full", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, spool.DroppedNewest);
        Assert.Equal(100, spool.Count);
        Assert.Equal("record-00000", Encoding.UTF8.GetString(spool.Peek()!));
    }

    [Fact]
    public void SecondProcessOrInstance_CannotOpenTheSameSpool()
    {
        using var first = Open();
        var error = Assert.Throws<IOException>(() => Open());
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SpoolFsync.Interval)]
    [InlineData(SpoolFsync.Never)]
    public void EveryFsyncPolicy_KeepsRecordsAcrossReopen(SpoolFsync policy)
    {
        using (var spool = Open(fsync: policy))
        {
            spool.Append(Record(7));
        }

        using var reopened = Open(fsync: policy);
        Assert.Equal(["record-00007"], Drain(reopened));
    }

    [Fact]
    public void Options_AreValidatedWithTheKeyNamed()
    {
        var error = Assert.Throws<InvalidOperationException>(() => DurableSpool.Open(new SpoolOptions { Directory = _dir, MaxBytes = 2000, SegmentBytes = 4096 }, NullLogger.Instance));
        Assert.Contains("MaxBytes", error.Message, StringComparison.Ordinal);
    }
}
