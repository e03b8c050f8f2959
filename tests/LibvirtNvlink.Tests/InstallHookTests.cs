using System.Diagnostics;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

public class InstallHookTests
{
    private static string Dispatcher => File.ReadAllText(Path.Combine(CliRunner.RepoRoot, "hooks", "qemu-dispatcher.sh"));

    private static (string Hooks, string Binary) Setup()
    {
        var dir = TestRunTemp.NewDirectory("hooks-");
        var bin = Path.Combine(dir, "lib");
        Directory.CreateDirectory(bin);
        var hook = Path.Combine(bin, "libvirt-nvlink-hook");
        File.WriteAllText(hook, "#!/bin/sh\necho \"$0 $*\" >> \"$(dirname \"$(readlink -f \"$0\")\")/ran\"\ncat >/dev/null\n");
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var hooks = Path.Combine(dir, "hooks");
        Directory.CreateDirectory(hooks);
        return (hooks, Path.Combine(bin, "libvirt-nvlink-hook"));
    }

    private static void Executable(string path, string script)
    {
        File.WriteAllText(path, script);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static (int Code, string Stdout, string Stderr) RunHook(string path, string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var o = p.StandardOutput.ReadToEnd();
        var e = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, o, e);
    }

    [Fact]
    public void On_libvirt_6_5_and_later_it_links_the_hook_into_qemu_d_and_nothing_else()
    {
        var (hooks, binary) = Setup();
        var said = new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(9, 0, 0));
        var link = new FileInfo(Path.Combine(hooks, "qemu.d", "50-libvirt-nvlink"));
        Assert.Equal(binary, link.LinkTarget);
        Assert.False(File.Exists(Path.Combine(hooks, "qemu")));
        Assert.Contains(said, s => s.Contains("SIGHUP", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_binary_is_an_error_and_nothing_is_installed()
    {
        var (hooks, binary) = Setup();
        File.Delete(binary);
        Assert.Throws<IOException>(() => new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(9, 0, 0)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(hooks));
    }

    [Fact]
    public void On_old_libvirt_a_foreign_qemu_script_is_chained_not_overwritten_and_comes_back_on_uninstall()
    {
        var (hooks, binary) = Setup();
        var qemu = Path.Combine(hooks, "qemu");
        var original = "#!/bin/sh\necho \"original $*\" >> \"$(dirname \"$0\")/ran\"\ncat >/dev/null\n";
        Executable(qemu, original);
        var installer = new HookInstaller(hooks, Dispatcher);
        var said = installer.Install(binary, new LibvirtVersion(6, 0, 0));
        Assert.Contains(said, s => s.Contains("qemu.libvirt-nvlink-chained", StringComparison.Ordinal));
        Assert.Equal(original, File.ReadAllText(Path.Combine(hooks, "qemu.libvirt-nvlink-chained")));
        Assert.StartsWith("#!/bin/sh\n# libvirt-nvlink qemu dispatcher", File.ReadAllText(qemu), StringComparison.Ordinal);

        var run = RunHook(qemu, "<domain/>", "g", "prepare", "begin", "-");
        Assert.Equal(0, run.Code);
        var ran = File.ReadAllLines(Path.Combine(hooks, "ran"));
        Assert.Equal(["original g prepare begin -"], ran);
        Assert.Contains("g prepare begin -", File.ReadAllText(Path.Combine(Path.GetDirectoryName(binary)!, "ran")), StringComparison.Ordinal);

        installer.Uninstall();
        Assert.Equal(original, File.ReadAllText(qemu));
        Assert.False(File.Exists(Path.Combine(hooks, "qemu.d", "50-libvirt-nvlink")));
    }

    [Fact]
    public void The_dispatcher_fails_when_any_hook_fails_and_passes_its_stderr_on()
    {
        var (hooks, binary) = Setup();
        new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(6, 0, 0));
        Executable(Path.Combine(hooks, "qemu.d", "60-refuse"), "#!/bin/sh\ncat >/dev/null\necho 'refused by 60' >&2\nexit 1\n");
        var run = RunHook(Path.Combine(hooks, "qemu"), "<domain/>", "g", "prepare", "begin", "-");
        Assert.Equal(1, run.Code);
        Assert.Contains("refused by 60", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dispatcher_feeds_a_migrate_answer_on_like_libvirt()
    {
        var (hooks, binary) = Setup();
        new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(6, 0, 0));
        Executable(Path.Combine(hooks, "qemu.d", "60-rewrite"), "#!/bin/sh\nsed 's/old/new/'\n");
        Executable(Path.Combine(hooks, "qemu.d", "70-append"), "#!/bin/sh\nsed 's/new/newer/'\n");
        var run = RunHook(Path.Combine(hooks, "qemu"), "<domain>old</domain>", "g", "migrate", "begin", "-");
        Assert.Equal(0, run.Code);
        Assert.Equal("<domain>newer</domain>", run.Stdout.Trim());
        var prepare = RunHook(Path.Combine(hooks, "qemu"), "<domain>old</domain>", "g", "prepare", "begin", "-");
        Assert.Equal("", prepare.Stdout);
    }

    [Fact]
    public void The_CLI_command_says_what_it_did_and_exits_2_without_binaries()
    {
        var (hooks, binary) = Setup();
        var ok = CliRunner.Run(null, "install-hook", "--hooks-dir", hooks, "--hook-binary", binary, "--libvirt-version", "9.0.0");
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("installed", ok.Stdout, StringComparison.Ordinal);
        var missing = CliRunner.Run(null, "install-hook", "--hooks-dir", hooks, "--hook-binary", "/nonexistent/libvirt-nvlink-hook", "--libvirt-version", "9.0.0");
        Assert.Equal(2, missing.ExitCode);
        var uninstall = CliRunner.Run(null, "install-hook", "--hooks-dir", hooks, "--uninstall");
        Assert.Contains("removed", uninstall.Stdout, StringComparison.Ordinal);
    }

    // Issue #13, point 8: our files are recognised by the checksum recorded at install, and --uninstall undoes every
    // state an install can stop in.
    private const string SiteScriptWithOurMarker = "#!/bin/sh\n# libvirt-nvlink qemu dispatcher\n# (copied by a site admin, then changed)\necho site >> /dev/null\ncat >/dev/null\n";

    [Fact]
    public void A_site_qemu_script_carrying_our_marker_line_is_chained_on_install_and_never_deleted()
    {
        var (hooks, binary) = Setup();
        var qemu = Path.Combine(hooks, "qemu");
        Executable(qemu, SiteScriptWithOurMarker);
        var installer = new HookInstaller(hooks, Dispatcher);

        installer.Install(binary, new LibvirtVersion(6, 0, 0));
        Assert.Equal(SiteScriptWithOurMarker, File.ReadAllText(Path.Combine(hooks, HookInstaller.ChainedName)));
        Assert.Equal(Dispatcher, File.ReadAllText(qemu));

        installer.Uninstall();
        Assert.Equal(SiteScriptWithOurMarker, File.ReadAllText(qemu));
        Assert.Equal(["qemu"], Directory.GetFileSystemEntries(hooks).Select(Path.GetFileName).Where(n => n != "qemu.d").Order());
    }

    [Fact]
    public void A_site_qemu_script_carrying_our_marker_line_survives_uninstall_when_nothing_was_installed()
    {
        var (hooks, _) = Setup();
        var qemu = Path.Combine(hooks, "qemu");
        Executable(qemu, SiteScriptWithOurMarker);
        var said = new HookInstaller(hooks, Dispatcher).Uninstall();
        Assert.Equal(SiteScriptWithOurMarker, File.ReadAllText(qemu));
        Assert.Contains(said, s => s.StartsWith("nothing of libvirt-nvlink", StringComparison.Ordinal));
    }

    [Fact]
    public void Uninstall_after_an_install_interrupted_once_the_site_script_was_moved_aside_puts_it_back()
    {
        var (hooks, binary) = Setup();
        var qemu = Path.Combine(hooks, "qemu");
        var original = "#!/bin/sh\ncat >/dev/null\n";
        Executable(qemu, original);
        new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(6, 0, 0));
        File.Delete(qemu); // the state of a crash between moving the site script aside and writing the dispatcher

        new HookInstaller(hooks, Dispatcher).Uninstall();

        Assert.Equal(original, File.ReadAllText(qemu));
        Assert.False(File.Exists(Path.Combine(hooks, HookInstaller.ChainedName)));
        Assert.False(File.Exists(Path.Combine(hooks, "qemu.d", HookInstaller.HookName)));
        Assert.False(File.Exists(Path.Combine(hooks, HookInstaller.ManifestName)));
    }

    [Fact]
    public void Uninstall_of_an_install_on_new_libvirt_removes_the_link_and_nothing_else()
    {
        var (hooks, binary) = Setup();
        var other = Path.Combine(hooks, "qemu.d", "60-other");
        new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(9, 0, 0));
        Executable(other, "#!/bin/sh\n");
        new HookInstaller(hooks, Dispatcher).Uninstall();
        Assert.Equal([other], Directory.GetFileSystemEntries(Path.Combine(hooks, "qemu.d")));
    }

