namespace LibvirtNvlink.Transform;

/// <summary>The names --grace-layout and the golden cases use: auto, flat, expander.</summary>
public static class GracePciLayoutNames
{
    public static IReadOnlyList<string> All { get; } = ["auto", "flat", "expander"];

    public static GracePciLayout Parse(string name) => name switch
    {
        "flat" => GracePciLayout.Flat,
        "expander" => GracePciLayout.Expander,
        "auto" => GracePciLayout.Auto,
        _ => throw new ArgumentException($"--grace-layout takes auto, flat or expander, not '{name}'"),
    };

    public static string Name(GracePciLayout layout) => layout switch
    {
        GracePciLayout.Flat => "flat",
        GracePciLayout.Expander => "expander",
        _ => "auto",
    };
}
