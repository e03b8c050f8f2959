#!/usr/bin/env bash
# Usage: scripts/package.sh [--arm64] [OUTDIR]      (default artifacts/packages)
#
# Builds, from this checkout, the packages for this machine's architecture (--arm64: for arm64, cross-compiled on
# x86-64 with clang and Debian's arm64 cross toolchain, see scripts/publish.sh):
#   libvirt-nvlink_VERSION_ARCH.deb        Debian 12 and later (NativeAOT binaries)
#   libvirt-nvlink-VERSION-RELEASE.ARCH.rpm RHEL/Fedora, from the same binaries
#   libvirt-nvlink-VERSION.tar.gz          source tarball holding the rendered spec: `rpmbuild -ta` on the target
#                                          builds x86_64, aarch64 (NativeAOT) and ppc64le (JIT + C front) there
# Layout (both packages): /usr/bin/libvirt-nvlink; the hook in /usr/lib/libvirt-nvlink/ linked from
# /etc/libvirt/hooks/qemu.d/50-libvirt-nvlink (maintainer scripts reload libvirtd); the watch unit, not enabled;
# /etc/libvirt-nvlink/config.xml (conffile); the XSDs in /usr/share/libvirt-nvlink/; man pages; bash completion.
#
# The NativeAOT publish is the expensive part (minutes of CPU): its output is cached on the machine under
# ${LIBVIRT_NVLINK_BUILD_CACHE:-/var/cache/libvirt-nvlink/publish}/RID-KEY, KEY a hash of every file the binaries
# are built from, the SDK version and the publish recipe. Needs: the .NET SDK, dpkg-dev, rpm (rpmbuild).
set -euo pipefail
cd "$(dirname "$0")/.."
arch=$(uname -m)
publish=(scripts/publish.sh)
if [ "${1:-}" = --arm64 ]; then shift; arch=aarch64; publish=(scripts/publish.sh --arm64); fi
out=${1:-artifacts/packages}
mkdir -p "$out"
out=$(realpath "$out")
case "$arch" in
  x86_64) rid=linux-x64; debarch=amd64; rpmarch=x86_64 ;;
  aarch64) rid=linux-arm64; debarch=arm64; rpmarch=aarch64 ;;
  *) echo "package: build the $(uname -m) package from the source tarball with rpmbuild -ta (JIT); .deb needs NativeAOT" >&2; exit 2 ;;
esac
for tool in dotnet dpkg-deb dpkg-shlibdeps rpmbuild; do
  command -v "$tool" >/dev/null || { echo "package: $tool is missing (scripts/install-test-deps.sh installs it)" >&2; exit 1; }
done

base=$(cat packaging/VERSION)
if git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse --short=12 HEAD)
  release="git$(git rev-list --count HEAD).$(git rev-parse --short=7 HEAD)"
  files() { git ls-files -z --cached --others --exclude-standard -- "$@" | xargs -0 -r ls -d 2>/dev/null | sort; }
else
  commit=unknown; release=1
  files() { find "$@" -type f | sort; }
fi
version=$base
debversion="$base+$release"

# The binaries, published once per content.
sources=$(files src Directory.Build.props Directory.Packages.props global.json scripts/publish.sh)
key=$( { echo "recipe=1 rid=$rid sdk=$(dotnet --version)"; printf '%s\n' "$sources" | xargs -d '\n' sha256sum; } | sha256sum | cut -c1-16)
cache=${LIBVIRT_NVLINK_BUILD_CACHE:-/var/cache/libvirt-nvlink/publish}
bin=$cache/$rid-$key
if [ ! -f "$bin/complete" ]; then
  mkdir -p "$cache"
  exec 9>"$cache/.lock-$rid-$key"
  flock 9
  if [ ! -f "$bin/complete" ]; then
    rm -rf "$bin" "$bin.tmp"
    echo "package: publishing the NativeAOT binaries (cache $bin)" >&2
    "${publish[@]}" "$bin.tmp" >/dev/null
    mv "$bin.tmp" "$bin"
    touch "$bin/complete"
  fi
  exec 9>&-
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
maintainer="LibvirtNvlink maintainers <maintainers@libvirt-nvlink.org>"

# --- Debian package ---
root=$work/deb
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/lib/libvirt-nvlink" "$root/etc/libvirt/hooks/qemu.d" \
  "$root/lib/systemd/system" "$root/etc/libvirt-nvlink" "$root/usr/share/libvirt-nvlink" \
  "$root/usr/share/bash-completion/completions" "$root/usr/share/man/man1" "$root/usr/share/man/man5" \
  "$root/usr/share/man/man8" "$root/usr/share/doc/libvirt-nvlink"
