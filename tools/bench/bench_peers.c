/* SPDX-License-Identifier: MIT */
/*
 * bench_peers - per-call cost of the usual alternatives to hb for the same
 * record (a type, a priority, a request id, an i64, an f64, a short string),
 * measured exactly like bench_hb (bench_util.h: batches and single calls,
 * consumer on the other core):
 *
 *   pipe   - snprintf a text line + write(2) to a pipe; a thread reads it
 *   dgram  - snprintf a StatsD-style line + sendto(2) on an AF_UNIX
 *            datagram socket; a thread receives
 *   stdio  - fprintf of a JSON line to a buffered FILE (a file on disk)
 *   mutexq - copy into a mutex-protected bounded queue; a thread drains it
 *
 *   bench_peers --peer NAME [--dir DIR] [--batches N] [--batch N]
 *               [--singles N] [--cpu C] [--drain-cpu C]
 */
#include "bench_util.h"

#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/sockios.h>

static char syms[64][8];
static int drain_cpu = 1;
static atomic_int stop;

#define LINE_FMT "bench.order|p=1|req=%llu|n=%lld|px=%g|sym=%s\n"
#define JSON_FMT "{\"type\":\"bench.order\",\"prio\":1,\"req\":%llu,\"n\":%lld,\"px\":%g,\"sym\":\"%s\"}\n"
#define ARGS(k) (unsigned long long)(k) + 1, (long long)(k), (double)(k) * 0.25, syms[(k) & 63]

/* ---- pipe -------------------------------------------------------------- */

