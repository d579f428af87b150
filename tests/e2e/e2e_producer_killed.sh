#!/usr/bin/env bash
# A producer process is SIGKILLed: the collector drains what it committed,
# records it as crashed and removes its shm object.
set -euo pipefail
source "$(dirname "$0")/common.bash"
hb_need hbcollect hbload hbcat

# ringpeek SHM: prints the ring's counters and the seq of the last record
# committed but not yet released by the collector (from the header in hb.h).
cat >"$T/ringpeek.c" <<'C'
#include <fcntl.h>
#include <hb.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct stat st;
	int fd = argc > 1 ? shm_open(argv[1], O_RDONLY, 0) : -1;

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror("ringpeek");
		return 1;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("ringpeek: mmap");
		return 1;
	}
	struct hb_ring_hdr *h = m;
	const uint8_t *data = (const uint8_t *)m + h->hdr_size;
	uint64_t head = atomic_load(&h->head), tail = atomic_load(&h->tail);
	int64_t last = (int64_t)atomic_load(&h->persisted_seq) - 1;

	for (uint64_t pos = tail; pos < head;) {
		const struct hb_rec *r = (const void *)(data + (pos & (h->data_size - 1)));
		if (r->len == 0 || r->len % 8) {
			fprintf(stderr, "ringpeek: bad record length %u at %" PRIu64 "\n", r->len, pos);
			return 1;
		}
		if (r->kind != HB_REC_PAD)
			last = (int64_t)r->seq;
		pos += r->len;
	}
	printf("seq=%" PRIu64 " dropped=%" PRIu64 " tail=%" PRIu64 " head=%" PRIu64 " last=%" PRId64
	       "\n", atomic_load(&h->seq), atomic_load(&h->dropped), tail, head, last);
	return 0;
}
C
cc -std=gnu11 -O1 -I"$ROOT/include" -o "$T/ringpeek" "$T/ringpeek.c" || hb_fail "cannot build ringpeek"

dir="$T/archive"
hb_collector_start "$dir"
hb_spawn "$T/load.out" "$T/load.err" "$BIN/hbload" --bus "$BUS" --producers 1 \
	--seconds 30 --rate 1000 --json
load_pid=$!
ring_exists() { compgen -G "/dev/shm/hb.$BUS.load-0.$load_pid.*" >/dev/null; }
hb_wait_for 20 "the ring of load-0 in /dev/shm" ring_exists
shm=$(basename "$(compgen -G "/dev/shm/hb.$BUS.load-0.$load_pid.*" | head -n 1)")
sleep 2

# freeze the collector so the ring can be read at rest, then kill the producer
kill -STOP "$COLLECTOR_PID"
kill -KILL "$load_pid"
wait "$load_pid" 2>/dev/null || true # reap it: a zombie still looks alive
peek=$("$T/ringpeek" "/$shm") || {
	kill -CONT "$COLLECTOR_PID"
	hb_fail "cannot read the ring $shm"
}
kill -CONT "$COLLECTOR_PID"
hb_log "ring at the kill: $peek"
last=$(sed -n 's/.* last=\(-\?[0-9]*\).*/\1/p' <<<"$peek")
dropped=$(sed -n 's/.* dropped=\([0-9]*\).*/\1/p' <<<"$peek")
[ "$last" -ge 100 ] || hb_fail "only $((last + 1)) records before the kill"
[ "$dropped" -eq 0 ] || hb_log "note: the producer dropped $dropped records"

hb_wait_for 30 "the collector to remove /dev/shm/$shm" test ! -e "/dev/shm/$shm"
hb_log "ring removed"
hb_collector_stop

"$BIN/hbcat" -o json "$dir" >"$T/records.jsonl" 2>"$T/hbcat.err" ||
	hb_fail "hbcat exited $?: $(tail -n 5 "$T/hbcat.err")"
grep '"k":"state"' "$T/records.jsonl" >&2 || true
"$PY" "$E2E/check_load.py" "$T/records.jsonl" --expect "load-0:$last" --state load-0:crashed
echo "ok"
