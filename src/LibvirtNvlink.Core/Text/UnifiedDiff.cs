using System.Globalization;
using System.Text;

namespace LibvirtNvlink.Text;

/// <summary>A unified diff of two texts by lines (LCS), for `transform --diff`.</summary>
public static class UnifiedDiff
{
    public static string Create(string before, string after, string fromName, string toName, int context = 3)
    {
        var a = SplitLines(before);
        var b = SplitLines(after);
        var ops = Diff(a, b);
        if (ops.All(o => o.Kind == ' ')) return "";
        var sb = new StringBuilder();
        sb.Append("--- ").Append(fromName).Append('\n');
        sb.Append("+++ ").Append(toName).Append('\n');
        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == ' ') { i++; continue; }
            var start = Math.Max(0, i - context);
            var end = i;
            // Extend the hunk while changes are within 2*context lines of each other.
            while (true)
            {
                var next = end;
                while (next < ops.Count && ops[next].Kind != ' ') next++;
                var gapEnd = next;
                while (gapEnd < ops.Count && ops[gapEnd].Kind == ' ' && gapEnd - next < 2 * context + 1) gapEnd++;
                if (gapEnd < ops.Count && ops[gapEnd].Kind != ' ' && gapEnd - next <= 2 * context) { end = gapEnd; continue; }
                end = Math.Min(ops.Count, next + context);
                break;
            }
            var aStart = ops[start].A;
            var bStart = ops[start].B;
            var aLen = ops.Skip(start).Take(end - start).Count(o => o.Kind != '+');
            var bLen = ops.Skip(start).Take(end - start).Count(o => o.Kind != '-');
            sb.Append(CultureInfo.InvariantCulture, $"@@ -{aStart + 1},{aLen} +{bStart + 1},{bLen} @@\n");
            for (var k = start; k < end; k++) sb.Append(ops[k].Kind).Append(ops[k].Line).Append('\n');
            i = end;
        }
        return sb.ToString();
    }

    private readonly record struct Op(char Kind, string Line, int A, int B);

    private static List<Op> Diff(string[] a, string[] b)
    {
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }
        var ops = new List<Op>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { ops.Add(new Op(' ', a[x], x, y)); x++; y++; }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y])) { ops.Add(new Op('+', b[y], x, y)); y++; }
            else { ops.Add(new Op('-', a[x], x, y)); x++; }
        }
        return ops;
    }

    private static string[] SplitLines(string s)
    {
        var lines = s.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        return s.EndsWith('\n') ? lines[..^1] : lines;
    }
}
