#!/usr/bin/env bash
# The Nova compute driver's tests (src/nova-libvirt-nvlink), run against the package as an operator installs it:
# a wheel built from pyproject.toml, installed with pip the Debian way (DEB_PYTHON_INSTALL_LAYOUT=deb_system,
# prefix /usr) into a temporary root, then seen by Debian's Python through a copy of Nova's package directory
# that holds the installed nova/virt/libvirt_nvlink beside Nova's own drivers. Nova imports its driver as
# nova.virt.<compute_driver> from that one directory, so a source tree on PYTHONPATH would prove nothing.
# Needs the CLI built (scripts/test.sh builds the solution first). Ends with 'N passed, N failed, N skipped'.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# Debian's own interpreter: the one python3-nova is installed for (a pyenv or venv python3 on PATH is not).
python=/usr/bin/python3
work=$(mktemp -d /tmp/lvn-nova-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "test-nova: $*" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

nova_site=$("$python" -c 'import os, nova; print(os.path.dirname(os.path.dirname(nova.__file__)))') \
  || fail "Debian's python3-nova is not importable by $python (scripts/install-test-deps.sh installs it)"
cli="$repo/src/LibvirtNvlink.Cli/bin/Release/net10.0/libvirt-nvlink"
[ -x "$cli" ] || fail "$cli is missing: build src/LibvirtNvlink.Cli -c Release first"

# Build and install exactly as docs/nova.md tells an operator (pip works on a copy: it writes build/ and
# *.egg-info next to the sources).
cp -r src/nova-libvirt-nvlink "$work/src"
"$python" -m pip wheel --quiet --no-deps --no-build-isolation --no-index -w "$work/dist" "$work/src" >"$work/pip.log" 2>&1 \
  || { cat "$work/pip.log" >&2; fail "building the wheel failed"; }
DEB_PYTHON_INSTALL_LAYOUT=deb_system "$python" -m pip install --quiet --no-deps --no-index --no-warn-script-location \
  --root "$work/root" --prefix /usr "$work"/dist/*.whl >"$work/pip.log" 2>&1 \
  || { cat "$work/pip.log" >&2; fail "installing the wheel failed"; }
installed="$work/root$nova_site/nova/virt/libvirt_nvlink"
[ -f "$installed/driver.py" ] || fail "the wheel did not install into Nova's own directory $nova_site/nova/virt: $(cd "$work/root" && find . -name driver.py)"
[ ! -e "$work/root$nova_site/nova/__init__.py" ] && [ ! -e "$work/root$nova_site/nova/virt/__init__.py" ] \
  || fail "the wheel ships nova/__init__.py or nova/virt/__init__.py, which would replace Nova's"

# $site/nova is Nova's package directory as it is after that install on the real system: every entry of Nova's
# own (symlinked), and in virt/ the installed driver package beside Nova's drivers.
site="$work/site"
mkdir -p "$site/nova/virt"
for e in "$nova_site"/nova/*; do [ "$(basename "$e")" = virt ] || ln -s "$e" "$site/nova/"; done
for e in "$nova_site"/nova/virt/*; do ln -s "$e" "$site/nova/virt/"; done
ln -s "$installed" "$site/nova/virt/libvirt_nvlink"
cp -r "$work/root$nova_site"/nova_libvirt_nvlink-*.dist-info "$site/"

# Nova's functional harness loads the API from a paste file a source tree has and python3-nova does not; it
# comes from Debian's nova-common package (downloaded, not installed: its scripts set up a real service),
# cached on the machine keyed by its version.
version=$(dpkg-query -W -f='${Version}' python3-nova)
cache_root=/var/cache/libvirt-nvlink
[ -w /var/cache ] || cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/libvirt-nvlink"
cache="$cache_root/nova-common-${version//[:~]/_}"
paste="$cache/usr/share/nova-common/api-paste.ini"
if [ ! -f "$paste" ]; then
  mkdir -p "$work/deb" "$cache.tmp" && (cd "$work/deb" && apt-get download -qq "nova-common=$version" >/dev/null 2>&1) \
    && dpkg-deb -x "$work"/deb/nova-common_*.deb "$cache.tmp" && rm -rf "$cache" && mv "$cache.tmp" "$cache" \
    || fail "could not fetch nova-common=$version for its api-paste.ini"
fi

log="$work/tests.log"
(cd "$work" && LIBVIRT_NVLINK_CLI="$cli" LIBVIRT_NVLINK_NOVA_API_PASTE="$paste" PYTHONPATH="$site" \
  "$python" "$repo/src/nova-libvirt-nvlink/tests/run.py" ${NOVA_TEST_PATTERN:-}) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
counts=$(grep -E '^nova tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
[ -n "$counts" ] || fail "the test runner printed no counts (exit $rc)"
read -r passed failed skipped < <(echo "$counts" | grep -oE '[0-9]+' | tr '\n' ' ')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
