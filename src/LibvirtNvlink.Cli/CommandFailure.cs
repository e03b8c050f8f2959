namespace LibvirtNvlink.Cli;

/// <summary>How a command that failed ends: its exit code (<see cref="ExitCodes"/>) and the one line it prints.</summary>
public sealed record CommandFailure(int ExitCode, string Message);
