using System.Xml.Linq;

namespace Edge.Testing;

/// <summary>
/// Writes build/local-feed.nuget.config into a project built outside the repository, pointed at the
/// freshly packed folder, with a private package cache so an earlier pack of the same version is never
/// used instead; the machine's cache still serves everything else.
/// </summary>
internal static class LocalFeed
{
    public static string WriteConfig(string directory, string packagesFolder)
    {
        var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var config = XDocument.Load(Path.Combine(RepoPaths.Root, "build", "local-feed.nuget.config"));
        var root = config.Root!;
        root.Element("packageSources")!.Elements("add").Single(e => (string?)e.Attribute("key") == "edge-local").SetAttributeValue("value", packagesFolder);
        root.AddFirst(
            new XElement("config", new XElement("add", new XAttribute("key", "globalPackagesFolder"), new XAttribute("value", Path.Combine(directory, ".packages")))),
            new XElement("fallbackPackageFolders", new XElement("add", new XAttribute("key", "machine"), new XAttribute("value", machineCache))));
        var path = Path.Combine(directory, "nuget.config");
        config.Save(path);
        return path;
    }
}
