namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A throw-away copy of a cached Debian root to install packages into with chroot, removed on dispose. systemctl
/// is a stub that logs its arguments and reports libvirtd active, and /run/systemd/system exists, so the maintainer
/// scripts take the systemd path and the test can read what they asked for; nothing reaches the host's daemons
/// (no /proc in the chroot, so no pidof finds them either).
/// </summary>
public sealed class DebianRootCopy : IDisposable
{
    public DebianRootCopy(string cleanRoot)
    {
        Dir = Directory.CreateTempSubdirectory("lvn-root-").FullName;
        Root = Path.Combine(Dir, "root");
        var copy = Processes.Run("cp", ["-a", cleanRoot, Root], timeoutSeconds: 600);
        Assert.True(copy.ExitCode == 0, copy.Output);
        Directory.CreateDirectory(Path.Combine(Root, "run/systemd/system"));
        var stub = Path.Combine(Root, "usr/local/sbin/systemctl");
        File.WriteAllText(stub, "#!/bin/sh\necho \"$*\" >> /var/log/systemctl-stub.log\nexit 0\n");
        File.SetUnixFileMode(stub, (UnixFileMode)0b111_101_101);
    }

    public string Dir { get; }

    public string Root { get; }

    public string SystemctlLog => File.Exists(Path.Combine(Root, "var/log/systemctl-stub.log"))
        ? File.ReadAllText(Path.Combine(Root, "var/log/systemctl-stub.log")) : "";

    public Tests.ProcessResult Chroot(params string[] command) =>
        Processes.RunWithEnvironment("chroot", [Root, .. command],
            new Dictionary<string, string> { ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ["LC_ALL"] = "C" },
            timeoutSeconds: 300);

    /// <summary>Copies a host file into the root's /tmp and returns its path inside the root.</summary>
    public string Put(string file)
    {
        var inside = "/tmp/" + Path.GetFileName(file);
        File.Copy(file, Root + inside, overwrite: true);
        return inside;
    }

    /// <summary>Every path in the root with its type, mode, owner, size and link target (dpkg's own records aside).</summary>
    public IReadOnlyList<string> Snapshot()
    {
        var r = Processes.Run("find", [Root, "-path", Root + "/var/lib/dpkg", "-prune", "-o", "-path", Root + "/tmp", "-prune", "-o",
            "-path", Root + "/var/log/dpkg.log", "-prune", "-o", "-path", Root + "/var/log/systemctl-stub.log", "-prune", "-o",
            "-printf", "%P %y %m %u %g %s %l\\n"], timeoutSeconds: 300);
        Assert.True(r.ExitCode == 0, r.Output);
        return [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    public void Dispose() => Processes.Run("rm", ["-rf", "--one-file-system", Dir], timeoutSeconds: 300);
}
