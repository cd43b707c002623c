using Edge.Plugin.Hosting.Rest;

namespace Edge.Plugin.Hosting.Triggers;

/// <summary>How the pipeline status reaches AiCSD's task launcher.</summary>
public enum AiCsdStatusBody
{
    /// <summary>The bare status word (<c>PipelineComplete</c>), as AiCSD's reference pipeline sends it. The default.</summary>
    Text,

    /// <summary>The whole response JSON, the same body as the job update.</summary>
    Json,
}

/// <summary>Settings of the AiCSD pipeline trigger, bound from <c>Triggers:AiCsd</c>.</summary>
public sealed class AiCsdOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Triggers:AiCsd";

    /// <summary>
    /// The folders that requests may read from and write to. A path outside them, through <c>..</c>
    /// or a symbolic link, fails the request. Default <c>/tmp/files</c>, AiCSD's mounted volume.
    /// </summary>
    public IList<string> AllowedRoots { get; } = ["/tmp/files"];

    /// <summary>The job update's HTTP method: <c>PUT</c> (default, as AiCSD's reference pipeline) or <c>POST</c>.</summary>
    public string JobUpdateMethod { get; set; } = "PUT";

    /// <summary>What the pipeline status POST carries. Default <see cref="AiCsdStatusBody.Text"/>.</summary>
    public AiCsdStatusBody StatusBody { get; set; } = AiCsdStatusBody.Text;

    /// <summary>Retries of each callback.</summary>
    public CallbackOptions Callback { get; set; } = new();
}
