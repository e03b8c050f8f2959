using LibvirtNvlink.Tests;
using System.Diagnostics;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A real libvirtd, private to the test run: started in its own mount namespace with /etc/libvirt,
/// /var/run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt bound to a temporary directory,
/// so it never touches the machine's own libvirt. QEMU runs as root with
/// no namespaces or cgroups, as this sandbox requires. Hooks are installed before it starts; extra bind mounts
/// (a simulated host's PCI tree) are made in its namespace only.
/// </summary>
public class PrivateLibvirtd : IDisposable
{
    private Process? _daemon;
    private readonly List<string> _log = [];
    private readonly IReadOnlyList<(string Source, string Target)> _binds;

    /// <param name="hooks">Scripts for etc/hooks/qemu.d, by file name; "{dir}" in them is replaced by <see cref="Directory"/>.</param>
    protected PrivateLibvirtd(IReadOnlyDictionary<string, string> hooks, IReadOnlyList<(string Source, string Target)> binds)
    {
        Available = Processes.IsRoot && File.Exists("/usr/sbin/libvirtd") && File.Exists("/usr/bin/virsh") && File.Exists("/usr/bin/unshare");
        Directory = System.IO.Directory.CreateTempSubdirectory("lvn-libvirtd-").FullName;
        _binds = binds;
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
        foreach (var (name, script) in hooks)
        {
            var path = Path.Combine(Directory, "etc/hooks/qemu.d", name);
            File.WriteAllText(path, script.Replace("{dir}", Directory, StringComparison.Ordinal));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        foreach (var d in new[] { "/var/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt", "/etc/libvirt" })
        {
            System.IO.Directory.CreateDirectory(d);
        }
        Start();
    }

    public bool Available { get; }

    public string Directory { get; }

    public string Uri => $"qemu+unix:///system?socket={Directory}/run/libvirt-sock";

    public IReadOnlyList<string> DaemonLog { get { lock (_log) return [.. _log]; } }

    public ProcessResult Virsh(params string[] args) => Processes.Run("/usr/bin/virsh", new[] { "-c", Uri }.Concat(args));

    /// <summary>Kills libvirtd (guests keep running) and starts it again in a fresh namespace: it reconnects to them.</summary>
    public void Restart()
    {
        StopDaemon();
        File.Delete(Path.Combine(Directory, "run", "libvirt-sock"));
        Start();
    }

    private void Start()
    {
        var binds = new List<string>
        {
            $"mount --bind {Directory}/etc /etc/libvirt",
            $"mount --bind {Directory}/run /var/run/libvirt",
            $"mount --bind {Directory}/lib /var/lib/libvirt",
            $"mount --bind {Directory}/log /var/log/libvirt",
            $"mount --bind {Directory}/cache /var/cache/libvirt",
        };
        binds.AddRange(_binds.Select(b => $"mount --bind {b.Source} {b.Target}"));
        var psi = new ProcessStartInfo("/usr/bin/unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-m", "--propagation", "private", "/bin/sh", "-c", $"{string.Join(" && ", binds)} && exec /usr/sbin/libvirtd -p {Directory}/libvirtd.pid" })
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
            throw new InvalidOperationException($"libvirtd did not start: {string.Join("\n", DaemonLog)}");
        }
        // The socket appears before the drivers are ready; a call that needs the QEMU driver waits for them.
        var ready = Virsh("list", "--all");
        if (ready.ExitCode != 0) throw new InvalidOperationException($"libvirtd not answering: {ready.Output}");
    }

    private void StopDaemon()
    {
        if (_daemon is { HasExited: false })
        {
            _daemon.Kill();
            _daemon.WaitForExit(10_000);
        }
        _daemon?.Dispose();
        _daemon = null;
    }

    private static void EnsureQemuUser()
    {
        // libvirtd insists on its compiled-in QEMU user existing even when qemu.conf says root.
        Processes.Run("/bin/sh", ["-c",
            "getent group kvm >/dev/null || groupadd -r kvm; getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu; " +
            "id libvirt-qemu >/dev/null 2>&1 || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu"]);
    }

    public void Dispose()
    {
        if (Available)
        {
            foreach (var name in Virsh("list", "--name").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Virsh("destroy", name.Trim());
            }
        }
        StopDaemon();
        // QEMU processes of this daemon that outlived it (a failed test) go too.
        var pids = Path.Combine(Directory, "run", "qemu");
        if (System.IO.Directory.Exists(pids))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(pids, "*.pid"))
            {
                if (int.TryParse(File.ReadAllText(file).Trim(), out var pid))
                {
                    try { Process.GetProcessById(pid).Kill(); }
                    catch (ArgumentException) { }
                    catch (InvalidOperationException) { }
                }
            }
        }
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }
}

/// <summary>A libvirtd with no hooks, for defining domains.</summary>
public sealed class PlainLibvirtd() : PrivateLibvirtd(new Dictionary<string, string>(), []);

[CollectionDefinition(Name)]
public sealed class LibvirtdCollection : ICollectionFixture<PlainLibvirtd>
{
    public const string Name = "private libvirtd";
}
