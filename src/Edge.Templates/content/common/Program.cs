using Edge.Plugin.Hosting;
#if (publisher != "stdout" || isPipeline)
using Microsoft.Extensions.DependencyInjection;
#endif

var builder = EdgePlugin.CreateBuilder(args);
EdgePluginNamespace.PluginSetup.Configure(builder);
#if (publisher == "waggle")
// On a Waggle node (WAGGLE_PLUGIN_HOST set by the node) results go to its RabbitMQ, spooled on disk while
// it is unreachable; elsewhere AddWaggle adds nothing and results go to stdout.
builder.Services.AddWaggle();
#elseif (publisher == "mqtt")
// Results go to the MQTT broker in Publishing:Mqtt (appsettings.json, or Publishing__Mqtt__Server=...).
builder.Services.AddMqttPublisher();
#elseif (publisher == "rest")
// Results are sent to Publishing:Rest:Url as JSON, spooled on disk while the endpoint is down.
builder.Services.AddRestPublisher();
#endif
#if (isPipeline)
// Serves AiCSD requests (Triggers:AiCsd in appsettings.json) instead of reading -input; -mode dev runs on -input.
builder.Services.AddAiCsd();
#endif
await using var plugin = builder.Build();
return await plugin.RunAsync();
