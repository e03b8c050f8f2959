namespace LibvirtNvlink.Xml;

/// <summary>
/// Where an attribute was written: from the whitespace before its name (<see cref="Start"/>) to after its closing
/// quote (<see cref="End"/>), with the value as parsed, so a writer can tell an untouched attribute from an edited one.
/// </summary>
internal sealed class AttributeSource(int start, int nameStart, int nameEnd, int end, int index, char quote, string value)
{
    public int Start { get; } = start;

    public int NameStart { get; } = nameStart;

    public int NameEnd { get; } = nameEnd;

    public int End { get; } = end;

    /// <summary>Position among the element's attributes as parsed.</summary>
    public int Index { get; } = index;

    public char Quote { get; } = quote;

    public string Value { get; } = value;
}
