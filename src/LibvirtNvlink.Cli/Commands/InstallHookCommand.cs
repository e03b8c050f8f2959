using System.CommandLine;
using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Cli.Commands;

internal static class InstallHookCommand
{
    public static Command Create()
    {
        var hooksDir = new Option<string>("--hooks-dir") { Description = "libvirt's hook directory", DefaultValueFactory = _ => "/etc/libvirt/hooks" };
        var binary = new Option<string?>("--hook-binary")
        {
            Description = $"The hook to install (default: {DefaultHookName} next to this program, else in /usr/lib/libvirt-nvlink)",
        };
        var uninstall = new Option<bool>("--uninstall") { Description = "Remove the hook (and give back a chained qemu script)" };
        var version = DomainInput.LibvirtVersionOption();
        var cmd = new Command("install-hook", "Install the qemu hook into libvirt (qemu.d/50-libvirt-nvlink; a dispatcher for libvirt < 6.5)")
        {
            hooksDir, binary, uninstall, version,
        };
        cmd.SetAction(parse =>
        {
            {
                var installer = new HookInstaller(parse.GetValue(hooksDir)!, DispatcherScript());
                var lines = parse.GetValue(uninstall)
                    ? installer.Uninstall()
                    : installer.Install(
                        parse.GetValue(binary) ?? DefaultHook(),
                        DomainInput.Target(parse.GetValue(version)).Version);
                foreach (var l in lines) Console.Out.WriteLine(l);
                return ExitCodes.Ok;
            }
        });
        return cmd;
    }

    /// <summary>
    /// NativeAOT installs lay down the hook itself. JIT installs (ppc64le, or scripts/publish.sh --jit) lay down the
    /// C front published next to it: libvirtd runs the hook for every event of every domain, and the front answers
    /// the ones that are none of ours without starting a managed runtime, handing the rest to libvirt-nvlink-hook.
    /// </summary>
    private static string DefaultHookName =>
        System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? "libvirt-nvlink-hook-front" : "libvirt-nvlink-hook";

    /// <summary>Next to this program (a publish directory), else where the packages put it: /usr/lib/libvirt-nvlink.</summary>
    private static string DefaultHook()
    {
        var published = Path.Combine(AppContext.BaseDirectory, DefaultHookName);
        var packaged = Path.Combine("/usr/lib/libvirt-nvlink", DefaultHookName);
        return !File.Exists(published) && File.Exists(packaged) ? packaged : published;
    }

    private static string DispatcherScript()
    {
        using var stream = typeof(InstallHookCommand).Assembly.GetManifestResourceStream("LibvirtNvlink.Cli.qemu-dispatcher.sh")
                           ?? throw new InvalidOperationException("the dispatcher script is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
