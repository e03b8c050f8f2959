using System.Text;
using System.Text.Json;
using LibvirtNvlink.HostAccess.Interop;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.HostAccess;

/// <summary>
/// Binds managed='no' devices to vfio-pci the way the kernel documents it (driver_override, unbind, drivers_probe)
/// and gives them back at release from an undo record written before any change. Idempotent both ways.
/// An undo record is trusted only when root wrote it (see <see cref="TrustedFiles"/>) and every field is what the hook
/// writes: PCI addresses, driver names from <see cref="KnownDrivers"/>. Nothing else reaches sysfs.
/// </summary>
public sealed class DriverBinder(HostRoot root, string stateDirectory, string lockDirectory)
{
    /// <summary>A record is a few hundred bytes per device.</summary>
    public const int MaxRecordBytes = 256 * 1024;

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string RecordPath(string domain) => RecordPathFor(stateDirectory, domain);

    /// <summary>Where the undo record of a domain lives; the hook's triage checks it before doing anything at release.</summary>
    public static string RecordPathFor(string stateDirectory, string domain) =>
        Path.Combine(stateDirectory, Uri.EscapeDataString(domain) + ".json");

    public void BindToVfio(string domain, IReadOnlyList<PciAddress> devices, Func<PciAddress, string?> currentDriver) =>
        Bind(domain, devices, currentDriver, KnownDrivers.VfioPci);

    /// <summary>Binds through driver_override (vfio-pci, or a VFIO variant driver such as nvgrace_gpu_vfio_pci).</summary>
    /// <exception cref="UndoRecordException">A device on a driver, or with an override, the hook does not know; nothing of it changed.</exception>
    public void Bind(string domain, IReadOnlyList<PciAddress> devices, Func<PciAddress, string?> currentDriver, string targetDriver)
    {
        var record = Load(domain) ?? new HookUndoRecord(domain, []);
        foreach (var d in devices)
        {
            var driver = currentDriver(d);
            if (driver == targetDriver) continue;
            var dev = $"/sys/bus/pci/devices/{d}";
            if (record.Changes.All(c => c.Device != d))
            {
                var previous = root.ReadText($"{dev}/driver_override") is { } o && o != "(null)" && o.Length > 0 ? o : null;
                var change = new DriverChange(d, driver, previous);
                if (new HookUndoRecord(domain, [change]).Problem(domain) is { } problem)
                {
                    throw new UndoRecordException(RecordPath(domain),
                        $"cannot bind {d} for domain '{domain}': {problem}; the hook could not give it back. Bind it yourself (driverctl set-override {d} {targetDriver}) or clear its override");
                }
                record.Changes.Add(change);
            }
            Save(record);
            WriteSysfs($"{dev}/driver_override", targetDriver);
            if (driver is not null) WriteSysfs($"{dev}/driver/unbind", d.ToString());
            WriteSysfs("/sys/bus/pci/drivers_probe", d.ToString());
        }
    }

    /// <summary>
    /// Gives back every device of the domain's record, holding the IOMMU-group lock of each group while its devices
    /// change drivers (a prepare of another domain on the same group waits), and restores driver_override.
    /// </summary>
    /// <returns>The devices given back; empty when there was nothing to undo (no record, or a second release).</returns>
    /// <exception cref="UndoRecordException">The record is not one the hook wrote; nothing was changed.</exception>
    public IReadOnlyList<PciAddress> Restore(string domain)
    {
        var record = Load(domain);
        if (record is null) return [];
        foreach (var group in record.Changes.GroupBy(c => GroupLock.KeyOf(PciSysfsReader.IommuGroup(root, c.Device), c.Device)).OrderBy(g => g.Key.Group ?? -1))
        {
            using var groupLock = GroupLock.Acquire(lockDirectory, group.Key.Group, group.First().Device);
            foreach (var c in group)
            {
                var dev = $"/sys/bus/pci/devices/{c.Device}";
                if (root.Exists($"{dev}/driver")) WriteSysfs($"{dev}/driver/unbind", c.Device.ToString());
                WriteSysfs($"{dev}/driver_override", c.PreviousOverride ?? "\n");
                if (c.OriginalDriver is not null || c.PreviousOverride is not null) WriteSysfs("/sys/bus/pci/drivers_probe", c.Device.ToString());
            }
        }
        File.Delete(RecordPath(domain));
        return [.. record.Changes.Select(c => c.Device)];
    }

    private HookUndoRecord? Load(string domain)
    {
        var path = RecordPath(domain);
        TrustedFiles.EnsureDirectory(stateDirectory, Private);
        if (TrustedFiles.ReadIfExists(path, MaxRecordBytes) is not { } bytes) return null;
        HookUndoRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(bytes, HookStateJsonContext.Default.HookUndoRecord);
        }
        catch (JsonException e)
        {
            throw new UndoRecordException(path, $"{path} is not an undo record the hook wrote ({e.Message}); nothing was changed. " +
                                                $"Check which devices domain '{domain}' still holds, give them back by hand, then remove the file");
        }
        var problem = record is null ? "it is empty" : record.Problem(domain);
        if (problem is not null)
        {
            throw new UndoRecordException(path, $"{path} is not an undo record the hook wrote: {problem}; nothing was changed. " +
                                                $"Check which devices domain '{domain}' still holds, give them back by hand, then remove the file");
        }
        return record!;
    }

    private void Save(HookUndoRecord record)
    {
        TrustedFiles.EnsureDirectory(stateDirectory, Private);
        AtomicFile.WriteAllText(RecordPath(record.Domain), JsonSerializer.Serialize(record, HookStateJsonContext.Default.HookUndoRecord),
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private void WriteSysfs(string hostPath, string value)
    {
        // Like `echo value > attribute`: one write(2) after an O_TRUNC open, which sysfs accepts and ignores.
        var path = root.Map(hostPath);
        using var fd = LibcInterop.OpenFile(path, OpenFlags.WriteOnly | OpenFlags.Truncate | OpenFlags.NoFollow | OpenFlags.NonBlocking);
        LibcInterop.WriteAll(fd, Encoding.ASCII.GetBytes(value), path);
    }
}
