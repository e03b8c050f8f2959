using System.Security.Cryptography;
using System.Text;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Installs the hook into libvirt's hook directory, the way each libvirt version expects it. What it wrote is
/// recognised by content, never by a marker line: the SHA-256 of the dispatcher it installs is recorded in
/// <see cref="ManifestName"/> before the dispatcher is written, and only a `qemu` script with exactly that content
/// (or exactly this build's dispatcher) is ever treated as ours. `Uninstall` undoes every state an install can stop
/// in: link only, script moved aside but no dispatcher yet, dispatcher without manifest, and the finished install.
/// </summary>
public sealed class HookInstaller(string hooksDirectory, string dispatcherScript)
{
    public const string HookName = "50-libvirt-nvlink";
    public const string ChainedName = "qemu.libvirt-nvlink-chained";

    /// <summary>Records the checksum of the dispatcher we installed (not executable, so libvirt never runs it).</summary>
    public const string ManifestName = "libvirt-nvlink.installed";

    private string QemuD => Path.Combine(hooksDirectory, "qemu.d");

    private string QemuScript => Path.Combine(hooksDirectory, "qemu");

    private string Chained => Path.Combine(hooksDirectory, ChainedName);

    private string Manifest => Path.Combine(hooksDirectory, ManifestName);

    private string Link => Path.Combine(QemuD, HookName);

    private string DispatcherChecksum => Sha256(Encoding.UTF8.GetBytes(dispatcherScript));

    /// <returns>What was done, one sentence a line, for the operator.</returns>
    /// <exception cref="IOException">The hook binary is not where it should be; nothing was changed.</exception>
    public IReadOnlyList<string> Install(string hookBinary, LibvirtVersion libvirt)
    {
        var done = new List<string>();
        if (!File.Exists(hookBinary))
        {
            throw new IOException($"{hookBinary} does not exist; build the hook first (scripts/publish.sh) or pass --hook-binary.");
        }
        Directory.CreateDirectory(QemuD);
        RemoveStaleLinkTemporaries();
        var temp = Link + ".tmp-" + Environment.ProcessId;
        File.Delete(temp);
        File.CreateSymbolicLink(temp, Path.GetFullPath(hookBinary));
        File.Move(temp, Link, overwrite: true);
        done.Add($"installed {Link} -> {Path.GetFullPath(hookBinary)}");

        if (libvirt < VersionThresholds.LibvirtHookDirectory)
        {
            if (File.Exists(QemuScript) && !IsOurDispatcher(QemuScript))
            {
                if (File.Exists(Chained))
                {
                    throw new IOException($"{QemuScript} is not the dispatcher libvirt-nvlink installed (its content differs) and {Chained} already exists; move one of them away first.");
                }
                // Recorded before anything moves, so an install interrupted from here on is undone by --uninstall.
                WriteManifest();
                File.Move(QemuScript, Chained);
                done.Add($"kept your existing {QemuScript} as {Chained}; the dispatcher runs it first, then qemu.d/*");
            }
            WriteManifest();
            AtomicFile.WriteAllText(QemuScript, dispatcherScript, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                                                  UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            done.Add($"libvirt {libvirt} runs only {QemuScript} (qemu.d/ needs 6.5): installed a dispatcher there that runs qemu.d/* like libvirt 6.5 does");
        }
        done.Add("libvirtd discovers hooks when it starts or on SIGHUP: run 'systemctl restart libvirtd' (or 'kill -HUP $(pidof libvirtd)') now.");
        return done;
    }

    public IReadOnlyList<string> Uninstall()
    {
        var done = new List<string>();
        if (new FileInfo(Link).LinkTarget is not null)
        {
            File.Delete(Link);
            done.Add($"removed {Link}");
        }
        else if (File.Exists(Link))
        {
            done.Add($"left {Link}: it is a file, not the link install-hook makes");
        }
        RemoveStaleLinkTemporaries();
        foreach (var stale in AtomicFile.StaleTemporaries(hooksDirectory, "qemu")) File.Delete(stale);

        var qemuExists = File.Exists(QemuScript);
        if (qemuExists && IsOurDispatcher(QemuScript))
        {
            File.Delete(QemuScript);
            done.Add($"removed the dispatcher {QemuScript}");
            qemuExists = false;
        }
        if (File.Exists(Chained))
        {
            if (qemuExists)
            {
                done.Add($"left {Chained} (your earlier qemu script) and {QemuScript}: {QemuScript} is not the dispatcher libvirt-nvlink " +
                         $"installed (its content changed), so decide which to keep");
            }
            else
            {
                File.Move(Chained, QemuScript);
                done.Add($"put your original {QemuScript} back");
            }
        }
        if (File.Exists(Manifest) && !File.Exists(Chained))
        {
            File.Delete(Manifest);
        }
        if (done.Count == 0) done.Add("nothing of libvirt-nvlink was installed in " + hooksDirectory);
        else done.Add("run 'systemctl restart libvirtd' (or send it SIGHUP) so it forgets the hook.");
        return done;
    }

    /// <summary>Exactly the bytes we installed (the manifest's checksum) or exactly this build's dispatcher.</summary>
    private bool IsOurDispatcher(string path)
    {
        var actual = Sha256(File.ReadAllBytes(path));
        return actual == DispatcherChecksum || RecordedChecksum() == actual;
    }

    private string? RecordedChecksum()
    {
        if (!File.Exists(Manifest)) return null;
        foreach (var line in File.ReadAllLines(Manifest))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["qemu", "sha256", var hex] && hex.Length == 64) return hex;
        }
        return null;
    }

    private void WriteManifest() => AtomicFile.WriteAllText(Manifest,
        $"# written by libvirt-nvlink install-hook: what it installed, so that --uninstall removes exactly that\nqemu sha256 {DispatcherChecksum}\n");

    private void RemoveStaleLinkTemporaries()
    {
        if (!Directory.Exists(QemuD)) return;
        foreach (var stale in Directory.EnumerateFileSystemEntries(QemuD, HookName + ".tmp-*")) File.Delete(stale);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
