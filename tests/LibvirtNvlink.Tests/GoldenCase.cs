using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>
/// One hand-approved transform case under tests/LibvirtNvlink.Tests/Golden: NAME-in.xml, NAME-out.xml and NAME.args
/// ("host=LAYOUT memlock=MODE libvirt=X.Y.Z", optionally "qemu=X.Y" and "grace-layout=auto|flat|expander"). Set LIBVIRT_NVLINK_UPDATE_GOLDEN=1 to rewrite the -out files, then
/// read the diff before committing it: that is the approval.
/// </summary>
public sealed record GoldenCase(string Name, string Host, MemlockMode Memlock, LibvirtVersion Libvirt, (int Major, int Minor)? Qemu = null,
    GracePciLayout GraceLayout = GracePciLayout.Auto)
{
    public static string Directory => Path.Combine(CliRunner.RepoRoot, "tests", "LibvirtNvlink.Tests", "Golden");

    public static bool Updating => Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_UPDATE_GOLDEN") == "1";

    public static IReadOnlyList<GoldenCase> All()
    {
        var cases = new List<GoldenCase>();
        foreach (var args in System.IO.Directory.EnumerateFiles(Directory, "*.args").Order(StringComparer.Ordinal))
        {
            var kv = File.ReadAllText(args).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            Assert.True(LibvirtVersion.TryParse(kv["libvirt"], out var v));
            var mode = MemlockModeNames.Parse(kv["memlock"]);
            (int, int)? qemu = null;
            if (kv.TryGetValue("qemu", out var q))
            {
                Assert.True(TargetQemu.TryParse(q, out var qv));
                qemu = qv;
            }
            var layout = kv.TryGetValue("grace-layout", out var l) ? GracePciLayoutNames.Parse(l) : GracePciLayout.Auto;
            cases.Add(new GoldenCase(Path.GetFileNameWithoutExtension(args), kv["host"], mode, v, qemu, layout));
        }
        return cases;
    }

    public static TheoryData<string> Names() => [.. All().Select(c => c.Name)];

    public static GoldenCase Named(string name) => All().Single(c => c.Name == name);

    public string InputPath => Path.Combine(Directory, Name + "-in.xml");

    public string OutputPath => Path.Combine(Directory, Name + "-out.xml");

    public string Input => File.ReadAllText(InputPath);

    public HostLayout Layout => BuiltInLayouts.Find(Host) ?? throw new InvalidOperationException($"no layout {Host}");

    public TransformOptions Options => new(Memlock, new TargetLibvirt(Libvirt, TargetLibvirt.FromOption),
        Qemu is { } q ? new TargetQemu(q, TargetQemu.FromOption) : null, GraceLayout);

    public TransformResult Run(string xml) => DomainTransformer.Transform(xml, SimulatedHosts.Topology(Layout), Options);
}
