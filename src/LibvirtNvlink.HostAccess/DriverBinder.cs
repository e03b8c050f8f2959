using System.Text.Json;
using System.Text.Json.Serialization;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.HostAccess;

/// <summary>A driver change the hook made, so release can give the device back.</summary>
public sealed record DriverChange(string Device, string? OriginalDriver);

public sealed record HookUndoRecord(string Domain, List<DriverChange> Changes);

[JsonSerializable(typeof(HookUndoRecord))]
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
public sealed partial class HookStateJsonContext : JsonSerializerContext;

/// <summary>
/// Binds managed='no' devices to vfio-pci the way the kernel documents it (driver_override, unbind, drivers_probe)
/// and gives them back at release from an undo record written before any change. Idempotent both ways.
/// </summary>
public sealed class DriverBinder(HostRoot root, string stateDirectory)
{
    public string RecordPath(string domain) => RecordPathFor(stateDirectory, domain);

    /// <summary>Where the undo record of a domain lives; the hook's triage checks it before doing anything at release.</summary>
    public static string RecordPathFor(string stateDirectory, string domain) =>
        Path.Combine(stateDirectory, Uri.EscapeDataString(domain) + ".json");

    public void BindToVfio(string domain, IReadOnlyList<PciAddress> devices, Func<PciAddress, string?> currentDriver) =>
        Bind(domain, devices, currentDriver, "vfio-pci");

    /// <summary>Binds through driver_override (vfio-pci, or a VFIO variant driver such as nvgrace_gpu_vfio_pci).</summary>
    public void Bind(string domain, IReadOnlyList<PciAddress> devices, Func<PciAddress, string?> currentDriver, string targetDriver)
    {
        var record = Load(domain) ?? new HookUndoRecord(domain, []);
        foreach (var d in devices)
        {
            var driver = currentDriver(d);
            if (driver == targetDriver) continue;
            if (record.Changes.All(c => c.Device != d.ToString())) record.Changes.Add(new DriverChange(d.ToString(), driver));
            Save(record);
            var dev = $"/sys/bus/pci/devices/{d}";
            WriteSysfs($"{dev}/driver_override", targetDriver);
            if (driver is not null) WriteSysfs($"{dev}/driver/unbind", d.ToString());
            WriteSysfs("/sys/bus/pci/drivers_probe", d.ToString());
        }
    }

    /// <returns>The devices given back; empty when there was nothing to undo (no record, or a second release).</returns>
    public IReadOnlyList<string> Restore(string domain)
    {
        var record = Load(domain);
        if (record is null) return [];
        foreach (var c in record.Changes)
        {
            var dev = $"/sys/bus/pci/devices/{c.Device}";
            if (root.Exists($"{dev}/driver")) WriteSysfs($"{dev}/driver/unbind", c.Device);
            WriteSysfs($"{dev}/driver_override", "\n");
            if (c.OriginalDriver is not null) WriteSysfs("/sys/bus/pci/drivers_probe", c.Device);
        }
        File.Delete(RecordPath(domain));
        return [.. record.Changes.Select(c => c.Device)];
    }

    private HookUndoRecord? Load(string domain)
    {
        var path = RecordPath(domain);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize(File.ReadAllText(path), HookStateJsonContext.Default.HookUndoRecord); }
        catch (JsonException) { return null; }
    }

    private void Save(HookUndoRecord record)
    {
        Directory.CreateDirectory(stateDirectory);
        AtomicFile.WriteAllText(RecordPath(record.Domain), JsonSerializer.Serialize(record, HookStateJsonContext.Default.HookUndoRecord));
    }

    private void WriteSysfs(string hostPath, string value)
    {
        // Like `echo value > attribute`: one write(2) after an O_TRUNC open, which sysfs accepts and ignores.
        using var fs = new FileStream(root.Map(hostPath), FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite);
        var bytes = System.Text.Encoding.ASCII.GetBytes(value);
        fs.Write(bytes);
    }
}
