/*
 * libvirt-nvlink-hook-front: the qemu hook on installs without NativeAOT (ppc64le, where the .NET hook is a JIT
 * program and every start of it costs a managed runtime start).
 *
 * libvirtd runs its qemu hooks for every lifecycle event of every domain. This program reads the domain XML from
 * stdin and makes the .NET hook's own first decision (HookTriage in src/LibvirtNvlink.Core/Hook/HookTriage.cs, with
 * the sysfs and undo-record look-ups HookDispatcher gives it): for an event or a domain that is none of ours it
 * exits 0 at once, exactly as the .NET hook would. Otherwise it hands the same arguments and the same stdin bytes
 * to the .NET hook by exec, so every check, refusal and message stays the .NET hook's.
 *
 * Where this program and HookTriage could ever disagree, this program hands over: a needless hand-over costs time,
 * a missed one could let a domain start unchecked. tests/data/hook-triage-cases.xml holds the cases both must
 * decide alike (HookTriageCaseTests runs them through both).
 *
 * Environment, as the .NET hook reads it (libvirtd passes none of these; tests and benchmarks set them):
 *   LIBVIRT_NVLINK_HOST_ROOT   root of the host's /sys (default /)
 *   LIBVIRT_NVLINK_STATE_DIR   the hook's undo records (default /var/lib/libvirt-nvlink/hook-state)
 *   LIBVIRT_NVLINK_HOOK_BINARY the .NET hook (default: libvirt-nvlink-hook next to this program)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pci-ids.h"

enum verdict { DONE, EXAMINE };

#define NO_VALUE (-1L)
#define MAX_DOMAIN 0xffffL
#define MAX_BUS 0xffL
#define MAX_SLOT 0x1fL
#define MAX_FUNCTION 0x7L
/* HostRoot.MaxFileBytes: a sysfs attribute is at most a page; anything bigger is not ours. */
#define MAX_FILE_BYTES 65536

struct text {
    uint32_t *c; /* code points, as .NET sees the UTF-8 text: each invalid sequence one U+FFFD */
    size_t n;
};

/* UTF-8 to code points, replacing each maximal invalid subpart with U+FFFD as .NET's Encoding.UTF8 does. */
static struct text decode_utf8(const unsigned char *s, size_t n)
{
    struct text t = { malloc((n + 1) * sizeof(uint32_t)), 0 };
    if (t.c == NULL) return t;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) { t.c[t.n++] = c; i++; continue; }
        int need;
        uint32_t cp;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
        else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
        else { t.c[t.n++] = 0xfffd; i++; continue; }
        i++;
        int ok = 1;
        for (int j = 0; j < need; j++) {
            if (i >= n || s[i] < lo || s[i] > hi) { ok = 0; break; }
            cp = (cp << 6) | (s[i] & 0x3fu);
            i++;
            lo = 0x80;
            hi = 0xbf;
        }
        t.c[t.n++] = ok ? cp : 0xfffd;
    }
    return t;
}

/* char.IsWhiteSpace: the Unicode space separators, line and paragraph separators, U+0009..U+000D and U+0085. */
static int is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static long index_of(const uint32_t *s, size_t n, size_t from, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = from; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && s[i + j] == (unsigned char)needle[j]) j++;
        if (j == k) return (long)i;
    }
    return -1;
}

static long index_of_char(const uint32_t *s, size_t n, size_t from, uint32_t c)
{
    for (size_t i = from; i < n; i++)
        if (s[i] == c) return (long)i;
    return -1;
}

static int hex_digit(uint32_t c)
{
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

/* int.TryParse(s, NumberStyles.AllowHexSpecifier): hex digits only, leading zeros free, at most 32 bits (wrapping
 * to a negative int above 0x7fffffff). Returns 0 on failure. */
static int parse_hex_int(const uint32_t *s, size_t n, int64_t *value)
{
    if (n == 0) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_digit(s[i]);
        if (d < 0) return 0;
        v = (v << 4) | (unsigned)d;
        if (v > 0xffffffffu) return 0;
    }
    *value = (int32_t)(uint32_t)v;
    return 1;
}

/* PciAddress.TryParseXmlNumber: libvirt's virStrToLong_uip with base 0 (decimal, 0x hex, leading-0 octal),
 * after .NET's Trim. Returns NO_VALUE when .NET's parse fails. */
