namespace Edge.Inference.Tests;

public sealed class ScoresTests
{
    [Fact]
    public void Softmax_SumsToOneAndKeepsOrder()
    {
        float[] logits = [1, 3, 2];

        Scores.Softmax(logits);

        Assert.Equal(1f, logits.Sum(), 5);
        Assert.True(logits[1] > logits[2] && logits[2] > logits[0]);
        Assert.Equal(MathF.Exp(1) / (MathF.Exp(1) + MathF.Exp(3) + MathF.Exp(2)), logits[0], 5);
    }

    [Fact]
    public void Softmax_HugeLogitsDoNotOverflow()
    {
        float[] logits = [1000, 1001];

        Scores.Softmax(logits);

        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1f / (1f + MathF.E), logits[0], 5);
    }

    [Fact]
    public void Top_ReturnsBestFirstWithLabels()
    {
        float[] scores = [0.1f, 0.6f, 0.05f, 0.25f];

        var top = Scores.Top(scores, 3, ["a", "b", "c", "d"]);

        Assert.Equal(["b", "d", "a"], top.Select(p => p.Label));
        Assert.Equal([1, 3, 0], top.Select(p => p.Index));
    }

    [Fact]
    public void Top_WithoutLabels_UsesIndexAndSkipsNaN()
    {
        float[] scores = [float.NaN, 0.2f, 0.9f];

        var top = Scores.Top(scores, 5, []);

        Assert.Equal(["2", "1"], top.Select(p => p.Label));
    }
}
