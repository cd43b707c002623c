using Edge.Plugin;
using Edge.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Inference.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public void AddOnnxInference_CalledTwice_BindsTheConfiguredMeanAndStdOnceAndRegistersOneModel()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Inference:Model"] = RepoPaths.Model("colour-classifier.onnx"),
            ["Inference:Preprocessing:Mean:0"] = "0.4",
            ["Inference:Preprocessing:Mean:1"] = "0.5",
            ["Inference:Preprocessing:Mean:2"] = "0.6",
            ["Inference:Preprocessing:Std:0"] = "0.2",
            ["Inference:Preprocessing:Std:1"] = "0.2",
            ["Inference:Preprocessing:Std:2"] = "0.2",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);

        services.AddOnnxInference().AddOnnxInference(o => o.IntraOpThreads = 1);

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<InferenceOptions>>().Value;
        Assert.Equal([0.4f, 0.5f, 0.6f], options.Preprocessing.Mean);
        Assert.Equal([0.2f, 0.2f, 0.2f], options.Preprocessing.Std);
        // The second call's configure still applies.
        Assert.Equal(1, options.IntraOpThreads);
        Assert.Single(services, d => d.ServiceType == typeof(OnnxModel));
        Assert.Single(provider.GetServices<IFrameSizeHint>());
    }
}