static long parse_xml_number(const uint32_t *s, size_t n)
{
    while (n > 0 && is_space(s[0])) { s++; n--; }
    while (n > 0 && is_space(s[n - 1])) n--;
    if (n == 0) return NO_VALUE;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        int64_t v;
        if (n > 2 && n <= 10 && parse_hex_int(s + 2, n - 2, &v) && v >= 0) return (long)v;
        return NO_VALUE;
    }
    uint64_t v = 0;
    if (n > 1 && s[0] == '0') {
        /* Convert.ToInt32(t, 8): octal digits only, at most 32 bits, negative (so refused) above 0x7fffffff. */
        for (size_t i = 0; i < n; i++) {
            if (s[i] < '0' || s[i] > '7') return NO_VALUE;
            v = v * 8 + (s[i] - '0');
            if (v > 0xffffffffu) return NO_VALUE;
        }
        return v > 0x7fffffff ? NO_VALUE : (long)v;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return NO_VALUE;
        v = v * 10 + (s[i] - '0');
        if (v > 0x7fffffff) return NO_VALUE;
    }
    return (long)v;
}

/* HookTriage.Attribute: the first occurrence of NAME preceded by white space and followed by '=' decides. */
static long attribute(const uint32_t *tag, size_t n, const char *name)
{
    size_t len = strlen(name), i = 0;
    long k;
    while ((k = index_of(tag, n, i, name)) >= 0) {
        i = (size_t)k;
        uint32_t before = i == 0 ? ' ' : tag[i - 1];
        size_t r = i + len;
        while (r < n && is_space(tag[r])) r++;
        i += len;
        if (!is_space(before) || n - r < 2 || tag[r] != '=') continue;
        r++;
        while (r < n && is_space(tag[r])) r++;
        if (r == n) return NO_VALUE;
        uint32_t quote = tag[r];
        if (quote != '\'' && quote != '"') return NO_VALUE;
        long close = index_of_char(tag, n, r + 1, quote);
        if (close < 0) return NO_VALUE;
        return parse_xml_number(tag + r + 1, (size_t)close - r - 1);
    }
    return NO_VALUE;
}

static const char *host_root(void)
{
    static char root[4096];
    const char *r = getenv("LIBVIRT_NVLINK_HOST_ROOT");
    if (r == NULL || *r == 0) return "";
    size_t n = strlen(r);
    while (n > 0 && r[n - 1] == '/') n--;
    if (n >= sizeof root) n = sizeof root - 1;
    memcpy(root, r, n);
    root[n] = 0;
    return root;
}

enum id_result { ID_ABSENT, ID_VALUE, ID_ERROR };

/* HostRoot.ReadText + PciSysfsReader.ParseHex: a missing file is ID_ABSENT, one that cannot be read (a FIFO, a
 * directory, too big, EACCES) ID_ERROR, one that is not a hex number ID_ABSENT (ReadIds returns null). */
static enum id_result read_id(const char *path, int64_t *value)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT || errno == ENOTDIR ? ID_ABSENT : ID_ERROR;
    static unsigned char buf[MAX_FILE_BYTES + 1];
    size_t total = 0;
    for (;;) {
        ssize_t got = read(fd, buf + total, sizeof buf - total);
        if (got < 0) {
            if (errno == EINTR) continue;
            close(fd);
            return ID_ERROR;
        }
        if (got == 0) break;
        total += (size_t)got;
        if (total > MAX_FILE_BYTES) { close(fd); return ID_ERROR; }
    }
    close(fd);
    struct text t = decode_utf8(buf, total);
    if (t.c == NULL) return ID_ERROR;
    const uint32_t *s = t.c;
    size_t n = t.n;
    while (n > 0 && is_space(s[0])) { s++; n--; }
    while (n > 0 && is_space(s[n - 1])) n--;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { s += 2; n -= 2; }
    int ok = parse_hex_int(s, n, value);
    free(t.c);
    return ok ? ID_VALUE : ID_ABSENT;
}

static int id_in(int64_t id, const int *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (list[i] == id) return 1;
    return 0;
}

/* HookDispatcher.IsOfInterest: an NVLink2 GPU or bridge or a Grace GPU by its sysfs IDs; unreadable counts as yes. */
static int is_of_interest(long d, long b, long s, long f)
{
    char path[4200];
    int64_t vendor, device;
    snprintf(path, sizeof path, "%s/sys/bus/pci/devices/%04lx:%02lx:%02lx.%lx/vendor", host_root(), d, b, s, f);
    enum id_result r = read_id(path, &vendor);
    if (r != ID_VALUE) return r == ID_ERROR;
    snprintf(path, sizeof path, "%s/sys/bus/pci/devices/%04lx:%02lx:%02lx.%lx/device", host_root(), d, b, s, f);
    r = read_id(path, &device);
    if (r != ID_VALUE) return r == ID_ERROR;
    return (vendor == LVN_VENDOR_NVIDIA && id_in(device, lvn_nvidia_devices, sizeof lvn_nvidia_devices / sizeof(int))) ||
           (vendor == LVN_VENDOR_IBM && id_in(device, lvn_ibm_devices, sizeof lvn_ibm_devices / sizeof(int)));
}

