/* SPDX-License-Identifier: MIT */
/*
 * hostile_ring - creates a broken or hostile ring on a bus, for
 * tests/e2e/hostile_rings.sh. Built by the test itself:
 *   cc -Iinclude -Ibus tests/e2e/hostile_ring.c producers/hb.c -lpthread
 *
 *   hostile_ring BUS KIND
 *
 * Creates /dev/shm/hb.BUS.hostile-KIND.PID.0 (KIND below), prints
 * "ready NAME" on stdout, then does its damage and stays alive until
 * SIGTERM (so the collector never takes it for a crashed producer):
 *
 *   bad-magic     the magic is garbage
 *   bad-version   layout version 99
 *   bad-size      data_size not a power of two
 *   short-file    data_size larger than the shm object
 *   len-past-end  a record whose length points past the end of the ring
 *   head-back     valid events, then head moves backwards
 *   head-jump     valid events, then head jumps two rings ahead
 *   seq-jump      a record whose sequence number jumps by 2^60
 *   bad-name      a producer name with an escape sequence
 *   scribble      events written while another thread scribbles random
 *                 bytes over the header tables and the data area
 *   truncate      valid events, then the shm object is truncated under
 *                 the collector's mapping
 *   fifo          a FIFO under the bus prefix instead of a ring
 */
#include "hb.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATA_SIZE (64u * 1024)

static volatile sig_atomic_t stop;
static char shm_name[256];
static struct hb_producer prod;
static uint8_t *mem;
static size_t total;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Maps a new ring of total bytes; returns the fd. */
static int ring_create(const char *bus, const char *kind, size_t size)
{
	int fd;

	snprintf(shm_name, sizeof(shm_name), "/hb.%s.hostile-%s.%d.0", bus, kind, (int)getpid());
	fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		die("shm_open");
	if (ftruncate(fd, (off_t)size) < 0)
		die("ftruncate");
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	total = size;
	return fd;
}

static struct hb_ring_hdr *ring_format(const char *name)
{
	struct hb_config c = {.name = name, .interval_ms = 3600000};
	struct hb_field f[] = {{"n", HB_T_I64}, {"s", HB_T_STR}};

	if (hb_ring_format(mem, total, DATA_SIZE, &c) || hb_producer_attach(&prod, mem, &c))
		die("format");
	if (hb_type_register(&prod, "hostile.ev", f, 2) != 0)
		die("register");
	return (struct hb_ring_hdr *)mem;
}

static int header_kind(const char *kind)
{
	static const char *const kinds[] = {"bad-magic", "bad-version", "bad-size", "short-file",
					    "bad-name"};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return 1;
	return 0;
}

/* A header broken from the start: formatted privately, damaged, copied
 * into the shm object, and the magic (good or not) stored last, so the
 * collector never sees a valid header first. */
static void ring_publish_bad(const char *kind)
{
	struct hb_config c = {.name = "hostile", .interval_ms = 3600000};
	static const char evil[] = "evil\033[31m\n";
	uint8_t *tmp = calloc(1, total);
	struct hb_ring_hdr *h = (struct hb_ring_hdr *)tmp;
	uint64_t magic = HB_RING_MAGIC;

	if (!tmp || hb_ring_format(tmp, total, DATA_SIZE, &c))
		die("format");
	if (!strcmp(kind, "bad-magic"))
		magic = 0x4141414141414141ull;
	else if (!strcmp(kind, "bad-version"))
		h->version = 99;
	else if (!strcmp(kind, "bad-size"))
		h->data_size = 3000;
	else if (!strcmp(kind, "short-file"))
		h->data_size = 1u << 30;
	else /* bad-name: hb_ring_format refuses it; a hostile producer does not ask */
		memcpy(h->name, evil, sizeof(evil));
	atomic_store(&h->magic, 0);
	memcpy(mem, tmp, HB_RING_HDR_SIZE);
	atomic_store(&((struct hb_ring_hdr *)mem)->magic, magic);
	free(tmp);
}

