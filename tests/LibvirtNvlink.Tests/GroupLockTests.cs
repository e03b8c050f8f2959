using LibvirtNvlink.HostAccess;

namespace LibvirtNvlink.Tests;

public class GroupLockTests
{
    private readonly string _dir = Directory.CreateTempSubdirectory("locks-").FullName;

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

        public bool GrantedWithin(TimeSpan t) => _granted.Wait(t, TestContext.Current.CancellationToken);

        public void Dispose()
        {
            _thread.Join();
            _lock?.Dispose();
            _granted.Dispose();
        }
    }

    [Fact]
    public void A_second_hook_on_the_same_IOMMU_group_waits_for_the_first_instead_of_failing()
    {
        var first = GroupLock.Acquire(_dir, 10);
        using var second = new Contender(_dir, 10);
        Assert.False(second.GrantedWithin(TimeSpan.FromMilliseconds(300)), "the second lock was granted while the first was held");
        first.Dispose();
        Assert.True(second.GrantedWithin(TimeSpan.FromSeconds(10)), "the second lock was never granted");
    }

    [Fact]
    public void Hooks_on_different_groups_never_wait_on_each_other()
    {
        using var ten = GroupLock.Acquire(_dir, 10);
        using var eleven = new Contender(_dir, 11);
        Assert.True(eleven.GrantedWithin(TimeSpan.FromSeconds(10)));
    }
}
