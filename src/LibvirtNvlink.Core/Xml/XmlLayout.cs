using System.Xml.Linq;

namespace LibvirtNvlink.Xml;

/// <summary>
/// Inserts and removes elements while keeping the document's indentation, so that an added device looks like
/// its neighbours and removing it again restores the original bytes.
/// </summary>
public static class XmlLayout
{
    private const string DefaultUnit = "  ";

    /// <summary>Inserts <paramref name="added"/> right after <paramref name="anchor"/>, indented like it.</summary>
    public static void InsertAfter(XElement anchor, XElement added)
    {
        var indent = IndentOf(anchor);
        Format(added, indent, UnitNear(anchor));
        anchor.AddAfterSelf(new XText("\n" + indent), added);
    }

    /// <summary>Inserts <paramref name="added"/> right before <paramref name="anchor"/>, indented like it.</summary>
    public static void InsertBefore(XElement anchor, XElement added)
    {
        var indent = IndentOf(anchor);
        Format(added, indent, UnitNear(anchor));
        // The new element goes before the anchor's own leading whitespace, after a copy of its last line: the
        // original text stays untouched next to the anchor, and Remove (which takes the last line of the whitespace
        // before an element) removes exactly the copy.
        if (anchor.PreviousNode is XText ws and not XCData && string.IsNullOrWhiteSpace(ws.Value) && LastLine(ws.Value) is { } line)
        {
            ws.AddBeforeSelf(new XText(line), added);
        }
        else
        {
            anchor.AddBeforeSelf(added);
        }
    }

    /// <summary>Appends <paramref name="added"/> as the last element child of <paramref name="parent"/>.</summary>
    public static void AppendChild(XElement parent, XElement added)
    {
        if (parent.Elements().LastOrDefault() is { } last)
        {
            InsertAfter(last, added);
            return;
        }
        var parentIndent = IndentOf(parent);
        var unit = UnitNear(parent);
        Format(added, parentIndent + unit, unit);
        var before = new XText("\n" + parentIndent + unit);
        if (parent.IsEmpty)
        {
            // <x/> becomes <x>, the child on its own line, </x> on the parent's: Remove turns exactly this back into <x/>.
            parent.Add(before, added, new XText(ClosingLine(parent)));
        }
        else if (parent.LastNode is XText trailing and not XCData && string.IsNullOrWhiteSpace(trailing.Value) && trailing.Value != ClosingLine(parent))
        {
            trailing.AddBeforeSelf(before, added);
        }
        else
        {
            // <x></x>, or content that ends in exactly the line an expanded <x/> would end in: append after it, so
            // that Remove can tell the two apart and give back <x></x> or the content as it was.
            parent.Add(before, added);
        }
    }

    /// <summary>
    /// Removes an element and the indentation text that precedes it. A parent that <see cref="AppendChild"/> expanded
    /// from &lt;x/&gt; goes back to &lt;x/&gt;; every other parent keeps the text it had, so --undo is byte-exact.
    /// </summary>
    public static void Remove(XElement element)
    {
        // Already removed: a record that names one addition twice (found by HookFuzzTests) must not crash undo.
        if (element.Parent is null) return;
        // Every insertion puts one line break and indentation before the element; after a reparse that text may have
        // merged with the whitespace that was there before, so only its last line goes.
        if (element.PreviousNode is XText ws and not XCData && string.IsNullOrWhiteSpace(ws.Value) && LastLine(ws.Value) is { } line)
        {
            if (line.Length == ws.Value.Length) ws.Remove();
            else ws.Value = ws.Value[..^line.Length];
        }
        var parent = element.Parent;
        var next = element.NextNode;
        element.Remove();
        if (parent is null) return;
        if (next is XText closing and not XCData && closing.NextNode is null && closing.PreviousNode is null && closing.Value == ClosingLine(parent))
        {
            parent.RemoveNodes();
        }
        else if (parent.FirstNode is null)
        {
            // It was <x></x>: keep the element open rather than letting it collapse to <x/>.
            parent.Value = string.Empty;
        }
    }

    /// <summary>From the last line break of a whitespace text to its end, or null when it has none.</summary>
    private static string? LastLine(string whitespace)
    {
        var nl = whitespace.LastIndexOf('\n');
        return nl < 0 ? null : whitespace[nl..];
    }

    /// <summary>The text before a parent's end tag when its children sit one level deeper: newline and its indent.</summary>
    private static string ClosingLine(XElement parent) => "\n" + IndentOf(parent);

    /// <summary>The whitespace that precedes an element on its line.</summary>
    public static string IndentOf(XElement element)
    {
        if (element.PreviousNode is XText t && t is not XCData)
        {
            var v = t.Value;
            var nl = v.LastIndexOf('\n');
            if (nl >= 0 && string.IsNullOrWhiteSpace(v[(nl + 1)..])) return v[(nl + 1)..];
        }
        var depth = element.Ancestors().Count();
        return string.Concat(Enumerable.Repeat(DefaultUnit, depth));
    }

    private static string UnitNear(XElement element)
    {
        var child = element.Elements().FirstOrDefault();
        if (child is not null)
        {
            var inner = IndentOf(child);
            var outer = IndentOf(element);
            if (inner.Length > outer.Length && inner.StartsWith(outer, StringComparison.Ordinal)) return inner[outer.Length..];
        }
        if (element.Parent is { } p)
        {
            var outer = IndentOf(p);
            var inner = IndentOf(element);
            if (inner.Length > outer.Length && inner.StartsWith(outer, StringComparison.Ordinal)) return inner[outer.Length..];
        }
        return DefaultUnit;
    }

    /// <summary>Indents a freshly built element (which has no whitespace nodes yet) for a given depth.</summary>
    private static void Format(XElement element, string indent, string unit)
    {
        var children = element.Elements().ToList();
        if (children.Count == 0) return;
        foreach (var c in children)
        {
            c.AddBeforeSelf(new XText("\n" + indent + unit));
            Format(c, indent + unit, unit);
        }
        element.Add(new XText("\n" + indent));
    }
}
