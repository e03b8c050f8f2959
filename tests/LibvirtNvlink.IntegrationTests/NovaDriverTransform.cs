using System.Diagnostics;
using LibvirtNvlink.Tests;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// The Nova driver's XML step (src/nova-libvirt-nvlink: <c>transform.complete</c>, what
/// <c>LibvirtNvlinkDriver._get_guest_xml</c> returns through) run by Debian's Python with Nova installed. Nova imports
/// its driver from its own package directory, so the package is made visible the way it is installed: a temporary
/// copy of that directory (symlinks to Nova's entries) with the driver package beside Nova's drivers.
/// </summary>
public sealed class NovaDriverTransform : IDisposable
{
    private const string Python = "/usr/bin/python3";

    // The driver's own function, with the settings nova.conf would give it; prints the XML Nova would define.
    private const string Script = """
        import sys
        from nova.virt.libvirt_nvlink import transform
        settings = transform.TransformSettings(binary=sys.argv[1], host_root=sys.argv[2], memlock="auto", timeout=60)
        sys.stdout.write(transform.complete(sys.stdin.read(), sys.argv[3], settings, sys.argv[4], sys.argv[5]))
        """;

    private readonly string _site;

    public NovaDriverTransform()
    {
        _site = Directory.CreateTempSubdirectory("lvn-nova-site-").FullName;
        var nova = File.Exists(Python)
            ? Processes.Run(Python, ["-c", "import os, nova; print(os.path.dirname(nova.__file__))"])
            : null;
        Available = nova is { ExitCode: 0 };
        if (!Available) return;
        var novaDir = nova!.Stdout.Trim();
        var virt = Path.Combine(_site, "nova", "virt");
        Directory.CreateDirectory(virt);
        foreach (var e in Directory.EnumerateFileSystemEntries(novaDir).Where(e => Path.GetFileName(e) != "virt"))
        {
            File.CreateSymbolicLink(Path.Combine(_site, "nova", Path.GetFileName(e)), e);
        }
        foreach (var e in Directory.EnumerateFileSystemEntries(Path.Combine(novaDir, "virt")))
        {
            File.CreateSymbolicLink(Path.Combine(virt, Path.GetFileName(e)), e);
        }
        File.CreateSymbolicLink(Path.Combine(virt, "libvirt_nvlink"),
            Path.Combine(CliRunner.RepoRoot, "src", "nova-libvirt-nvlink", "nova", "virt", "libvirt_nvlink"));
    }

    /// <summary>Debian's python3-nova is importable (scripts/install-test-deps.sh installs it).</summary>
    public bool Available { get; }

    /// <summary>The domain XML as LibvirtNvlinkDriver hands it to libvirt's define.</summary>
    public string Complete(string xml, string instance, string cli, string hostRoot, string libvirtVersion, string qemuVersion)
    {
        var r = Processes.RunWithEnvironment(Python, ["-c", Script, cli, hostRoot, instance, libvirtVersion, qemuVersion],
            new Dictionary<string, string> { ["PYTHONPATH"] = _site, ["PYTHONDONTWRITEBYTECODE"] = "1" }, xml);
        if (r.ExitCode != 0) throw new InvalidOperationException($"the Nova driver's transform failed: {r.Output}");
        return r.Stdout;
    }

    public void Dispose()
    {
        // Symlinks only: deleting the tree removes the links, never what they point to.
        try { Directory.Delete(_site, recursive: true); }
        catch (IOException e) { Debug.WriteLine(e.Message); }
    }
}
