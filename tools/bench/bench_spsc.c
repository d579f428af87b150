/* SPDX-License-Identifier: MIT */
/*
 * bench_spsc - the raw shared-memory SPSC reference: the least a consumer on
 * one core must do to take the bench's records from a producer on the other
 * core, with nothing of hb in between. The producer thread writes records
 * of the bench event's size and layout (72 bytes: the 24-byte header, req,
 * tags, three slots and an 8-byte string) into a ring in a POSIX shm object,
 * publishing head with a release store after each record as hb does. The
 * consumer thread loads head once per batch (acquire), reads each record's
 * length, copies the record into a 1 MiB buffer of its own (the bytes cross
 * the cores here) and releases tail once per batch of up to 4096 records;
 * a batch that found fewer (it caught up) is followed by a 20 us sleep, so
 * that polling head does not take the line from the producer at every
 * record (TECHNIQUES.md, the cross-core handoff).
 * No validation, no encoding, no write(2): what is left is the cross-core
 * copy of the bytes, the physical limit the collector's drain compares with.
 *
 *   bench_spsc [--ring-kb K (default 32768)] [--seconds S] [--cpu C]
 *              [--drain-cpu C] [--label L]
 *
 * Prints RESULT lines L.rate (records/s moved over the timed second(s),
 * after a 0.2 s warm-up), L.ns (wall ns per record of the pair), L.copy_ns
 * (the consumer's time awake per record: what taking a record across the
 * cores costs the consuming core, to set beside the collector's CPU per
 * record) and
 * L.empty_pct (share of the consumer's batches that caught up with head:
 * near 0 when the consumer is the bound, high when the producer is).
 */
#include "bench_util.h"

#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#define REC_LEN 72
#define BATCH_MAX 4096
#define OUT_SIZE (1u << 20)

struct ring {
	_Alignas(64) _Atomic uint64_t head; /* producer's, R1 */
	_Alignas(64) _Atomic uint64_t tail; /* consumer's, R2 */
	_Alignas(64) uint8_t data[];
};

static struct ring *ring;
static uint64_t size, mask;
static atomic_int stop;
static int pcpu = 0, ccpu = 1;

static void *producer(void *arg)
{
	uint64_t head = 0, tail = 0, k = 0;

	(void)arg;
	bench_pin(pcpu);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t w[REC_LEN / 8] = {REC_LEN | 1ull << 32, k, k * 3, k + 1, 0x050301,
					   k, k * 4, 2, 0x3231};
		uint8_t *p;

		if (head + REC_LEN - tail > size) {
			/* A2: pairs with R2 in the consumer: the bytes before tail are free */
			tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
			if (head + REC_LEN - tail > size) {
				_mm_pause();
				continue;
			}
		}
		p = ring->data + (head & mask);
		memcpy(p, w, REC_LEN);
		head += REC_LEN;
		k++;
		/* R1: the record is written; pairs with A1 in the consumer */
		atomic_store_explicit(&ring->head, head, memory_order_release);
	}
	return NULL;
}

struct cons {
	double seconds;
	uint64_t records, loads, empty, ns, busy_ns;
};

