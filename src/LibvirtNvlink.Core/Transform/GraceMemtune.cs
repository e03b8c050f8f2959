using LibvirtNvlink.Domain;
using LibvirtNvlink.Memlock;
using LibvirtNvlink.Topology;

namespace LibvirtNvlink.Transform;

/// <summary>
/// --memlock for Grace domains: the requirement (<see cref="GraceMemlock"/>) is computed on the transformed XML, as
/// libvirt will get it — an added &lt;iommu&gt; or iommufd changes both libvirt's factor and what is pinned — with
/// the host's kernel release. auto writes it exactly when libvirt's own figure falls short; write always.
/// </summary>
internal static class GraceMemtune
{
    public static bool Apply(DomainDefinition d, HostTopology host, TransformOptions options, List<string> messages)
    {
        if (options.Memlock == MemlockMode.Never)
        {
            messages.Add("memlock: --memlock never: <memtune> left alone.");
            return false;
        }
        var target = options.Target;
        var r = GraceMemlock.Compute(d, host, target.Version, host.KernelRelease);
        var what = $"Grace: {r.Term("ramCopies")} x guest RAM + {r.Term("barCopies")} x {r.Term("graceBarKiB")} KiB of BARs + 1 GiB";
        if (options.Memlock == MemlockMode.Auto)
        {
            if (!target.IsKnown)
            {
                messages.Add($"memlock: the target libvirt version is unknown ({target.Source}), so the Grace requirement is written as <hard_limit> to be safe; " +
                             "pass --libvirt-version to decide otherwise.");
            }
            else if (!r.HardLimitNeeded)
            {
                messages.Add($"memlock: {r.Why}; no <hard_limit> written (--memlock auto).");
                return false;
            }
            else
            {
                messages.Add($"memlock: with libvirt {target.Version}, {r.Why}: written as <hard_limit>.");
            }
        }
        return MemtuneEdit.Write(d, () => TransformRecord.FindOrCreate(d.Root), r.NeedKiB, what, messages);
    }
}
