namespace LibvirtNvlink.Xml;

/// <summary>An attribute of a start tag: leading whitespace from <see cref="Start"/>, name, quoted value to <see cref="End"/>.</summary>
internal readonly record struct XmlAttributeToken(int Start, int NameStart, int NameEnd, int End, char Quote);
