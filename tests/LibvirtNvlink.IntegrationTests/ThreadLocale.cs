using System.Runtime.InteropServices;

namespace LibvirtNvlink.IntegrationTests;

/// <summary>
/// A C locale for the calling thread only (glibc newlocale/uselocale): libvirt's gettext then translates the
/// messages it formats on this thread, as it does for a process started with that LANG, without changing the
/// locale of the tests running beside it.
/// </summary>
internal sealed partial class ThreadLocale : IDisposable
{
    private const int LcCtypeMask = 1 << 0;
    private const int LcMessagesMask = 1 << 5;
    private static readonly nint GlobalLocale = -1;

    private readonly nint _locale;
    private readonly nint _previous;

    private ThreadLocale(nint locale)
    {
        _locale = locale;
        _previous = UseLocale(locale);
    }

    /// <returns>Null when the locale is not installed on this machine.</returns>
    public static ThreadLocale? TryUse(string name)
    {
        var locale = NewLocale(LcCtypeMask | LcMessagesMask, name, 0);
        return locale == 0 ? null : new ThreadLocale(locale);
    }

    public void Dispose()
    {
        UseLocale(_previous == 0 ? GlobalLocale : _previous);
        FreeLocale(_locale);
    }

    [LibraryImport("libc", EntryPoint = "newlocale", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint NewLocale(int categoryMask, string locale, nint baseLocale);

    [LibraryImport("libc", EntryPoint = "uselocale")]
    private static partial nint UseLocale(nint locale);

    [LibraryImport("libc", EntryPoint = "freelocale")]
    private static partial void FreeLocale(nint locale);
}