/* HookTriage.Decide past its op checks: every <address> with PCI attributes, any one of interest, or any the scan
 * cannot read, means "look closer". */
static enum verdict scan_addresses(const unsigned char *xml, size_t length)
{
    struct text t = decode_utf8(xml, length);
    if (t.c == NULL) return EXAMINE;
    enum verdict verdict = DONE;
    size_t at = 0;
    long found;
    while ((found = index_of(t.c, t.n, at, "<address")) >= 0) {
        at = (size_t)found;
        long end = index_of_char(t.c, t.n, at, '>');
        if (end < 0) { verdict = EXAMINE; break; }
        const uint32_t *tag = t.c + at + 8;
        size_t n = (size_t)end - at - 8;
        at = (size_t)end;
        if (n > 0 && !is_space(tag[0]) && tag[0] != '/') continue;
        long d = attribute(tag, n, "domain"), b = attribute(tag, n, "bus"), s = attribute(tag, n, "slot"),
             f = attribute(tag, n, "function");
        if (b == NO_VALUE && s == NO_VALUE) continue;
        if (b == NO_VALUE || s == NO_VALUE || d > MAX_DOMAIN || b > MAX_BUS || s > MAX_SLOT || f > MAX_FUNCTION) {
            verdict = EXAMINE; /* unreadable: maybe ours */
            continue;
        }
        if (is_of_interest(d == NO_VALUE ? 0 : d, b, s, f == NO_VALUE ? 0 : f)) { verdict = EXAMINE; break; }
    }
    free(t.c);
    return verdict;
}

/* DriverBinder.RecordPathFor: STATE_DIR/Uri.EscapeDataString(domain).json — the domain's UTF-8 bytes, every one
 * outside RFC 3986's unreserved set as %XX. File.Exists: stat, else lstat (a dangling link counts), not a directory. */
static int undo_record_exists(const char *domain)
{
    const char *dir = getenv("LIBVIRT_NVLINK_STATE_DIR");
    if (dir == NULL || *dir == 0) dir = "/var/lib/libvirt-nvlink/hook-state";
    size_t dn = strlen(dir), nn = strlen(domain);
    /* As .NET sees the argument: decoded with U+FFFD for invalid bytes, then encoded again. */
    struct text t = decode_utf8((const unsigned char *)domain, nn);
    char *path = malloc(dn + 1 + t.n * 12 + 6);
    if (t.c == NULL || path == NULL) { free(t.c); free(path); return 1; }
    memcpy(path, dir, dn);
    size_t p = dn;
    if (dn > 0 && dir[dn - 1] != '/') path[p++] = '/';
    for (size_t i = 0; i < t.n; i++) {
        uint32_t c = t.c[i];
        unsigned char u[4];
        int k;
        if (c < 0x80) { u[0] = (unsigned char)c; k = 1; }
        else if (c < 0x800) { u[0] = (unsigned char)(0xc0 | (c >> 6)); u[1] = (unsigned char)(0x80 | (c & 0x3f)); k = 2; }
        else if (c < 0x10000) {
            u[0] = (unsigned char)(0xe0 | (c >> 12)); u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
            u[2] = (unsigned char)(0x80 | (c & 0x3f)); k = 3;
        } else {
            u[0] = (unsigned char)(0xf0 | (c >> 18)); u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
            u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f)); u[3] = (unsigned char)(0x80 | (c & 0x3f)); k = 4;
        }
        for (int j = 0; j < k; j++) {
            unsigned char b = u[j];
            if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_' || b == '.' || b == '~') {
                path[p++] = (char)b;
            } else {
                p += (size_t)sprintf(path + p, "%%%02X", b);
            }
        }
    }
    strcpy(path + p, ".json");
    free(t.c);
    struct stat st;
    int exists = (stat(path, &st) == 0 || lstat(path, &st) == 0) && !S_ISDIR(st.st_mode);
    free(path);
    return exists;
}

