#!/bin/sh
# Installs the Debian packages listed in the given files (default: tools/debian-packages) that
# are not installed yet, with apt-get (through sudo when not root). Does nothing when all are.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here/debian-packages"
missing=
for pkg in $(cat "$@" | sed 's/#.*//'); do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -n "$missing" ] || exit 0
echo "dyn: installing Debian packages:$missing" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >&2
