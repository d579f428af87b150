/* SPDX-License-Identifier: MIT */
/*
 * bench_latency - latency from the producer's call to the archive write
 * completing, at a fixed rate.
 *
 * A producer thread emits bench.order events at --rate per second; each
 * event's `n` field holds CLOCK_REALTIME (ns) read just before the call.
 * A follower thread watches the archive directory with inotify
 * (IN_MODIFY fires when a write to the file completes), reads the bytes
 * that appeared, decodes them with msgpack-c, and for every event (single
 * or in a batch, docs/FORMAT.md) computes (time the bytes were seen) - n.
 * Both clocks are the same CLOCK_REALTIME of one host, so no conversion is
 * involved. What it measures: hb_event -> ring -> collector drain ->
 * encode -> write completion -> inotify wakeup of a reader (the last step
 * adds a few microseconds).
 *
 * The directory may be a fleet archive's FLEETDIR/<host>/<bus> that
 * hbsink writes from what hbship shipped of the host's archive: it may not
 * exist yet (it is waited for), and the events then also went through
 * hbship -> NATS JetStream -> hbsink. --name names the figures (default
 * "lat": lat.p50...), --linger how long the follower waits after the
 * producer's end for the events still on their way (default 3 s).
 *
 *   bench_latency --bus B --dir DIR [--rate R] [--seconds S] [--name N] [--linger S]
 */
#include "hb.h"
#include "bench_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <msgpack.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/inotify.h>
#include <unistd.h>

static const char *bus = "bench", *dir, *name = "lat";
static double rate = 100000, seconds = 5, linger = 3;
static atomic_ullong emitted;   /* committed events */
static atomic_int producer_done;
static double *lat;
static size_t nlat, caplat;

static char syms[64][8];

static void *producer_main(void *arg)
{
	static const struct hb_field fields[] = {
		{"n", HB_T_I64}, {"px", HB_T_F64}, {"sym", HB_T_STR}};
	struct hb_config cfg = {.bus = bus, .name = "blat-0"};
	struct hb_producer *p;
	struct bench_pace pc = {.rate = rate};
	uint64_t k = 0, end, ok = 0;
	int type;

	(void)arg;
	bench_pin(0);
	if (hb_open(&p, &cfg) < 0 || (type = hb_type_register(p, "bench.order", fields, 3)) < 0) {
		fprintf(stderr, "bench_latency: cannot open a producer\n");
		exit(1);
	}
	pc.start_ns = bench_mono_ns();
	end = pc.start_ns + (uint64_t)(seconds * 1e9);
	while (bench_mono_ns() < end) {
		uint64_t due = bench_pace_due(&pc);

		for (uint64_t i = 0; i < due; i++, k++)
			ok += hb_event(p, type, HB_PRIO_NORMAL, k + 1, HB_I64(bench_real_ns()),
				       HB_F64((double)k * 0.25), HB_STR(syms[k & 63])) == 0;
		pc.sent = k;
		hb_tick(p);
	}
	atomic_store(&emitted, ok);
	hb_close(p);
	atomic_store(&producer_done, 1);
	return NULL;
}

/* Newest hb-*.msgpack in dir (names sort by time), or "" */
static void newest_file(char *out, size_t len)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char best[256] = "";

	if (d) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "hb-", 3) && strstr(de->d_name, ".msgpack") &&
			    strcmp(de->d_name, best) > 0)
				snprintf(best, sizeof(best), "%s", de->d_name);
		closedir(d);
	}
	snprintf(out, len, "%s", best);
}

