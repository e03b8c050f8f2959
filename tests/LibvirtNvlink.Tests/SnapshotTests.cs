using System.Formats.Tar;
using System.Text;
using LibvirtNvlink.Domain;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.HostAccess.Vfio;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Simulation;
using LibvirtNvlink.Snapshot;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Versions;
using LibvirtNvlink.Vfio;
using ZstdSharp;

namespace LibvirtNvlink.Tests;

/// <summary>
/// `libvirt-nvlink snapshot`: a host captured as a host root answers every command exactly as the host did, its
/// manifest catches any change, and it holds only what the readers read.
/// </summary>
public sealed class SnapshotTests : IDisposable
{
    private readonly DirectoryInfo _dir = System.IO.Directory.CreateTempSubdirectory("snapshot-tests-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string NewPath(string name) => Path.Combine(_dir.FullName, name);

    private static string Golden(string file) => Path.Combine(GoldenCase.Directory, file);

    private static CliResult Snapshot(params string[] args)
    {
        var r = CliRunner.Run(null, ["snapshot", .. args]);
        Assert.True(r.ExitCode == 0, $"snapshot {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}");
        return r;
    }

    /// <summary>Unpacks an archive the way `tar --zstd -xf` does (CI has no zstd binary to rely on).</summary>
    private static void Unpack(string archive, string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        using var file = File.OpenRead(archive);
        using var zstd = new DecompressionStream(file);
        TarFile.ExtractToDirectory(zstd, directory, overwriteFiles: false);
    }

    /// <summary>Every command's answer on one host root, with the root's own path written as HOSTROOT.</summary>
    private static List<string> Answers(string host, string root)
    {
        List<string[]> commands = [["topology"], ["topology", "--json"], ["topology", "--dot"]];
        foreach (var (c, i) in GoldenCase.All().Where(c => c.Host == host).Select((c, i) => (c, i)))
        {
            var version = c.Libvirt.ToString();
            string[] qemu = c.Qemu is { } q ? ["--qemu-version", $"{q.Major}.{q.Minor}"] : [];
            commands.Add(["transform", c.InputPath, "--memlock", c.Memlock.ToString().ToLowerInvariant(), "--libvirt-version", version, .. qemu]);
            commands.Add(["explain", c.OutputPath, "--libvirt-version", version, "--json"]);
            // The text form renders the same result as the JSON; once per host shows it does so on a snapshot too.
            if (i == 0) commands.Add(["explain", c.InputPath, "--libvirt-version", version]);
        }
        var answers = new string[commands.Count];
        Parallel.For(0, commands.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            var r = CliRunner.Run(null, [.. commands[i], "--host-root", root]);
            answers[i] = $"$ {string.Join(' ', commands[i])}\nexit {r.ExitCode}\n{r.Stdout}\n--- stderr\n{r.Stderr}";
        });
        var list = answers.ToList();
        list.AddRange(PreflightAnswers(host, root));
        return [.. list.Select(a => a.Replace(root, "HOSTROOT", StringComparison.Ordinal))];
    }

