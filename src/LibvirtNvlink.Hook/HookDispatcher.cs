using System.Globalization;
using LibvirtNvlink.Config;
using LibvirtNvlink.Domain;
using LibvirtNvlink.HookProtocol;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.HostAccess.Vfio;
using LibvirtNvlink.Memlock;
using LibvirtNvlink.Pci;
using LibvirtNvlink.Preflight;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Transform;
using LibvirtNvlink.Vfio;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Hook;

/// <summary>
/// Decides what one hook invocation does. It never writes stdout: for migrate and restore an empty answer keeps
/// libvirt's XML, and we never change a guest's ABI.
/// Every path returns an exit code; nothing here calls libvirt, starts a
/// process, or waits on anything but small files.
/// </summary>
public sealed class HookDispatcher(HookEnvironment env, TextWriter stderr)
{
    public const int Ok = 0;
    public const int Refuse = 1;
    public const int Usage = 2;

    private HookConfig _config = HookConfig.Default;
    private HookLog? _log;
    private readonly PciIdMemo _ids = new(env.Host);

    /// <summary>
    /// Set when a watchdog should end the process. Called before the first read of anything stdin or the disk hands
    /// us beyond the triage (with the default configuration), and again once the configuration is loaded; the
    /// deadline counts from the first call.
    /// </summary>
    public Action<TimeSpan, HookInvocation, HookConfig>? ArmWatchdog { get; init; }

    public int Run(IReadOnlyList<string> args, string domainXml)
    {
        if (!HookInvocation.TryParse(args, out var hook, out var usage))
        {
            stderr.WriteLine(usage);
            return Usage;
        }
        // libvirtd runs us for every event of every domain on the host: decide "none of our business" from a scan of
        // the XML and a few sysfs reads, before parsing anything or loading the configuration. Every read here is
        // non-blocking and capped (HostRoot.ReadBytes), and the scan is linear in the input: nothing to watch yet.
        if (Triage(hook, domainXml) == HookTriage.Verdict.Done)
        {
            // A domain with no device of ours, or an op we have nothing to do at (start, stopped, migrate, restore,
            // attach and anything newer); for migrate/restore an empty stdout keeps libvirt's XML unchanged.
            return Ok;
        }
        return Guarded(hook, () =>
        {
            if (hook.Is("release", "end"))
            {
                // Release must undo even if the domain XML no longer shows why a change was made.
                LoadConfig(hook);
                return Release(hook);
            }
            if (!AssignsDeviceOfInterest(domainXml, out var domain)) return Ok;
            LoadConfig(hook);
            return hook.Op switch
            {
                "prepare" => Prepare(hook, domain!),
                "started" => Started(hook, domain!),
                _ => Reconnect(hook, domain!),
            };
        });
    }

    /// <summary>
    /// The first decision, on this host and state directory. libvirt-nvlink-hook-front (the hook JIT installs lay
    /// down) makes the same one without a managed runtime; tests/data/hook-triage-cases.xml holds the cases both
    /// are checked against.
    /// </summary>
    public HookTriage.Verdict Triage(HookInvocation hook, string domainXml) =>
        HookTriage.Decide(hook, domainXml, IsOfInterest, d => File.Exists(DriverBinder.RecordPathFor(env.StateDirectory, d)));

    private bool IsOfInterest(PciAddress address)
    {
        try
        {
            return _ids.Read(address) is { } ids && PciIds.IsOfInterest(ids.Vendor, ids.Device);
        }
        catch (IOException)
        {
            // Cannot tell from here: look closer rather than miss a GPU.
            return true;
        }
    }

    /// <summary>True when a PCI hostdev's source is an NVLink2 GPU or bridge or a Grace GPU, by its sysfs IDs only.</summary>
    private bool AssignsDeviceOfInterest(string xml, out DomainDefinition? domain)
    {
        domain = null;
        try
        {
            domain = DomainDefinition.Parse(xml, "the domain XML on stdin");
            return domain.PciHostdevs().Any(h => IsOfInterest(h.Source));
        }
        catch (DomainXmlException)
        {
            // Not ours to judge: libvirt produced it, and a hook that cannot read it must not block the guest.
            return false;
        }
    }

