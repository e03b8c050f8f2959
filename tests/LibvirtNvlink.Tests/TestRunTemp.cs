namespace LibvirtNvlink.Tests;

/// <summary>
/// One temporary directory per test run, holding every directory a test, a harness or a per-run cache (the
/// simulated hosts, the published binaries) creates; <see cref="TestRunTempCleanup"/> deletes it when the last
/// test of the assembly has run, so a run leaves nothing in /tmp whether its tests pass or fail.
/// </summary>
public static class TestRunTemp
{
    private static readonly Lazy<string> Root = new(() => Directory.CreateTempSubdirectory($"lvn-tests-{Environment.ProcessId}-").FullName);

    public static string Path => Root.Value;

    /// <summary>A new, empty directory inside the run's directory.</summary>
    public static string NewDirectory(string prefix) =>
        Directory.CreateDirectory(System.IO.Path.Combine(Root.Value, prefix + Guid.NewGuid().ToString("N")[..12])).FullName;

    internal static void Delete()
    {
        if (Root.IsValueCreated && Directory.Exists(Root.Value)) Directory.Delete(Root.Value, recursive: true);
    }
}

/// <summary>An assembly fixture: disposed by xunit after every test of the assembly has finished.</summary>
public sealed class TestRunTempCleanup : IDisposable
{
    public void Dispose() => TestRunTemp.Delete();
}
