using Edge.Inference;
using Edge.Plugin.Hosting;
#if (isFunction)
using EdgePluginNamespace;

// An Abaco actor receives its parameters in the MSG environment variable; only the result may go to
// stdout, and the exit code tells the platform whether it worked.
if (!FunctionMessage.TryParse(Environment.GetEnvironmentVariable("MSG"), out var fromMessage, out var problem))
{
    await Console.Error.WriteLineAsync($"error: {problem}");
    return ExitCodes.Usage;
}

args = [.. fromMessage, .. args];
#endif

var builder = EdgePlugin.CreateBuilder(args);
builder.Services.AddOnnxInference();
#if (!isFunction)
builder.AddArgument("top", "How many of the best labels to publish for each frame.", "1");
#endif
builder.AddPlugin<EdgePluginNamespace.Classifier>();
await using var plugin = builder.Build();
return await plugin.RunAsync();
