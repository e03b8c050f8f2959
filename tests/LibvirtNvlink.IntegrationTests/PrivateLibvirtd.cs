using LibvirtNvlink.Tests;
using System.Diagnostics;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A real libvirtd, private to the test run: started in its own mount namespace with /etc/libvirt,
/// /var/run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt bound to a temporary directory,
/// so it never touches the machine's own libvirt. QEMU runs as root with
/// no namespaces or cgroups, as this sandbox requires. Hooks are installed before it starts; extra bind mounts
/// (a simulated host's PCI tree) are made in its namespace only.
/// With a Debian root (<see cref="DebianRoot"/>), the daemon is that root's libvirtd: the namespace gets the root's
/// own /proc, /sys and /tmp (the machine's), a private /dev and /run, and the same binds inside the root, which itself
/// stays unchanged; virsh and virt-xml-validate then run inside that namespace and root too.
/// </summary>
public class PrivateLibvirtd : IDisposable
{
    private Process? _daemon;
    private readonly List<string> _log = [];
    private readonly IReadOnlyList<(string Source, string Target)> _binds;

    /// <param name="hooks">Scripts for etc/hooks/qemu.d, by file name; "{dir}" in them is replaced by <see cref="Directory"/>.</param>
    /// <param name="root">A Debian root whose libvirtd to run, or null for the machine's own.</param>
    protected PrivateLibvirtd(IReadOnlyDictionary<string, string> hooks, IReadOnlyList<(string Source, string Target)> binds, DebianRoot.Result? root = null)
    {
        Root = root?.Path;
        // Paths under /tmp are the same inside the root (its /tmp is the machine's), so files pass to virsh unchanged.
        Directory = root is null ? System.IO.Directory.CreateTempSubdirectory("lvn-libvirtd-").FullName
            : System.IO.Directory.CreateDirectory(Path.Combine("/tmp", "lvn-libvirtd-" + Guid.NewGuid().ToString("N")[..12])).FullName;
        _binds = binds;
        Available = root is null
            ? Processes.IsRoot && File.Exists("/usr/sbin/libvirtd") && File.Exists("/usr/bin/virsh") && File.Exists("/usr/bin/unshare")
            : root.Available && File.Exists(Root + "/usr/sbin/libvirtd") && File.Exists("/usr/bin/unshare") && File.Exists("/usr/bin/nsenter");
        Unavailable = root is null ? "a private libvirtd (root, libvirt-daemon, util-linux unshare)"
            : root.Available ? $"libvirtd in {root.Reason} (with util-linux unshare and nsenter)" : root.Reason;
        if (!Available) return;
        // A Debian root brings its own QEMU user and libvirt directories.
        if (Root is null) EnsureQemuUser();
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
        foreach (var d in Root is null ? ["/var/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt", "/etc/libvirt"] : Array.Empty<string>())
        {
            System.IO.Directory.CreateDirectory(d);
        }
        Start();
    }

    public bool Available { get; }

    /// <summary>What is missing when not <see cref="Available"/>, for Processes.RequireOrSkip.</summary>
    public string Unavailable { get; }

    /// <summary>The Debian root the daemon runs in, or null for the machine's own libvirt.</summary>
    public string? Root { get; }

    public string Directory { get; }

    public string Uri => $"qemu+unix:///system?socket={Directory}/run/libvirt-sock";

    public IReadOnlyList<string> DaemonLog { get { lock (_log) return [.. _log]; } }

    public ProcessResult Virsh(params string[] args) => Tool("/usr/bin/virsh", ["-c", Uri, .. args]);

    /// <summary>Writes <paramref name="domain"/> into the daemon's directory and defines it; a refusal fails the test with libvirt's words.</summary>
    public void Define(System.Xml.Linq.XDocument domain, string name)
    {
        var file = Path.Combine(Directory, name + ".xml");
        File.WriteAllText(file, domain.ToString());
        var define = Virsh("define", file);
        Assert.True(define.ExitCode == 0, define.Output);
    }

