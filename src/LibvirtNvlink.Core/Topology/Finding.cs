namespace LibvirtNvlink.Topology;

public enum Severity
{
    Info,
    Warning,
    Error,
}

/// <summary>
/// A problem found on the host, as data: the operator reads <see cref="Message"/>, scripts match <see cref="Code"/>.
/// <see cref="Device"/> is a PCI address when one is involved, else the path of the file at fault.
/// </summary>
public sealed record Finding(Severity Severity, string Code, string Device, string Message)
{
    public static string SeverityName(Severity s) => s switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "info",
    };
}
