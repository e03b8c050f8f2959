using Polly;
using Polly.Retry;

namespace LibvirtNvlink.Libvirt;

/// <summary>
/// The one retry policy for talking to libvirtd: bounded attempts with exponential back-off and jitter, on
/// transient failures only (daemon restarting, socket not there yet) — never on bad XML or permission problems.
/// </summary>
public static class LibvirtRetry
{
    public static ResiliencePipeline Pipeline(int maxAttempts = 5, TimeSpan? firstDelay = null, Action<string>? log = null) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(0, maxAttempts - 1),
                Delay = firstDelay ?? TimeSpan.FromMilliseconds(500),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxDelay = TimeSpan.FromSeconds(10),
                ShouldHandle = new PredicateBuilder().Handle<LibvirtException>(e => e.IsTransient),
                OnRetry = args =>
                {
                    log?.Invoke($"libvirt not reachable ({args.Outcome.Exception?.Message}); attempt {args.AttemptNumber + 2} in {args.RetryDelay.TotalSeconds:0.0} s");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    public static LibvirtConnection Open(string uri, bool readOnly, ResiliencePipeline? pipeline = null) =>
        (pipeline ?? Pipeline()).Execute(() => LibvirtConnection.OpenOnce(uri, readOnly));
}
