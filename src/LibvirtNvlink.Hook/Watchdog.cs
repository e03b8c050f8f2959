using LibvirtNvlink.Hook;
using LibvirtNvlink.Config;

namespace LibvirtNvlink.Hook;

/// <summary>
/// libvirt waits for the hook forever while holding the domain's job; past the configured timeout we end the
/// process ourselves with a message that says why, instead of hanging libvirtd.
/// </summary>
public static class Watchdog
{
    public static void Arm(TimeSpan timeout, HookInvocation hook, HookConfig config)
    {
        // A plain background thread, not a Timer: a Timer starts the timer queue and the thread pool, which costs
        // the hook's slow path most of a millisecond for a callback that should never run.
        var thread = new Thread(() =>
        {
            Thread.Sleep(timeout);
            var refuse = hook.Is("prepare", "begin") && config.Policy == IncompletePolicy.Refuse;
            var what = refuse ? "refusing to start it unchecked" : "letting libvirt continue";
            using var stderr = new StderrWriter();
            stderr.WriteLine($"libvirt-nvlink: checking domain '{hook.Domain}' ({hook.Op} {hook.SubOp}) took longer than {timeout.TotalSeconds:0.#} s; {what}. " +
                             "Raise <hook timeout-seconds> in /etc/libvirt-nvlink/config.xml if the host is just slow.");
            Environment.Exit(refuse ? 1 : 0);
        })
        {
            IsBackground = true,
            Name = "libvirt-nvlink watchdog",
        };
        thread.Start();
    }
}
