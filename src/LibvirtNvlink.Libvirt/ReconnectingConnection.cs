using Polly;

namespace LibvirtNvlink.Libvirt;

/// <summary>
/// A libvirt connection whose calls survive a daemon restart: a call that fails with a transient error (the
/// daemon went away, the RPC broke) reopens the connection and runs again, within the one retry policy's bounds.
/// libvirt's remote driver never reconnects by itself, so retrying on the old connection would only fail again.
/// </summary>
public sealed class ReconnectingConnection : IDisposable
{
    private readonly string _uri;
    private readonly bool _readOnly;
    private readonly ResiliencePipeline _pipeline;
    private readonly Func<string, bool, LibvirtConnection> _open;

    public ReconnectingConnection(string uri, bool readOnly, ResiliencePipeline pipeline, Func<string, bool, LibvirtConnection>? open = null)
    {
        _uri = uri;
        _readOnly = readOnly;
        _pipeline = pipeline;
        _open = open ?? LibvirtConnection.OpenOnce;
        _current = _pipeline.Execute(() => _open(uri, readOnly));
    }

    private LibvirtConnection? _current;

    /// <summary>The live connection, reopened (once, no retry) if the last call lost it.</summary>
    public LibvirtConnection Current => _current ??= _open(_uri, _readOnly);

    /// <summary>How many times the connection was reopened after a transient failure.</summary>
    public int Reconnects { get; private set; }

    /// <summary>Runs an idempotent libvirt operation, reconnecting and retrying on transient failures.</summary>
    public T Call<T>(Func<LibvirtConnection, T> operation) => _pipeline.Execute(() =>
    {
        // Reopening may itself fail transiently while the daemon restarts; the policy retries that too.
        var connection = Current;
        try
        {
            return operation(connection);
        }
        catch (LibvirtException e) when (e.IsTransient)
        {
            connection.Dispose();
            _current = null;
            Reconnects++;
            throw;
        }
    });

    public void Dispose() => _current?.Dispose();
}