/* HookTriage.Decide. argv as libvirtd passes it: NAME OP SUBOP EXTRA. */
static enum verdict decide(int argc, char **argv, const unsigned char *xml, size_t length)
{
    if (argc < 4) return EXAMINE; /* a usage error: the .NET hook reports it */
    const char *op = argv[2], *subop = argv[3];
    if (strcmp(op, "release") == 0 && strcmp(subop, "end") == 0) return undo_record_exists(argv[1]) ? EXAMINE : DONE;
    if (strcmp(subop, "begin") != 0 || (strcmp(op, "prepare") != 0 && strcmp(op, "started") != 0 && strcmp(op, "reconnect") != 0))
        return DONE;
    if (memmem(xml, length, "hostdev", 7) == NULL) return DONE;
    return scan_addresses(xml, length);
}

static int is_prepare(int argc, char **argv)
{
    return argc >= 4 && strcmp(argv[2], "prepare") == 0 && strcmp(argv[3], "begin") == 0;
}

/* What the .NET hook does when it fails outright: refuse a start it could not check, never fail anything else (a
 * non-zero exit at reconnect makes libvirtd kill a running guest). */
static int fail(int argc, char **argv, const char *what)
{
    int prepare = is_prepare(argc, argv);
    fprintf(stderr, "libvirt-nvlink-hook-front: %s%s\n", what,
            prepare ? "; refusing to start the domain unchecked. Reinstall libvirt-nvlink (the hook lives in /usr/lib/libvirt-nvlink/)." : "");
    return prepare ? 1 : 0;
}

/* Puts the bytes already read back where the .NET hook reads them: a memfd (a file, so no writer has to stay
 * behind) as stdin; a pipe fed by a child where memfd_create is missing. */
static int restore_stdin(const unsigned char *xml, size_t length)
{
    int fd = memfd_create("libvirt-nvlink-domain-xml", MFD_CLOEXEC);
    if (fd >= 0) {
        size_t done = 0;
        while (done < length) {
            ssize_t w = write(fd, xml + done, length - done);
            if (w < 0) { if (errno == EINTR) continue; close(fd); return -1; }
            done += (size_t)w;
        }
        if (lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) < 0) { close(fd); return -1; }
        close(fd);
        return 0;
    }
    int p[2];
    if (pipe(p) < 0) return -1;
    pid_t child = fork();
    if (child < 0) return -1;
    if (child == 0) {
        close(p[0]);
        if (fork() != 0) _exit(0); /* the grandchild writes, reparented: nobody has to wait for it */
        size_t done = 0;
        while (done < length) {
            ssize_t w = write(p[1], xml + done, length - done);
            if (w < 0) { if (errno == EINTR) continue; _exit(1); }
            done += (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    if (dup2(p[0], 0) < 0) return -1;
    close(p[0]);
    return 0;
}

static const char *dotnet_hook(void)
{
    static char path[4200];
    const char *set = getenv("LIBVIRT_NVLINK_HOOK_BINARY");
    if (set != NULL && *set != 0) return set;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    if (n <= 0) return "/usr/lib/libvirt-nvlink/libvirt-nvlink-hook";
    path[n] = 0;
    char *slash = strrchr(path, '/');
    strcpy(slash + 1, "libvirt-nvlink-hook");
    return path;
}

int main(int argc, char **argv)
{
    /* Read all of stdin first, whatever the decision, so libvirtd never writes into a closed pipe. */
    size_t length = 0, capacity = 64 * 1024;
    unsigned char *xml = malloc(capacity);
    if (xml == NULL) return fail(argc, argv, "out of memory reading the domain XML");
    for (;;) {
        if (length == capacity) {
            unsigned char *bigger = capacity < SIZE_MAX / 2 ? realloc(xml, capacity * 2) : NULL;
            if (bigger == NULL) return fail(argc, argv, "out of memory reading the domain XML");
            xml = bigger;
            capacity *= 2;
        }
        ssize_t got = read(0, xml + length, capacity - length);
        if (got < 0) {
            if (errno == EINTR) continue;
            return fail(argc, argv, "cannot read the domain XML on stdin");
        }
        if (got == 0) break;
        length += (size_t)got;
    }

    if (decide(argc, argv, xml, length) == DONE) return 0;

    const char *hook = dotnet_hook();
    if (restore_stdin(xml, length) < 0) return fail(argc, argv, "cannot hand the domain XML to libvirt-nvlink-hook");
    argv[0] = (char *)hook;
    execv(hook, argv);
    char what[4400];
    snprintf(what, sizeof what, "cannot run %s: %s", hook, strerror(errno));
    return fail(argc, argv, what);
}
