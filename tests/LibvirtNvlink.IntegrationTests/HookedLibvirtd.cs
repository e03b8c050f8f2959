using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A private libvirtd that sees a simulated 6-GPU AC922 as its PCI tree and runs two qemu.d hooks: a recorder that
/// keeps each call's argv and XML, and libvirt-nvlink-hook itself (the NativeAOT build) pointed at the same
/// simulated host. Real PCI devices stay visible to libvirtd beside the simulated ones.
/// </summary>
public class HookedLibvirtd : PrivateLibvirtd
{
    public HookedLibvirtd() : this(Prepare())
    {
    }

    private HookedLibvirtd((Dictionary<string, string> Hooks, List<(string, string)> Binds, string Host) setup)
        : base(setup.Hooks, setup.Binds)
    {
        SimulatedHost = setup.Host;
        // Hooks run only when a domain does something, after this constructor: the configuration can come now.
        File.WriteAllText(Path.Combine(Directory, "config.xml"),
            $"<libvirt-nvlink xmlns='http://libvirt-nvlink.org/xmlns/config/1.0'><log target='file' path='{Directory}/hook.log'/></libvirt-nvlink>");
    }

    public string SimulatedHost { get; }

    public string HookLog => File.Exists(Path.Combine(Directory, "hook.log")) ? File.ReadAllText(Path.Combine(Directory, "hook.log")) : "";

    public string[] RecordedCalls => File.Exists(Path.Combine(Directory, "recorded.log")) ? File.ReadAllLines(Path.Combine(Directory, "recorded.log")) : [];

    public string[] HookCalls => File.Exists(Path.Combine(Directory, "hook-argv.log")) ? File.ReadAllLines(Path.Combine(Directory, "hook-argv.log")) : [];

    private static (Dictionary<string, string>, List<(string, string)>, string) Prepare()
    {
        var hooks = new Dictionary<string, string>();
        var binds = new List<(string, string)>();
        var work = Tests.TestRunTemp.NewDirectory("simhost-");
        var host = Path.Combine(work, "host");
        if (!Processes.IsRoot || PublishedHook.ExitCode != 0) return (hooks, binds, host);
        (host, binds) = SimulatedPciTree.Write(BuiltInLayouts.Witherspoon6Gpu, work);
        System.IO.Directory.CreateDirectory("/dev/vfio");

        hooks["10-recorder"] = """
            #!/bin/sh
            mkdir -p {dir}/seen
            cat > "{dir}/seen/$1-$2-$3.xml"
            echo "$*" >> {dir}/recorded.log
            """;
        // libvirtd gives hooks a minimal environment, so a wrapper carries ours.
        hooks["50-libvirt-nvlink"] = $"""
            #!/bin/sh
            echo "$*" >> {"{dir}"}/hook-argv.log
            export LIBVIRT_NVLINK_HOST_ROOT={host}
            export LIBVIRT_NVLINK_CONFIG={"{dir}"}/config.xml
            export LIBVIRT_NVLINK_STATE_DIR={"{dir}"}/state
            export LIBVIRT_NVLINK_LOCK_DIR={"{dir}"}/locks
            exec {PublishedHook.Hook} "$@"
            """;
        return (hooks, binds, host);
    }
}