install -m 0755 "$bin/libvirt-nvlink" "$root/usr/bin/"
install -m 0755 "$bin/libvirt-nvlink-hook" "$root/usr/lib/libvirt-nvlink/"
ln -s /usr/lib/libvirt-nvlink/libvirt-nvlink-hook "$root/etc/libvirt/hooks/qemu.d/50-libvirt-nvlink"
install -m 0644 hooks/libvirt-nvlink-watch.service "$root/lib/systemd/system/"
install -m 0644 packaging/config.xml "$root/etc/libvirt-nvlink/"
install -m 0644 xml-schemas/*.xsd "$root/usr/share/libvirt-nvlink/"
install -m 0644 packaging/bash-completion "$root/usr/share/bash-completion/completions/libvirt-nvlink"
for page in packaging/man/*.[158]; do
  gzip -9n < "$page" > "$root/usr/share/man/man${page##*.}/$(basename "$page").gz"
done
install -m 0644 packaging/copyright "$root/usr/share/doc/libvirt-nvlink/copyright"
install -D -m 0644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/libvirt-nvlink"
date=$(git log -1 --format=%cD 2>/dev/null || date -R)
sed -e "s/@VERSION@/$debversion/; s/@COMMIT@/$commit/; s/@MAINTAINER@/$maintainer/; s/@DATE@/$date/" packaging/debian/changelog \
  | gzip -9n > "$root/usr/share/doc/libvirt-nvlink/changelog.gz"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
echo /etc/libvirt-nvlink/config.xml > "$root/DEBIAN/conffiles"
# Library dependencies of the binaries, as dpkg-shlibdeps finds them (it wants a debian/control to run in).
mkdir -p "$work/shlibs/debian"
printf 'Source: libvirt-nvlink\n\nPackage: libvirt-nvlink\nArchitecture: any\n' > "$work/shlibs/debian/control"
if [ "$arch" = "$(uname -m)" ]; then
  shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$root/usr/bin/libvirt-nvlink" "$root/usr/lib/libvirt-nvlink/libvirt-nvlink-hook" \
    | sed -n 's/^shlibs:Depends=//p')
else
  # Cross-built: this machine has no $debarch libc for dpkg-shlibdeps to look up. The binaries need libc6 (they link
  # libc, libm, ld.so only) at the newest glibc symbol version they use.
  glibc=$(aarch64-linux-gnu-objdump -T "$root/usr/bin/libvirt-nvlink" "$root/usr/lib/libvirt-nvlink/libvirt-nvlink-hook" \
    | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
  shlibs="libc6 (>= $glibc)"
fi
# libvirt0: the CLI opens libvirt.so.0 at run time (define, check, apply, watch), which dpkg-shlibdeps cannot see;
# init-system-helpers: deb-systemd-invoke in the maintainer scripts.
depends="$shlibs, libvirt0, init-system-helpers (>= 1.52)"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$debversion/; s/@ARCH@/$debarch/; s/@SIZE@/$size/; s/@DEPENDS@/$depends/; s/@MAINTAINER@/$maintainer/" \
  packaging/debian/control > "$root/DEBIAN/control"
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
deb=$out/libvirt-nvlink_${debversion}_$debarch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null

# --- Source tarball with the rendered spec, and the RPM built from it with the same binaries ---
src=$work/libvirt-nvlink-$version
mkdir -p "$src"
files src hooks packaging xml-schemas scripts Directory.Build.props Directory.Packages.props global.json README.md \
  | grep -v '^packaging/rpm/' | xargs -d '\n' cp --parents -t "$src"
changelog_date=$(LC_ALL=C date -d "$date" '+%a %b %d %Y')
sed -e "s/@VERSION@/$version/; s/@RELEASE@/$release/; s/@COMMIT@/$commit/; s/@CHANGELOG_DATE@/$changelog_date/" \
  packaging/rpm/libvirt-nvlink.spec > "$src/libvirt-nvlink.spec"
tarball=$out/libvirt-nvlink-$version.tar.gz
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$date" -cf - "libvirt-nvlink-$version" | gzip -9n > "$tarball"
rpmbuild -ta "$tarball" --target "$rpmarch" --nodeps --define "_topdir $work/rpm" --define "prebuilt $bin" \
  --define "_build_id_links none" >"$work/rpmbuild.log" 2>&1 || { tail -n 30 "$work/rpmbuild.log" >&2; exit 1; }
cp "$work/rpm/RPMS/$rpmarch/"libvirt-nvlink-*.rpm "$out/"
ls -1 "$deb" "$out"/libvirt-nvlink-"$version"-"$release".*.rpm "$tarball"
