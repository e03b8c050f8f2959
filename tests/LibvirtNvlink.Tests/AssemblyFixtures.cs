[assembly: AssemblyFixture(typeof(LibvirtNvlink.Tests.TestRunTempCleanup))]
