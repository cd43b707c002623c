namespace Edge.Testing;

/// <summary>Finds the repository's folders from a test's output folder.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Models => Path.Combine(Root, "artifacts", "models");

    public static string Packages => Path.Combine(Root, "artifacts", "packages");

    public static string Model(string name)
    {
        var path = Path.Combine(Models, name);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Test model {path} is missing. Run build/setup.sh, which generates the models.", path);
        }

        return path;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sdk.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No Sdk.sln above {AppContext.BaseDirectory}.");
    }
}
