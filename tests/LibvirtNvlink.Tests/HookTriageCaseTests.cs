using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Hook;
using LibvirtNvlink.HookProtocol;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Tests;

/// <summary>
/// One table (tests/data/hook-triage-cases.xml), two implementations of the hook's first decision: the .NET hook's
/// triage and libvirt-nvlink-hook-front, the C program JIT installs run in its place. Both must answer every case as
/// the table says; the front must hand an "examine" case to the .NET hook with the same arguments and stdin bytes.
/// </summary>
public sealed class HookTriageCaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lvn-triage-case-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(HookTriageCase.Names), MemberType = typeof(HookTriageCase))]
    public void The_dotnet_hooks_triage_decides_as_the_table_says(string name)
    {
        var c = HookTriageCase.Named(name);
        var (hostRoot, state) = c.Lay(_dir);
        var env = HookEnvironment.FromVariables(v => v switch
        {
            "LIBVIRT_NVLINK_HOST_ROOT" => hostRoot,
            "LIBVIRT_NVLINK_STATE_DIR" => state,
            _ => null,
        });
        // As Program.cs hands it over: the bytes decoded as UTF-8; arguments the hook cannot parse are its to report.
        var xml = Encoding.UTF8.GetString(c.Stdin);
        var examine = !HookInvocation.TryParse(c.Args, out var hook, out _) ||
                      new HookDispatcher(env, TextWriter.Null).Triage(hook, xml) == HookTriage.Verdict.Examine;
        Assert.True(c.Examine == examine, $"{name}: expected {(c.Examine ? "examine" : "done")}");
    }

    /// <summary>
    /// The triage is a second reader of PCI addresses beside <see cref="DomainDefinition.PciHostdevs"/>; the same table
    /// drives both. Wherever the domain parser finds a hostdev of a device of ours, the triage of that document at
    /// prepare (the event that refuses) must say "examine": it may look closer than needed, never less.
    /// </summary>
    [Theory]
    [MemberData(nameof(HookTriageCase.Names), MemberType = typeof(HookTriageCase))]
    public void Wherever_the_domain_parser_finds_a_device_of_ours_the_triage_examines(string name)
    {
        var c = HookTriageCase.Named(name);
        var (hostRoot, state) = c.Lay(_dir);
        var root = new HostRoot(hostRoot);
        DomainDefinition domain;
        List<PciAddress> ours;
        try
        {
            domain = DomainDefinition.Parse(Encoding.UTF8.GetString(c.Stdin));
            ours = [.. domain.PciHostdevs().Where(h => IsOfInterest(root, h.Source)).Select(h => h.Source)];
        }
        catch (Xml.DomainXmlException)
        {
            // The parser refuses the document or an address in it (the hook then lets libvirt judge its own XML):
            // no device of ours to compare.
            return;
        }
        var env = HookEnvironment.FromVariables(v => v switch
        {
            "LIBVIRT_NVLINK_HOST_ROOT" => hostRoot,
            "LIBVIRT_NVLINK_STATE_DIR" => state,
            _ => null,
        });
        Assert.True(HookInvocation.TryParse([domain.Name.Length > 0 ? domain.Name : "d", "prepare", "begin", "-"], out var prepare, out _));
        var verdict = new HookDispatcher(env, TextWriter.Null).Triage(prepare, Encoding.UTF8.GetString(c.Stdin));
        Assert.True(ours.Count == 0 || verdict == HookTriage.Verdict.Examine,
            $"{name}: the parser finds {string.Join(", ", ours)} of ours, the triage says done");
    }

    private static bool IsOfInterest(HostRoot root, PciAddress address)
    {
        try
        {
            return Hex(root.ReadText($"/sys/bus/pci/devices/{address}/vendor")) is { } vendor &&
                   Hex(root.ReadText($"/sys/bus/pci/devices/{address}/device")) is { } device &&
                   PciIds.IsOfInterest(vendor, device);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int? Hex(string? text) =>
        text is not null && text.StartsWith("0x", StringComparison.Ordinal) &&
        int.TryParse(text.AsSpan(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;

    [Theory]
    [MemberData(nameof(HookTriageCase.Names), MemberType = typeof(HookTriageCase))]
    public void The_front_decides_as_the_table_says_and_hands_examined_cases_over_unchanged(string name)
    {
        var c = HookTriageCase.Named(name);
        var (hostRoot, state) = c.Lay(_dir);
        var record = Path.Combine(_dir, "handed-over");
        Directory.CreateDirectory(record);
        var dotnetHook = Path.Combine(_dir, "dotnet-hook");
        File.WriteAllText(dotnetHook, "#!/bin/sh\ncat > \"$LVN_RECORD/stdin\"\nprintf '%s\\n' \"$@\" > \"$LVN_RECORD/args\"\nexit 7\n");
        File.SetUnixFileMode(dotnetHook, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var (exitCode, stderr) = Run(HookFront.Path, c.Args, c.Stdin, new Dictionary<string, string>
        {
            ["LIBVIRT_NVLINK_HOST_ROOT"] = hostRoot,
            ["LIBVIRT_NVLINK_STATE_DIR"] = state,
            ["LIBVIRT_NVLINK_HOOK_BINARY"] = dotnetHook,
            ["LVN_RECORD"] = record,
        });

        var handedOver = File.Exists(Path.Combine(record, "args"));
        Assert.True(c.Examine == handedOver, $"{name}: expected {(c.Examine ? "examine (hand over)" : "done")}; stderr: {stderr}");
        Assert.Equal("", stderr);
        if (handedOver)
        {
            Assert.Equal(7, exitCode);
            Assert.Equal(string.Join('\n', c.Args) + "\n", File.ReadAllText(Path.Combine(record, "args")));
            Assert.Equal(c.Stdin, File.ReadAllBytes(Path.Combine(record, "stdin")));
        }
        else
        {
            Assert.Equal(0, exitCode);
        }
    }

    [Fact]
    public void The_front_refuses_a_start_it_cannot_hand_over_and_never_fails_a_reconnect()
    {
        var c = HookTriageCase.Named("prepare-begin-gpu");
        var (hostRoot, state) = c.Lay(_dir);
        var env = new Dictionary<string, string>
        {
            ["LIBVIRT_NVLINK_HOST_ROOT"] = hostRoot,
            ["LIBVIRT_NVLINK_STATE_DIR"] = state,
            ["LIBVIRT_NVLINK_HOOK_BINARY"] = Path.Combine(_dir, "no-such-hook"),
        };
        var prepare = Run(HookFront.Path, c.Args, c.Stdin, env);
        Assert.Equal(1, prepare.ExitCode);
        Assert.Contains("no-such-hook", prepare.Stderr, StringComparison.Ordinal);
        Assert.Contains("refusing to start the domain unchecked", prepare.Stderr, StringComparison.Ordinal);
        var reconnect = Run(HookFront.Path, ["d", "reconnect", "begin", "-"], c.Stdin, env);
        Assert.Equal(0, reconnect.ExitCode);
    }

    [Fact]
    public void The_fronts_device_ids_are_PciIds()
    {
        var header = File.ReadAllText(Path.Combine(CliRunner.RepoRoot, "src", "LibvirtNvlink.HookFront", "pci-ids.h"));
        int[] List(string name) => [.. Regex.Match(header, name + @"\[\] = \{([^}]*)\}").Groups[1].Value
            .Split(',', StringSplitOptions.TrimEntries).Select(h => Convert.ToInt32(h, 16))];
        int Define(string name) => Convert.ToInt32(Regex.Match(header, "#define " + name + " (0x[0-9a-f]+)").Groups[1].Value, 16);

        Assert.Equal(PciIds.VendorNvidia, Define("LVN_VENDOR_NVIDIA"));
        Assert.Equal(PciIds.VendorIbm, Define("LVN_VENDOR_IBM"));
        Assert.Equal([PciIds.DeviceV100Sxm2, .. PciIds.GraceGpuDevices], List("lvn_nvidia_devices"));
        Assert.Equal([PciIds.DeviceNpu2Bridge], List("lvn_ibm_devices"));
        // And every one of them is in the table, so both implementations are run on each.
        var table = File.ReadAllText(HookTriageCase.TablePath);
        foreach (var id in List("lvn_nvidia_devices").Concat(List("lvn_ibm_devices")))
        {
            Assert.Contains($"\"0x{id:x4}\"", table, StringComparison.Ordinal);
        }
    }

    private static (int ExitCode, string Stderr) Run(string file, IEnumerable<string> args, byte[] stdin, IDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish in 30 s");
        }
        Assert.Equal("", stdout.GetAwaiter().GetResult());
        return (p.ExitCode, stderr.GetAwaiter().GetResult());
    }
}
