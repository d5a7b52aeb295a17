#!/bin/sh
# clean.sh removes what a killed lab run left behind: network namespaces
# named wgplab-* (after killing the processes inside them) and the lab's
# scratch directories in $TMPDIR. Normal runs clean up after themselves;
# use this only after a test binary was killed (e.g. by -timeout), and
# never while a lab run is in progress.
set -eu
for ns in $(ip netns list | awk '$1 ~ /^wgplab-/ {print $1}'); do
	for pid in $(ip netns pids "$ns"); do
		kill -9 "$pid" 2>/dev/null || true
	done
	ip netns del "$ns"
	echo "deleted namespace $ns"
done
tmp=${TMPDIR:-/tmp}
for d in "$tmp"/wgplab-*; do
	[ -d "$d" ] || continue
	rm -rf "$d"
	echo "removed $d"
done
