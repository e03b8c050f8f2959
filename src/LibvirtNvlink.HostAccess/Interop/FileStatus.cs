namespace LibvirtNvlink.HostAccess.Interop;

/// <summary>What the hook checks before it trusts a file: its type, owner, permission bits and size.</summary>
public readonly record struct FileStatus(int Type, UnixFileMode Mode, uint Owner, long Size)
{
    public const int Regular = 0x8000;
    public const int Directory = 0x4000;
    public const int SymbolicLink = 0xA000;
    public const int Fifo = 0x1000;
    public const int CharacterDevice = 0x2000;
    public const int Socket = 0xC000;
    public const int BlockDevice = 0x6000;

    public string TypeName => Type switch
    {
        Regular => "a regular file",
        Directory => "a directory",
        SymbolicLink => "a symbolic link",
        Fifo => "a FIFO",
        CharacterDevice => "a character device",
        BlockDevice => "a block device",
        Socket => "a socket",
        _ => "of an unknown type",
    };
}
