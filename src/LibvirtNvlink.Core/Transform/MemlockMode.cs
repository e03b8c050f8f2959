
namespace LibvirtNvlink.Transform;

public enum MemlockMode
{
    Auto,
    Write,
    Never,
}
