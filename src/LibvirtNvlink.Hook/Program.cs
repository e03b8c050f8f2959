using LibvirtNvlink.Hook;
using LibvirtNvlink.HostAccess;
using LibvirtNvlink.Pci;

// Read all of stdin first: libvirt must never write into a closed pipe, whatever we decide.
byte[] input;
using (var stdin = Console.OpenStandardInput())
using (var buffer = new MemoryStream())
{
    stdin.CopyTo(buffer);
    input = buffer.ToArray();
}

if (!HookInvocation.TryParse(args, out var hook, out var usage))
{
    using var err = Console.OpenStandardError();
    err.Write(System.Text.Encoding.UTF8.GetBytes(usage + "\n"));
    return 2;
}

HookEnvironment env;
HookTriage.Verdict verdict;
#pragma warning disable CA1031 // Whatever goes wrong, the exit code is ours to choose: a crash at reconnect kills a guest.
try
{
    env = HookEnvironment.FromVariables(Environment.GetEnvironmentVariable);
    var xml = System.Text.Encoding.UTF8.GetString(input);
    var environment = env;
    verdict = HookTriage.Decide(hook, xml,
        address => IsOfInterest(environment.Host, address),
        domain => File.Exists(DriverBinder.RecordPathFor(environment.StateDirectory, domain)));
}
catch (Exception e)
{
    return Fail(hook, $"libvirt-nvlink: could not examine domain '{hook.Domain}' ({e.GetType().Name}: {e.Message}).");
}
#pragma warning restore CA1031
if (verdict == HookTriage.Verdict.Done) return 0;

var worker = env.ResolveWorkerPath();
try
{
    ProcessReplacement.ExecWithStdin(worker, args, input);
}
catch (IOException e)
{
    return Fail(hook, $"libvirt-nvlink: cannot run {worker} to check domain '{hook.Domain}': {e.Message}. Reinstall libvirt-nvlink (libvirt-nvlink install-hook).");
}
return 0;

// prepare is the only place where not checking is worse than not starting; everywhere else the guest goes on.
static int Fail(HookInvocation hook, string message)
{
    using var err = Console.OpenStandardError();
    err.Write(System.Text.Encoding.UTF8.GetBytes(message + "\n"));
    return hook.Is("prepare", "begin") ? 1 : 0;
}

static bool IsOfInterest(HostRoot host, PciAddress address)
{
    try
    {
        return PciSysfsReader.ReadIds(host, address) is { } ids && PciIds.IsOfInterest(ids.Vendor, ids.Device);
    }
    catch (IOException)
    {
        // Cannot tell: let the worker look, rather than miss a GPU.
        return true;
    }
}
