using LibvirtNvlink.Pci;

namespace LibvirtNvlink.HookProtocol;

/// <summary>
/// The hook's first decision, made without an XML parser or the configuration: does this invocation need a closer
/// look at all? libvirtd runs the hook for every event of every domain, and nearly all of them are none of ours.
/// Errs on the side of looking — a PCI address the scan cannot read counts as "maybe ours".
/// </summary>
public static class HookTriage
{
    public enum Verdict
    {
        /// <summary>None of our business: exit 0 now.</summary>
        Done,

        /// <summary>Parse the domain, load the configuration and look closer.</summary>
        Examine,
    }

    /// <param name="isOfInterest">For a host PCI address: is it an NVLink2 GPU or bridge or a Grace GPU here?</param>
    /// <param name="hasUndoRecord">For a domain: did an earlier prepare leave host changes to undo?</param>
    public static Verdict Decide(HookInvocation hook, string xml, Func<PciAddress, bool> isOfInterest, Func<string, bool> hasUndoRecord)
    {
        if (hook.Is("release", "end")) return hasUndoRecord(hook.Domain) ? Verdict.Examine : Verdict.Done;
        if (!(hook.Is("prepare", "begin") || hook.Is("started", "begin") || hook.Is("reconnect", "begin"))) return Verdict.Done;
        if (!xml.Contains("hostdev", StringComparison.Ordinal)) return Verdict.Done;
        var addresses = PciAddresses(xml, out var unreadable);
        foreach (var address in addresses)
        {
            if (isOfInterest(address)) return Verdict.Examine;
        }
        return 0 < unreadable ? Verdict.Examine : Verdict.Done;
    }

    /// <summary>
    /// Every &lt;address …/&gt; element with PCI attributes (domain, bus, slot, function), in any attribute order and
    /// quoting. Guest addresses come along too; checking them against the host costs a file read, nothing more.
    /// </summary>
    public static IReadOnlyList<PciAddress> PciAddresses(string xml, out int unreadable)
    {
        var list = new List<PciAddress>();
        unreadable = 0;
        var at = 0;
        while ((at = xml.IndexOf("<address", at, StringComparison.Ordinal)) >= 0)
        {
            var end = xml.IndexOf('>', at);
            if (end < 0) { unreadable++; break; }
            var tag = xml.AsSpan(at + 8, end - at - 8);
            at = end;
            if (tag.Length > 0 && !char.IsWhiteSpace(tag[0]) && tag[0] != '/') continue;
            int? d = Attribute(tag, "domain"), b = Attribute(tag, "bus"), s = Attribute(tag, "slot"), f = Attribute(tag, "function");
            if (b is null && s is null) continue;
            if (b is null || s is null || (d ?? 0) > PciAddress.MaxDomain || b > PciAddress.MaxBus || s > PciAddress.MaxSlot || (f ?? 0) > PciAddress.MaxFunction)
            {
                unreadable++;
                continue;
            }
            list.Add(new PciAddress(d ?? 0, b.Value, s.Value, f ?? 0));
        }
        return list;
    }

    private static int? Attribute(ReadOnlySpan<char> tag, string name)
    {
        var i = 0;
        while ((i = tag[i..].IndexOf(name, StringComparison.Ordinal) is var k and >= 0 ? i + k : -1) >= 0)
        {
            var before = i == 0 ? ' ' : tag[i - 1];
            var rest = tag[(i + name.Length)..].TrimStart();
            i += name.Length;
            if (!char.IsWhiteSpace(before) || rest.Length < 2 || rest[0] != '=') continue;
            rest = rest[1..].TrimStart();
            // "bus= " ending the tag has no value; indexing past it threw, and the hook refused the domain as an internal error.
            if (rest.IsEmpty) return null;
            var quote = rest[0];
            if (quote is not ('\'' or '"')) return null;
            var close = rest[1..].IndexOf(quote);
            if (close < 0) return null;
            return PciAddress.TryParseXmlNumber(rest.Slice(1, close).ToString(), out var v) ? v : null;
        }
        return null;
    }
}