static void events(unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		hb_event(&prod, 0, HB_PRIO_HIGH, 0, HB_I64(i), HB_STR("hostile"));
}

static void wait_drained(struct hb_ring_hdr *h, unsigned ms)
{
	while (ms-- && !stop && atomic_load(&h->tail) != atomic_load(&h->head))
		pause_ms(1);
}

static void *scribbler(void *arg)
{
	struct hb_ring_hdr *h = arg;
	unsigned seed = (unsigned)getpid();
	uint8_t *tables = (uint8_t *)h->types;
	size_t tsize = sizeof(h->types) + sizeof(h->metric_defs);

	while (!stop) {
		size_t i;

		for (i = 0; i < 64; i++)
			tables[rand_r(&seed) % tsize] = (uint8_t)rand_r(&seed);
		atomic_store(&h->ntypes, (uint32_t)rand_r(&seed) % 80);
		atomic_store(&h->nmetrics, (uint32_t)rand_r(&seed) % 80);
		for (i = 0; i < 16; i++)
			mem[HB_RING_HDR_SIZE + rand_r(&seed) % DATA_SIZE] = (uint8_t)rand_r(&seed);
		pause_ms(2);
	}
	return NULL;
}

static void run(const char *bus, const char *kind)
{
	size_t size = HB_RING_HDR_SIZE + DATA_SIZE;
	struct hb_ring_hdr *h;
	int fd;

	if (!strcmp(kind, "fifo")) {
		snprintf(shm_name, sizeof(shm_name), "/dev/shm/hb.%s.hostile-fifo.%d.0", bus,
			 (int)getpid());
		if (mkfifo(shm_name, 0600) < 0)
			die("mkfifo");
		printf("ready %s\n", shm_name + 9);
		fflush(stdout);
		while (!stop)
			pause_ms(50);
		unlink(shm_name);
		return;
	}
	fd = ring_create(bus, kind, size);
	if (header_kind(kind)) {
		ring_publish_bad(kind);
		printf("ready %s\n", shm_name + 1);
		fflush(stdout);
		while (!stop)
			pause_ms(50);
		close(fd);
		return;
	}
	h = ring_format("hostile");
	printf("ready %s\n", shm_name + 1);
	fflush(stdout);
	if (!strcmp(kind, "len-past-end")) {
		events(10);
		wait_drained(h, 3000);
		struct hb_rec *r = (struct hb_rec *)(mem + HB_RING_HDR_SIZE +
						     (prod.head & (DATA_SIZE - 1)));
		memset(r, 0, sizeof(*r));
		r->len = 2 * DATA_SIZE;
		r->kind = HB_REC_EVENT;
		r->seq = prod.seq;
		atomic_store(&h->head, prod.head + 64);
	} else if (!strcmp(kind, "head-back") || !strcmp(kind, "head-jump")) {
		events(100);
		wait_drained(h, 3000);
		atomic_store(&h->head, kind[5] == 'b' ? prod.head - 128 : prod.head + 2 * DATA_SIZE);
	} else if (!strcmp(kind, "seq-jump")) {
		events(5);
		prod.seq += 1ull << 60;
		events(5);
	} else if (!strcmp(kind, "scribble")) {
		pthread_t t;

		pthread_create(&t, NULL, scribbler, h);
		while (!stop) {
			events(50);
			pause_ms(1);
		}
		pthread_join(t, NULL);
	} else if (!strcmp(kind, "truncate")) {
		events(100);
		wait_drained(h, 3000);
		pause_ms(200);
		if (ftruncate(fd, 0) < 0) /* our own mapping is as dead as the collector's */
			die("ftruncate");
	} else {
		fprintf(stderr, "hostile_ring: unknown kind '%s'\n", kind);
		shm_unlink(shm_name);
		exit(2);
	}
	while (!stop)
		pause_ms(50);
	close(fd);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_term};

	if (argc != 3) {
		fprintf(stderr, "usage: hostile_ring BUS KIND\n");
		return 2;
	}
	setenv("HB_CLOCK", "realtime", 1);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	run(argv[1], argv[2]);
	return 0;
}
