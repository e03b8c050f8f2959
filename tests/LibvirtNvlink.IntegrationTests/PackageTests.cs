namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// The packages operators install: scripts/package.sh's .deb installed into a clean Debian 12 root and purged again,
/// checked by lintian, and its RPM read back with rpm -qlp --scripts.
/// </summary>
public class PackageTests
{
    private const string HookLink = "/etc/libvirt/hooks/qemu.d/50-libvirt-nvlink";

    /// <summary>What both packages install, the same paths (the systemd unit directory aside).</summary>
    private static readonly string[] Layout =
    [
        "/usr/bin/libvirt-nvlink",
        "/usr/lib/libvirt-nvlink/libvirt-nvlink-hook",
        HookLink,
        "/etc/libvirt-nvlink/config.xml",
        "/usr/share/libvirt-nvlink/libvirt-nvlink-config.xsd",
        "/usr/share/libvirt-nvlink/libvirt-nvlink-metadata.xsd",
        "/usr/share/bash-completion/completions/libvirt-nvlink",
    ];

    private static readonly string[] ManPages = ["/usr/share/man/man1/libvirt-nvlink.1", "/usr/share/man/man5/libvirt-nvlink-config.5", "/usr/share/man/man8/libvirt-nvlink-hook.8"];

    [Fact]
    public void The_deb_installs_into_a_clean_Debian_12_root_with_the_hook_registered_and_a_working_CLI()
    {
        using var root = new DebianRootCopy(BuiltPackages.CleanBookwormRoot);
        var install = root.Chroot("dpkg", "-i", root.Put(BuiltPackages.Deb));
        Assert.True(install.ExitCode == 0, install.Output);

        var listed = root.Chroot("dpkg", "-L", "libvirt-nvlink").Stdout.Split('\n');
        foreach (var path in Layout.Concat(ManPages.Select(m => m + ".gz")).Append("/lib/systemd/system/libvirt-nvlink-watch.service"))
        {
            Assert.Contains(path, listed);
            Assert.True(File.Exists(root.Root + path), path);
        }
        Assert.Equal("/usr/lib/libvirt-nvlink/libvirt-nvlink-hook", new FileInfo(root.Root + HookLink).LinkTarget);
        Assert.Contains("/etc/libvirt-nvlink/config.xml", root.Chroot("dpkg-query", "-W", "-f=${Conffiles}", "libvirt-nvlink").Stdout, StringComparison.Ordinal);
        // libvirtd re-reads its hooks on reload; the watch unit is installed, not enabled.
        Assert.Contains("reload libvirtd.service", root.SystemctlLog, StringComparison.Ordinal);
        Assert.DoesNotContain("enable", root.SystemctlLog, StringComparison.Ordinal);

        // The CLI on a bundled host, inside the root.
        var host = Path.Combine(Tests.CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu");
        Assert.Equal(0, Processes.Run("cp", ["-a", host, root.Root + "/tmp/host"]).ExitCode);
        var topology = root.Chroot("libvirt-nvlink", "topology", "--host-root", "/tmp/host");
        Assert.True(topology.ExitCode == 0, topology.Output);
        Assert.Contains("0004:04:00.0", topology.Stdout, StringComparison.Ordinal);

        // The registered hook, run the way libvirtd runs it: a plain domain passes silently, an incomplete GPU one is refused.
        var plain = root.Chroot("sh", "-c", $"echo '<domain><name>plain</name></domain>' | {HookLink} plain prepare begin -");
        Assert.Equal((0, ""), (plain.ExitCode, plain.Output));
        var gpuXml = root.Put(Path.Combine(Tests.GoldenCase.Directory, "gpu1-write-in.xml"));
        var gpu = root.Chroot("sh", "-c", $"LIBVIRT_NVLINK_HOST_ROOT=/tmp/host {HookLink} gpu1 prepare begin - < {gpuXml}");
        Assert.Equal(1, gpu.ExitCode);
        Assert.Contains("libvirt-nvlink refused to start 'gpu1'", gpu.Stderr, StringComparison.Ordinal);

        // Bash completion asks the installed CLI.
        var completion = root.Chroot("bash", "-c",
            ". /usr/share/bash-completion/completions/libvirt-nvlink; COMP_LINE='libvirt-nvlink tra'; COMP_POINT=${#COMP_LINE}; " +
            "COMP_WORDS=(libvirt-nvlink tra); COMP_CWORD=1; _libvirt_nvlink; printf '%s\\n' \"${COMPREPLY[@]}\"");
        Assert.Equal("transform", completion.Stdout.Trim());
    }

    [Fact]
    public void Purging_the_deb_leaves_the_root_exactly_as_it_was()
    {
        using var root = new DebianRootCopy(BuiltPackages.CleanBookwormRoot);
        var before = root.Snapshot();
        var install = root.Chroot("dpkg", "-i", root.Put(BuiltPackages.Deb));
        Assert.True(install.ExitCode == 0, install.Output);
        // What the hook and the CLI create at run time: undo records, backups, the log, a lock.
        foreach (var file in (string[])["/var/lib/libvirt-nvlink/hook-state/gpu1.json", "/var/lib/libvirt-nvlink/backups/gpu1.xml",
                                       "/var/log/libvirt-nvlink/hook.log", "/run/libvirt-nvlink/iommu-group-1.lock"])
        {
            Directory.CreateDirectory(Path.GetDirectoryName(root.Root + file)!);
            File.WriteAllText(root.Root + file, "x");
        }
        File.AppendAllText(root.Root + "/etc/libvirt-nvlink/config.xml", "<!-- edited by the operator -->\n");
        var log = root.SystemctlLog.Length;

        var purge = root.Chroot("dpkg", "--purge", "libvirt-nvlink");
        Assert.True(purge.ExitCode == 0, purge.Output);
        Assert.Contains("reload libvirtd.service", root.SystemctlLog[log..], StringComparison.Ordinal);
        var after = root.Snapshot();
        Assert.True(before.SequenceEqual(after),
            "left behind: " + string.Join(", ", after.Except(before)) + "; gone: " + string.Join(", ", before.Except(after)));
    }

    [Fact]
    public void The_deb_is_lintian_clean()
    {
        Processes.RequireOrSkip(File.Exists("/usr/bin/lintian"), "lintian");
        var r = Processes.Run("lintian", ["--fail-on", "error,warning", BuiltPackages.Deb], timeoutSeconds: 600);
        Assert.True(r.ExitCode == 0, r.Output);
        Assert.DoesNotMatch(@"(?m)^[EW]: ", r.Stdout);
    }

    [Fact]
    public void The_rpm_has_the_same_layout_and_reloads_libvirtd_from_its_scriptlets()
    {
        Processes.RequireOrSkip(File.Exists("/usr/bin/rpm"), "rpm");
        var r = Processes.Run("rpm", ["-qlp", "--scripts", BuiltPackages.Rpm]);
        Assert.True(r.ExitCode == 0, r.Output);
        var lines = r.Stdout.Split('\n');
        foreach (var path in Layout.Append("/usr/lib/systemd/system/libvirt-nvlink-watch.service"))
        {
            Assert.Contains(path, lines);
        }
        // rpmbuild compresses man pages where the distribution's brp-compress does (Fedora, RHEL; not Debian's rpm).
        Assert.All(ManPages, m => Assert.True(lines.Contains(m) || lines.Contains(m + ".gz"), m));
        Assert.Contains("postinstall scriptlet", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("postuninstall scriptlet", r.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?s)postinstall scriptlet.*systemctl reload ""\$unit"".*preuninstall scriptlet", r.Stdout);
        Assert.Matches(@"(?s)postuninstall scriptlet.*if \[ ""\$1"" -eq 0 \].*systemctl reload", r.Stdout);

        var config = Processes.Run("rpm", ["-qp", "--configfiles", BuiltPackages.Rpm]);
        Assert.Equal("/etc/libvirt-nvlink/config.xml", config.Stdout.Trim());
        var link = Processes.Run("rpm", ["-qp", "--qf", "[%{FILENAMES} %{FILELINKTOS}\\n]", BuiltPackages.Rpm]);
        Assert.Contains($"{HookLink} /usr/lib/libvirt-nvlink/libvirt-nvlink-hook", link.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_source_tarball_builds_with_rpmbuild_ta_and_registers_the_front_on_ppc64le()
    {
        var listing = Processes.Run("tar", ["-tzf", BuiltPackages.Tarball]);
        Assert.True(listing.ExitCode == 0, listing.Output);
        var top = Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(BuiltPackages.Tarball));
        Assert.Contains($"{top}/libvirt-nvlink.spec", listing.Stdout.Split('\n'));
        Assert.Contains($"{top}/src/LibvirtNvlink.HookFront/libvirt-nvlink-hook-front.c", listing.Stdout.Split('\n'));
        var spec = Processes.Run("tar", ["-xzOf", BuiltPackages.Tarball, $"{top}/libvirt-nvlink.spec"]).Stdout;
        Assert.DoesNotContain("@", spec.Split('\n').Where(l => l.StartsWith("Version:", StringComparison.Ordinal) || l.StartsWith("Release:", StringComparison.Ordinal)).Aggregate("", string.Concat), StringComparison.Ordinal);
        // rpmspec resolves the ppc64le branch: JIT on the distribution's runtime, the C front as the registered hook.
        var specFile = Path.Combine(BuiltPackages.Directory, "rendered.spec");
        File.WriteAllText(specFile, spec);
        var ppc = Processes.Run("rpmspec", ["-P", "--target", "ppc64le", specFile]);
        Assert.True(ppc.ExitCode == 0, ppc.Output);
        Assert.Contains("Requires:       dotnet-runtime-10.0", ppc.Stdout, StringComparison.Ordinal);
        Assert.Contains("ln -s /usr/lib/libvirt-nvlink/libvirt-nvlink-hook-front", ppc.Stdout, StringComparison.Ordinal);
        Assert.Contains("make -C src/LibvirtNvlink.HookFront", ppc.Stdout, StringComparison.Ordinal);
        var arm = Processes.Run("rpmspec", ["-P", "--target", "aarch64", specFile]);
        Assert.Contains("-r linux-arm64 -p:PublishAot=true", arm.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_arm64_deb_cross_compiled_here_is_lintian_clean_and_its_programs_run_on_arm64()
    {
        var deb = BuiltPackages.Arm64Deb;
        Assert.Equal("arm64", Processes.Run("dpkg-deb", ["-f", deb, "Architecture"]).Stdout.Trim());
        var lintian = Processes.Run("lintian", ["--fail-on", "error,warning", deb], timeoutSeconds: 600);
        Assert.True(lintian.ExitCode == 0, lintian.Output);

        var dir = Directory.CreateTempSubdirectory("lvn-arm64-").FullName;
        try
        {
            Assert.Equal(0, Processes.Run("dpkg-deb", ["-x", deb, dir]).ExitCode);
            var cli = Path.Combine(dir, "usr/bin/libvirt-nvlink");
            Assert.Contains("ARM aarch64", Processes.Run("file", ["-L", cli]).Stdout, StringComparison.Ordinal);
            // qemu-user runs them against Debian's arm64 cross libc: the same programs an arm64 (Grace) host runs.
            Processes.RequireOrSkip(File.Exists("/usr/bin/qemu-aarch64"), "qemu-aarch64 (qemu-user)");
            var topology = Processes.Run("qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", cli, "topology", "--host-root",
                Path.Combine(Tests.CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu")], timeoutSeconds: 300);
            Assert.True(topology.ExitCode == 0, topology.Output);
            Assert.Contains("GPU 0004:04:00.0  10de:1db1", topology.Stdout, StringComparison.Ordinal);
            var hook = Processes.RunWithEnvironment("qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", Path.Combine(dir, "usr/lib/libvirt-nvlink/libvirt-nvlink-hook"),
                "gpu1", "prepare", "begin", "-"],
                new Dictionary<string, string> { ["LIBVIRT_NVLINK_HOST_ROOT"] = Path.Combine(Tests.CliRunner.RepoRoot, "examples", "hosts", "witherspoon-6gpu"),
                                                 ["LIBVIRT_NVLINK_STATE_DIR"] = Path.Combine(dir, "state"), ["LIBVIRT_NVLINK_LOCK_DIR"] = Path.Combine(dir, "locks"),
                                                 ["LIBVIRT_NVLINK_CONFIG"] = Path.Combine(dir, "no-config.xml") },
                File.ReadAllText(Path.Combine(Tests.GoldenCase.Directory, "gpu1-write-in.xml")), timeoutSeconds: 300);
            Assert.Equal(1, hook.ExitCode);
            Assert.Contains("libvirt-nvlink refused to start 'gpu1'", hook.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