static void *consumer(void *arg)
{
	struct cons *c = arg;
	uint8_t *out = aligned_alloc(64, OUT_SIZE);
	uint64_t cur = 0, o = 0, t0, t1, end, n0 = 0, l0 = 0, e0 = 0, n = 0, loads = 0, empty = 0;
	uint64_t busy = 0, b0 = 0, tb = bench_mono_ns();
	int measuring = 0;

	bench_pin(ccpu);
	memset(out, 0, OUT_SIZE);
	t0 = bench_mono_ns();
	end = t0 + 200000000ull; /* warm-up: the ring fills, the consumer is the bound */
	for (;;) {
		/* A1: pairs with R1 in the producer */
		uint64_t head = atomic_load_explicit(&ring->head, memory_order_acquire), k;
		uint64_t now;

		loads++;
		for (k = 0; cur != head && k < BATCH_MAX; k++) {
			const uint8_t *r = ring->data + (cur & mask);
			uint32_t len;

			memcpy(&len, r, 4);
			if (len != REC_LEN)
				abort(); /* the reference has one record size */
			if (o + len > OUT_SIZE)
				o = 0;
			memcpy(out + o, r, REC_LEN);
			o += len;
			cur += len;
			n++;
		}
		/* R2: every byte before cur is copied; pairs with A2 */
		atomic_store_explicit(&ring->tail, cur, memory_order_release);
		if (k < BATCH_MAX) {
			empty++; /* caught up: let the producer run, as the collector does */
			now = bench_mono_ns();
			busy += now - tb;
			bench_sleep_ns(20000);
			tb = bench_mono_ns();
		}
		if ((loads & 63) != 0)
			continue;
		now = bench_mono_ns();
		if (now < end)
			continue;
		if (measuring)
			break;
		measuring = 1;
		busy += now - tb;
		tb = now;
		n0 = n, l0 = loads, e0 = empty, b0 = busy;
		t0 = now;
		end = now + (uint64_t)(c->seconds * 1e9);
	}
	t1 = bench_mono_ns();
	busy += t1 - tb;
	c->busy_ns = busy - b0;
	c->records = n - n0;
	c->loads = loads - l0;
	c->empty = empty - e0;
	c->ns = t1 - t0;
	atomic_store(&stop, 1);
	if (out[o ? o - 1 : 0] == 0xff)
		printf("#\n"); /* keeps the copies */
	free(out);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"ring-kb", 1, 0, 'K'}, {"seconds", 1, 0, 'S'},
					     {"cpu", 1, 0, 'c'},     {"drain-cpu", 1, 0, 'd'},
					     {"label", 1, 0, 'l'},   {0, 0, 0, 0}};
	const char *label = "spsc";
	struct cons c = {.seconds = 1};
	unsigned ring_kb = 32768;
	char name[64], key[96];
	pthread_t pt, ct;
	size_t map;
	int fd, o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'K': ring_kb = (unsigned)atoi(optarg); break;
		case 'S': c.seconds = atof(optarg); break;
		case 'c': pcpu = atoi(optarg); break;
		case 'd': ccpu = atoi(optarg); break;
		case 'l': label = optarg; break;
		default: return 2;
		}
	}
	if (ring_kb < 4 || (ring_kb & (ring_kb - 1)) || c.seconds <= 0)
		return 2;
	size = (uint64_t)ring_kb * 1024;
	mask = size - 1;
	map = sizeof(struct ring) + size;
	snprintf(name, sizeof(name), "/hbb-spsc.%d", (int)getpid());
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)map) < 0) {
		perror("bench_spsc: shm");
		return 1;
	}
	ring = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	shm_unlink(name);
	close(fd);
	if (ring == MAP_FAILED) {
		perror("bench_spsc: mmap");
		return 1;
	}
	memset(ring, 0, map); /* every page present before the clock starts */
	pthread_create(&ct, NULL, consumer, &c);
	pthread_create(&pt, NULL, producer, NULL);
	pthread_join(ct, NULL);
	pthread_join(pt, NULL);
	snprintf(key, sizeof(key), "%s.rate", label);
	bench_result(key, (double)c.records * 1e9 / (double)c.ns, "records/s");
	snprintf(key, sizeof(key), "%s.ns", label);
	bench_result(key, c.records ? (double)c.ns / (double)c.records : 0, "ns");
	snprintf(key, sizeof(key), "%s.copy_ns", label);
	bench_result(key, c.records ? (double)c.busy_ns / (double)c.records : 0, "ns");
	snprintf(key, sizeof(key), "%s.empty_pct", label);
	bench_result(key, c.loads ? 100.0 * (double)c.empty / (double)c.loads : 0, "%");
	munmap(ring, map);
	return 0;
}
