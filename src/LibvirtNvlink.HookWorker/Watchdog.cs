using LibvirtNvlink.Hook;
using LibvirtNvlink.Config;

namespace LibvirtNvlink.HookWorker;

/// <summary>
/// libvirt waits for the hook forever while holding the domain's job; past the configured timeout we end the
/// process ourselves with a message that says why, instead of hanging libvirtd.
/// </summary>
public static class Watchdog
{
    private static Timer? _timer;

    public static void Arm(TimeSpan timeout, HookInvocation hook, HookConfig config)
    {
        _timer = new Timer(_ =>
        {
            var refuse = hook.Is("prepare", "begin") && config.Policy == IncompletePolicy.Refuse;
            var what = refuse ? "refusing to start it unchecked" : "letting libvirt continue";
            using var stderr = new StderrWriter();
            stderr.WriteLine($"libvirt-nvlink: checking domain '{hook.Domain}' ({hook.Op} {hook.SubOp}) took longer than {timeout.TotalSeconds:0.#} s; {what}. " +
                                    "Raise <hook timeout-seconds> in /etc/libvirt-nvlink/config.xml if the host is just slow.");
            Environment.Exit(refuse ? 1 : 0);
        }, null, timeout, Timeout.InfiniteTimeSpan);
    }
}
