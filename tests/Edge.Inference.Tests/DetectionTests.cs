namespace Edge.Inference.Tests;

public sealed class DetectionTests
{
    private static readonly string[] Labels = ["person", "bicycle"];

    // Five anchors, two classes, each row one anchor: centre x, centre y, width, height, person, bicycle.
    private static readonly float[][] Anchors =
    [
        [50, 50, 40, 40, 0.90f, 0.05f],   // person A, best
        [52, 51, 40, 40, 0.80f, 0.10f],   // person A again, IoU ~0.9 with the first: suppressed
        [51, 50, 40, 40, 0.10f, 0.70f],   // a bicycle on the same spot: another class, kept
        [150, 120, 20, 30, 0.60f, 0.20f], // person B, far away: kept
        [10, 10, 5, 5, 0.20f, 0.10f],     // below the 0.25 threshold
    ];

    [Fact]
    public void Yolov8_KeepsTheBestBoxPerObjectAndClass()
    {
        var decoder = new YoloDecoder(YoloFormat.Yolov8, classCount: 2);
        var found = new Detection[10];

        var count = decoder.Decode(AttributeMajor(), Identity(), Labels, found);

        Assert.Equal(3, count);
        Assert.Equal(new Detection(new BoundingBox(30, 30, 70, 70), 0, "person", 0.90f), found[0]);
        Assert.Equal(new Detection(new BoundingBox(31, 30, 71, 70), 1, "bicycle", 0.70f), found[1]);
        Assert.Equal(new Detection(new BoundingBox(140, 105, 160, 135), 0, "person", 0.60f), found[2]);
    }

    [Fact]
    public void ClassAgnostic_SuppressesTheOverlappingBicycleToo()
    {
        var decoder = new YoloDecoder(YoloFormat.Yolov8, classCount: 2) { ClassAgnostic = true };
        var found = new Detection[10];

        var count = decoder.Decode(AttributeMajor(), Identity(), Labels, found);

        Assert.Equal([0.90f, 0.60f], found[..count].Select(d => d.Score));
    }

    [Fact]
    public void Yolov5_MultipliesObjectnessAndMapsThroughTheLetterbox()
    {
        // Objectness 0.5 turns person A's 0.9 into 0.45; person B's 0.6 * 1.0 stays 0.6.
        float[] output =
        [
            50, 50, 40, 40, 0.5f, 0.90f, 0.05f,
            150, 120, 20, 30, 1.0f, 0.60f, 0.20f,
            10, 10, 5, 5, 0.1f, 1.00f, 0.00f,
        ];
        var placement = Letterbox.Fit(400, 200, 200, 200); // scale 0.5, image at rows 50..150
        var decoder = new YoloDecoder(YoloFormat.Yolov5, classCount: 2);
        var found = new Detection[10];

        var count = decoder.Decode(output, placement, [], found);

        Assert.Equal(2, count);
        Assert.Equal(0.60f, found[0].Score, 5);
        Assert.Equal(new BoundingBox(280, 110, 320, 170), found[0].Box);
        Assert.Equal("0", found[0].Label);
        Assert.Equal(0.45f, found[1].Score, 5);
        Assert.Equal(new BoundingBox(60, 0, 140, 40), found[1].Box);
    }

    [Fact]
    public void Decode_StopsAtTheDestinationLength()
    {
        var decoder = new YoloDecoder(YoloFormat.Yolov8, classCount: 2);
        var found = new Detection[1];

        Assert.Equal(1, decoder.Decode(AttributeMajor(), Identity(), Labels, found));
        Assert.Equal(0.90f, found[0].Score);
    }

    [Fact]
    public void Decode_WrongLength_SaysWhatTheHeadEmits()
    {
        var decoder = new YoloDecoder(YoloFormat.Yolov8, classCount: 80);

        var error = Assert.Throws<ArgumentException>(() => decoder.Decode(new float[85 * 3], Identity(), Labels, new Detection[4]));

        Assert.Contains("84 values per anchor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_MoreCandidatesThanRoom_KeepsTheStrongest()
    {
        // Room for three: 0.9, 0.8 and 0.7 stay, person B's 0.6 finds no room; 0.8 is then suppressed.
        var decoder = new YoloDecoder(YoloFormat.Yolov8, classCount: 2, maxCandidates: 3);
        var found = new Detection[10];

        var count = decoder.Decode(AttributeMajor(), Identity(), Labels, found);

        Assert.Equal([0.90f, 0.70f], found[..count].Select(d => d.Score));
    }

    [Fact]
    public void Decode_AllocatesNothing()
    {
        var decoder = new YoloDecoder(YoloFormat.Yolov8, classCount: 2);
        var output = AttributeMajor();
        var found = new Detection[10];
        decoder.Decode(output, Identity(), Labels, found);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            decoder.Decode(output, Identity(), Labels, found);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void IntersectionOverUnion_KnownValues()
    {
        var a = new BoundingBox(0, 0, 10, 10);

        Assert.Equal(1f, a.IntersectionOverUnion(a));
        Assert.Equal(0f, a.IntersectionOverUnion(new BoundingBox(10, 0, 20, 10)));
        Assert.Equal(25f / 175f, a.IntersectionOverUnion(new BoundingBox(5, 5, 15, 15)), 6);
    }

    private static Letterbox Identity() => new(1000, 1000, 1000, 1000, 0, 0);

    /// <summary>The rows above as a YOLOv8 head emits them: attribute-major, [6, 5].</summary>
    private static float[] AttributeMajor()
    {
        var output = new float[6 * Anchors.Length];
        for (var a = 0; a < Anchors.Length; a++)
        {
            for (var k = 0; k < 6; k++)
            {
                output[(k * Anchors.Length) + a] = Anchors[a][k];
            }
        }

        return output;
    }
}
