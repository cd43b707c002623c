using System.Buffers;

namespace Edge.Mqtt.Tests.Fuzz;

/// <summary>
/// The packet decoder fed random and mutated bytes directly, far more cases than a socket allows: it may
/// accept a packet or throw <see cref="MqttProtocolException"/> saying what was malformed, nothing else
/// (no IndexOutOfRangeException, no OverflowException, no ArgumentException from a slice). Seeded.
/// </summary>
public sealed class PacketDecoderFuzzTests
{
    private static readonly MqttProtocolVersion[] Versions = [MqttProtocolVersion.V311, MqttProtocolVersion.V500];

    [Fact]
    public void RandomBytes_DecodeOrFailAsMalformed()
    {
        var random = new Random(11);
        for (var n = 0; n < 100_000; n++)
        {
            AssertDecodesOrIsMalformed(FuzzCorpus.RandomBytes(random, 48), n);
        }
    }

    [Fact]
    public void RandomBodiesBehindEveryPacketType_DecodeOrFailAsMalformed()
    {
        // A well-formed fixed header for each type and flag, so the bytes reach each packet's own reader.
        var random = new Random(12);
        for (var n = 0; n < 100_000; n++)
        {
            var body = FuzzCorpus.RandomBytes(random, 40);
            AssertDecodesOrIsMalformed([(byte)random.Next(256), (byte)body.Length, .. body], n);
        }
    }

    [Fact]
    public void MutatedValidPackets_DecodeOrFailAsMalformed()
    {
        var random = new Random(13);
        for (var n = 0; n < 100_000; n++)
        {
            var version = Versions[random.Next(2)];
            var valid = random.Next(3) == 0 ? FuzzCorpus.ConnAck(random, version) : FuzzCorpus.AnyBrokerPacket(random, version);
            AssertDecodesOrIsMalformed(FuzzCorpus.Mutate(random, valid), n);
        }
    }

    [Fact]
    public void RandomProperties_DecodeOrFailNamingTheProperty()
    {
        var random = new Random(14);
        for (var n = 0; n < 50_000; n++)
        {
            AssertDecodesOrIsMalformed(FuzzCorpus.ConnAckWithRandomProperty(random), n);
        }
    }

    [Fact]
    public void HugeDeclaredLength_AsksForMoreBytes_WithoutReservingThem()
    {
        var random = new Random(15);
        var cases = Enumerable.Range(0, 10_000).Select(_ => FuzzCorpus.HugeLength(random)).ToArray();
        PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>(cases[0]), out _, out _, out _);

        // Measured over all cases after a first call, so the JIT's one-off allocations do not count.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var waiting = 0;
        foreach (var bytes in cases)
        {
            if (!PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>(bytes), out _, out _, out var length) && length > bytes.Length)
            {
                waiting++;
            }
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(cases.Length, waiting);
        Assert.True(allocated < 4096, $"{allocated} bytes allocated for {cases.Length} declared lengths of 2 to 256 MiB");
    }

    [Theory]
    [InlineData(1 << 21)]
    [InlineData(PacketWriter.MaxRemainingLength)]
    public void DeclaredLengthAboveTheLimit_IsRejectedBeforeTheBytesArrive(int declared)
    {
        var header = new byte[4];
        var size = PacketWriter.EncodeVariableInteger(declared, header);

        var e = Assert.Throws<MqttProtocolException>(() => PacketDecoder.TryReadFrame(new ReadOnlySequence<byte>([0x30, .. header[..size]]), out _, out _, out _, maximumPacketSize: 1 << 20));
        Assert.Contains("exceeds the maximum packet size of 1048576", e.Message);
    }

    /// <summary>Decodes every whole packet in <paramref name="bytes"/> under both versions; the only failure allowed is a named malformation.</summary>
    private static void AssertDecodesOrIsMalformed(byte[] bytes, int n)
    {
        foreach (var version in Versions)
        {
            try
            {
                var rest = new ReadOnlySequence<byte>(bytes);
                while (PacketDecoder.TryReadFrame(rest, out var first, out var header, out var length))
                {
                    PacketDecoder.Decode(first, rest.Slice(header, length).ToArray(), version);
                    rest = rest.Slice(header + length);
                }
            }
            catch (MqttProtocolException e)
            {
                Assert.True(
                    e.Message.StartsWith("Malformed ", StringComparison.Ordinal) || e.Message.Contains("exceeds the maximum packet size", StringComparison.Ordinal),
                    $"case {n} ({version}, {Convert.ToHexString(bytes)}): the message does not say what was malformed: {e.Message}");
            }
            catch (Exception e)
            {
                Assert.Fail($"case {n} ({version}, {Convert.ToHexString(bytes)}) threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
    }
}
