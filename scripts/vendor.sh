#!/usr/bin/env bash
# Fetches the pinned browser libraries of assets/vendor.lock into DEST/<package>/
# (the build embeds them in the binary). Each tarball comes from `npm pack`
# and must match the lock's sha512 integrity, or nothing is extracted and the
# script fails. Already vendored and verified packages are skipped, so a
# rebuild does not touch the network.
#
#   scripts/vendor.sh DEST
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:?usage: scripts/vendor.sh DEST}
mkdir -p "$dest"
while read -r name version integrity files; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  stamp="$dest/$name/.verified"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$version $integrity" ]]; then continue; fi
  command -v npm >/dev/null || { echo "vendor.sh: npm is missing (scripts/bootstrap.sh installs it)" >&2; exit 69; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if ! (cd "$work" && npm pack --silent "$name@$version" >/dev/null 2>"$work/npm.log"); then
    echo "vendor.sh: npm pack $name@$version failed:" >&2; cat "$work/npm.log" >&2; exit 1
  fi
  tarball=$(ls "$work"/*.tgz)
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ "$got" != "$integrity" ]]; then
    echo "vendor.sh: $name@$version does not match assets/vendor.lock" >&2
    echo "  expected $integrity" >&2
    echo "  got      $got" >&2
    exit 1
  fi
  rm -rf "${dest:?}/$name"
  mkdir -p "$dest/$name"
  for f in $files; do
    tar -xzf "$tarball" -C "$work" "package/$f"
    base=$(basename "$f")
    [[ "$base" == LICENSE* ]] && base="$name.$base.txt"  # served beside the code
    cp "$work/package/$f" "$dest/$name/$base"
  done
  echo "$version $integrity" > "$stamp"
  rm -rf "$work"
  trap - EXIT
done < assets/vendor.lock