static void note_latency(const msgpack_object *n, uint64_t seen_ns)
{
	if (n->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return;
	if (nlat == caplat) {
		caplat = caplat ? caplat * 2 : 1 << 20;
		lat = realloc(lat, caplat * sizeof(*lat));
	}
	lat[nlat++] = ((double)seen_ns - (double)n->via.u64) / 1000.0;
}

/* An event [1, p, seq, ts, type, prio, req, n, ...] or a batch
 * [3, p, seq0, ts0, [dt, type, prio, req, n, ...]...] (format 2.0): the
 * latency of every event, from its own n. */
static void note_object(const msgpack_object *o, uint64_t seen_ns)
{
	const msgpack_object *a = o->via.array.ptr;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 5 ||
	    a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return;
	if (a[0].via.u64 == 1 && o->via.array.size >= 8)
		note_latency(&a[7], seen_ns);
	if (a[0].via.u64 != 3)
		return;
	for (uint32_t i = 4; i < o->via.array.size; i++)
		if (a[i].type == MSGPACK_OBJECT_ARRAY && a[i].via.array.size >= 5)
			note_latency(&a[i].via.array.ptr[4], seen_ns);
}

/* Reads what appeared in fd since *off and decodes it. */
static void drain_file(int fd, off_t *off, msgpack_unpacker *u, msgpack_unpacked *res)
{
	uint64_t seen = bench_real_ns();
	ssize_t n;

	for (;;) {
		if (!msgpack_unpacker_reserve_buffer(u, 1 << 16))
			abort();
		n = pread(fd, msgpack_unpacker_buffer(u), 1 << 16, *off);
		if (n <= 0)
			break;
		*off += n;
		msgpack_unpacker_buffer_consumed(u, (size_t)n);
		while (msgpack_unpacker_next(u, res) == MSGPACK_UNPACK_SUCCESS)
			note_object(&res->data, seen);
	}
}

static void follow(void)
{
	char cur[256] = "", path[4096], buf[4096];
	msgpack_unpacker u;
	msgpack_unpacked res;
	off_t off = 0;
	uint64_t quit_at = 0;
	int ifd, fd = -1;
	struct pollfd pfd;

	msgpack_unpacker_init(&u, 1 << 20);
	msgpack_unpacked_init(&res);
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	/* a fleet tree's directory appears with the first message written */
	while (ifd >= 0 && inotify_add_watch(ifd, dir, IN_MODIFY | IN_CREATE) < 0) {
		if (errno != ENOENT || atomic_load(&producer_done))
			break;
		usleep(1000);
	}
	if (ifd < 0 || inotify_add_watch(ifd, dir, IN_MODIFY | IN_CREATE) < 0) {
		perror("bench_latency: inotify");
		exit(1);
	}
	pfd.fd = ifd;
	pfd.events = POLLIN;
	for (;;) {
		char nf[256];

		poll(&pfd, 1, 100);
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
		if (fd >= 0)
			drain_file(fd, &off, &u, &res);
		newest_file(nf, sizeof(nf));
		if (nf[0] && strcmp(nf, cur)) {
			if (fd >= 0)
				close(fd);
			snprintf(cur, sizeof(cur), "%s", nf);
			snprintf(path, sizeof(path), "%s/%s", dir, cur);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			off = 0;
			msgpack_unpacker_destroy(&u);
			msgpack_unpacker_init(&u, 1 << 20);
			if (fd >= 0)
				drain_file(fd, &off, &u, &res);
		}
		if (atomic_load(&producer_done)) {
			if (nlat >= atomic_load(&emitted))
				break;
			if (!quit_at)
				quit_at = bench_mono_ns() + (uint64_t)(linger * 1e9);
			else if (bench_mono_ns() > quit_at)
				break;
		}
	}
	if (fd >= 0)
		close(fd);
	close(ifd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bus", 1, 0, 'b'}, {"dir", 1, 0, 'D'}, {"rate", 1, 0, 'r'}, {"seconds", 1, 0, 'S'},
		{"name", 1, 0, 'n'}, {"linger", 1, 0, 'L'}, {0, 0, 0, 0}};
	char key[64];
	pthread_t th;
	int c, i;

	for (i = 0; i < 64; i++)
		snprintf(syms[i], sizeof(syms[i]), "s%d", i);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': bus = optarg; break;
		case 'D': dir = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 'S': seconds = atof(optarg); break;
		case 'n': name = optarg; break;
		case 'L': linger = atof(optarg); break;
		default: return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "bench_latency: --dir is required\n");
		return 2;
	}
	bench_pin(0);
	pthread_create(&th, NULL, producer_main, NULL);
	follow();
	pthread_join(th, NULL);
#define KEY(what) (snprintf(key, sizeof(key), "%s." what, name), key)
	bench_result(KEY("events"), (double)nlat, "events");
	bench_result(KEY("missing"), (double)atomic_load(&emitted) - (double)nlat, "events");
	if (nlat) {
		bench_result(KEY("p50"), bench_quantile(lat, nlat, 0.5, 0), "us");
		bench_result(KEY("p99"), bench_quantile(lat, nlat, 0.99, 1), "us");
		bench_result(KEY("p999"), bench_quantile(lat, nlat, 0.999, 1), "us");
		bench_result(KEY("max"), lat[nlat - 1], "us");
	}
#undef KEY
	return 0;
}
