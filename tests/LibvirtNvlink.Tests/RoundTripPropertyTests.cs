using System.Text;
using System.Text.RegularExpressions;
using CsCheck;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Versions;

namespace LibvirtNvlink.Tests;

/// <summary>
/// Over generated documents in every style real clients write (double or single quotes, entity and character
/// references, comments, CDATA, CRLF, tabs, user addresses, user &lt;qemu:commandline&gt; args, Grace and NVLink2
/// domains) and over mutations of the documents virt-install, Nova and virsh dumpxml wrote: for every input the
/// transform accepts, --undo gives it back byte for byte and transforming the output again changes nothing.
/// </summary>
public class RoundTripPropertyTests
{
    private sealed record Style(char Quote, string NewLine, string Indent, bool Declaration, bool Comments, string Description);

    private sealed record Case(string Host, string Xml, TransformOptions Options)
    {
        public override string ToString() => $"host {Host}, libvirt {Options.Target.Version}, qemu {Options.Qemu}\n{Xml}";
    }

    private static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static readonly string[] Descriptions =
    [
        "plain", "it's \"tuned\"", "a &amp; b &lt;c&gt;", "&#233;t&#xE9; &#x1F600;", "&apos;q&apos; &quot;d&quot;", "<![CDATA[<raw> & ]]>", "tab\there",
    ];

    private static readonly Gen<Style> StyleGen =
        from quote in Pick('\'', '"')
        from crlf in Gen.Bool
        from indent in Pick("  ", "    ", "\t", " ")
        from declaration in Gen.Bool
        from comments in Gen.Bool
        from description in Pick(Descriptions)
        select new Style(quote, crlf ? "\r\n" : "\n", indent, declaration, comments, description);

