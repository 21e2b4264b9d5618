#!/usr/bin/env bash
# Builds the Debian package: dist/mamori_VERSION-1_ARCH.deb
#
#   scripts/package.sh                      build build/ (Release), then package it
#   scripts/package.sh --binary PATH --out DIR   package an already built binary
#   (--no-lintian skips lintian: `lintian --fail-on error,warning` otherwise)
#
# Contents: /usr/bin/mamori (the shipped rules are compiled in), the conffile
# /etc/mamori/mamori.yaml, /etc/mamori/rules.d/ for the operator's own rules,
# the systemd unit and polkit rule, the man page, bash and zsh completions and
# the docs. The maintainer scripts create the `mamori` user and /var/lib/mamori;
# removal keeps the data, purge deletes it. Runs lintian when it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
binary="" out="$root/dist" lint=1
while (( $# )); do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-lintian) lint=0; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done
for tool in dpkg-deb dpkg-shlibdeps fakeroot gzip; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool is missing (scripts/bootstrap.sh installs it)" >&2; exit 69; }
done
if [[ -z "$binary" ]]; then
  scripts/build.sh build
  binary=build/mamori
fi
binary=$(realpath "$binary")

version=$(sed -nE 's/^project\(mamori VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)-1
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/debian/mamori
mkdir -p "$stage/DEBIAN" "$out"

install -D -m 0755 "$binary" "$stage/usr/bin/mamori"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/mamori"
install -D -m 0644 packaging/mamori.yaml "$stage/etc/mamori/mamori.yaml"
install -d -m 0755 "$stage/etc/mamori/rules.d"
install -D -m 0644 packaging/mamori.service "$stage/lib/systemd/system/mamori.service"
install -D -m 0644 packaging/50-mamori.rules "$stage/usr/share/polkit-1/rules.d/50-mamori.rules"
install -D -m 0644 packaging/mamori.1 "$stage/usr/share/man/man1/mamori.1"
gzip -9n "$stage/usr/share/man/man1/mamori.1"
install -d "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions"
"$binary" completion bash > "$stage/usr/share/bash-completion/completions/mamori"
"$binary" completion zsh > "$stage/usr/share/zsh/vendor-completions/_mamori"
doc=$stage/usr/share/doc/mamori
install -d "$doc"
install -m 0644 README.md docs/*.md "$doc/"
install -m 0644 packaging/debian/copyright "$doc/copyright"
install -D -m 0644 packaging/debian/lintian-overrides "$stage/usr/share/lintian/overrides/mamori"
{
  echo "mamori ($version) unstable; urgency=medium"
  echo
  echo "  * Package built from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
  echo
  echo " -- mamori maintainers <maintainers@mamori.example.org>  $(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n > "$doc/changelog.Debian.gz"

install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
install -m 0644 packaging/debian/conffiles "$stage/DEBIAN/"
# Library dependencies from the binary itself (dpkg-shlibdeps wants a
# debian/control beside the staged tree).
printf 'Source: mamori\n\nPackage: mamori\nArchitecture: any\n' > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O debian/mamori/usr/bin/mamori 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
# The libraries the binary opens on first use (util/lazy_library.h) are not
# NEEDED, so dpkg-shlibdeps cannot see them; the build lists them beside the
# binary (lazy_libraries.txt). Each one's dependency is the line its package
# declares in its shlibs file ("libpq 5 libpq5 (>= 15.18)"): the same
# versioned dependency dpkg-shlibdeps writes for a library without a symbols
# file, so an older library is refused by dpkg instead of failing at the
# first call.
lazy_list=$(dirname "$binary")/lazy_libraries.txt
[[ -f "$lazy_list" ]] || { echo "package.sh: $lazy_list is missing (written by cmake beside the binary)" >&2; exit 66; }
while read -r soname; do
  [[ -n "$soname" ]] || continue
  pkg=$(dpkg-query -S "*/$soname" 2>/dev/null | head -n1 | cut -d: -f1)
  [[ -n "$pkg" ]] || { echo "package.sh: no installed package holds $soname" >&2; exit 69; }
  shlibs=$(dpkg-query --control-path "$pkg" shlibs 2>/dev/null | head -n1)
  dep=""
  [[ -n "$shlibs" ]] && dep=$(awk -v name="${soname%%.so.*}" -v ver="${soname#*.so.}" \
    '$1 == name && $2 == ver { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$shlibs")
  [[ -n "$dep" ]] || { echo "package.sh: $pkg declares no shlibs line for $soname" >&2; exit 69; }
  depends+=", $dep"
done < "$lazy_list"
# Code linked into the binary rather than loaded (CMakeLists.txt,
# MAMORI_STATIC_CXX): the C++ runtime, yaml-cpp and RE2 from their archives,
# fmt and spdlog as headers. Built-Using names their source packages, so a
# security update to one of them is known to need a rebuild of mamori.
built_using=""
needed=$(readelf -d "$binary")
if [[ "$needed" != *"libstdc++"* ]]; then
  sources=()
  for file in "$(g++ -print-file-name=libstdc++.a)" /usr/include/fmt/format.h \
              /usr/include/spdlog/spdlog.h "$(g++ -print-file-name=libyaml-cpp.a)" \
              "$(g++ -print-file-name=libre2.a)"; do
    pkg=$(dpkg-query -S "$(realpath "$file")" 2>/dev/null | head -n1 | cut -d: -f1)
    [[ -n "$pkg" ]] || { echo "package.sh: no installed package holds $file" >&2; exit 69; }
    sources+=("$(dpkg-query -W -f='${source:Package} (= ${source:Version})' "$pkg")")
  done
  built_using="Built-Using: $(printf '%s\n' "${sources[@]}" | sort -u | paste -sd, | sed 's/,/, /g')"
fi
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
  packaging/debian/control.in > "$stage/DEBIAN/control"
if [[ -n "$built_using" ]]; then
  sed -i "/^Depends:/a $built_using" "$stage/DEBIAN/control"
fi
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums"

deb="$out/mamori_${version}_${arch}.deb"
fakeroot dpkg-deb -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
if (( lint )) && command -v lintian >/dev/null; then
  lintian --fail-on error,warning "$deb" >&2
fi
