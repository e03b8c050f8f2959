using System.Globalization;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Pci;

namespace LibvirtNvlink.Tests;

public sealed class GroupLockTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new("locks-");

    /// <summary>Acquires on another thread, as a second hook process would; Granted is set once it holds the lock.</summary>
    private sealed class Contender : IDisposable
    {
        private readonly ManualResetEventSlim _granted = new();
        private readonly Thread _thread;
        private GroupLock? _lock;

        public Contender(string dir, int group)
        {
            _thread = new Thread(() =>
            {
                _lock = GroupLock.Acquire(dir, group);
                _granted.Set();
            }) { IsBackground = true };
            _thread.Start();
        }

        public bool IsGranted => _granted.IsSet;

        public bool GrantedWithin(TimeSpan t) => _granted.Wait(t, TestContext.Current.CancellationToken);

        public void Dispose()
        {
            // Never waits forever: a contender still blocked (a failed test) is a background thread and dies with
            // the run; the lock it would have taken is released with its file when the holder's test ends.
            if (_thread.Join(Generous)) _lock?.Dispose();
            _granted.Dispose();
        }
    }

    /// <summary>
    /// The kernel's own view: /proc/locks lists a process blocked in flock on a file as "-> FLOCK ... inode". Waiting
    /// for that line replaces guessing how long the other thread needs to get there.
    /// </summary>
    private static bool SomeoneWaitsOn(string path)
    {
        var inode = ProcessRunner.Run("/usr/bin/stat", ["-c", "%i", path]).Stdout.Trim();
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        return File.ReadLines("/proc/locks").Any(l =>
        {
            var f = l.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return f.Length > 5 && f[1] == "->" && f[2] == "FLOCK" && f[5] == pid && f[6].EndsWith(":" + inode, StringComparison.Ordinal);
        });
    }

    private static bool WaitFor(Func<bool> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) return false;
            Thread.Sleep(20);
        }
        return true;
    }

    [Fact]
    public void A_second_hook_on_the_same_IOMMU_group_waits_for_the_first_instead_of_failing()
    {
        using var second = AcquireThenContend(10, out var first);
        try
        {
            var path = Assert.Single(Directory.GetFiles(_dir.Path));
            Assert.True(WaitFor(() => SomeoneWaitsOn(path) || second.IsGranted, Generous), "the second hook never reached the lock");
            Assert.False(second.IsGranted, "the second lock was granted while the first was held");
        }
        finally
        {
            first.Dispose();
        }
        Assert.True(second.GrantedWithin(Generous), "the second lock was never granted after the first was released");
    }

    [Fact]
    public void Hooks_on_different_groups_never_wait_on_each_other()
    {
        using var ten = GroupLock.Acquire(_dir.Path, 10);
        using var eleven = new Contender(_dir.Path, 11);
        Assert.True(eleven.GrantedWithin(Generous));
    }

    [Fact]
    public async Task Devices_without_an_IOMMU_group_each_have_a_lock_of_their_own()
    {
        var a = PciAddress.Parse("0004:04:00.0");
        var b = PciAddress.Parse("0004:05:00.0");
        Assert.NotEqual(GroupLock.PathFor(_dir.Path, a), GroupLock.PathFor(_dir.Path, b));
        using var first = GroupLock.Acquire(_dir.Path, null, a);
        // A second open file description of a shared lock file would block here until 'first' is released.
        var second = Task.Run(() => GroupLock.Acquire(_dir.Path, null, b), TestContext.Current.CancellationToken);
        Assert.True(await Task.WhenAny(second, Task.Delay(Generous, TestContext.Current.CancellationToken)) == second,
            "a device without an IOMMU group waited on another device's lock");
        (await second).Dispose();
    }

    private Contender AcquireThenContend(int group, out GroupLock first)
    {
        first = GroupLock.Acquire(_dir.Path, group);
        return new Contender(_dir.Path, group);
    }

    public void Dispose() => _dir.Dispose();
}
