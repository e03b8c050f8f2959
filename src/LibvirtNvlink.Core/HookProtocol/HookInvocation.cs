namespace LibvirtNvlink.HookProtocol;

/// <summary>
/// libvirt's qemu hook arguments: NAME OP SUBOP EXTRA (src/util/virhook.c). EXTRA is "-", or since libvirt 10.5
/// the shutoff reason for "release end".
/// </summary>
public sealed record HookInvocation(string Domain, string Op, string SubOp, string Extra)
{
    public static bool TryParse(IReadOnlyList<string> args, out HookInvocation invocation, out string error)
    {
        invocation = new HookInvocation("", "", "", "-");
        if (args.Count < 3)
        {
            error = "usage: libvirt-nvlink-hook NAME OP SUBOP [EXTRA] (libvirtd runs it as its qemu hook, the domain XML on stdin)";
            return false;
        }
        invocation = new HookInvocation(args[0], args[1], args[2], args.Count > 3 ? args[3] : "-");
        error = "";
        return true;
    }

    public bool Is(string op, string subOp) => Op == op && SubOp == subOp;

    public override string ToString() => $"{Op} {SubOp} {Extra}";
}
