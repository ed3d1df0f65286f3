#!/usr/bin/env bash
# Prints a Debian version for the current tree: the latest vX.Y.Z tag (or
# 0.1.0), then +git<commits>.<hash> when HEAD is past it, ~dirty when the
# tree has changes.
set -euo pipefail
cd "$(dirname "$0")/../.."
base=0.1.0 extra=""
if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
  base=${tag#v}
  n=$(git rev-list --count "$tag"..HEAD)
  [ "$n" -gt 0 ] && extra="+git$n.$(git rev-parse --short HEAD)"
elif git rev-parse HEAD >/dev/null 2>&1; then
  extra="+git$(git rev-list --count HEAD).$(git rev-parse --short HEAD)"
fi
[ -n "$(git status --porcelain 2>/dev/null)" ] && extra="$extra~dirty"
echo "$base$extra"
