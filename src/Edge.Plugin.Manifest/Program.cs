using Edge.Plugin.Manifest;

// Prints problems in MSBuild's canonical error format ("file: error CODE: text"), which the Exec task
// turns into build errors that name the manifest file.
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: edge-manifest <sage.json|sage.yaml> [...]");
    return 2;
}

var failed = false;
foreach (var path in args)
{
    if (!File.Exists(path))
    {
        Console.WriteLine($"{path}: error EDGE0001: the manifest file does not exist");
        failed = true;
        continue;
    }

    var problems = SageManifest.ValidateFile(path);
    foreach (var problem in problems)
    {
        Console.WriteLine($"{path}: error EDGE0001: {problem}");
    }

    if (problems.Count == 0)
    {
        Console.WriteLine($"{path}: passes the Edge Code Repository's manifest rules");
    }

    failed |= problems.Count > 0;
}

return failed ? 1 : 0;
