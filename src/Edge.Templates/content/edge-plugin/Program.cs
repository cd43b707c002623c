using Edge.Inference;
using Edge.Plugin.Hosting;

var builder = EdgePlugin.CreateBuilder(args);
builder.Services.AddOnnxInference();
builder.AddPlugin<EdgePlugin1.Classifier>();
await using var plugin = builder.Build();
return await plugin.RunAsync();