    /// <summary>
    /// What `check` reports (its preflight path: the facts it reads under the host root, then the NVLink2 and Grace
    /// checks), and what the hook's prepare says, which also probes VFIO — for every golden domain of the host.
    /// </summary>
    private static IEnumerable<string> PreflightAnswers(string host, string root)
    {
        var hostRoot = new HostRoot(root);
        var topology = HostDiscovery.Discover(hostRoot);
        foreach (var c in GoldenCase.All().Where(c => c.Host == host))
        {
            foreach (var file in (string[])[c.InputPath, c.OutputPath])
            {
                var d = DomainDefinition.Parse(File.ReadAllText(file));
                var facts = PreflightFactsReader.Read(hostRoot, hostRoot.Map(PlatformReader.LibvirtCapabilityCache), d,
                    new TargetLibvirt(c.Libvirt, TargetLibvirt.FromOption), [], new HashSet<Pci.PciAddress>());
                var findings = Nv2Preflight.Check(d, topology, facts).Concat(GracePreflight.Check(d, topology, facts));
                yield return $"check {Path.GetFileName(file)}\n" + string.Join('\n', findings.Select(f => $"{f.Severity} {f.Code} {f.Device}: {f.Message}"));

                var harness = new HookHarness(root);
                var hook = harness.Run(File.ReadAllText(file), d.Name, "prepare", "begin", "-");
                System.IO.Directory.Delete(harness.Dir, recursive: true);
                var log = string.Join('\n', hook.Log.Split('\n').Select(l => l.IndexOf(": domain '", StringComparison.Ordinal) is var i and >= 0 ? l[(i + 2)..] : l));
                yield return $"hook prepare {Path.GetFileName(file)}\nexit {hook.ExitCode}\n{hook.Stderr}\n--- log\n{log}";
            }
        }
    }

    [Theory]
    [MemberData(nameof(ExampleHosts.All), MemberType = typeof(ExampleHosts))]
    public void Every_command_answers_the_same_on_the_snapshot_and_on_the_snapshot_of_the_snapshot(string host)
    {
        var live = ExampleHosts.PathOf(host);
        var first = NewPath("first");
        Snapshot("--host-root", live, "-o", first);
        var archive = NewPath("second.tar.zst");
        Snapshot("--host-root", first, "-o", archive);
        var second = NewPath("second");
        Unpack(archive, second);

        var expected = Answers(host, live);
        Assert.Equal(expected, Answers(host, first));
        // The snapshot of a snapshot is the same tree, entry for entry and byte for byte, so it answers the same too.
        Assert.Equal(TreeSnapshot.Of(first), TreeSnapshot.Of(second));
        var json = CliRunner.Run(null, "topology", "--json", "--host-root", second);
        Assert.Equal(expected[1], $"$ topology --json\nexit {json.ExitCode}\n{json.Stdout}\n--- stderr\n{json.Stderr}".Replace(second, "HOSTROOT", StringComparison.Ordinal));
    }

    [Fact]
    public void The_snapshot_holds_what_the_readers_read_and_nothing_else()
    {
        var live = ExampleHosts.PathOf("witherspoon-6gpu");
        var dir = NewPath("s");
        Snapshot("--host-root", live, "-o", dir);
        var entries = SnapshotManifest.Parse(File.ReadAllBytes(Path.Combine(dir, SnapshotManifest.FileName)), dir).Entries.ToDictionary(e => e.Path);
        const string gpu = "sys/devices/pci0004:00/0004:00:00.0/0004:01:00.0/0004:02:04.0/0004:04:00.0";
        Assert.Equal(ManifestEntryType.File, entries[gpu + "/vendor"].Type);
        Assert.Equal("../../../devices/pci0004:00/0004:00:00.0/0004:01:00.0/0004:02:04.0/0004:04:00.0", entries["sys/bus/pci/devices/0004:04:00.0"].Target);
        Assert.Equal(ManifestEntryType.Link, entries[gpu + "/of_node"].Type);
        Assert.Contains(entries.Keys, p => p.EndsWith("/ibm,npu", StringComparison.Ordinal));
        Assert.Contains(entries.Keys, p => p.EndsWith("/ibm,mmio-atsd", StringComparison.Ordinal));
        Assert.Contains(entries.Keys, p => p.EndsWith("/ibm,npu-link-index", StringComparison.Ordinal));
        Assert.Contains("proc/sys/kernel/osrelease", entries.Keys);
        // Written by the simulator, read by nobody: the driver_override attributes, the bind files, the root's model.
        Assert.DoesNotContain(entries.Keys, p => p.EndsWith("/driver_override", StringComparison.Ordinal) || p.EndsWith("/bind", StringComparison.Ordinal));
        Assert.DoesNotContain("sys/firmware/devicetree/base/model", entries.Keys);
        Assert.All(entries.Values.Where(e => e.Type == ManifestEntryType.File), e =>
            Assert.Equal(HostTree.Sha256(File.ReadAllBytes(Path.Combine(dir, e.Path))), e.Sha256));
    }

