using System.Text.Json;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Cli.Rendering;

/// <summary>The documented --json shape of `topology`: numbers as JSON integers, addresses as dddd:bb:ss.f.</summary>
public static class TopologyJson
{
    public static void Write(HostTopology t, Stream output)
    {
        using var w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteBoolean("deviceTree", t.HasDeviceTree);
        w.WriteStartArray("gpus");
        foreach (var g in t.Gpus)
        {
            w.WriteStartObject();
            w.WriteString("address", g.Address.ToString());
            w.WriteString("vendor", g.Vendor.ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("device", g.Device.ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            WriteStringOrNull(w, "driver", g.Driver);
            WriteIntOrNull(w, "iommuGroup", g.IommuGroup);
            WriteIntOrNull(w, "numaNode", g.NumaNode);
            w.WriteBoolean("nvlink2", g.IsNvlink2);
            w.WriteStartArray("bridges");
            foreach (var b in g.Bridges) w.WriteStringValue(b.ToString());
            w.WriteEndArray();
            if (g.Memory is { } m)
            {
                w.WriteStartObject("memory");
                w.WriteNumber("address", m.Address);
                w.WriteNumber("size", m.Size);
                WriteIntOrNull(w, "numaNode", m.NumaNode);
                w.WriteBoolean("onlineOnHost", m.OnlineOnHost);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("memory");
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("bridges");
        foreach (var b in t.Bridges)
        {
            w.WriteStartObject();
            w.WriteString("address", b.Address.ToString());
            WriteStringOrNull(w, "gpu", b.Gpu?.ToString());
            WriteIntOrNull(w, "linkIndex", b.LinkIndex);
            if (b.LinkSpeed is { } s) w.WriteNumber("linkSpeed", s); else w.WriteNull("linkSpeed");
            if (b.Tgt is { } tgt) w.WriteNumber("tgt", tgt); else w.WriteNull("tgt");
            if (b.Atsd is { } atsd) w.WriteNumber("atsd", atsd); else w.WriteNull("atsd");
            WriteIntOrNull(w, "iommuGroup", b.IommuGroup);
            WriteStringOrNull(w, "driver", b.Driver);
            WriteStringOrNull(w, "locationCode", b.LocationCode);
            w.WriteBoolean("libvirtDetectsNv2", b.LibvirtSeesNv2Bridge);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("graceGpus");
        foreach (var g in t.GraceGpus)
        {
            w.WriteStartObject();
            w.WriteString("address", g.Address.ToString());
            w.WriteString("device", g.Device.ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("model", g.Model);
            WriteStringOrNull(w, "driver", g.Driver);
            WriteIntOrNull(w, "iommuGroup", g.IommuGroup);
            WriteIntOrNull(w, "numaNode", g.NumaNode);
            WriteStringOrNull(w, "smmu", g.Smmu);
            w.WriteStartArray("giNodes");
            foreach (var n in g.GiNodes) w.WriteNumberValue(n);
            w.WriteEndArray();
            w.WriteStartArray("bars");
            foreach (var b in g.Bars)
            {
                w.WriteStartObject();
                w.WriteNumber("index", b.Index);
                w.WriteNumber("size", b.Size);
                w.WriteBoolean("is64Bit", b.Is64Bit);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("smmus");
        foreach (var (smmu, gpus) in t.GraceSmmuGroups)
        {
            w.WriteStartObject();
            w.WriteString("name", smmu);
            w.WriteStartArray("gpus");
            foreach (var g in gpus) w.WriteStringValue(g.Address.ToString());
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("numaNodes");
        foreach (var n in t.NumaNodes)
        {
            w.WriteStartObject();
            w.WriteNumber("id", n.Id);
            w.WriteBoolean("hasCpus", n.HasCpus);
            w.WriteBoolean("hasMemory", n.HasMemory);
            w.WriteStartObject("distances");
            foreach (var (to, d) in n.Distances.OrderBy(kv => kv.Key)) w.WriteNumber(to.ToString(System.Globalization.CultureInfo.InvariantCulture), d);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteFindings(w, t.Findings);
        w.WriteEndObject();
    }

    public static void WriteFindings(Utf8JsonWriter w, IEnumerable<Finding> findings)
    {
        w.WriteStartArray("findings");
        foreach (var f in findings)
        {
            w.WriteStartObject();
            w.WriteString("severity", Finding.SeverityName(f.Severity));
            w.WriteString("code", f.Code);
            w.WriteString("device", f.Device);
            w.WriteString("message", f.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }

    private static void WriteIntOrNull(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v) w.WriteNumber(name, v); else w.WriteNull(name);
    }
}
