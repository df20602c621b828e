#!/usr/bin/env bash
# package.sh: build the Debian package (binary only, its test step off), check it with
# lintian (errors fail; warnings and notes are printed), and move the files to OUT_DIR
# (default build-deb/) instead of leaving them beside the checkout. Installs what the
# build needs with apt-get when it is missing (root or sudo). .ci/run calls this once.
# usage: scripts/package.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-build-deb}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
tools=(debhelper dpkg-dev fakeroot lintian)
missing=()
for p in "${tools[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The Build-Depends of debian/control that are not installed yet.
if ! dpkg-checkbuilddeps >/dev/null 2>&1 || [ "${#missing[@]}" -gt 0 ]; then
    echo "package: installing the build dependencies"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${tools[@]}" >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get build-dep -y -qq ./ >/dev/null
fi

version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
changes="../xbus_${version}_${arch}.changes"
echo "package: dpkg-buildpackage -us -uc -b (xbus $version, $arch)"
dpkg-buildpackage -us -uc -b >"${TMPDIR:-/tmp}/xbus-package.log" 2>&1 || {
    tail -50 "${TMPDIR:-/tmp}/xbus-package.log" >&2
    echo "package: dpkg-buildpackage failed (whole log: ${TMPDIR:-/tmp}/xbus-package.log)" >&2
    exit 1
}
debian/rules clean >/dev/null 2>&1

# dpkg-buildpackage writes beside the checkout; take exactly what the .changes lists.
mkdir -p "$OUT"
files=$(sed -n '/^Files:/,/^[^ ]/s/^ [0-9a-f]\{32\} [0-9]\+ [^ ]\+ [^ ]\+ \(.*\)$/\1/p' "$changes")
for f in $files; do
    mv "../$f" "$OUT/"
done
mv "$changes" "$OUT/"
echo "package: $(cd "$OUT" && ls $files)"

echo "package: lintian"
lintian --fail-on error --display-info "$OUT/xbus_${version}_${arch}.changes"
echo "package: lintian found no errors"
