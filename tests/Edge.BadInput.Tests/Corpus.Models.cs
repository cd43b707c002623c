using Edge.Testing;

namespace Edge.BadInput.Tests;

internal sealed partial class Corpus
{
    /// <summary>Each model as <c>-model</c> of a plugin that runs it on frames: a model it cannot use stops it at start (exit 3), naming the model.</summary>
    private IEnumerable<BadInputCase> Models()
    {
        foreach (var source in new[] { "colour-classifier.onnx", "mobilenet-v2-random.onnx" })
        {
            var good = File.ReadAllBytes(RepoPaths.Model(source));
            var stem = Path.GetFileNameWithoutExtension(source);
            foreach (var fraction in new[] { 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999 })
            {
                var length = Math.Max(1, (int)(good.Length * fraction));
                yield return Model($"{stem}/truncated-to-{length}-bytes", Write(Path.Combine("models", $"{stem}-truncated-{length}.onnx"), good[..length]), [StartFailed]);
            }

            // Damage inside the weights can leave a loadable model that computes nonsense: 0 is right too.
            for (var seed = 0; seed < 5; seed++)
            {
                yield return Model($"{stem}/corrupted-{seed}", Write(Path.Combine("models", $"{stem}-corrupted-{seed}.onnx"), Corrupted(good, 0, 2 + (seed * 16))), [0, Failed, StartFailed]);
            }

            yield return Model($"{stem}/trailing-garbage", Write(Path.Combine("models", $"{stem}-trailing.onnx"), [.. good, .. Noise(1000)]), [0, StartFailed]);
        }

        yield return Model("zero-bytes", Write("models/empty.onnx", []), [StartFailed]);
        for (var seed = 0; seed < 4; seed++)
        {
            yield return Model($"noise-{seed}", Write($"models/noise-{seed}.onnx", Noise(64 << (seed * 3))), [StartFailed]);
        }

        yield return Model("text", Write("models/readme.onnx", "This file is a model, honest.\n"), [StartFailed]);
        yield return Model("json", Write("models/model.json.onnx", "{\"graph\": {\"node\": []}}"), [StartFailed]);
        yield return Model("an-image", Write("models/photo.onnx", File.ReadAllBytes(GoodJpeg)), [StartFailed]);

        // Real models that cannot take frames: several inputs, no tensor input, too many dimensions.
        foreach (var unfit in new[] { "add.onnx", "maps.onnx", "all-types.onnx" })
        {
            yield return Model($"cannot-take-frames/{unfit}", RepoPaths.Model(unfit), [StartFailed]);
        }

        yield return Model("special/fifo", Fifo("fifo.onnx"), [Usage, StartFailed]);
        yield return Model("special/dev-zero", "/dev/zero", [Usage, StartFailed]);
        yield return Model("special/directory", Directory.CreateDirectory(Path.Combine(Folder, "models", "folder.onnx")).FullName, [Usage, StartFailed]);
        yield return Model("special/missing", Path.Combine(Folder, "models", "no-such-model.onnx"), [Usage, StartFailed]);
        yield return Model("url/refused-connection", "http://127.0.0.1:1/model.onnx", [StartFailed], "127.0.0.1:1");
        yield return Model("url/unknown-scheme", "gopher://127.0.0.1/model.onnx", [Usage, StartFailed], "gopher");
        yield return Model("url/ftp", "ftp://127.0.0.1/model.onnx", [Usage, StartFailed], "ftp");
        yield return Model("url/s3-without-storage", "s3://models/model.onnx", [Usage, StartFailed], "s3://models/model.onnx");
        yield return Model("url/not-a-url", "http://[::1/model.onnx", [Usage, StartFailed], "model.onnx");
    }

    private BadInputCase Model(string name, string model, int[] exitCodes, string? shown = null) =>
        new("model", name, Child.Dotnet(Child.Probe, ["model", "-mode", "dev", "-model", model, "-input", GoodJpeg], new Dictionary<string, string?> { ["EDGE_MODEL_CACHE"] = Path.Combine(Folder, "model-cache") }), exitCodes, [shown ?? model]);
}
