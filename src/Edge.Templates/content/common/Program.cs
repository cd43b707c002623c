using Edge.Inference;
using Edge.Plugin.Hosting;
#if (publisher == "waggle")
using Edge.Plugin.Hosting.Waggle;
#elseif (publisher == "mqtt")
using Microsoft.Extensions.DependencyInjection;
#endif

var builder = EdgePlugin.CreateBuilder(args);
builder.Services.AddOnnxInference();
#if (publisher == "waggle")
// On a Waggle node (WAGGLE_PLUGIN_HOST / WAGGLE_APP_ID set by the node) results go to its RabbitMQ,
// spooled on disk while it is unreachable; elsewhere they go to stdout. Registering it here means the
// host does not add its own second Waggle publisher.
if (WaggleOptions.IsConfiguredByEnvironment())
{
    builder.Services.AddWagglePublisher();
}
#elseif (publisher == "mqtt")
// Results go to the MQTT broker in Publishing:Mqtt (appsettings.json, or Publishing__Mqtt__Server=...).
builder.Services.AddMqttPublisher();
#elseif (publisher == "rest")
// Results are sent to Publishing:Rest:Url as JSON, spooled on disk while the endpoint is down.
builder.Services.AddRestPublisher();
#endif
#if (!isFunction)
builder.AddArgument("top", "How many of the best labels to publish for each frame.", "1");
#endif
builder.AddPlugin<EdgePluginNamespace.Classifier>();
await using var plugin = builder.Build();
return await plugin.RunAsync();
