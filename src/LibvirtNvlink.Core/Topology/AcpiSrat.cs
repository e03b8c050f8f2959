using System.Buffers.Binary;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Topology;

/// <summary>One Generic Initiator Affinity entry of the SRAT whose device handle is a PCI device.</summary>
public sealed record SratGenericInitiator(PciAddress Device, int ProximityDomain);

/// <summary>
/// What the firmware's SRAT (/sys/firmware/acpi/tables/SRAT, readable by root) states per device: the proximity
/// domains of each PCI device's generic initiators, and the NUMA node Linux gives each proximity domain. The GPU
/// memory nodes of a Grace GPU are the generic initiators naming it (NVIDIA's own driver finds them the same way,
/// before falling back to the nvidia,gpu-mem-pxm-start/-count _DSD properties, which Linux exposes nowhere in sysfs).
/// </summary>
/// <remarks>
/// Linux numbers nodes in the order it first meets a proximity domain (acpi_map_pxm_to_node takes the lowest free
/// id): one pass in table order over the enabled CPU (local APIC, x2APIC, GICC) and generic-initiator entries, then the
/// enabled memory entries (drivers/acpi/numa/srat.c, acpi_numa_init). <see cref="NodeOf"/> replays that; the caller
/// checks the result against the nodes sysfs shows before trusting it. A table with generic-port entries, whose
/// numbering changed between kernels, is not replayed (<see cref="NodesKnown"/> false).
/// </remarks>
public sealed class AcpiSrat
{
    private const int HeaderSize = 48;
    private const byte TypeCpu = 0, TypeMemory = 1, TypeX2Apic = 2, TypeGicc = 3, TypeGenericInitiator = 5, TypeGenericPort = 6;
    private const byte DeviceHandlePci = 1;

    private readonly Dictionary<int, int> _nodeOfPxm;

    private AcpiSrat(IReadOnlyList<SratGenericInitiator> initiators, Dictionary<int, int> nodeOfPxm, IReadOnlyList<int> cpuPxms, bool nodesKnown)
    {
        GenericInitiators = initiators;
        _nodeOfPxm = nodeOfPxm;
        CpuProximityDomains = cpuPxms;
        NodesKnown = nodesKnown;
    }

    /// <summary>The enabled generic initiators with a PCI device handle, in table order.</summary>
    public IReadOnlyList<SratGenericInitiator> GenericInitiators { get; }

    /// <summary>Proximity domains of the enabled CPU entries, each once.</summary>
    public IReadOnlyList<int> CpuProximityDomains { get; }

    public bool NodesKnown { get; }

    public int? NodeOf(int proximityDomain) => NodesKnown && _nodeOfPxm.TryGetValue(proximityDomain, out var n) ? n : null;

    /// <summary>The proximity domains of <paramref name="device"/>'s generic initiators, in table order.</summary>
    public IReadOnlyList<int> ProximityDomainsOf(PciAddress device) =>
        [.. GenericInitiators.Where(g => g.Device == device).Select(g => g.ProximityDomain)];

    /// <exception cref="FormatException">Not an SRAT, or a subtable runs past the table.</exception>
    public static AcpiSrat Parse(ReadOnlySpan<byte> table)
    {
        if (table.Length < HeaderSize || !table[..4].SequenceEqual("SRAT"u8))
        {
            throw new FormatException($"not an SRAT ({table.Length} bytes, signature '{System.Text.Encoding.ASCII.GetString(table[..Math.Min(4, table.Length)])}')");
        }
        var length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(table[4..]), (uint)table.Length);
        var revision = table[8];
        var initiators = new List<SratGenericInitiator>();
        var nodeOfPxm = new Dictionary<int, int>();
        var cpuPxms = new List<int>();
        var memoryPxms = new List<int>();
        var nodesKnown = true;
        void Map(int pxm)
        {
            if (!nodeOfPxm.ContainsKey(pxm)) nodeOfPxm[pxm] = nodeOfPxm.Count;
        }
        for (var at = HeaderSize; at + 2 <= length;)
        {
            var type = table[at];
            var size = table[at + 1];
            if (size < 2 || at + size > length) throw new FormatException($"SRAT subtable of type {type} at offset {at} has length {size}, past the table's {length} bytes");
            var e = table.Slice(at, size);
            switch (type)
            {
                case TypeCpu when size >= 16 && (Flags(e, 4) & 1) != 0:
                    // Proximity domain bits 7:0 at offset 2; bits 31:8 at 9-11 from SRAT revision 2 on.
                    var pxm = e[2] | (revision >= 2 ? (e[9] << 8) | (e[10] << 16) | (e[11] << 24) : 0);
                    Cpu(pxm);
                    break;
                case TypeX2Apic when size >= 24 && (Flags(e, 12) & 1) != 0:
                    Cpu((int)BinaryPrimitives.ReadUInt32LittleEndian(e[4..]));
                    break;
                case TypeGicc when size >= 18 && (Flags(e, 10) & 1) != 0:
                    Cpu((int)BinaryPrimitives.ReadUInt32LittleEndian(e[2..]));
                    break;
                case TypeGenericInitiator when size >= 32 && (Flags(e, 24) & 1) != 0:
                    var gi = (int)BinaryPrimitives.ReadUInt32LittleEndian(e[4..]);
                    Map(gi);
                    if (e[3] == DeviceHandlePci)
                    {
                        // ACPI 6.5 table 5.66: segment (2 bytes), then the bus in byte 2 and device/function in byte 3.
                        var handle = e.Slice(8, 16);
                        var segment = BinaryPrimitives.ReadUInt16LittleEndian(handle);
                        initiators.Add(new SratGenericInitiator(new PciAddress(segment, handle[2], handle[3] >> 3, handle[3] & 7), gi));
                    }
                    break;
                case TypeMemory when size >= 40 && (Flags(e, 28) & 1) != 0:
                    memoryPxms.Add((int)BinaryPrimitives.ReadUInt32LittleEndian(e[2..]));
                    break;
                case TypeGenericPort:
                    nodesKnown = false;
                    break;
            }
            at += size;
        }
        foreach (var pxm in memoryPxms) Map(pxm);
        return new AcpiSrat(initiators, nodeOfPxm, cpuPxms, nodesKnown);

        void Cpu(int pxm)
        {
            Map(pxm);
            if (!cpuPxms.Contains(pxm)) cpuPxms.Add(pxm);
        }
    }

    private static uint Flags(ReadOnlySpan<byte> entry, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(entry[offset..]);
}
