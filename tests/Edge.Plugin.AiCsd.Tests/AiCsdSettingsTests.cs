using Edge.Testing;

namespace Edge.Plugin.AiCsd.Tests;

/// <summary>Settings that cannot work stop the worker at start, naming the keys, instead of retrying forever.</summary>
public sealed class AiCsdSettingsTests
{
    [Fact]
    public void PasswordWithoutUserName_StopsAtStartNamingBothKeys_AndNotThePassword()
    {
        var result = Tool.Run(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Edge.Plugin.Hosting.Probe.dll"), "worker", "-mode", "aicsd"],
            environment: new Dictionary<string, string?>
            {
                // Nothing listens here: the run must end at validation, before any connection attempt.
                ["Triggers__AiCsd__Server"] = "127.0.0.1",
                ["Triggers__AiCsd__Port"] = Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Triggers__AiCsd__Password"] = "s3cret-hunter2",
                ["Triggers__AiCsd__AllowedRoots__0"] = Path.GetTempPath(),
            },
            timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("Triggers:AiCsd:Password is set but Triggers:AiCsd:UserName is not", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-hunter2", result.StandardError + result.StandardOutput, StringComparison.Ordinal);
    }
}