    [Fact]
    public void A_FIFO_where_an_attribute_is_read_is_skipped_with_the_reason_never_waited_on()
    {
        var host = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        var numa = Path.Combine(host, "sys/devices/pci0004:00/0004:00:00.0/0004:01:00.0/0004:02:04.0/0004:04:00.0/numa_node");
        File.Delete(numa);
        Assert.Equal(0, ProcessRunner.Run("mkfifo", [numa]).ExitCode);
        System.IO.Directory.CreateDirectory(Path.Combine(host, "etc"));
        File.WriteAllText(Path.Combine(host, "etc", "shadow"), "root:secret");
        var dir = NewPath("s");
        var r = Snapshot("--host-root", host, "-o", dir);
        Assert.Contains("Skipped /sys/devices/pci0004:00/0004:00:00.0/0004:01:00.0/0004:02:04.0/0004:04:00.0/numa_node: not a regular file", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "etc", "shadow")));
        Assert.False(File.Exists(Path.Combine(dir, "sys/devices/pci0004:00/0004:00:00.0/0004:01:00.0/0004:02:04.0/0004:04:00.0/numa_node")));
        System.IO.Directory.Delete(host, recursive: true);
    }

    [Fact]
    public void An_existing_non_empty_target_is_refused_and_left_alone()
    {
        var live = ExampleHosts.PathOf("witherspoon-6gpu");
        var dir = NewPath("full");
        System.IO.Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "keep"), "x");
        var r = CliRunner.Run(null, "snapshot", "--host-root", live, "-o", dir);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is not empty", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(["keep"], System.IO.Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));

        var archive = NewPath("old.tar.zst");
        File.WriteAllText(archive, "precious");
        Assert.Equal(2, CliRunner.Run(null, "snapshot", "--host-root", live, "-o", archive).ExitCode);
        Assert.Equal("precious", File.ReadAllText(archive));
    }

    [Fact]
    public void Redact_replaces_location_codes_and_UUIDs_with_stable_placeholders()
    {
        var host = SimulatedHosts.Fresh(BuiltInLayouts.Witherspoon6Gpu);
        var cache = Path.Combine(host, "var/cache/libvirt/qemu/capabilities");
        System.IO.Directory.CreateDirectory(cache);
        File.WriteAllText(Path.Combine(cache, "ppc64.xml"),
            "<qemuCaps>\n  <emulator>/usr/bin/qemu-system-ppc64</emulator>\n  <selfvers>9000000</selfvers>\n  <version>7002000</version>\n" +
            "  <machine uuid='3F2504E0-4F89-11D3-9A0C-0305E82C3301'/>\n</qemuCaps>\n");
        var dir = NewPath("redacted");
        var r = Snapshot("--host-root", host, "-o", dir, "--redact");
        Assert.Contains("Redacted:", r.Stderr, StringComparison.Ordinal);

        var manifest = SnapshotManifest.Parse(File.ReadAllBytes(Path.Combine(dir, SnapshotManifest.FileName)), dir);
        Assert.True(manifest.Redacted);
        var locs = manifest.Entries.Where(e => e.Path.EndsWith("/ibm,loc-code", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(locs);
        Assert.All(locs, e => Assert.True(e.Redacted));
        var text = File.ReadAllText(Path.Combine(dir, "var/cache/libvirt/qemu/capabilities/ppc64.xml"));
        Assert.DoesNotContain("3F2504E0", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("00000000-0000-4000-8000-000000000001", text, StringComparison.Ordinal);

        // The wiring reads the same: a GPU and its bridges carry one location code, so they share one placeholder.
        var live = CliRunner.Run(null, "topology", "--json", "--host-root", host);
        var redacted = CliRunner.Run(null, "topology", "--json", "--host-root", dir);
        Assert.Contains("\"locationCode\": \"REDACTED-LOCATION-1\"", redacted.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\"GPU0\"", redacted.Stdout, StringComparison.Ordinal);
        Assert.Equal(Placeholders(live.Stdout), Placeholders(redacted.Stdout));
        Assert.Equal(0, CliRunner.Run(null, "snapshot", "--verify", dir).ExitCode);
        System.IO.Directory.Delete(host, recursive: true);

        static string Placeholders(string json) => System.Text.RegularExpressions.Regex.Replace(json, "\"locationCode\": \"[^\"]*\"", "\"locationCode\": \"…\"");
    }

    [Fact]
    public void Verify_finds_a_tampered_a_missing_and_an_extra_file_in_a_directory()
    {
        var dir = NewPath("s");
        Snapshot("--host-root", ExampleHosts.PathOf("witherspoon-6gpu"), "-o", dir);
        Assert.Equal(0, CliRunner.Run(null, "snapshot", "--verify", dir).ExitCode);

        const string gpu = "sys/devices/pci0004:00/0004:00:00.0/0004:01:00.0/0004:02:04.0/0004:04:00.0";
        File.WriteAllText(Path.Combine(dir, gpu, "numa_node"), "1\n");
        File.Delete(Path.Combine(dir, gpu, "class"));
        File.WriteAllText(Path.Combine(dir, gpu, "extra"), "?");
        var r = CliRunner.Run(null, "snapshot", "--verify", dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal([
            $"{gpu}/class: missing (the manifest lists a file)",
            $"{gpu}/extra: not in the manifest (an extra file)",
        ], r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("numa_node", StringComparison.Ordinal)));
        Assert.Contains($"{gpu}/numa_node: changed (2 bytes", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_finds_a_tampered_a_missing_and_an_extra_file_and_an_escaping_link_in_an_archive()
    {
        var archive = NewPath("s.tar.zst");
        Snapshot("--host-root", ExampleHosts.PathOf("witherspoon-6gpu"), "-o", archive);
        Assert.Equal(0, CliRunner.Run(null, "snapshot", "--verify", archive).ExitCode);

        var (tree, manifestBytes) = SnapshotArchive.Read(archive, []);
        var manifest = SnapshotManifest.Parse(manifestBytes!, archive);
        tree.Set("proc/sys/kernel/osrelease", new HostTreeNode(ManifestEntryType.File, "/proc/sys/kernel/osrelease", Encoding.UTF8.GetBytes("6.6.6\n")));
        var removed = manifest.Entries.First(e => e.Type == ManifestEntryType.File && e.Path.EndsWith("/ibm,npu", StringComparison.Ordinal)).Path;
        var without = new HostTree();
        foreach (var (p, n) in tree.Nodes.Where(kv => kv.Key != removed)) without.Set(p, n);
        without.Set("etc/passwd", new HostTreeNode(ManifestEntryType.File, "/etc/passwd", [1]));
        without.Set("sys/escape", new HostTreeNode(ManifestEntryType.Link, "/sys/escape", Target: "../../etc"));
        var tampered = NewPath("tampered.tar.zst");
        SnapshotArchive.Write(without, manifest, tampered);

        var r = CliRunner.Run(null, "snapshot", "--verify", tampered);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("etc/passwd: not in the manifest (an extra file)", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("proc/sys/kernel/osrelease: changed (6 bytes", r.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{removed}: missing (the manifest lists a file)", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("sys/escape: links to ../../etc, outside the host root", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_of_something_that_is_not_a_snapshot_is_a_usage_error()
    {
        var junk = NewPath("junk.tar.zst");
        File.WriteAllText(junk, "not zstd");
        var r = CliRunner.Run(null, "snapshot", "--verify", junk);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a zstd-compressed tar archive", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run(null, "snapshot", "--verify", _dir.FullName).ExitCode);
        Assert.Equal(2, CliRunner.Run(null, "snapshot").ExitCode);
    }

    [Theory]
    [MemberData(nameof(ExampleHosts.All), MemberType = typeof(ExampleHosts))]
    public void Every_example_host_verifies_against_its_manifest(string host)
    {
        Assert.Empty(SnapshotVerifier.Verify(ExampleHosts.PathOf(host)));
    }

    [Fact]
    public void VFIO_answers_are_recorded_as_the_kernel_gave_them_and_the_hook_judges_the_snapshot_the_same()
    {
        var live = ExampleHosts.PathOf("witherspoon-6gpu");
        // What a 5.0–5.12 kernel answers for group 4, with a GPU tgt that disagrees with the device tree.
        var answers = new VfioGroupProbe(4, true,
        [
            new("0004:04:00.0", 10, [VfioRegionInfo.Parse(VfioTests.RegionAnswer(9, VfioTests.Rwm, 128UL << 30, VfioTests.TypeCap(0x800010de, 1), VfioTests.Tgt(0x42000000000)))]),
            new("0006:00:00.0", 10, [VfioRegionInfo.Parse(VfioTests.RegionAnswer(9, VfioTests.Rwm, 0x10000, VfioTests.TypeCap(0x80001014, 1), VfioTests.Tgt(0x40000000000), VfioTests.Speed(8)))]),
            new("0006:00:00.1", 10, [VfioRegionInfo.Parse(VfioTests.RegionAnswer(9, VfioTests.Rwm, 0x10000, VfioTests.TypeCap(0x80001014, 1), VfioTests.Tgt(0x40000000000), VfioTests.Speed(8)))]),
        ], null);
        var asked = new List<(int, string)>();
        var kernel = new FakeProbe(answers, asked);
        var snapshot = HostSnapshotter.Capture(new HostRoot(live), group => group == 4 ? kernel : null);
        var dir = NewPath("s");
        snapshot.Tree.WriteDirectory(dir, snapshot.Manifest());

        Assert.Equal([(4, "0004:04:00.0,0006:00:00.0,0006:00:00.1")], asked);
        var recorded = new RecordedVfioProbe(new HostRoot(dir)).Probe(4, ["0004:04:00.0", "0006:00:00.0", "0006:00:00.1"]);
        Assert.Equal(answers.Devices.SelectMany(d => d.VendorRegions).Select(r => Convert.ToHexString(r.Answer)),
            recorded.Devices.SelectMany(d => d.VendorRegions).Select(r => Convert.ToHexString(r.Answer)));
        var host = SimulatedHosts.Topology(BuiltInLayouts.Witherspoon6Gpu);
        var expected = VfioNv2Checks.Check("gpu1", answers, host).Select(f => f.ToString()).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, VfioNv2Checks.Check("gpu1", recorded, host).Select(f => f.ToString()));

        // The hook's prepare on the snapshot reads the recording where the live host had /dev/vfio/4.
        var harness = new HookHarness(dir);
        var hook = harness.Run(File.ReadAllText(Golden("gpu1-write-out.xml")), "gpu1", "prepare", "begin", "-");
        System.IO.Directory.Delete(harness.Dir, recursive: true);
        Assert.Equal(1, hook.ExitCode);
        Assert.Contains("vfio-tgt-mismatch 0004:04:00.0", hook.Log, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run(null, "snapshot", "--verify", dir).ExitCode);
    }

    private sealed class FakeProbe(VfioGroupProbe answers, List<(int, string)> asked) : IVfioProbe
    {
        public VfioGroupProbe Probe(int group, IReadOnlyList<string> devices, bool withBarSizes = false)
        {
            asked.Add((group, string.Join(',', devices)));
            return answers;
        }
    }
}