    [Fact]
    public void Uninstall_of_a_dispatcher_without_a_site_script_removes_it_and_the_manifest()
    {
        var (hooks, binary) = Setup();
        new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(6, 0, 0));
        Assert.True(File.Exists(Path.Combine(hooks, HookInstaller.ManifestName)));
        new HookInstaller(hooks, Dispatcher).Uninstall();
        Assert.Equal(["qemu.d"], Directory.GetFileSystemEntries(hooks).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(hooks, "qemu.d")));
    }

    [Fact]
    public void A_dispatcher_installed_by_an_earlier_build_is_recognised_by_the_checksum_in_its_manifest()
    {
        var (hooks, binary) = Setup();
        var earlier = Dispatcher.Replace("set -u", "set -u # an earlier release", StringComparison.Ordinal);
        new HookInstaller(hooks, earlier).Install(binary, new LibvirtVersion(6, 0, 0));
        new HookInstaller(hooks, Dispatcher).Uninstall();
        Assert.False(File.Exists(Path.Combine(hooks, "qemu")));
    }

    [Fact]
    public void A_dispatcher_edited_after_install_is_left_with_the_site_script_and_a_sentence_saying_so()
    {
        var (hooks, binary) = Setup();
        var qemu = Path.Combine(hooks, "qemu");
        Executable(qemu, "#!/bin/sh\ncat >/dev/null\n");
        new HookInstaller(hooks, Dispatcher).Install(binary, new LibvirtVersion(6, 0, 0));
        File.AppendAllText(qemu, "# edited by hand\n");
        var said = new HookInstaller(hooks, Dispatcher).Uninstall();
        Assert.EndsWith("# edited by hand\n", File.ReadAllText(qemu), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(hooks, HookInstaller.ChainedName)));
        Assert.Contains(said, s => s.Contains("decide which to keep", StringComparison.Ordinal));
    }

    [Fact]
    public void Uninstall_removes_the_temporary_link_of_an_interrupted_install()
    {
        var (hooks, binary) = Setup();
        Directory.CreateDirectory(Path.Combine(hooks, "qemu.d"));
        File.CreateSymbolicLink(Path.Combine(hooks, "qemu.d", HookInstaller.HookName + ".tmp-999999"), binary);
        new HookInstaller(hooks, Dispatcher).Uninstall();
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(hooks, "qemu.d")));
    }
}
