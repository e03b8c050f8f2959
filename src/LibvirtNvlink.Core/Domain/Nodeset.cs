using System.Globalization;

namespace LibvirtNvlink.Domain;

/// <summary>libvirt's nodeset text ("2-4,7"), parsed and formatted in one place.</summary>
public static class Nodeset
{
    /// <summary>
    /// The largest node number libvirt parses a nodeset into (VIR_DOMAIN_CPUMASK_LEN bits, the bitmap size it passes to
    /// virBitmapParse for numatune and cell sets); beyond it libvirt refuses the set.
    /// </summary>
    public const int MaxNode = 8191;

    /// <summary>
    /// libvirt's nodeset syntax (virBitmapParseSeparator, src/util/virbitmap.c): comma-separated items, each a number
    /// N, a range N-M with N ≤ M, or ^N removing N from what the items before it set; spaces around items and
    /// around '-'. The result is the sorted set.
    /// </summary>
    public static bool TryParse(string? text, out IReadOnlyList<int> nodes, out string error)
    {
        nodes = [];
        error = "";
        if (text is null) { error = "no nodeset"; return false; }
        var set = new SortedSet<int>();
        var pos = 0;
        void SkipSpaces() { while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++; }
        bool Number(out int n)
        {
            n = 0;
            var start = pos;
            while (pos < text.Length && char.IsAsciiDigit(text[pos])) pos++;
            return pos > start && int.TryParse(text.AsSpan(start, pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out n) && n <= MaxNode;
        }
        SkipSpaces();
        if (pos == text.Length) { error = "it is empty"; return false; }
        while (pos < text.Length)
        {
            var exclude = text[pos] == '^';
            if (exclude) pos++;
            if (!Number(out var first)) { error = $"'{text}' has no node number (0-{MaxNode}) at position {pos + 1}"; return false; }
            SkipSpaces();
            if (pos < text.Length && text[pos] == '-')
            {
                if (exclude) { error = $"'{text}' excludes a range; '^' takes one node"; return false; }
                pos++;
                SkipSpaces();
                if (!Number(out var last) || last < first) { error = $"'{text}' has a range that does not end in a node number ≥ {first}"; return false; }
                for (var n = first; n <= last; n++) set.Add(n);
                SkipSpaces();
            }
            else if (exclude) set.Remove(first);
            else set.Add(first);
            if (pos == text.Length) break;
            if (text[pos] != ',') { error = $"'{text}' has '{text[pos]}' where ',' or the end belongs"; return false; }
            pos++;
            SkipSpaces();
            if (pos == text.Length) { error = $"'{text}' ends in ','"; return false; }
        }
        nodes = [.. set];
        return true;
    }

    /// <summary>A nodeset this program wrote (records, host node lists); <see cref="FormatException"/> when it is not one.</summary>
    public static IReadOnlyList<int> Parse(string text) =>
        TryParse(text, out var nodes, out var error) ? nodes : throw new FormatException($"nodeset {error}");

    /// <summary>[1, 2, 3, 5] → "1-3,5".</summary>
    public static string Format(IEnumerable<int> nodes)
    {
        var sorted = nodes.Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(i == j ? sorted[i].ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{sorted[i]}-{sorted[j]}"));
            i = j + 1;
        }
        return string.Join(",", parts);
    }
}
