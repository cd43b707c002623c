namespace Edge.Inference;

/// <summary>One class and its score.</summary>
/// <param name="Index">The class index in the model's output.</param>
/// <param name="Label">The class label, or the index as text when the model has no labels.</param>
/// <param name="Score">The score, a probability after <see cref="Scores.Softmax(Span{float})"/>.</param>
public readonly record struct Prediction(int Index, string Label, float Score);

/// <summary>Post-processing for classifier scores.</summary>
public static class Scores
{
    /// <summary>Turns logits into probabilities in place, stable for large logits.</summary>
    public static void Softmax(Span<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        var max = float.NegativeInfinity;
        foreach (var v in values)
        {
            max = MathF.Max(max, v);
        }

        var sum = 0f;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }

        var inverse = 1f / sum;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] *= inverse;
        }
    }

    /// <summary>
    /// Writes the highest scores, best first, into <paramref name="destination"/>; returns how many
    /// were written. Allocates nothing when every label exists.
    /// </summary>
    public static int Top(ReadOnlySpan<float> scores, IReadOnlyList<string> labels, Span<Prediction> destination)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var count = Math.Min(destination.Length, scores.Length);
        for (var filled = 0; filled < count; filled++)
        {
            var best = -1;
            for (var i = 0; i < scores.Length; i++)
            {
                if (float.IsNaN(scores[i]) || IsTaken(destination[..filled], i))
                {
                    continue;
                }

                if (best < 0 || scores[i] > scores[best])
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                return filled;
            }

            destination[filled] = new Prediction(best, LabelOf(labels, best), scores[best]);
        }

        return count;
    }

    /// <summary>The <paramref name="k"/> highest scores, best first.</summary>
    public static Prediction[] Top(ReadOnlySpan<float> scores, int k, IReadOnlyList<string> labels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var result = new Prediction[Math.Min(k, scores.Length)];
        var written = Top(scores, labels, result);
        return written == result.Length ? result : result[..written];
    }

    private static bool IsTaken(ReadOnlySpan<Prediction> chosen, int index)
    {
        foreach (var p in chosen)
        {
            if (p.Index == index)
            {
                return true;
            }
        }

        return false;
    }

    internal static string LabelOf(IReadOnlyList<string> labels, int index) =>
        index < labels.Count ? labels[index] : IndexText(index);

    private static readonly string[] SmallIndices = [.. Enumerable.Range(0, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string IndexText(int index) =>
        index < SmallIndices.Length ? SmallIndices[index] : index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
