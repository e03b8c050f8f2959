namespace LibvirtNvlink.Xml;

/// <summary>The lexical pieces of an XML document's root element, as <see cref="XmlSourceScanner"/> finds them.</summary>
internal enum XmlTokenKind
{
    StartTag,
    EndTag,
    Text,
    CData,
    Comment,
    ProcessingInstruction,
}
