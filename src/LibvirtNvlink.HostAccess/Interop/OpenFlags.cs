namespace LibvirtNvlink.HostAccess.Interop;

/// <summary>
/// open(2) flags, with the values of asm-generic/fcntl.h (x86-64, arm64). POWER numbers O_DIRECTORY and O_NOFOLLOW
/// differently (arch/powerpc/include/uapi/asm/fcntl.h); <see cref="OpenFlagsNative"/> translates.
/// </summary>
[Flags]
public enum OpenFlags
{
    ReadOnly = 0,
    WriteOnly = 0x1,
    ReadWrite = 0x2,
    Create = 0x40,
    Exclusive = 0x80,
    NoControllingTty = 0x100,
    Truncate = 0x200,
    Append = 0x400,
    NonBlocking = 0x800,
    Directory = 0x10000,
    NoFollow = 0x20000,
    CloseOnExec = 0x80000,
}

/// <summary>The kernel's numbers for <see cref="OpenFlags"/> on the architecture we run on.</summary>
internal static class OpenFlagsNative
{
    private const int GenericDirectory = (int)OpenFlags.Directory;
    private const int GenericNoFollow = (int)OpenFlags.NoFollow;
    private const int PowerDirectory = 0x4000;
    private const int PowerNoFollow = 0x8000;

    public static int ToNative(OpenFlags flags)
    {
        var value = (int)flags;
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.Ppc64le) return value;
        var native = value & ~(GenericDirectory | GenericNoFollow);
        if ((value & GenericDirectory) != 0) native |= PowerDirectory;
        if ((value & GenericNoFollow) != 0) native |= PowerNoFollow;
        return native;
    }
}
