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

    /// <summary>Debian unstable's arm64 cloud kernel and a static busybox, unpacked only (no emulation needed), for a TCG guest.</summary>
    public const string SidArm64GuestPackages = "linux-image-cloud-arm64,busybox-static";

    private static readonly Lazy<Result> SidArm64GuestRoot = new(() => Build("sid", SidArm64GuestPackages, ["--arch", "arm64", "--extract"]));

    public static Result SidLibvirt => SidLibvirtRoot.Value;

    public static Result SidArm64Guest => SidArm64GuestRoot.Value;

    public static Result Build(string suite, string packages, string[]? options = null)
    {
        if (!Processes.IsRoot) return new(null, $"a Debian {suite} root (scripts/debian-root.sh needs root)");
        // A first build downloads and unpacks ~400 MB: minutes, not seconds.
        var r = Processes.Run(Path.Combine(Tests.CliRunner.RepoRoot, "scripts", "debian-root.sh"), [.. options ?? [], suite, packages], timeoutSeconds: 1800);
        var path = r.Stdout.Trim();
        return r.ExitCode == 0 && Directory.Exists(path)
            ? new(path, $"the Debian {suite} root at {path}")
            : new(null, $"a Debian {suite} root with {packages} (scripts/debian-root.sh failed: {r.Stderr.Trim()})");
    }
}
