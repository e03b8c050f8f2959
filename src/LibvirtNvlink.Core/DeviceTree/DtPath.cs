namespace LibvirtNvlink.DeviceTree;

public static class DtPath
{
    public static string Parent(string nodePath)
    {
        var i = nodePath.LastIndexOf('/');
        return i <= 0 ? "/" : nodePath[..i];
    }

    public static string Combine(string nodePath, string name) =>
        nodePath == "/" ? "/" + name : nodePath + "/" + name;
}
