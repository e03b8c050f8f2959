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

var env = HookEnvironment.FromVariables(Environment.GetEnvironmentVariable);
var xml = System.Text.Encoding.UTF8.GetString(input);
var verdict = HookTriage.Decide(hook, xml,
    address => IsOfInterest(env.Host, address),
    domain => File.Exists(DriverBinder.RecordPathFor(env.StateDirectory, domain)));
if (verdict == HookTriage.Verdict.Done) return 0;

var worker = env.ResolveWorkerPath();
try
{
    ProcessReplacement.ExecWithStdin(worker, args, input);
}
catch (IOException e)
{
    using var err = Console.OpenStandardError();
    // prepare is the only place where not checking is worse than not starting.
    var refuse = hook.Is("prepare", "begin");
    err.Write(System.Text.Encoding.UTF8.GetBytes(
        $"libvirt-nvlink: cannot run {worker} to check domain '{hook.Domain}': {e.Message}. Reinstall libvirt-nvlink (libvirt-nvlink install-hook).\n"));
    return refuse ? 1 : 0;
}
return 0;

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
