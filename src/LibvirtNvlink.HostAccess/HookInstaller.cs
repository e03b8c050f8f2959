using LibvirtNvlink.Domain;

namespace LibvirtNvlink.HostAccess;

/// <summary>Installs the hook into libvirt's hook directory, the way each libvirt version expects it.</summary>
public sealed class HookInstaller(string hooksDirectory, string dispatcherScript)
{
    public const string HookName = "50-libvirt-nvlink";
    public const string DispatcherMarker = "# libvirt-nvlink qemu dispatcher";
    public const string ChainedName = "qemu.libvirt-nvlink-chained";

    private string QemuD => Path.Combine(hooksDirectory, "qemu.d");

    private string QemuScript => Path.Combine(hooksDirectory, "qemu");

    private string Chained => Path.Combine(hooksDirectory, ChainedName);

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
        var link = Path.Combine(QemuD, HookName);
        var temp = link + ".tmp-" + Environment.ProcessId;
        File.Delete(temp);
        File.CreateSymbolicLink(temp, Path.GetFullPath(hookBinary));
        File.Move(temp, link, overwrite: true);
        done.Add($"installed {link} -> {Path.GetFullPath(hookBinary)}");

        if (libvirt < VersionThresholds.LibvirtHookDirectory)
        {
            if (File.Exists(QemuScript) && !IsOurDispatcher(QemuScript))
            {
                if (File.Exists(Chained))
                {
                    throw new IOException($"{QemuScript} is a foreign script and {Chained} already exists; move one of them away first.");
                }
                File.Move(QemuScript, Chained);
                done.Add($"kept your existing {QemuScript} as {Chained}; the dispatcher runs it first, then qemu.d/*");
            }
            AtomicFile.WriteAllText(QemuScript, dispatcherScript);
            File.SetUnixFileMode(QemuScript, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                             UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            done.Add($"libvirt {libvirt} runs only {QemuScript} (qemu.d/ needs 6.5): installed a dispatcher there that runs qemu.d/* like libvirt 6.5 does");
        }
        done.Add("libvirtd discovers hooks when it starts or on SIGHUP: run 'systemctl restart libvirtd' (or 'kill -HUP $(pidof libvirtd)') now.");
        return done;
    }

    public IReadOnlyList<string> Uninstall()
    {
        var done = new List<string>();
        var link = Path.Combine(QemuD, HookName);
        if (File.Exists(link) || new FileInfo(link).LinkTarget is not null)
        {
            File.Delete(link);
            done.Add($"removed {link}");
        }
        if (File.Exists(QemuScript) && IsOurDispatcher(QemuScript))
        {
            File.Delete(QemuScript);
            done.Add($"removed the dispatcher {QemuScript}");
            if (File.Exists(Chained))
            {
                File.Move(Chained, QemuScript);
                done.Add($"put your original {QemuScript} back");
            }
        }
        if (done.Count == 0) done.Add("nothing of libvirt-nvlink was installed in " + hooksDirectory);
        else done.Add("run 'systemctl restart libvirtd' (or send it SIGHUP) so it forgets the hook.");
        return done;
    }

    private static bool IsOurDispatcher(string path) =>
        File.ReadLines(path).Take(3).Any(l => l.StartsWith(DispatcherMarker, StringComparison.Ordinal));
}
