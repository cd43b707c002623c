namespace Edge.Inference;

/// <summary>An axis-aligned box by its corners, in pixels.</summary>
/// <param name="X1">Left.</param>
/// <param name="Y1">Top.</param>
/// <param name="X2">Right.</param>
/// <param name="Y2">Bottom.</param>
public readonly record struct BoundingBox(float X1, float Y1, float X2, float Y2)
{
    /// <summary>Width, never negative.</summary>
    public float Width => MathF.Max(0, X2 - X1);

    /// <summary>Height, never negative.</summary>
    public float Height => MathF.Max(0, Y2 - Y1);

    /// <summary>Area.</summary>
    public float Area => Width * Height;

    /// <summary>A box from its centre and size, as YOLO heads emit them.</summary>
    public static BoundingBox FromCentre(float centreX, float centreY, float width, float height) =>
        new(centreX - (width / 2), centreY - (height / 2), centreX + (width / 2), centreY + (height / 2));

    /// <summary>Intersection over union: 0 for disjoint boxes, 1 for equal ones.</summary>
    public float IntersectionOverUnion(BoundingBox other)
    {
        var w = MathF.Min(X2, other.X2) - MathF.Max(X1, other.X1);
        var h = MathF.Min(Y2, other.Y2) - MathF.Max(Y1, other.Y1);
        if (w <= 0 || h <= 0)
        {
            return 0;
        }

        var intersection = w * h;
        return intersection / (Area + other.Area - intersection);
    }
}

/// <summary>One detected object.</summary>
/// <param name="Box">Where, in the source image's pixels (see <see cref="Letterbox"/>).</param>
/// <param name="ClassIndex">The class index in the model's output.</param>
/// <param name="Label">The class label, or the index as text when the model has none.</param>
/// <param name="Score">The confidence, 0 to 1.</param>
public readonly record struct Detection(BoundingBox Box, int ClassIndex, string Label, float Score);

/// <summary>How a YOLO head lays out its output.</summary>
public enum YoloFormat
{
    /// <summary>
    /// <c>[1, 4 + classes, anchors]</c>: centre x, centre y, width, height, then one score per class,
    /// attribute-major (YOLOv8, YOLO11 and their exports).
    /// </summary>
    Yolov8,

    /// <summary>
    /// <c>[1, anchors, 5 + classes]</c>: centre x, centre y, width, height, objectness, then one score
    /// per class, anchor-major; a class's confidence is objectness times its score (YOLOv5, YOLOv7).
    /// </summary>
    Yolov5,
}

/// <summary>
/// Decodes a YOLO head's output into detections: the best class per anchor, a score threshold, then
/// greedy non-maximum suppression per class. Every buffer is made in the constructor, so decoding
/// a frame allocates nothing. Not thread-safe: one decoder per stream.
/// </summary>
public sealed class YoloDecoder
{
    private readonly float[] _keys;
    private readonly int[] _order;
    private readonly BoundingBox[] _boxes;
    private readonly int[] _classes;
    private readonly float[] _scores;
    private readonly bool[] _suppressed;

