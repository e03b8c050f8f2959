namespace LibvirtNvlink.Cli;

public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command ran and found errors (topology findings, failed checks).</summary>
    public const int Findings = 1;

    /// <summary>Bad usage or input that cannot be processed; nothing was written.</summary>
    public const int Usage = 2;
}
