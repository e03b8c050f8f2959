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
        // Repeat the anchor's own leading whitespace after the new element, so that Remove (which takes the
        // whitespace before an element) leaves exactly the original text.
        if (anchor.PreviousNode is XText ws and not XCData && string.IsNullOrWhiteSpace(ws.Value))
        {
            anchor.AddBeforeSelf(added, new XText(ws.Value));
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
        if (parent.IsEmpty || !parent.Nodes().Any())
        {
            parent.Add(new XText("\n" + parentIndent + unit), added, new XText("\n" + parentIndent));
        }
        else
        {
            parent.LastNode!.AddBeforeSelf(new XText("\n" + parentIndent + unit), added);
        }
    }

    /// <summary>Removes an element and the indentation text that precedes it.</summary>
    public static void Remove(XElement element)
    {
        // Already removed: a record that names one addition twice (found by HookFuzzTests) must not crash undo.
        if (element.Parent is null) return;
        if (element.PreviousNode is XText { } ws && string.IsNullOrWhiteSpace(ws.Value) && ws is not XCData)
        {
            ws.Remove();
        }
        var parent = element.Parent;
        element.Remove();
        // An element that held only this child goes back to the empty form it had.
        if (parent is not null && !parent.Elements().Any() && parent.Nodes().All(n => n is XText t && string.IsNullOrWhiteSpace(t.Value)))
        {
            parent.RemoveNodes();
        }
    }

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