    /// <summary>A program of the daemon's libvirt: inside its namespace and root when it has one.</summary>
    public ProcessResult Tool(string program, IEnumerable<string> args, int timeoutSeconds = 120) => Root is null
        ? Processes.Run(program, args, timeoutSeconds: timeoutSeconds)
        : Processes.Run("/usr/bin/nsenter", ["-t", _daemon!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "-r", "-w", program, .. args],
            timeoutSeconds: timeoutSeconds);

    /// <summary>Kills libvirtd (guests keep running) and starts it again in a fresh namespace: it reconnects to them.</summary>
    public void Restart()
    {
        StopDaemon();
        File.Delete(Path.Combine(Directory, "run", "libvirt-sock"));
        Start();
    }

    private void Start()
    {
        var r = Root ?? "";
        var binds = Root is null ? [] : RootMounts(Root);
        binds.AddRange([
            $"mount --bind {Directory}/etc {r}/etc/libvirt",
            // A root's /var/run is a link to /run, which mount would follow out of the root.
            Root is null ? $"mount --bind {Directory}/run /var/run/libvirt" : $"mount --bind {Directory}/run {r}/run/libvirt",
            $"mount --bind {Directory}/lib {r}/var/lib/libvirt",
            $"mount --bind {Directory}/log {r}/var/log/libvirt",
            $"mount --bind {Directory}/cache {r}/var/cache/libvirt",
        ]);
        binds.AddRange(_binds.Select(b => Root is null ? $"mount --bind {b.Source} {b.Target}" : $"mkdir -p {r}{b.Target} && mount --bind {b.Source} {r}{b.Target}"));
        var exec = Root is null ? "" : $"chroot {Root} ";
        var psi = new ProcessStartInfo("/usr/bin/unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-m", "--propagation", "private", "/bin/sh", "-c", $"{string.Join(" && ", binds)} && exec {exec}/usr/sbin/libvirtd -p {Directory}/libvirtd.pid" })
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
            StopDaemon();
            throw new InvalidOperationException($"libvirtd did not start: {string.Join("\n", DaemonLog)}");
        }
        // The socket appears before the drivers are ready; a call that needs the QEMU driver waits for them.
        var ready = Virsh("list", "--all");
        if (ready.ExitCode != 0) throw new InvalidOperationException($"libvirtd not answering: {ready.Output}");
    }

    /// <summary>
    /// The root's own view of the machine, made in the private namespace only: /proc and /sys; /tmp (so paths under it
    /// mean the same inside); a /dev of its own holding the usual character devices, a devpts and an empty vfio
    /// directory (the machine's /dev is not changed); and an empty /run, where the daemon's socket directory goes.
    /// </summary>
    private static List<string> RootMounts(string root) =>
    [
        $"mount --rbind /proc {root}/proc",
        $"mount --rbind /sys {root}/sys",
        $"mount --rbind /tmp {root}/tmp",
        $"mount -t tmpfs -o mode=755 lvn-dev {root}/dev",
        $"for n in null zero full random urandom tty; do touch {root}/dev/$n && mount --bind /dev/$n {root}/dev/$n || exit 1; done",
        $"mkdir {root}/dev/pts {root}/dev/shm {root}/dev/vfio",
        $"mount --bind /dev/pts {root}/dev/pts",
        $"ln -s pts/ptmx {root}/dev/ptmx",
        $"mount -t tmpfs lvn-shm {root}/dev/shm",
        $"mount -t tmpfs -o mode=755 lvn-run {root}/run",
        $"mkdir -p {root}/run/libvirt",
    ];

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
        DeleteTree(Directory);
        DisposeExtra();
        GC.SuppressFinalize(this);
    }

    /// <summary>What a derived daemon made besides <see cref="Directory"/> (a simulated host), removed after the daemon stopped.</summary>
    protected virtual void DisposeExtra()
    {
    }

    protected static void DeleteTree(string path)
    {
        try { System.IO.Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A libvirtd with no hooks, for defining domains.</summary>
public sealed class PlainLibvirtd() : PrivateLibvirtd(new Dictionary<string, string>(), []);

[CollectionDefinition(Name)]
public sealed class LibvirtdCollection : ICollectionFixture<PlainLibvirtd>, ICollectionFixture<SidLibvirtd>
{
    public const string Name = "private libvirtd";
}
