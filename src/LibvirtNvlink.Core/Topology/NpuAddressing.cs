namespace LibvirtNvlink.Topology;

public static class NpuAddressing
{
    /// <summary>
    /// skiboot's "Coral mode" compression of a GPU RAM host address into the tgt the GPU uses for DMA routing
    /// (hw/npu2.c, npu2_dn_fixup_gmb): bit 42 stays, bits 45–46 move to 43–44, bits 49–50 move to 45–46,
    /// bits 0–42 stay.
    /// </summary>
    public static ulong TgtFromHostAddress(ulong address)
    {
        var tgt = ((address >> 42) & 0x1UL) << 42;
        tgt |= ((address >> 45) & 0x3UL) << 43;
        tgt |= ((address >> 49) & 0x3UL) << 45;
        tgt |= address & ((1UL << 43) - 1);
        return tgt;
    }
}
