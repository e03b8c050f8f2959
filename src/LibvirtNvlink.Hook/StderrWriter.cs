using System.Text;

namespace LibvirtNvlink.Hook;

/// <summary>stderr opened on first use and flushed on every line: libvirt appends it to the user's error.</summary>
public sealed class StderrWriter : TextWriter
{
    private Stream? _stream;

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) => Write(value.ToString());

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        _stream ??= Console.OpenStandardError();
        var bytes = Encoding.UTF8.GetBytes(value);
        _stream.Write(bytes);
        _stream.Flush();
    }

    public override void WriteLine(string? value) => Write(value + "\n");

    protected override void Dispose(bool disposing)
    {
        if (disposing) _stream?.Dispose();
        base.Dispose(disposing);
    }
}
