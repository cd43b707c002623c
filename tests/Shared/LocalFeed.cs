namespace Edge.Testing;

/// <summary>
/// A NuGet configuration for projects built outside the repository: Edge.* packages come only from
/// the freshly packed folder, everything else from the registry, and a private cache keeps an
/// earlier pack of the same version from being used instead.
/// </summary>
internal static class LocalFeed
{
    public static string WriteConfig(string directory, string packagesFolder)
    {
        var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(directory, "nuget.config");
        File.WriteAllText(path, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(directory, ".packages")}" /></config>
              <fallbackPackageFolders><add key="machine" value="{machineCache}" /></fallbackPackageFolders>
              <packageSources>
                <clear />
                <add key="edge-local" value="{packagesFolder}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="edge-local"><package pattern="Edge.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        return path;
    }
}
