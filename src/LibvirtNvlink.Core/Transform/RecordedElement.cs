namespace LibvirtNvlink.Transform;

/// <summary>Something the Grace transform created that did not exist before (lvn:created element='…').</summary>
public enum RecordedElement
{
    Cpu,
    Numa,
    QemuCommandline,
    QemuNamespace,
}
