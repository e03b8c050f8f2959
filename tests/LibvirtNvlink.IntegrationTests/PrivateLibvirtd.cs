using System.Diagnostics;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A real libvirtd, private to the test run: started in its own mount namespace with /etc/libvirt,
/// /var/run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt bound to a temporary directory,
/// so it never touches the machine's own libvirt (shared/docs/real-libvirt-here.md). QEMU runs as root with
/// no namespaces or cgroups, as this sandbox requires.
/// </summary>
public sealed class PrivateLibvirtd : IDisposable
{
    private readonly Process? _daemon;

    public PrivateLibvirtd()
    {
        Available = Processes.IsRoot && File.Exists("/usr/sbin/libvirtd") && File.Exists("/usr/bin/virsh") && File.Exists("/usr/bin/unshare");
        Directory = System.IO.Directory.CreateTempSubdirectory("lvn-libvirtd-").FullName;
        if (!Available) return;
        EnsureQemuUser();
        foreach (var d in new[] { "etc/hooks/qemu.d", "run", "lib/qemu", "log/qemu", "cache/qemu" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, d));
        }
        File.WriteAllText(Path.Combine(Directory, "etc/qemu.conf"), """
            user = "root"
            group = "root"
            dynamic_ownership = 0
            remember_owner = 0
            security_driver = "none"
            namespaces = []
            cgroup_controllers = []
            stdio_handler = "file"
            """);
        foreach (var d in new[] { "/var/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt", "/etc/libvirt" })
        {
            System.IO.Directory.CreateDirectory(d);
        }
        var binds = $"mount --bind {Directory}/etc /etc/libvirt && mount --bind {Directory}/run /var/run/libvirt && " +
                    $"mount --bind {Directory}/lib /var/lib/libvirt && mount --bind {Directory}/log /var/log/libvirt && " +
                    $"mount --bind {Directory}/cache /var/cache/libvirt";
        var psi = new ProcessStartInfo("/usr/bin/unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-m", "--propagation", "private", "/bin/sh", "-c", $"{binds} && exec /usr/sbin/libvirtd -p {Directory}/libvirtd.pid" })
        {
            psi.ArgumentList.Add(a);
        }
        _daemon = Process.Start(psi)!;
        _daemon.OutputDataReceived += (_, _) => { };
        _daemon.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_log) _log.Add(e.Data); };
        _daemon.BeginOutputReadLine();
        _daemon.BeginErrorReadLine();
        var socket = Path.Combine(Directory, "run", "libvirt-sock");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(socket) && DateTime.UtcNow < deadline && !_daemon.HasExited) Thread.Sleep(100);
        if (!File.Exists(socket))
        {
            throw new InvalidOperationException($"libvirtd did not start: {string.Join("\n", _log)}");
        }
        // The socket appears before the drivers are ready; a version call waits for them.
        var version = Virsh("list", "--all");
        if (version.ExitCode != 0) throw new InvalidOperationException($"libvirtd not answering: {version.Output}");
    }

    private readonly List<string> _log = [];

    public bool Available { get; }

    public string Directory { get; }

    public string Uri => $"qemu+unix:///system?socket={Directory}/run/libvirt-sock";

    public ProcessResult Virsh(params string[] args) => Processes.Run("/usr/bin/virsh", new[] { "-c", Uri }.Concat(args));

    public ProcessResult VirshWithInput(string stdin, params string[] args) => Processes.Run("/usr/bin/virsh", new[] { "-c", Uri }.Concat(args), stdin);

    private static void EnsureQemuUser()
    {
        // libvirtd insists on its compiled-in QEMU user existing even when qemu.conf says root.
        Processes.Run("/bin/sh", ["-c",
            "getent group kvm >/dev/null || groupadd -r kvm; getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu; " +
            "id libvirt-qemu >/dev/null 2>&1 || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu"]);
    }

    public void Dispose()
    {
        if (_daemon is { HasExited: false })
        {
            _daemon.Kill();
            _daemon.WaitForExit(10_000);
        }
        _daemon?.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class LibvirtdCollection : ICollectionFixture<PrivateLibvirtd>
{
    public const string Name = "private libvirtd";
}
