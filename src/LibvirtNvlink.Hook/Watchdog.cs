using System.Diagnostics;
using LibvirtNvlink.Config;
using LibvirtNvlink.HookProtocol;

namespace LibvirtNvlink.Hook;

/// <summary>
/// libvirt waits for the hook forever while holding the domain's job; past the timeout we end the process ourselves
/// with a message that says why, instead of hanging libvirtd. Armed before the hook reads anything but stdin and the
/// triage's non-blocking sysfs reads — with the default timeout, since the configured one is not read yet — and armed
/// again with the configured one once it is known; the deadline always counts from the first arming.
/// </summary>
public static class Watchdog
{
    /// <summary>The code's own bound, whatever a configuration says: Thread.Sleep and Monitor.Wait take at most int.MaxValue ms.</summary>
    public static readonly TimeSpan Shortest = TimeSpan.FromSeconds(HookConfig.MinTimeoutSeconds);

    /// <inheritdoc cref="Shortest"/>
    public static readonly TimeSpan Longest = TimeSpan.FromSeconds(HookConfig.MaxTimeoutSeconds);

    private static readonly object Gate = new();
    private static long _armedAt;
    private static TimeSpan _timeout;
    private static HookInvocation? _hook;
    private static HookConfig _config = HookConfig.Default;
    private static Thread? _thread;

    /// <summary>Within <see cref="Shortest"/>..<see cref="Longest"/>, whatever it is given.</summary>
    public static TimeSpan Bound(TimeSpan timeout) => timeout < Shortest ? Shortest : timeout > Longest ? Longest : timeout;

    public static void Arm(TimeSpan timeout, HookInvocation hook, HookConfig config)
    {
        lock (Gate)
        {
            _timeout = Bound(timeout);
            _hook = hook;
            _config = config;
            if (_thread is not null)
            {
                Monitor.PulseAll(Gate);
                return;
            }
            _armedAt = Stopwatch.GetTimestamp();
            // A plain background thread, not a Timer: a Timer starts the timer queue and the thread pool, which costs
            // the hook's slow path most of a millisecond for a callback that should never run.
            _thread = new Thread(Watch)
            {
                IsBackground = true,
                Name = "libvirt-nvlink watchdog",
            };
            _thread.Start();
        }
    }

    private static void Watch()
    {
        HookInvocation hook;
        HookConfig config;
        TimeSpan timeout;
        lock (Gate)
        {
            while (true)
            {
                var left = _timeout - Stopwatch.GetElapsedTime(_armedAt);
                if (left <= TimeSpan.Zero) break;
                Monitor.Wait(Gate, left);
            }
            (hook, config, timeout) = (_hook!, _config, _timeout);
        }
        var refuse = hook.Is("prepare", "begin") && config.Policy == IncompletePolicy.Refuse;
        var what = refuse ? "refusing to start it unchecked" : "letting libvirt continue";
        using var stderr = new StderrWriter();
        stderr.WriteLine($"libvirt-nvlink: checking domain '{hook.Domain}' ({hook.Op} {hook.SubOp}) took longer than {timeout.TotalSeconds:0.#} s; {what}. " +
                         "Raise <hook timeout-seconds> in /etc/libvirt-nvlink/config.xml if the host is just slow.");
        Environment.Exit(refuse ? 1 : 0);
    }
}
