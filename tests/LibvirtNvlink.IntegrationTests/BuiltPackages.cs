namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// The packages as scripts/package.sh builds them from this checkout, once per test run (the NativeAOT binaries
/// come from its content-keyed cache when nothing they are built from changed), and a clean Debian 12 root to
/// install the .deb into (scripts/debian-root.sh, cached on the machine).
/// </summary>
public static class BuiltPackages
{
    private static readonly Lazy<(string Directory, Tests.ProcessResult Result)> Built = new(() =>
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("lvn-packages-").FullName;
        var r = Processes.Run(Path.Combine(Tests.CliRunner.RepoRoot, "scripts", "package.sh"), [dir], timeoutSeconds: 3600);
        return (dir, r);
    });

    private static readonly Lazy<(string Directory, Tests.ProcessResult Result)> BuiltArm64 = new(() =>
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("lvn-packages-arm64-").FullName;
        var r = Processes.Run(Path.Combine(Tests.CliRunner.RepoRoot, "scripts", "package.sh"), ["--arm64", dir], timeoutSeconds: 3600);
        return (dir, r);
    });

    private static readonly Lazy<Tests.ProcessResult> Bookworm = new(() =>
        Processes.Run(Path.Combine(Tests.CliRunner.RepoRoot, "scripts", "debian-root.sh"), ["bookworm", "libvirt0,init-system-helpers"], timeoutSeconds: 1800));

    /// <summary>Fails the calling test with the script's output when the packages did not build.</summary>
    public static string Directory
    {
        get
        {
            Processes.RequireOrSkip(Processes.IsRoot, "root (the packages are built and installed as root)");
            Assert.True(Built.Value.Result.ExitCode == 0, "scripts/package.sh failed:\n" + Built.Value.Result.Output);
            return Built.Value.Directory;
        }
    }

    public static string Deb => Single(Directory, "*.deb");

    /// <summary>The arm64 .deb, cross-compiled here (scripts/package.sh --arm64).</summary>
    public static string Arm64Deb
    {
        get
        {
            Processes.RequireOrSkip(Processes.IsRoot, "root (the packages are built as root)");
            Assert.True(BuiltArm64.Value.Result.ExitCode == 0, "scripts/package.sh --arm64 failed:\n" + BuiltArm64.Value.Result.Output);
            return Single(BuiltArm64.Value.Directory, "*.deb");
        }
    }

    public static string Rpm => Single(Directory, "*.rpm");

    public static string Tarball => Single(Directory, "*.tar.gz");

    /// <summary>A cached Debian 12 root with the package's dependencies (libvirt0, init-system-helpers): never modify it, copy it.</summary>
    public static string CleanBookwormRoot
    {
        get
        {
            Processes.RequireOrSkip(Processes.IsRoot, "root (mmdebstrap and chroot)");
            Assert.True(Bookworm.Value.ExitCode == 0, "scripts/debian-root.sh bookworm libvirt0,init-system-helpers failed:\n" + Bookworm.Value.Output);
            return Bookworm.Value.Stdout.Trim();
        }
    }

    private static string Single(string directory, string pattern)
    {
        var found = System.IO.Directory.GetFiles(directory, pattern);
        Assert.True(found.Length == 1, $"expected one {pattern} in {directory}, found: {string.Join(", ", found)}");
        return found[0];
    }
}
