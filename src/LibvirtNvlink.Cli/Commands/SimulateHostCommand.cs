using System.CommandLine;
using System.Text.Json;
using LibvirtNvlink.Simulation;

namespace LibvirtNvlink.Cli.Commands;

internal static class SimulateHostCommand
{
    public static Command Create()
    {
        var layout = new Option<string?>("--layout")
        {
            Description = $"A built-in layout ({string.Join(", ", BuiltInLayouts.All.Select(l => l.Name))}) or a layout JSON file",
        };
        var output = new Option<string>("--output", "-o") { Description = "The new host root directory", Required = true };
        var printLayout = new Option<bool>("--print-layout") { Description = "Print the layout as JSON (a starting point for your own) instead of writing a host" };
        var cmd = new Command("simulate-host", "Write a simulated host root (sysfs + device tree) for tests and experiments")
        {
            layout, output, printLayout,
        };
        cmd.SetAction(parse =>
        {
            var name = parse.GetValue(layout) ?? BuiltInLayouts.Witherspoon6Gpu.Name;
            HostLayout? l = BuiltInLayouts.Find(name);
            try
            {
                l ??= File.Exists(name)
                    ? JsonSerializer.Deserialize(File.ReadAllText(name), HostLayoutJsonContext.Default.HostLayout)
                    : null;
            }
            catch (JsonException e)
            {
                Console.Error.WriteLine($"libvirt-nvlink simulate-host: {name} is not a valid layout: {e.Message}");
                return ExitCodes.Usage;
            }
            if (l is null)
            {
                Console.Error.WriteLine($"libvirt-nvlink simulate-host: no built-in layout or file named '{name}'. Built-in: {string.Join(", ", BuiltInLayouts.All.Select(x => x.Name))}.");
                return ExitCodes.Usage;
            }
            if (parse.GetValue(printLayout))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(l, HostLayoutJsonContext.Default.HostLayout));
                return ExitCodes.Ok;
            }
            var dir = parse.GetValue(output)!;
            SimulatedHostWriter.Write(l, dir);
            Console.Error.WriteLine($"Wrote simulated host '{l.Name}' to {dir}. Try: libvirt-nvlink topology --host-root {dir}");
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
