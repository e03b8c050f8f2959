using System.Globalization;
using System.Xml.Linq;
using LibvirtNvlink.Domain;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Transform;

/// <summary>
/// Writes and takes back &lt;memtune&gt;&lt;hard_limit&gt;, for the NVLink2 and the Grace transform alike: never lowering
/// a larger value the user set, never next to &lt;locked/&gt; (which already means unlimited), each write recorded
/// (created, added or replaced with the previous value and unit) so undo restores the input exactly.
/// </summary>
internal static class MemtuneEdit
{
    private const string CapNote = "Note: <hard_limit> is also the guest's cgroup memory limit; the value covers guest RAM and QEMU's overhead.";

    /// <summary>Writes <paramref name="needKiB"/> as the hard_limit where that is right; true when the XML changed.</summary>
    /// <param name="what">What the value is, named in the messages ("ppc64-nvlink2, 2 PHB(s)").</param>
    public static bool Write(DomainDefinition d, Func<TransformRecord> record, ulong needKiB, string what, List<string> messages)
    {
        if (d.MemoryLocked)
        {
            messages.Add("memlock: <memoryBacking><locked/> already makes the limit unlimited; a <hard_limit> would lower it, so none is written.");
            return false;
        }
        if (needKiB == 0)
        {
            messages.Add($"memlock: libvirt sets no limit for this domain ({what}); nothing to write.");
            return false;
        }
        var memtune = d.Root.Element("memtune");
        var hard = memtune?.Element("hard_limit");
        if (d.HardLimitKiB is { } current && current >= needKiB)
        {
            messages.Add($"memlock: the existing <hard_limit> ({current} KiB) already covers the {needKiB} KiB needed; kept.");
            return false;
        }
        var value = needKiB.ToString(CultureInfo.InvariantCulture);
        if (hard is not null)
        {
            var previous = hard.Value;
            var previousUnit = (string?)hard.Attribute("unit");
            hard.Value = value;
            hard.SetAttributeValue("unit", "KiB");
            record().Memtune("replaced", needKiB, previous, previousUnit);
        }
        else if (memtune is not null)
        {
            var element = new XElement("hard_limit", new XAttribute("unit", "KiB"), value);
            if (memtune.Elements().FirstOrDefault() is { } first) XmlLayout.InsertBefore(first, element);
            else XmlLayout.AppendChild(memtune, element);
            record().Memtune("added", needKiB, null, null);
        }
        else
        {
            memtune = new XElement("memtune", new XElement("hard_limit", new XAttribute("unit", "KiB"), value));
            var anchor = d.Root.Elements().LastOrDefault(e => e.Name.LocalName is "memory" or "currentMemory" or "blkiotune" or "maxMemory");
            if (anchor is null) XmlLayout.AppendChild(d.Root, memtune);
            else XmlLayout.InsertAfter(anchor, memtune);
            record().Memtune("created", needKiB, null, null);
        }
        messages.Add($"memlock: wrote <hard_limit unit='KiB'>{value}</hard_limit> ({what}). {CapNote}");
        return true;
    }

    /// <summary>Undoes the first recorded write: removes what was created or added, puts back a replaced value and unit.</summary>
    public static void Restore(DomainDefinition d, TransformRecord record, List<string> messages)
    {
        if (record.Element.Elements(TransformRecord.Ns + "memtune").FirstOrDefault() is not { } entry) return;
        var memtune = d.Root.Element("memtune");
        var hard = memtune?.Element("hard_limit");
        switch ((string?)entry.Attribute("action"))
        {
            case "created" when memtune is not null:
                XmlLayout.Remove(memtune);
                messages.Add("removed <memtune>");
                break;
            case "added" when hard is not null:
                XmlLayout.Remove(hard);
                messages.Add("removed <hard_limit>");
                break;
            case "replaced" when hard is not null:
                hard.Value = (string?)entry.Attribute("previous") ?? "";
                var unit = (string?)entry.Attribute("previous-unit");
                hard.SetAttributeValue("unit", unit);
                messages.Add($"restored <hard_limit> {hard.Value}{(unit is null ? "" : " " + unit)}");
                break;
        }
    }
}
