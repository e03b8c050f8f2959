using System.Globalization;

namespace LibvirtNvlink.Domain;

/// <summary>libvirt's nodeset text ("2-4,7"), parsed and formatted in one place.</summary>
public static class Nodeset
{
    /// <summary>"2-4,7" → [2, 3, 4, 7]; libvirt's nodeset syntax without negation.</summary>
    public static IReadOnlyList<int> Parse(string text)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0 && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var one)) list.Add(one);
            else if (dash > 0 && int.TryParse(part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var a) &&
                     int.TryParse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b >= a)
            {
                list.AddRange(Enumerable.Range(a, b - a + 1));
            }
        }
        return list;
    }

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