    private static readonly TransformOptions[] Nv2Options =
    [
        new(MemlockMode.Write, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption)),
        new(MemlockMode.Auto, new TargetLibvirt(new LibvirtVersion(5, 2, 0), TargetLibvirt.FromOption)),
        new(MemlockMode.Never, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption)),
    ];

    private static readonly TransformOptions[] GraceOptions =
    [
        new(MemlockMode.Auto, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption), new TargetQemu((9, 2), TargetQemu.FromOption)),
        new(MemlockMode.Auto, new TargetLibvirt(new LibvirtVersion(9, 0, 0), TargetLibvirt.FromOption), new TargetQemu((10, 0), TargetQemu.FromOption)),
        new(MemlockMode.Auto, new TargetLibvirt(new LibvirtVersion(11, 8, 0), TargetLibvirt.FromOption), new TargetQemu((10, 0), TargetQemu.FromOption)),
        new(MemlockMode.Auto, new TargetLibvirt(new LibvirtVersion(10, 0, 0), TargetLibvirt.FromOption), new TargetQemu((9, 0), TargetQemu.FromOption)),
    ];

    /// <summary>Writes a domain in a style: one line per element, the style's quotes, indentation and line ending.</summary>
    private sealed class Writer(Style style)
    {
        private readonly StringBuilder _sb = new();
        private int _depth;

        public string A(string name, string value) => $" {name}={style.Quote}{value}{style.Quote}";

        public Writer Line(string text)
        {
            for (var i = 0; i < _depth; i++) _sb.Append(style.Indent);
            _sb.Append(text).Append(style.NewLine);
            return this;
        }

        public Writer Open(string tag)
        {
            Line(tag);
            _depth++;
            return this;
        }

        public Writer Close(string tag)
        {
            _depth--;
            return Line(tag);
        }

        public Writer Comment(string text) => style.Comments ? Line($"<!-- {text} -->") : this;

        public override string ToString() => _sb.ToString();
    }

    private static string Hostdev(Writer w, string address, string managed, (int Bus, int Slot)? guest, bool alias)
    {
        var a = Pci.PciAddress.Parse(address);
        w.Open($"<hostdev{w.A("mode", "subsystem")}{w.A("type", "pci")}{w.A("managed", managed)}>");
        w.Open("<source>").Line($"<address{w.A("domain", $"0x{a.Domain:x4}")}{w.A("bus", $"0x{a.Bus:x2}")}{w.A("slot", $"0x{a.Slot:x2}")}{w.A("function", $"0x{a.Function:x}")}/>").Close("</source>");
        if (alias) w.Line($"<alias{w.A("name", "ua-user-" + a.Bus.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))}/>");
        if (guest is { } g) w.Line($"<address{w.A("type", "pci")}{w.A("domain", "0x0000")}{w.A("bus", $"0x{g.Bus:x2}")}{w.A("slot", $"0x{g.Slot:x2}")}{w.A("function", "0x0")}/>");
        w.Comment("user note on " + address);
        return w.Close("</hostdev>").ToString();
    }

    private static void Head(Writer w, Style style, string name, string arch, string machine, int memGiB, int vcpus, string? extraNs)
    {
        if (style.Declaration) w.Line($"<?xml version={style.Quote}1.0{style.Quote} encoding={style.Quote}UTF-8{style.Quote}?>");
        w.Comment("generated");
        w.Open($"<domain{w.A("type", "kvm")}{extraNs}>");
        w.Line($"<name>{name}</name>");
        w.Line($"<description>{style.Description}</description>");
        w.Line($"<memory{w.A("unit", "GiB")}>{memGiB}</memory>");
        w.Line($"<vcpu>{vcpus}</vcpu>");
        w.Open("<os>").Line($"<type{w.A("arch", arch)}{w.A("machine", machine)}>hvm</type>").Close("</os>");
        w.Comment("devices follow");
    }

    private static readonly Gen<Case> Nv2Gen =
        from style in StyleGen
        from hostIndex in Gen.Int[0, 1]
        from gpuMask in Gen.Int[1, 63]
        from bridgeMask in Gen.UInt
        from userBus in Gen.Int[0, 3]
        from memGiB in Gen.Int[1, 256]
        from options in Pick(Nv2Options)
        select BuildNv2(style, hostIndex == 0 ? BuiltInLayouts.Witherspoon6Gpu : BuiltInLayouts.Witherspoon4GpuCompound, gpuMask, bridgeMask, userBus, memGiB, options);

    private static Case BuildNv2(Style style, HostLayout layout, int gpuMask, uint bridgeMask, int userBus, int memGiB, TransformOptions options)
    {
        var host = SimulatedHosts.Topology(layout);
        var w = new Writer(style);
        Head(w, style, "nv2", "ppc64le", "pseries", memGiB, 8, null);
        w.Open("<devices>");
        w.Line($"<emulator>/usr/bin/qemu-system-ppc64</emulator>");
        var bit = 0;
        foreach (var (gpu, i) in host.Gpus.Select((g, i) => (g, i)).Where(p => (gpuMask & (1 << p.i)) != 0))
        {
            // A user address on the first GPU's group when asked: bus userBus (0 is refused, others accepted).
            (int, int)? guest = i == 0 && userBus > 0 ? (userBus, 1) : null;
            Hostdev(w, gpu.Address.ToString(), "yes", guest, alias: false);
            foreach (var b in gpu.Bridges)
            {
                if ((bridgeMask & (1u << (bit++ % 32))) != 0) Hostdev(w, b.ToString(), "yes", guest is { } g ? (g.Item1, 2 + bit % 20) : null, alias: false);
            }
        }
        w.Close("</devices>").Close("</domain>");
        return new Case(layout.Name, w.ToString(), options);
    }

    private static readonly Gen<Case> GraceGen =
        from style in StyleGen
        from four in Gen.Bool
        from gpuMask in Gen.Int[1, 15]
        from userArgs in Gen.Int[0, 3]
        from userCells in Gen.Int[0, 2]
        from alias in Gen.Bool
        from options in Pick(GraceOptions)
        select BuildGrace(style, four ? BuiltInLayouts.GraceBlackwell4Gpu : BuiltInLayouts.GraceHopper1Gpu, gpuMask, userArgs, userCells, alias, options);

    private static Case BuildGrace(Style style, HostLayout layout, int gpuMask, int userArgs, int userCells, bool alias, TransformOptions options)
    {
        var host = SimulatedHosts.Topology(layout);
        var w = new Writer(style);
        var qemuNs = userArgs > 0 ? w.A("xmlns:qemu", QemuCommandLine.NamespaceUri) : null;
        Head(w, style, "grace", "aarch64", "virt", 64, 8, qemuNs);
        if (userCells > 0)
        {
            w.Open("<cpu>").Open("<numa>");
            for (var c = 0; c < userCells; c++) w.Line($"<cell{w.A("id", c.ToString(System.Globalization.CultureInfo.InvariantCulture))}{w.A("cpus", c == 0 ? "0-3" : "4-7")}{w.A("memory", "32")}{w.A("unit", "GiB")}/>");
            w.Close("</numa>").Close("</cpu>");
        }
        w.Open("<devices>");
        foreach (var (gpu, _) in host.GraceGpus.Select((g, i) => (g, i)).Where(p => (gpuMask & (1 << p.i)) != 0 || host.GraceGpus.Count == 1))
        {
            Hostdev(w, gpu.Address.ToString(), "no", null, alias);
        }
        w.Close("</devices>");
        if (userArgs > 0)
        {
            w.Open("<qemu:commandline>");
            string[] args = ["-numa", "node,nodeid=20", "-object", "memory-backend-ram,id=user0,size=1G", "-msg", "timestamp=on"];
            foreach (var v in args.Take(userArgs * 2)) w.Line($"<qemu:arg{w.A("value", v)}/>");
            w.Close("</qemu:commandline>");
        }
        w.Close("</domain>");
        return new Case(layout.Name, w.ToString(), options);
    }

    private static readonly Gen<Case> AnyGen = Gen.Bool.SelectMany(nv2 => nv2 ? Nv2Gen : GraceGen);

    private static bool RoundTrips(Case c)
    {
        var host = SimulatedHosts.Topology(BuiltInLayouts.Find(c.Host)!);
        TransformResult once;
        try
        {
            once = DomainTransformer.Transform(c.Xml, host, c.Options);
        }
        catch (TransformException)
        {
            return true; // refused: nothing written, nothing to give back
        }
        var twice = DomainTransformer.Transform(once.Xml, host, c.Options);
        var back = once.Changed ? DomainTransformer.Undo(once.Xml).Xml : once.Xml;
        if (twice.Changed || twice.Xml != once.Xml) return false;
        return back == c.Xml;
    }

    [Fact]
    public void NVLink2_documents_in_every_style_round_trip_byte_for_byte() => Nv2Gen.Sample(RoundTrips, iter: 200);

    [Fact]
    public void Grace_documents_with_user_qemu_args_and_cells_round_trip_byte_for_byte() => GraceGen.Sample(RoundTrips, iter: 200);

    [Fact]
    public void Most_generated_documents_are_accepted_so_the_round_trip_is_really_tested()
    {
        var accepted = 0;
        var all = 0;
        AnyGen.Sample(c =>
        {
            all++;
            try
            {
                DomainTransformer.Transform(c.Xml, SimulatedHosts.Topology(BuiltInLayouts.Find(c.Host)!), c.Options);
                accepted++;
            }
            catch (TransformException)
            {
            }
        }, iter: 200, threads: 1);
        Assert.True(accepted * 2 > all, $"only {accepted} of {all} accepted");
    }

    /// <summary>The client-written golden inputs (virt-install, Nova, virsh dumpxml) and the host each belongs to.</summary>
    private static readonly (string File, string Host, TransformOptions Options)[] ClientDocuments =
    [
        ("virt-install-nv2-in.xml", "witherspoon-6gpu", Nv2Options[0]),
        ("nova-nv2-in.xml", "witherspoon-6gpu", Nv2Options[0]),
        ("virt-install-grace-in.xml", "grace-hopper-1gpu", GraceOptions[0]),
        ("nova-grace-in.xml", "grace-hopper-1gpu", GraceOptions[2]),
        ("dumpxml-virt-install-grace-in.xml", "grace-hopper-1gpu", GraceOptions[1]),
        ("dumpxml-nova-grace-in.xml", "grace-hopper-1gpu", GraceOptions[2]),
    ];

    private static readonly Regex Tag = new("<[A-Za-z][^<>]*?(/?)>", RegexOptions.CultureInvariant);

    /// <summary>Mutations a human or another tool makes: other quotes, comments, CRLF, space inside tags, tabs.</summary>
    private static string Mutate(string xml, uint seed)
    {
        var rnd = new Random((int)seed);
        var tags = 0;
        var mutated = Tag.Replace(xml, m =>
        {
            var t = m.Value;
            tags++;
            switch (rnd.Next(6))
            {
                case 0 when !t.Contains('"', StringComparison.Ordinal):
                    return t.Replace('\'', '"');
                case 1 when !t.Contains('\'', StringComparison.Ordinal):
                    return t.Replace('"', '\'');
                case 2:
                    return t.EndsWith("/>", StringComparison.Ordinal) ? t[..^2] + "  />" : t[..^1] + " >";
                case 3 when !t.StartsWith("<domain", StringComparison.Ordinal):
                    return "<!-- c" + tags + " -->" + t;
                default:
                    return t;
            }
        });
        if (rnd.Next(3) == 0) mutated = mutated.Replace("\n", "\r\n", StringComparison.Ordinal);
        if (rnd.Next(3) == 0) mutated = mutated.Replace("\n  ", "\n\t", StringComparison.Ordinal);
        if (rnd.Next(3) == 0) mutated = "<?xml version=\"1.0\"?>\n<!-- kept in git -->\n" + mutated;
        return mutated;
    }

    [Fact]
    public void Mutations_of_documents_the_real_clients_wrote_round_trip_byte_for_byte()
    {
        var gen = from doc in Gen.Int[0, ClientDocuments.Length - 1]
                  from seed in Gen.UInt
                  let d = ClientDocuments[doc]
                  select new Case(d.Host, Mutate(GoldenCase.Named(d.File.Replace("-in.xml", "", StringComparison.Ordinal)) is { } g ? g.Input : "", seed), d.Options);
        gen.Sample(c =>
        {
            // Every mutation is still a document the parser keeps byte for byte.
            Assert.Equal(c.Xml, DomainDefinition.Parse(c.Xml).ToXml());
            return RoundTrips(c) && DomainTransformer.Transform(c.Xml, SimulatedHosts.Topology(BuiltInLayouts.Find(c.Host)!), c.Options).Changed;
        }, iter: 150);
    }

    [Fact]
    public void A_document_parsed_and_written_without_edits_is_its_own_bytes()
    {
        AnyGen.Sample(c => DomainDefinition.Parse(c.Xml).ToXml() == c.Xml, iter: 200);
    }
}
