using Edge.Testing;

namespace Edge.Plugin.Hosting.Tests;

/// <summary>
/// Files that are no regular files, or are too large, given to a real plugin process as -input or
/// -model: each is refused by its type or size before it is opened, with a message naming it. Before
/// the fix a FIFO hung the plugin and /dev/zero grew it to 4 GB. Every run has a timeout, so a hang
/// fails the test rather than the test run.
/// </summary>
public sealed class SpecialFileInputTests : IDisposable
{
    private static readonly string Images = Path.Combine(RepoPaths.Root, "samples", "ColourClassifier", "data");
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(90);
    private readonly string _dir = Directory.CreateTempSubdirectory("edge-special-files-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Fifo(string name)
    {
        var path = Path.Combine(_dir, name);
        var made = Tool.Run("mkfifo", [path]);
        Assert.True(made.ExitCode == 0, made.ToString());
        return path;
    }

    private static async Task<(int ExitCode, PluginProcess Plugin)> RunAsync(string[] args, Dictionary<string, string?>? environment = null)
    {
        var plugin = PluginProcess.Start(args, environment);
        return (await plugin.WaitForExitAsync(Hang), plugin);
    }

    [Fact]
    public async Task Input_Fifo_IsRefusedAtStart_NamingItAsAFifo()
    {
        var fifo = Fifo("camera.jpg");
        var (exitCode, plugin) = await RunAsync(["plugin", "-input", fifo]);
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains($"Input file {fifo} is a FIFO (named pipe)", plugin.Log);
            Assert.Empty(plugin.Output);
        }
    }

    [Fact]
    public async Task Input_LinkToAFifo_IsRefused_NamingTheLinkAndItsTarget()
    {
        var fifo = Fifo("pipe");
        var link = Path.Combine(_dir, "image.jpg");
        File.CreateSymbolicLink(link, fifo);
        var (exitCode, plugin) = await RunAsync(["plugin", "-input", link]);
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains($"Input file {link} (a link to {fifo}) is a FIFO", plugin.Log);
        }
    }

    [Fact]
    public async Task Input_DevZero_IsRefusedAtStart_AsACharacterDevice()
    {
        var (exitCode, plugin) = await RunAsync(["plugin", "-input", "/dev/zero"]);
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains("Input file /dev/zero is a character device", plugin.Log);
        }
    }

    [Fact]
    public async Task Model_Fifo_IsRefusedAtStart_NamingItAsAFifo()
    {
        var fifo = Fifo("model.onnx");
        var (exitCode, plugin) = await RunAsync(["model", "-input", Path.Combine(Images, "sky.jpg"), "-model", fifo]);
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains($"Model file {fifo} is a FIFO (named pipe)", plugin.Log);
        }
    }

    [Fact]
    public async Task Model_DevZero_IsRefusedAtStart_AsACharacterDevice()
    {
        var (exitCode, plugin) = await RunAsync(["model", "-input", Path.Combine(Images, "sky.jpg"), "-model", "/dev/zero"]);
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains("Model file /dev/zero is a character device", plugin.Log);
        }
    }

    [Fact]
    public async Task Model_OverTheLimit_IsRefused_NamingTheSetting()
    {
        var model = RepoPaths.Model("channel-stats.onnx");
        var (exitCode, plugin) = await RunAsync(["model", "-input", Path.Combine(Images, "sky.jpg"), "-model", model], new() { ["Inference__MaxModelBytes"] = "16" });
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains($"Model file {model} is {new FileInfo(model).Length} bytes, over the limit of 16 bytes set by Inference:MaxModelBytes", plugin.Log);
        }
    }

    [Fact]
    public async Task Folder_WithAFifoAmongTheImages_RefusesTheFifoAsOneFrame_AndProcessesTheOthers()
    {
        foreach (var image in Directory.GetFiles(Images))
        {
            File.Copy(image, Path.Combine(_dir, Path.GetFileName(image)));
        }

        var fifo = Fifo("pipe.jpg");
        var (exitCode, plugin) = await RunAsync(["plugin", "-input", _dir]);
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.Failed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains($"{fifo}: could not be read: Input file {fifo} is a FIFO (named pipe)", plugin.Log);
            Assert.Equal(3, plugin.Output.Count(line => line.StartsWith("image.width", StringComparison.Ordinal)));
            Assert.Contains("Finished: 3 frame(s), 1 failure(s)", plugin.Log);
        }
    }

    [Fact]
    public async Task Input_OverTheLimit_IsRefused_NamingTheFileAndTheSetting()
    {
        var image = Path.Combine(Images, "forest.png");
        var (exitCode, plugin) = await RunAsync(["plugin", "-input", image], new() { ["Inputs__MaxFileBytes"] = "1000" });
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains($"Input file {image} is {new FileInfo(image).Length} bytes, over the limit of 1000 bytes set by Inputs:MaxFileBytes", plugin.Log);
        }
    }

    [Fact]
    public async Task MaxFileBytes_NotPositive_StopsTheStart_NamingTheKey()
    {
        var (exitCode, plugin) = await RunAsync(["plugin", "-input", Images], new() { ["Inputs__MaxFileBytes"] = "0" });
        using (plugin)
        {
            Assert.True(exitCode == ExitCodes.StartFailed, $"exit {exitCode}. Log:\n{plugin.Log}");
            Assert.Contains("Inputs:MaxFileBytes must be a positive number of bytes", plugin.Log);
        }
    }
}
