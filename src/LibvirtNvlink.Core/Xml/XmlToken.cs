namespace LibvirtNvlink.Xml;

/// <summary>
/// One lexical piece of the root element: <see cref="Start"/>..<see cref="End"/> in the source text. For a start
/// tag also where its name ends, where its tail ('&gt;', '/&gt;' and the whitespace before it) starts, and its
/// attributes (<see cref="FirstAttribute"/>, <see cref="AttributeCount"/> in <see cref="XmlSourceScan.Attributes"/>).
/// </summary>
internal readonly record struct XmlToken(XmlTokenKind Kind, int Start, int End, int NameEnd = 0, int TailStart = 0,
    bool SelfClosing = false, int FirstAttribute = 0, int AttributeCount = 0);
