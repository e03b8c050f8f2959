using LibvirtNvlink.Domain;
using LibvirtNvlink.Topology;
using LibvirtNvlink.Xml;

namespace LibvirtNvlink.Transform;

/// <summary>The transform every caller uses: NVLink2 domains and Grace domains, one record, one undo.</summary>
public static class DomainTransformer
{
    public static TransformResult Transform(string xml, HostTopology host, TransformOptions options)
    {
        if (host.GraceGpus.Count > 0 && GraceAssignment.AssignedGraceGpus(DomainDefinition.Parse(xml), host).Count > 0)
        {
            return GraceDomainTransformer.Transform(xml, host, options);
        }
        return Nv2DomainTransformer.Transform(xml, host, options);
    }

    /// <summary>Removes exactly what the record lists: the NVLink2 edits, then the Grace edits, then the record.</summary>
    public static TransformResult Undo(string xml)
    {
        var d = DomainDefinition.Parse(xml);
        var record = TransformRecord.Find(d.Root);
        if (record is null)
        {
            return new TransformResult(xml, false, [$"domain '{d.Name}': no libvirt-nvlink record in <metadata>; nothing to undo."], null);
        }
        var messages = new List<string>();
        Nv2DomainTransformer.UndoRecorded(d, record, messages);
        GraceDomainTransformer.UndoRecorded(d, record, messages);
        var metadata = record.Element.Parent!;
        XmlLayout.Remove(record.Element);
        if (record.CreatedMetadata && !metadata.Elements().Any()) XmlLayout.Remove(metadata);
        return new TransformResult(d.ToXml(), true, messages, null);
    }
}
