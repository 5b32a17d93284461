#!/bin/sh
# Compares vakt's durable ingest, tamper evidence on, with Tessera (transparency-dev/tessera,
# POSIX driver) on the same machine and the very same entries.
#
#   bench/compare-tessera.sh [entries] [workdir]
#
# Both logs get one million compact synthetic entries (about 520 bytes each) by default. vakt is
# fed through its HTTP API by `vakt bench ingest --file` (which also runs it with the tree off);
# Tessera is fed in-process by bench/tessera with batches of 1024 and 2048 concurrent adders,
# the fastest settings we found for it here. Each promise is the same: an entry counts when it
# is durable. Dirty pages are flushed between runs; each side reports the median of three.
set -eu
n=${1:-1000000}
work=${2:-$(mktemp -d)}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
echo "building vakt and tessera-bench..."
(cd "$here" && go build -o "$work/vakt" ./cmd/vakt)
(cd "$here/bench/tessera" && go build -o "$work/tessera-bench" .)
echo "generating $n compact entries..."
"$work/vakt" gen --compact --entries "$n" --days 30 > "$work/entries.ndjson"
sync
echo "== vakt (HTTP API, tree on and off)"
"$work/vakt" bench ingest --file "$work/entries.ndjson" --dir "$work/vakt-data" --baselines=false
sync
echo "== tessera (in-process), three runs"
rates=""
for run in 1 2 3; do
	rm -rf "$work/tessera-log"
	sync
	out=$("$work/tessera-bench" -in "$work/entries.ndjson" -dir "$work/tessera-log" -batch 1024 -adders 2048 -max-age 100ms 2>/dev/null)
	echo "$out"
	rates="$rates $(echo "$out" | sed -n 's/.*: \([0-9]*\) entries\/s.*/\1/p')"
done
rm -rf "$work/tessera-log"
echo "tessera median: $(echo $rates | tr ' ' '\n' | sort -n | sed -n 2p) entries/s"