static void *fd_reader(void *arg)
{
	static char buf[1 << 16];
	int fd = *(int *)arg;

	bench_pin(drain_cpu);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static inline void pipe_emit(int fd, uint64_t k)
{
	char line[160];
	int n = snprintf(line, sizeof(line), LINE_FMT, ARGS(k));

	if (write(fd, line, (size_t)n) != n)
		abort();
}

static void pipe_wait(int rfd)
{
	int n;

	while (ioctl(rfd, FIONREAD, &n) == 0 && n > 256 * 1024)
		bench_sleep_ns(10000);
}

static int run_pipe(struct bench_cost *bc)
{
	pthread_t th;
	uint64_t k = 0;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return 1;
	fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
	pthread_create(&th, NULL, fd_reader, &fds[0]);
	BENCH_COST("peer.pipe", bc, pipe_wait(fds[0]), (pipe_emit(fds[1], k), k++));
	close(fds[1]);
	pthread_join(th, NULL);
	return 0;
}

/* ---- AF_UNIX datagram -------------------------------------------------- */

static struct sockaddr_un dgram_addr;

static inline void dgram_emit(int fd, uint64_t k)
{
	char line[160];
	int n = snprintf(line, sizeof(line), LINE_FMT, ARGS(k));

	if (sendto(fd, line, (size_t)n, 0, (struct sockaddr *)&dgram_addr, sizeof(dgram_addr)) != n)
		abort();
}

static void *dgram_reader(void *arg)
{
	char buf[512];
	int fd = *(int *)arg;

	bench_pin(drain_cpu);
	while (recv(fd, buf, sizeof(buf), 0) > 0 || !atomic_load(&stop))
		;
	return NULL;
}

static void dgram_wait(int fd)
{
	int n;

	while (ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0)
		bench_sleep_ns(10000);
}

static int run_dgram(struct bench_cost *bc)
{
	pthread_t th;
	uint64_t k = 0;
	int rfd, sfd;
	struct timeval tv = {0, 100000};

	dgram_addr.sun_family = AF_UNIX;
	snprintf(dgram_addr.sun_path + 1, sizeof(dgram_addr.sun_path) - 1, "hb-bench-%d", getpid());
	rfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (rfd < 0 || sfd < 0 || bind(rfd, (struct sockaddr *)&dgram_addr, sizeof(dgram_addr)))
		return 1;
	setsockopt(rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_create(&th, NULL, dgram_reader, &rfd);
	BENCH_COST("peer.dgram", bc, dgram_wait(sfd), (dgram_emit(sfd, k), k++));
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	return 0;
}

/* ---- buffered stdio JSON lines ----------------------------------------- */

static int run_stdio(struct bench_cost *bc, const char *dir)
{
	char path[4096];
	uint64_t k = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/peer-stdio.jsonl", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	BENCH_COST("peer.stdio", bc, (void)0, (fprintf(f, JSON_FMT, ARGS(k)), k++));
	fclose(f);
	unlink(path);
	return 0;
}

/* ---- mutex-protected queue --------------------------------------------- */

struct qrec {
	uint32_t type, prio;
	uint64_t req;
	int64_t n;
	double px;
	char sym[16];
};

#define QCAP 65536u
static struct {
	pthread_mutex_t mu;
	uint64_t head, tail, dropped;
	struct qrec r[QCAP];
} q = {.mu = PTHREAD_MUTEX_INITIALIZER};

static inline void mq_emit(uint64_t k)
{
	pthread_mutex_lock(&q.mu);
	if (q.head - q.tail < QCAP) {
		struct qrec *r = &q.r[q.head++ % QCAP];

		r->type = 0;
		r->prio = 1;
		r->req = k + 1;
		r->n = (int64_t)k;
		r->px = (double)k * 0.25;
		strncpy(r->sym, syms[k & 63], sizeof(r->sym) - 1);
	} else {
		q.dropped++;
	}
	pthread_mutex_unlock(&q.mu);
}

/* Takes everything queued under the lock, then processes it outside. */
static void *mq_drain(void *arg)
{
	static struct qrec out[4096];
	uint64_t sum = 0;

	(void)arg;
	bench_pin(drain_cpu);
	while (!atomic_load(&stop)) {
		unsigned n = 0;

		pthread_mutex_lock(&q.mu);
		while (q.tail != q.head && n < 4096)
			out[n++] = q.r[q.tail++ % QCAP];
		pthread_mutex_unlock(&q.mu);
		for (unsigned i = 0; i < n; i++)
			sum += out[i].req;
		if (!n)
			bench_sleep_ns(20000);
	}
	return (void *)(uintptr_t)sum;
}

static void mq_wait(void)
{
	while (__atomic_load_n(&q.head, __ATOMIC_RELAXED) - __atomic_load_n(&q.tail, __ATOMIC_RELAXED) >
	       QCAP / 4)
		bench_sleep_ns(10000);
}

static int run_mutexq(struct bench_cost *bc)
{
	pthread_t th;
	uint64_t k = 0;

	pthread_create(&th, NULL, mq_drain, NULL);
	BENCH_COST("peer.mutexq", bc, mq_wait(), (mq_emit(k), k++));
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	bench_result("peer.mutexq.dropped", (double)q.dropped, "records");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"peer", 1, 0, 'p'},    {"dir", 1, 0, 'D'},     {"batches", 1, 0, 'n'},
		{"batch", 1, 0, 'B'},   {"singles", 1, 0, 's'}, {"cpu", 1, 0, 'c'},
		{"drain-cpu", 1, 0, 'C'}, {0, 0, 0, 0}};
	const char *peer = "pipe", *dir = "/tmp";
	unsigned batches = 2000, batch = 256, singles = 200000;
	struct bench_cost bc;
	int cpu = 0, c, i;

	for (i = 0; i < 64; i++)
		snprintf(syms[i], sizeof(syms[i]), "s%d", i);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': peer = optarg; break;
		case 'D': dir = optarg; break;
		case 'n': batches = (unsigned)atoi(optarg); break;
		case 'B': batch = (unsigned)atoi(optarg); break;
		case 's': singles = (unsigned)atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'C': drain_cpu = atoi(optarg); break;
		default: return 2;
		}
	}
	bench_pin(cpu);
	if (bench_cost_init(&bc, batches, batch, singles))
		return 1;
	if (!strcmp(peer, "pipe"))
		return run_pipe(&bc);
	if (!strcmp(peer, "dgram"))
		return run_dgram(&bc);
	if (!strcmp(peer, "stdio"))
		return run_stdio(&bc, dir);
	if (!strcmp(peer, "mutexq"))
		return run_mutexq(&bc);
	fprintf(stderr, "bench_peers: --peer: unknown peer '%s'\n", peer);
	return 2;
}
