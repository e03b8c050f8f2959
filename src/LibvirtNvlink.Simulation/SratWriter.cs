using System.Buffers.Binary;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Simulation;

/// <summary>
/// The SRAT a Grace host's firmware would publish for a layout (ACPI 6.5 §5.2.16): one GICC affinity and one memory
/// affinity entry per CPU node, then for every GPU one generic-initiator entry per GPU memory node naming the GPU's PCI
/// address (bus in byte 2 of the handle, device/function in byte 3), proximity domains from <see cref="GraceLayout.GiProximityBase"/>.
/// </summary>
public static class SratWriter
{
    public static byte[] Write(GraceLayout grace)
    {
        var entries = new List<byte[]>();
        for (var node = 0; node < grace.CpuNodes; node++)
        {
            var gicc = new byte[18];
            gicc[0] = 3;
            gicc[1] = 18;
            BinaryPrimitives.WriteUInt32LittleEndian(gicc.AsSpan(2), (uint)node);
            BinaryPrimitives.WriteUInt32LittleEndian(gicc.AsSpan(6), (uint)node);
            BinaryPrimitives.WriteUInt32LittleEndian(gicc.AsSpan(10), 1);
            entries.Add(gicc);
            var memory = new byte[40];
            memory[0] = 1;
            memory[1] = 40;
            BinaryPrimitives.WriteUInt32LittleEndian(memory.AsSpan(2), (uint)node);
            BinaryPrimitives.WriteUInt64LittleEndian(memory.AsSpan(8), (ulong)node << 40);
            BinaryPrimitives.WriteUInt64LittleEndian(memory.AsSpan(16), 128UL << 30);
            BinaryPrimitives.WriteUInt32LittleEndian(memory.AsSpan(28), 1);
            entries.Add(memory);
        }
        var pxm = grace.GiProximityBase ?? grace.CpuNodes;
        foreach (var gpu in grace.Gpus)
        {
            var a = PciAddress.Parse(gpu.Address);
            for (var i = 0; i < grace.GiNodesPerGpu; i++, pxm++)
            {
                var gi = new byte[32];
                gi[0] = 5;
                gi[1] = 32;
                gi[3] = 1;
                BinaryPrimitives.WriteUInt32LittleEndian(gi.AsSpan(4), (uint)pxm);
                BinaryPrimitives.WriteUInt16LittleEndian(gi.AsSpan(8), (ushort)a.Domain);
                gi[10] = (byte)a.Bus;
                gi[11] = (byte)((a.Slot << 3) | a.Function);
                BinaryPrimitives.WriteUInt32LittleEndian(gi.AsSpan(24), 1);
                entries.Add(gi);
            }
        }
        var table = new byte[48 + entries.Sum(e => e.Length)];
        "SRAT"u8.CopyTo(table);
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(4), (uint)table.Length);
        table[8] = 3;
        "NVIDIA"u8.CopyTo(table.AsSpan(10));
        "SIMULATD"u8.CopyTo(table.AsSpan(16));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(36), 1);
        var at = 48;
        foreach (var e in entries)
        {
            e.CopyTo(table, at);
            at += e.Length;
        }
        table[9] = (byte)(256 - table.Aggregate(0, (sum, b) => (sum + b) & 0xff));
        return table;
    }
}
