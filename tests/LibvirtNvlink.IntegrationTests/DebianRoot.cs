namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// Debian roots built by scripts/debian-root.sh (cached on the machine, keyed by what they contain). Building needs
/// root and the package source; when it fails, <see cref="Result.Reason"/> carries the script's own explanation so
/// the tests that need the root fail with it (Processes.RequireOrSkip), never silently.
/// </summary>
public static class DebianRoot
{
    public sealed record Result(string? Path, string Reason)
    {
        public bool Available => Path is not null;
    }

    /// <summary>
    /// Debian unstable with libvirt 12.x and QEMU 11.x: the first releases with &lt;acpi nodeset&gt;,
    /// acpi-generic-initiator and highmem-mmio-size, which Debian 12's libvirt 9.0 and QEMU 7.2 predate.
    /// </summary>
    public const string SidLibvirtPackages = "libvirt-daemon,libvirt-daemon-driver-qemu,libvirt-clients,qemu-system-arm,qemu-efi-aarch64";

    private static readonly Lazy<Result> SidLibvirtRoot = new(() => Build("sid", SidLibvirtPackages));

    public static Result SidLibvirt => SidLibvirtRoot.Value;

    public static Result Build(string suite, string packages)
    {
        if (!Processes.IsRoot) return new(null, $"a Debian {suite} root (scripts/debian-root.sh needs root)");
        // A first build downloads and unpacks ~400 MB: minutes, not seconds.
        var r = Processes.Run(Path.Combine(Tests.CliRunner.RepoRoot, "scripts", "debian-root.sh"), [suite, packages], timeoutSeconds: 1800);
        var path = r.Stdout.Trim();
        return r.ExitCode == 0 && Directory.Exists(path)
            ? new(path, $"the Debian {suite} root at {path}")
            : new(null, $"a Debian {suite} root with {packages} (scripts/debian-root.sh failed: {r.Stderr.Trim()})");
    }
}
