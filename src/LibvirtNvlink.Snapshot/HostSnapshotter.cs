using System.Globalization;
using System.Text.Json;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.HostAccess.Vfio;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Vfio;

namespace LibvirtNvlink.Snapshot;

/// <summary>
/// Captures a host: runs the readers `topology`, `explain`, `transform`, `check` and the hook's preflight run —
/// full and scoped discovery, the kernel release, the processes that hold GPUs, libvirt's capability cache —
/// through a <see cref="HostRoot"/> that records every path they touch, and copies exactly those. The VFIO groups
/// the hook can probe (every member already on a VFIO driver) are probed once and their answers recorded.
/// </summary>
public static class HostSnapshotter
{
    /// <param name="vfio">Default: the hook's choice (<see cref="HostVfioProbes"/>); tests give recorded answers.</param>
    public static HostSnapshot Capture(HostRoot host, VfioProbeChooser? vfio = null, bool redact = false)
    {
        var recorder = new HostAccessRecorder();
        var root = new HostRoot(host.Root, recorder);
        var full = HostDiscovery.Discover(root);
        _ = HostDiscovery.Discover(root, PciIds.IsOfInterest);
        var release = PlatformReader.KernelRelease(root);
        _ = PlatformReader.ProcessesHoldingGpus(root);
        // The preflight's iommufd facts: /dev/iommu, each Grace GPU's VFIO cdev, the kernel's configuration.
        _ = PreflightFactsReader.ReadIommufd(root, release, full.GraceGpus.Select(g => g.Address));
        var skipped = new List<SkippedPath>();
        foreach (var file in PlatformReader.LibvirtCacheEntries(root.Map(PlatformReader.LibvirtCapabilityCache)))
        {
            try { _ = root.ReadBytesAt(file, PlatformReader.LibvirtCacheMaxBytes); }
            catch (IOException e) { skipped.Add(new SkippedPath(root.HostPathOf(file) ?? file, e.Message)); }
        }

        // Chosen through the recording root, so /dev/vfio/N (and a snapshot's own recordings) count as read.
        var recordings = RecordVfio(full, vfio ?? new HostVfioProbes(root).For);

        var closure = new HostClosure(host);
        foreach (var (path, kind) in recorder.Accesses) closure.Add(path, kind);
        skipped.AddRange(closure.Skipped);
        skipped.AddRange(closure.Summaries());
        foreach (var (path, node) in recordings)
        {
            closure.Tree.AddDirectory(HostTree.Parent(path));
            closure.Tree.Set(path, node);
        }
        var snapshot = new HostSnapshot(closure.Tree, skipped, redact);
        if (redact) SnapshotRedactor.Redact(closure.Tree);
        return snapshot;
    }

    private static List<(string Path, HostTreeNode Node)> RecordVfio(Topology.HostTopology topology, VfioProbeChooser vfio)
    {
        var recordings = new List<(string, HostTreeNode)>();
        var ours = topology.Gpus.Where(g => g.IsNvlink2).Select(g => g.Address)
            .Concat(topology.Bridges.Select(b => b.Address))
            .Concat(topology.GraceGpus.Select(g => g.Address))
            .ToHashSet();
        foreach (var group in ours.Select(topology.IommuGroupOf).OfType<int>().Distinct().Order())
        {
            if (!VfioProbeScope.IsOnVfio(topology, group) || vfio(group) is not { } prober) continue;
            var devices = topology.IommuGroupMembers(group).Where(ours.Contains).Select(a => a.ToString()).ToList();
            var probe = prober.Probe(group, devices, VfioProbeScope.WantsBarSizes(topology, group));
            var json = JsonSerializer.SerializeToUtf8Bytes(VfioRecording.Of(probe), VfioRecordingJsonContext.Default.VfioRecording);
            recordings.Add((RecordedVfioProbe.PathOf(group)[1..], new HostTreeNode(ManifestEntryType.File,
                string.Create(CultureInfo.InvariantCulture, $"VFIO_GROUP_GET_STATUS and VFIO_DEVICE_GET_REGION_INFO on /dev/vfio/{group}"), json)));
        }
        return recordings;
    }
}
