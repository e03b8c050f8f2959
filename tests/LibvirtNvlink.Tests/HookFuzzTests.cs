using System.Diagnostics;
using System.Globalization;
using System.Text;
using LibvirtNvlink.Hook;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Tests;

/// <summary>
/// A bounded fuzz run over mutations of the golden inputs and outputs (issue #13): every case goes through the
/// transformer and through the hook at a lifecycle event, and neither may do anything but succeed or refuse the way
/// it documents — no other exception, no exit code but 0 (and 1 at prepare). Bounded by count and by time, seeded
/// (LIBVIRT_NVLINK_FUZZ_SEED, _CASES, _SECONDS override); it reports how many cases it ran in its output and, under
/// scripts/test.sh, in the suite's closing lines.
/// </summary>
public sealed class HookFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Tokens =
    [
        "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0004' bus='0x04' slot='0x00' function='0x0'/></source></hostdev>",
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0006' bus='0x00' slot='0x00' function='0x1'/></source></hostdev>",
        "<address type='pci' domain='0x0000' bus='0x01' slot='0x02' function='0x0'/>",
        "bus= >", "domain='0xffffffff'", "slot='0x20'", "function='8'", "bus='-1'", "bus='0x'", "bus=\"0x04\"",
        "<!DOCTYPE domain [<!ENTITY e 'x'>]>", "&e;", "&amp;", "&#0;", "\u0000", "\uFFFE", "]]>", "<![CDATA[<hostdev/>]]>",
        "<controller type='pci' index='1' model='pci-root'><model name='spapr-pci-host-bridge'/><target index='1'/></controller>",
        "<memtune><hard_limit unit='KiB'>99999999999999999999</hard_limit></memtune>", "<locked/>", "unit='EiB'",
        "<lvn:nvlink xmlns:lvn='http://libvirt-nvlink.org/xmlns/domain/1.0'><lvn:bridge address='0006:00:00.0' gpu='../../x'/></lvn:nvlink>",
        "<name>../../x</name>", "<uuid>not-a-uuid</uuid>", "<emulator>/dev/zero</emulator>", "<type arch='x86_64' machine='q35'>hvm</type>",
        "'", "\"", "<", ">", "/>", "</devices>", "<devices>",
    ];

    private static readonly string[] Events = ["prepare begin", "reconnect begin", "started begin", "release end", "start begin", "migrate begin"];

    private readonly List<string> _cleanup = [];

    public void Dispose()
    {
        foreach (var d in _cleanup.Where(Directory.Exists)) Directory.Delete(d, recursive: true);
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : fallback;

    private static string Mutate(string text, Random random)
    {
        var s = new StringBuilder(text);
        var rounds = random.Next(1, 4);
        for (var i = 0; i < rounds && s.Length > 0; i++)
        {
            var at = random.Next(s.Length);
            // Most insertions land between elements, where they stay well-formed and reach the code behind the parser.
            // (The last '>' of the text has nothing after it: stay on it, so every mutation has a character at 'at'.)
            if (random.Next(4) != 0 && s.ToString().IndexOf('>', at) is var close and >= 0) at = Math.Min(close + 1, s.Length - 1);
            var length = Math.Min(s.Length - at, random.Next(1, 64));
            switch (random.Next(6))
            {
                case 0: s[at] = (char)random.Next(0x20, 0x7f); break;
                case 1: s.Remove(at, length); break;
                case 2: s.Insert(at, s.ToString(at, length)); break;
                case 3: s.Insert(at, Tokens[random.Next(Tokens.Length)]); break;
                case 4: s.Insert(at, string.Concat(Enumerable.Repeat("<a>", random.Next(1, 300)))); break;
                default:
                    var other = random.Next(s.Length);
                    var otherLength = Math.Min(s.Length - other, length);
                    var piece = s.ToString(other, otherLength);
                    s.Remove(at, length).Insert(at, piece);
                    break;
            }
        }
        return s.ToString();
    }

    [Fact]
    public void Mutated_golden_domains_are_transformed_or_refused_and_the_hook_always_ends_in_its_own_exit_code()
    {
        var seed = Setting("LIBVIRT_NVLINK_FUZZ_SEED", 13);
        var maxCases = Setting("LIBVIRT_NVLINK_FUZZ_CASES", 10000);
        var budget = TimeSpan.FromSeconds(Setting("LIBVIRT_NVLINK_FUZZ_SECONDS", 90));
        var random = new Random(seed);
        var cases = GoldenCase.All().SelectMany(c => new[] { (Case: c, Text: c.Input), (Case: c, Text: File.ReadAllText(c.OutputPath)) }).ToList();
        var harnesses = new Dictionary<string, HookHarness>();
        var failures = new List<string>();
        var (transformed, refused, hookRuns, hookRefusals) = (0, 0, 0, 0);
        var clock = Stopwatch.StartNew();
        var ran = 0;
        for (; ran < maxCases && clock.Elapsed < budget && failures.Count < 5; ran++)
        {
            var (golden, text) = cases[random.Next(cases.Count)];
            var xml = Mutate(text, random);
            try
            {
                var result = golden.Run(xml);
                transformed++;
                if (result.Changed) DomainTransformer.Undo(result.Xml);
            }
            catch (Exception e) when (e is DomainXmlException or TransformException)
            {
                refused++;
            }
#pragma warning disable CA1031 // Any other exception is the finding this test exists for.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures.Add(Save(ran, "transform", xml, e.ToString()));
            }

            if (!harnesses.TryGetValue(golden.Host, out var h))
            {
                h = new HookHarness(SimulatedHosts.PathOf(golden.Layout));
                harnesses[golden.Host] = h;
                _cleanup.Add(h.Dir);
            }
            var ev = Events[random.Next(Events.Length)].Split(' ');
            try
            {
                var code = new HookDispatcher(h.Environment, TextWriter.Null).Run(["fuzz", ev[0], ev[1], "-"], xml);
                hookRuns++;
                if (code == HookDispatcher.Refuse) hookRefusals++;
                if (code != HookDispatcher.Ok && !(code == HookDispatcher.Refuse && ev[0] == "prepare"))
                {
                    failures.Add(Save(ran, $"hook {ev[0]} {ev[1]} exited {code}", xml, ""));
                }
            }
#pragma warning disable CA1031
            catch (Exception e)
#pragma warning restore CA1031
            {
                failures.Add(Save(ran, $"hook {ev[0]} {ev[1]}", xml, e.ToString()));
            }
        }
        var summary = $"fuzz: {ran} cases in {clock.Elapsed.TotalSeconds:0.0} s (seed {seed}, at most {maxCases} cases / {budget.TotalSeconds:0} s): " +
                      $"transform {transformed} done, {refused} refused; hook {hookRuns} runs, {hookRefusals} refusals at prepare; {failures.Count} failure(s)";
        output.WriteLine(summary);
        // The test platform shows a passing test's output nowhere, so scripts/test.sh names a file for the figure and
        // prints it with the totals.
        if (Environment.GetEnvironmentVariable("LIBVIRT_NVLINK_FUZZ_REPORT") is { Length: > 0 } report) File.AppendAllText(report, summary + "\n");
        Assert.True(failures.Count == 0, summary + "\n" + string.Join("\n", failures));
        Assert.True(ran >= Math.Min(maxCases, 200), $"only {ran} cases ran within {budget}: too few to mean anything. {summary}");
    }

    /// <summary>Keeps a failing input for reproduction and says where.</summary>
    private static string Save(int index, string what, string xml, string error)
    {
        var path = Path.Combine(Path.GetTempPath(), $"libvirt-nvlink-fuzz-{Environment.ProcessId}-{index}.xml");
        File.WriteAllText(path, xml);
        return $"case {index}, {what}: input kept in {path}\n{error}";
    }
}