    private int Guarded(HookInvocation hook, Func<int> action)
    {
        try
        {
            // Parsing a huge domain, a configuration or record on a hung filesystem, a group lock held elsewhere:
            // all of it runs under the watchdog.
            ArmWatchdog?.Invoke(HookConfig.Default.Timeout, hook, HookConfig.Default);
            return action();
        }
        catch (HookConfigException e)
        {
            Log(hook, e.Message, error: true);
            if (!hook.Is("prepare", "begin")) return Ok;
            stderr.WriteLine($"libvirt-nvlink: {e.Message}");
            return Refuse;
        }
#pragma warning disable CA1031 // Any failure must end in an exit code we chose: a crash at reconnect would kill a guest.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log(hook, $"internal error ({e.GetType().Name}): {e.Message}", error: true);
            if (hook.Is("prepare", "begin") && _config.Policy == IncompletePolicy.Refuse)
            {
                stderr.WriteLine($"libvirt-nvlink could not check domain '{hook.Domain}' before it starts: {e.Message}. " +
                                 "Fix the cause, or set <policy incomplete='warn'/> in /etc/libvirt-nvlink/config.xml to let it start unchecked.");
                return Refuse;
            }
            return Ok;
        }
    }

    private void LoadConfig(HookInvocation hook)
    {
        _config = HookConfigLoader.Load(env.ConfigPath, env.StateDirectory);
        _log = new HookLog(_config.LogTarget == LogTarget.Syslog, _config.LogPath);
        ArmWatchdog?.Invoke(_config.Timeout, hook, _config);
    }

    private void Log(HookInvocation hook, string message, bool error = false) =>
        (_log ?? new HookLog(true, HookConfig.DefaultLogPath)).Write(hook.Domain, $"{hook.Op} {hook.SubOp}", message, error);

    private int Prepare(HookInvocation hook, DomainDefinition domain)
    {
        var topology = HostDiscovery.Discover(env.Host, PciIds.IsOfInterest, _ids);
        if (Nv2Preflight.Nv2Hostdevs(domain, topology).Count == 0 && GraceAssignment.AssignedGraceGpus(domain, topology).Count == 0)
        {
            Log(hook, "no NVLink2 or Grace device of this host assigned; nothing to check");
            return Ok;
        }
        var bound = BindManagedNo(hook, domain, topology);
        if (bound.Count > 0) topology = HostDiscovery.Discover(env.Host, PciIds.IsOfInterest, _ids);
        var findings = Check(domain, topology, Facts(domain, topology, bound, probeVfio: true));
        foreach (var f in findings.Where(f => f.Severity != Severity.Info))
        {
            Log(hook, $"{Finding.SeverityName(f.Severity)} {f.Code} {f.Device}: {f.Message}", f.Severity == Severity.Error);
        }
        var errors = findings.Where(f => f.Severity == Severity.Error).ToList();
        if (errors.Count == 0)
        {
            Log(hook, $"preflight passed ({findings.Count} note(s))");
            return Ok;
        }
        if (_config.Policy == IncompletePolicy.Warn)
        {
            Log(hook, $"{errors.Count} error(s) found; starting anyway (policy warn)");
            return Ok;
        }
        Log(hook, $"refused: {errors.Count} error(s)", error: true);
        stderr.WriteLine(Nv2Preflight.RefusalParagraph(hook.Domain, errors));
        return Refuse;
    }

    private int Reconnect(HookInvocation hook, DomainDefinition domain)
    {
        // A non-zero exit here makes libvirt kill a running guest: report, never refuse.
        var topology = HostDiscovery.Discover(env.Host, PciIds.IsOfInterest, _ids);
        var findings = Check(domain, topology, Facts(domain, topology, new HashSet<PciAddress>(), probeVfio: false));
        foreach (var f in findings.Where(f => f.Severity == Severity.Error))
        {
            Log(hook, $"running guest has {f.Code} on {f.Device}: {f.Message}", error: true);
        }
        Log(hook, $"reconnected; {findings.Count(f => f.Severity == Severity.Error)} error finding(s) logged");
        return Ok;
    }

    private int Started(HookInvocation hook, DomainDefinition domain)
    {
        var pidFile = Path.Combine(env.LibvirtQemuRunDirectory, hook.Domain + ".pid");
        string? pidText;
        try
        {
            // Written by libvirt (or QEMU, under its own user): any owner, but never a link, a FIFO or more than a pid.
            pidText = TrustedFiles.ReadRegularFileIfExists(pidFile, 64) is { } b ? System.Text.Encoding.ASCII.GetString(b).Trim() : null;
        }
        catch (IOException e)
        {
            Log(hook, $"cannot verify the locked-memory limit: {e.Message}");
            return Ok;
        }
        if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            Log(hook, $"cannot verify the locked-memory limit: no pid in {pidFile}");
            return Ok;
        }
        var actual = PlatformReader.MaxLockedMemory(env.Host, pid);
        var topology = HostDiscovery.Discover(env.Host, PciIds.IsOfInterest, _ids);
        var target = PreflightFactsReader.TargetFromCache(PlatformReader.ReadLibvirtCache(env.LibvirtCapabilityCache, domain.Emulator).LibvirtNumber);
        // The domain's own kind decides the requirement: a Grace guest locks per DMA address space and iommufd-charged
        // BARs, an NVLink2 guest what an NVLink2-aware libvirt computes.
        var (kind, requiredBytes, requirement, consequence) = GraceAssignment.AssignedGraceGpus(domain, topology).Count > 0
            ? GraceRequirement(domain, topology, target.Version)
            : Nv2Requirement(domain, topology, target.Version);
        if (actual is null)
        {
            Log(hook, $"cannot read /proc/{pid}/limits ({kind} {requirement})");
        }
        else if (domain.VirtType == "kvm" && actual.Value < requiredBytes)
        {
            Log(hook, $"QEMU pid {pid} Max locked memory {actual} bytes is below the {kind} {requirement}; {consequence} " +
                      "Set <memtune><hard_limit> (libvirt-nvlink transform --memlock write).", error: true);
        }
        else
        {
            Log(hook, $"QEMU pid {pid} Max locked memory {(actual == ulong.MaxValue ? "unlimited" : actual + " bytes")} ({kind} {requirement}): ok");
        }
        return Ok;
    }

    private static (string Kind, ulong Bytes, string Requirement, string Consequence) Nv2Requirement(DomainDefinition domain, HostTopology topology, Versions.LibvirtVersion target)
    {
        var r = MemlockCalculator.Nv2Requirement(domain, new TopologyPciFacts(topology), target);
        return ("NVLink2", r.Bytes, $"requirement {r.Bytes} bytes, {r.Rule}", "GPU RAM mappings may fail.");
    }

    private static (string Kind, ulong Bytes, string Requirement, string Consequence) GraceRequirement(DomainDefinition domain, HostTopology topology, Versions.LibvirtVersion target)
    {
        var r = GraceMemlock.Compute(domain, topology, target, topology.KernelRelease);
        return ("Grace", r.NeedBytes,
            $"requirement {r.NeedBytes} bytes, {r.Term("ramCopies")} x guest RAM + {r.Term("barCopies")} x {r.Term("graceBarKiB")} KiB of BARs + 1 GiB",
            "DMA mappings of guest RAM or of the GPUs' BARs may fail with ENOMEM.");
    }

    private int Release(HookInvocation hook)
    {
        var binder = new DriverBinder(env.Host, env.StateDirectory, env.LockDirectory);
        try
        {
            var restored = binder.Restore(hook.Domain);
            if (restored.Count > 0) Log(hook, $"gave back {string.Join(", ", restored)} to their original drivers");
        }
        catch (IOException e) when (e is UndoRecordException or UntrustedFileException)
        {
            Log(hook, e.Message, error: true);
        }
        return Ok;
    }

    private static List<Finding> Check(DomainDefinition domain, HostTopology topology, PreflightFacts facts) =>
        [.. Nv2Preflight.Check(domain, topology, facts), .. GracePreflight.Check(domain, topology, facts)];

    private HashSet<PciAddress> BindManagedNo(HookInvocation hook, DomainDefinition domain, HostTopology topology)
    {
        var bound = new HashSet<PciAddress>();
        if (!_config.BindManagedNo) return bound;
        var binder = new DriverBinder(env.Host, env.StateDirectory, env.LockDirectory);
        // Grace GPUs go to the variant driver, from vfio-pci or no driver only: unbinding nvidia while CUDA
        // clients hold the GPU blocks in the kernel, so that one is refused with its fix instead.
        var grace = GraceAssignment.AssignedGraceGpus(domain, topology)
            .Where(a => a.Hostdev.Managed != "yes" && a.Gpu.Driver is null or "vfio-pci").Select(a => a.Gpu).ToList();
        foreach (var gpu in grace)
        {
            using var groupLock = GroupLock.Acquire(env.LockDirectory, gpu.IommuGroup, gpu.Address);
            binder.Bind(hook.Domain, [gpu.Address], _ => gpu.Driver, GraceGpu.VariantDriver);
            bound.Add(gpu.Address);
            Log(hook, $"bound {gpu.Address} to {GraceGpu.VariantDriver} (managed='no', bind-managed-no enabled)");
        }
        var candidates = Nv2Preflight.Nv2Hostdevs(domain, topology)
            .Where(h => h.Managed != "yes" && topology.Devices.TryGetValue(h.Source, out var d) && d.Driver != "vfio-pci")
            .Select(h => h.Source).ToList();
        foreach (var group in candidates.GroupBy(a => GroupLock.KeyOf(topology.IommuGroupOf(a), a)))
        {
            using var groupLock = GroupLock.Acquire(env.LockDirectory, group.Key.Group, group.First());
            binder.BindToVfio(hook.Domain, [.. group], a => topology.Devices[a].Driver);
            bound.UnionWith(group);
            Log(hook, $"bound {string.Join(", ", group)} to vfio-pci (managed='no', bind-managed-no enabled)");
        }
        return bound;
    }

    private PreflightFacts Facts(DomainDefinition domain, HostTopology topology, IReadOnlySet<PciAddress> bound, bool probeVfio)
    {
        var probes = probeVfio ? PreflightFactsReader.ProbeVfio(env.Host, domain, topology) : [];
        return PreflightFactsReader.Read(env.Host, env.LibvirtCapabilityCache, domain, null, probes, bound);
    }
}
