using System.Text;
using LibvirtNvlink.Hook;
using LibvirtNvlink.HostAccess;

// libvirt writes the domain XML into our stdin and waits for us: read all of it first, so libvirt never writes
// into a closed pipe, whatever we decide. Raw streams only: Console.In/Out/Error cost milliseconds to set up,
// and most invocations (domains that are none of our business) never need them.
string xml;
using (var stdin = Console.OpenStandardInput())
using (var buffer = new MemoryStream())
{
    stdin.CopyTo(buffer);
    xml = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
}

using var stderr = new StderrWriter();
var env = HookEnvironment.FromVariables(Environment.GetEnvironmentVariable);
var dispatcher = new HookDispatcher(env, stderr)
{
    ArmWatchdog = Watchdog.Arm,
};
#pragma warning disable CA1031 // The last line of defence: a crash at reconnect would make libvirt kill a running guest.
try
{
    return dispatcher.Run(args, xml);
}
catch (Exception e)
{
    var prepare = args.Length >= 3 && args[1] == "prepare" && args[2] == "begin";
    stderr.WriteLine($"libvirt-nvlink: internal error ({e.GetType().Name}: {e.Message}){(prepare ? "; refusing to start the domain unchecked" : "")}.");
    return prepare ? 1 : 0;
}
#pragma warning restore CA1031
