
namespace LibvirtNvlink.Transform;

/// <summary>The names --memlock and the golden cases use: auto, write, never.</summary>
public static class MemlockModeNames
{
    public static IReadOnlyList<string> All { get; } = ["auto", "write", "never"];

    public static MemlockMode Parse(string name) => name switch
    {
        "write" => MemlockMode.Write,
        "never" => MemlockMode.Never,
        "auto" => MemlockMode.Auto,
        _ => throw new ArgumentException($"--memlock takes auto, write or never, not '{name}'"),
    };
}
