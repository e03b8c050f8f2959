using System.Xml.Linq;

namespace LibvirtNvlink.Xml;

/// <summary>
/// The text a document was parsed from, kept as an annotation on the XDocument so that <see cref="SourceXmlWriter"/>
/// can copy every unedited byte from it. Before the first edit the tree is annotated with where each node was
/// written (<see cref="XmlSourceScanner"/>, <see cref="SourceAnnotator"/>); a document never edited is its text.
/// <see cref="RootStart"/>..<see cref="RootEnd"/> is the root element; what lies before and after (XML declaration,
/// comments, processing instructions, whitespace) is copied as it was.
/// </summary>
internal sealed class SourceDocument(string text, XDocument document)
{
    public string Text { get; } = text;

    /// <summary>Whether the tree was annotated, which happens right before its first change.</summary>
    public bool Edited { get; private set; }

    public int RootStart { get; private set; }

    public int RootEnd { get; private set; }

    /// <summary>The quote character of the document's first attribute (libvirt's ' when it has none): added attributes use it.</summary>
    public char Quote { get; private set; } = '\'';

    /// <summary>The root's line ending ("\n" or "\r\n"): added whitespace uses it.</summary>
    public string NewLine { get; private set; } = "\n";

    /// <exception cref="DomainXmlException">The text could not be mapped to the tree (a bug: nothing is written).</exception>
    public void BeforeFirstChange(object? sender, XObjectChangeEventArgs e)
    {
        // The sender may be a node being added, not yet in the tree: the document is the one this was made for.
        if (Edited) return;
        document.Changing -= BeforeFirstChange;
        Edited = true;
        var scan = XmlSourceScanner.Scan(Text);
        if (scan is null || !SourceAnnotator.Attach(document, Text, scan))
        {
            throw new DomainXmlException(
                "libvirt-nvlink could not map the text of this document to its elements, so it cannot promise to keep " +
                "its bytes; nothing was written. Please report this with the document.");
        }
        RootStart = scan.RootStart;
        RootEnd = scan.RootEnd;
        Quote = scan.Quote;
        NewLine = scan.NewLine;
    }
}
