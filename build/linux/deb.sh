#!/usr/bin/env bash
# Builds the Debian package of the desktop app from a Wails-built binary:
#   build/linux/deb.sh BINARY VERSION OUTDIR
# It holds the binary, the desktop entry, the icon in the hicolor sizes, the
# AppStream metainfo, a man page and the copyright file; Depends comes from
# the binary's shared libraries (dpkg-shlibdeps: libgtk-3-0,
# libwebkit2gtk-4.1-0, …) and a Secret Service provider is recommended.
# VERSION is a Debian version (build/linux/debversion.sh makes one from git).
# Prints the path of the .deb.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 version=$2 out=$3
[ -x "$bin" ] || { echo "deb: $bin is not an executable" >&2; exit 1; }
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || { echo "deb: $version is not a Debian version" >&2; exit 1; }
arch=$(dpkg --print-architecture)
name=modconsole
maint="modconsole developers <maintainers@modconsole.invalid>"
date=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")
day=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%F)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root="$tmp/root"
install -D -m 0755 "$bin" "$root/usr/bin/$name"
install -D -m 0644 "$here/$name.desktop" "$root/usr/share/applications/$name.desktop"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$day/" "$here/$name.metainfo.xml" >"$tmp/metainfo.xml"
install -D -m 0644 "$tmp/metainfo.xml" "$root/usr/share/metainfo/$name.metainfo.xml"
(cd "$here/icons" && find hicolor -name "$name.png") | while read -r icon; do
  install -D -m 0644 "$here/icons/$icon" "$root/usr/share/icons/$icon"
done
install -d -m 0755 "$root/usr/share/man/man1"
gzip -9n <"$here/$name.1" >"$root/usr/share/man/man1/$name.1.gz"
install -D -m 0644 "$here/copyright" "$root/usr/share/doc/$name/copyright"
printf '%s (%s) unstable; urgency=medium\n\n  * Built from the source tree at this version.\n\n -- %s  %s\n' \
  "$name" "$version" "$maint" "$date" | gzip -9n >"$root/usr/share/doc/$name/changelog.gz"
chmod 0644 "$root/usr/share/man/man1/$name.1.gz" "$root/usr/share/doc/$name/changelog.gz"

# Depends from the libraries the binary links (dpkg-shlibdeps wants a
# debian/control beside it).
mkdir -p "$tmp/src/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$name" "$name" >"$tmp/src/debian/control"
depends=$(cd "$tmp/src" && dpkg-shlibdeps -O -e"$root/usr/bin/$name" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
for lib in libgtk-3-0 libwebkit2gtk-4.1-0; do
  [[ "$depends" == *"$lib"* ]] || { echo "deb: $bin does not link $lib: not a Wails build with -tags webkit2_41?" >&2; exit 1; }
done

size=$(du -sk --apparent-size "$root" | cut -f1)
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $arch
Maintainer: $maint
Installed-Size: $size
Depends: $depends
Recommends: gnome-keyring | kwalletmanager | keepassxc
Section: net
Priority: optional
Description: moderation console for live-stream chat
 Watch several channels on several live-stream platforms at once, let
 auto-moderation rules hold suspicious messages in per-channel queues, and
 ban, time out, delete, pin and announce from there.
 .
 A desktop app (GTK and WebKitGTK); the same interface also runs in a
 browser (modconsole serve). Platform tokens are kept in the system keyring
 through the Secret Service, hence the recommended provider.
CONTROL
(cd "$root" && find usr -type f -print0 | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"
mkdir -p "$out"
deb="$out/${name}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