    /// <summary>Creates a decoder.</summary>
    /// <param name="format">The head's layout.</param>
    /// <param name="classCount">The number of classes the model scores.</param>
    /// <param name="maxCandidates">The most boxes kept above the threshold before suppression; the lowest-scoring go first.</param>
    public YoloDecoder(YoloFormat format, int classCount, int maxCandidates = 4096)
    {
        if (!Enum.IsDefined(format))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown YOLO format.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCandidates);
        Format = format;
        ClassCount = classCount;
        _keys = new float[maxCandidates];
        _order = new int[maxCandidates];
        _boxes = new BoundingBox[maxCandidates];
        _classes = new int[maxCandidates];
        _scores = new float[maxCandidates];
        _suppressed = new bool[maxCandidates];
    }

    /// <summary>The head's layout.</summary>
    public YoloFormat Format { get; }

    /// <summary>The number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Detections scoring below this are dropped before suppression. Default 0.25.</summary>
    public float ScoreThreshold { get; set; } = 0.25f;

    /// <summary>A box overlapping a better one of the same class by more than this is suppressed. Default 0.45.</summary>
    public float IouThreshold { get; set; } = 0.45f;

    /// <summary>Suppress across classes too, so one object gets one box whatever its class.</summary>
    public bool ClassAgnostic { get; set; }

    /// <summary>Values each anchor carries in the output.</summary>
    public int Attributes => Format == YoloFormat.Yolov8 ? 4 + ClassCount : 5 + ClassCount;

    /// <summary>
    /// Decodes one image's output into <paramref name="destination"/>, best first, with boxes mapped
    /// to the source image's pixels through <paramref name="placement"/>. Returns how many were written.
    /// </summary>
    /// <exception cref="ArgumentException">The output's length is not a whole number of anchors.</exception>
    public int Decode(ReadOnlySpan<float> output, Letterbox placement, IReadOnlyList<string> labels, Span<Detection> destination)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var attributes = Attributes;
        if (output.Length == 0 || output.Length % attributes != 0)
        {
            throw new ArgumentException($"A {Format} head with {ClassCount} classes emits {attributes} values per anchor; an output of {output.Length} values is not a whole number of anchors. Check the format and class count.", nameof(output));
        }

        var count = Collect(output, output.Length / attributes);
        for (var i = 0; i < count; i++)
        {
            _keys[i] = -_scores[i];
            _order[i] = i;
            _suppressed[i] = false;
        }

        Array.Sort(_keys, _order, 0, count);
        var written = 0;
        for (var i = 0; i < count && written < destination.Length; i++)
        {
            var best = _order[i];
            if (_suppressed[best])
            {
                continue;
            }

            destination[written++] = new Detection(placement.ToSource(_boxes[best]), _classes[best], Scores.LabelOf(labels, _classes[best]), _scores[best]);
            for (var j = i + 1; j < count; j++)
            {
                var other = _order[j];
                if (!_suppressed[other] && (ClassAgnostic || _classes[other] == _classes[best]) &&
                    _boxes[best].IntersectionOverUnion(_boxes[other]) > IouThreshold)
                {
                    _suppressed[other] = true;
                }
            }
        }

        return written;
    }

    private int Collect(ReadOnlySpan<float> output, int anchors)
    {
        var count = 0;
        var v8 = Format == YoloFormat.Yolov8;
        for (var a = 0; a < anchors; a++)
        {
            // Attribute k of anchor a sits at k * anchors + a (v8) or a * attributes + k (v5).
            float At(ReadOnlySpan<float> o, int k) => v8 ? o[(k * anchors) + a] : o[(a * Attributes) + k];

            var objectness = v8 ? 1f : At(output, 4);
            if (objectness < ScoreThreshold)
            {
                continue;
            }

            var first = v8 ? 4 : 5;
            var bestClass = 0;
            var bestScore = float.NegativeInfinity;
            for (var c = 0; c < ClassCount; c++)
            {
                var s = At(output, first + c);
                if (s > bestScore)
                {
                    bestScore = s;
                    bestClass = c;
                }
            }

            var score = bestScore * objectness;
            if (!(score >= ScoreThreshold))
            {
                continue;
            }

            var slot = count < _scores.Length ? count++ : Weakest(count);
            if (slot < 0)
            {
                continue;
            }

            _boxes[slot] = BoundingBox.FromCentre(At(output, 0), At(output, 1), At(output, 2), At(output, 3));
            _classes[slot] = bestClass;
            _scores[slot] = score;

            int Weakest(int n)
            {
                var weakest = 0;
                for (var i = 1; i < n; i++)
                {
                    if (_scores[i] < _scores[weakest])
                    {
                        weakest = i;
                    }
                }

                return _scores[weakest] < score ? weakest : -1;
            }
        }

        return count;
    }
}
