using LibvirtNvlink.Tests;
using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// libvirt 12.8 and QEMU 11.1 from Debian unstable (<see cref="DebianRoot.SidLibvirt"/>), private to the test run,
/// seeing the simulated 4-GPU GB200 tray as its PCI tree (its GPU 0009:01:00.0 is also the GH200 golden cases' GPU).
/// No hooks. When the root cannot be built, <see cref="PrivateLibvirtd.Available"/> is false and
/// <see cref="PrivateLibvirtd.Unavailable"/> says why.
/// </summary>
public sealed class SidLibvirtd : PrivateLibvirtd
{
    public SidLibvirtd() : this(Prepare())
    {
    }

    private SidLibvirtd((DebianRoot.Result Root, List<(string, string)> Binds, string Host) setup) : base(new Dictionary<string, string>(), setup.Binds, setup.Root)
    {
        SimulatedHost = setup.Host;
    }

    public string SimulatedHost { get; }

    protected override void DisposeExtra() => DeleteTree(Path.GetDirectoryName(SimulatedHost)!);

    /// <summary>libvirt's own schemas, from the root: virt-xml-validate FILE domain.</summary>
    public ProcessResult Validate(string file) => Tool("/usr/bin/virt-xml-validate", [file, "domain"]);

    private static (DebianRoot.Result, List<(string, string)>, string) Prepare()
    {
        var root = DebianRoot.SidLibvirt;
        var work = System.IO.Directory.CreateDirectory(Path.Combine("/tmp", "lvn-sidhost-" + Guid.NewGuid().ToString("N")[..12])).FullName;
        if (!root.Available) return (root, [], Path.Combine(work, "host"));
        var (host, binds) = SimulatedPciTree.Write(BuiltInLayouts.GraceBlackwell4Gpu, work);
        return (root, binds, host);
    }
}
