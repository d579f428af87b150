/* SPDX-License-Identifier: MIT */
/* hbreplay's replayed producers, each in a process of its own (child.h). */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOOL "hbreplay"
#define HBR_FLUSH_AT (64u << 10) /* write a child's messages once this many wait */

enum { HBR_OP_TYPE = 1, HBR_OP_METRIC, HBR_OP_EVENT, HBR_OP_BEAT, HBR_OP_CRASH };

/* ---- the children, as the parent tracks them ---------------------------- */

static pid_t *kids; /* running children; 0 where one was reaped */
static size_t nkids, capkids;
static volatile sig_atomic_t kids_failed;

static void kids_reaped(pid_t pid, int st)
{
	size_t i;

	for (i = 0; i < nkids; i++)
		if (kids[i] == pid)
			kids[i] = 0;
	if (WIFEXITED(st) ? WEXITSTATUS(st) != 0 : WTERMSIG(st) != SIGKILL)
		kids_failed = 1;
}

static void on_sigchld(int sig)
{
	int e = errno, st;
	pid_t pid;

	(void)sig;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		kids_reaped(pid, st);
	errno = e;
}

static void sigchld_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, old);
}

/* Called with SIGCHLD blocked (the handler writes the array). */
static int kids_add(pid_t pid)
{
	size_t i;
	pid_t *v;

	for (i = 0; i < nkids; i++)
		if (!kids[i])
			return (kids[i] = pid), 0;
	if (nkids == capkids) {
		v = realloc(kids, (capkids ? capkids * 2 : 16) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		kids = v;
		capkids = capkids ? capkids * 2 : 16;
	}
	kids[nkids++] = pid;
	return 0;
}

void hbr_children_init(void)
{
	struct sigaction sa = {.sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
}

void hbr_children_stop(void)
{
	sigset_t old;
	size_t i;

	sigchld_block(&old); /* no pid is reaped (and reused) while we signal */
	for (i = 0; i < nkids; i++)
		if (kids[i])
			kill(kids[i], SIGTERM);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int hbr_children_wait(volatile sig_atomic_t *stop)
{
	int st, stopped = 0;
	sigset_t old;
	pid_t pid;

	sigchld_block(&old);
	for (;;) {
		pid = waitpid(-1, &st, 0);
		if (pid > 0) {
			kids_reaped(pid, st);
		} else if (errno == EINTR) {
			if (*stop && !stopped++) /* a signal to us alone: pass it on */
				hbr_children_stop();
		} else {
			break; /* ECHILD: all ended */
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(kids);
	kids = NULL;
	nkids = capkids = 0;
	return kids_failed ? 1 : 0;
}

/* ---- messages: u32 length, u8 op, then what the op takes ----------------- */

static int out_put(struct hbr_child *c, const void *p, size_t n)
{
	if (!n)
		return 0;
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *v;

		while (cap < c->len + n)
			cap *= 2;
		if (!(v = realloc(c->out, cap)))
			return -ENOMEM;
		c->out = v;
		c->cap = cap;
	}
	memcpy(c->out + c->len, p, n);
	c->len += n;
	return 0;
}

static int out_u8(struct hbr_child *c, unsigned v)
{
	uint8_t b = (uint8_t)v;

	return out_put(c, &b, 1);
}

static int out_str(struct hbr_child *c, const char *s) /* u32 length, bytes, NUL */
{
	uint32_t n = (uint32_t)strlen(s) + 1;

	return out_put(c, &n, 4) || out_put(c, s, n) ? -ENOMEM : 0;
}

/* Starts a message; msg_end fills in its length. */
static size_t msg_begin(struct hbr_child *c, unsigned op, int *rc)
{
	size_t at = c->len;
	uint32_t n = 0;

	*rc = out_put(c, &n, 4) || out_u8(c, op) ? -ENOMEM : 0;
	return at;
}

static int msg_end(struct hbr_child *c, size_t at, int rc)
{
	uint32_t n = (uint32_t)(c->len - at - 4);

	if (rc < 0 || c->fd < 0) {
		c->len = at;
		return rc < 0 ? rc : -EPIPE;
	}
	memcpy(c->out + at, &n, 4);
	return c->len >= HBR_FLUSH_AT ? hbr_child_flush(c) : 0;
}

int hbr_child_flush(struct hbr_child *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->len) {
		n = write(c->fd, c->out + off, c->len - off);
		if (n < 0) {
			memmove(c->out, c->out + off, c->len - off);
			c->len -= off;
			return -errno; /* EPIPE: the child is gone; EINTR: a stop */
		}
		off += (size_t)n;
	}
	c->len = 0;
	return 0;
}

int hbr_child_type(struct hbr_child *c, const char *name, const struct hb_field *f,
		   unsigned nfields)
{
	int rc;
	size_t at = msg_begin(c, HBR_OP_TYPE, &rc);
	unsigned i;

	rc = rc ? rc : out_u8(c, nfields) ? -ENOMEM : out_str(c, name);
	for (i = 0; !rc && i < nfields; i++)
		rc = out_u8(c, f[i].tag) ? -ENOMEM : out_str(c, f[i].name);
	c->ntypes += rc == 0;
	return msg_end(c, at, rc);
}

int hbr_child_metric(struct hbr_child *c, const char *name, enum hb_metric_kind kind)
{
	int rc;
	size_t at = msg_begin(c, HBR_OP_METRIC, &rc);

	rc = rc ? rc : out_u8(c, kind) ? -ENOMEM : out_str(c, name);
	c->nmetrics += rc == 0;
	return msg_end(c, at, rc);
}

int hbr_child_event(struct hbr_child *c, unsigned type, unsigned prio, uint64_t req,
		    const struct hb_val *vals, unsigned nvals)
{
	uint16_t t = (uint16_t)type;
	int rc;
	size_t at = msg_begin(c, HBR_OP_EVENT, &rc);
	unsigned i;

	rc = rc || out_put(c, &t, 2) || out_u8(c, prio) || out_u8(c, nvals) || out_put(c, &req, 8)
		     ? -ENOMEM
		     : 0;
	for (i = 0; !rc && i < nvals; i++) {
		const struct hb_val *v = &vals[i];
		int var = v->tag == HB_T_STR || v->tag == HB_T_BYTES;

		if (out_u8(c, v->tag) || (var ? out_put(c, &v->len, 4) || out_put(c, v->v.p, v->len)
					      : out_put(c, &v->v.u, 8)))
			rc = -ENOMEM;
	}
	return msg_end(c, at, rc);
}

int hbr_child_beat(struct hbr_child *c, enum hb_status status, const uint64_t *metrics,
		   unsigned nmetrics)
{
	int rc;
	size_t at = msg_begin(c, HBR_OP_BEAT, &rc);

	rc = rc || out_u8(c, status) || out_put(c, &nmetrics, 4) ||
		     out_put(c, metrics, (size_t)nmetrics * 3 * sizeof(uint64_t))
		     ? -ENOMEM
		     : 0;
	rc = msg_end(c, at, rc);
	return rc == 0 && status == HB_STATUS_STOPPING ? hbr_child_end(c) : rc;
}

int hbr_child_crash(struct hbr_child *c)
{
	int rc;
	size_t at = msg_begin(c, HBR_OP_CRASH, &rc);

	rc = msg_end(c, at, rc);
	return rc == 0 ? hbr_child_end(c) : rc;
}

int hbr_child_end(struct hbr_child *c)
{
	int rc = c->fd >= 0 ? hbr_child_flush(c) : 0;

	if (c->fd >= 0)
		close(c->fd); /* the child reads to the end, then closes or dies */
	c->fd = -1;
	c->pid = 0;
	c->len = 0;
	return rc;
}

/* ---- the child ------------------------------------------------------------ */

static volatile sig_atomic_t child_stop;

static void child_on_signal(int sig)
{
	(void)sig;
	child_stop = 1;
}

struct cur {
	const char *p, *end;
	int bad;
};

static const void *cur_take(struct cur *k, size_t n)
{
	const char *p = k->p;

	if (k->bad || (size_t)(k->end - k->p) < n) {
		k->bad = 1;
		return NULL;
	}
	k->p += n;
	return p;
}

static uint64_t cur_uint(struct cur *k, size_t n)
{
	const void *p = cur_take(k, n);
	uint64_t v = 0;
	uint32_t v32 = 0;
	uint16_t v16 = 0;

	if (!p)
		return 0;
	if (n == 1)
		return *(const uint8_t *)p;
	if (n == 2)
		return memcpy(&v16, p, 2), v16;
	if (n == 4)
		return memcpy(&v32, p, 4), v32;
	return memcpy(&v, p, 8), v;
}

static const char *cur_str(struct cur *k)
{
	uint32_t n = (uint32_t)cur_uint(k, 4);
	const char *s = cur_take(k, n);

	if (s && (!n || s[n - 1])) /* sent with its NUL */
		k->bad = 1;
	return k->bad ? NULL : s;
}

/* Waits (interruptibly) until the ring is at most half full, so that the
 * blocking write never waits with a stop request pending. */
static int child_wait_space(struct hb_producer *p)
{
	struct timespec ts = {0, 200000};

	/* A2-style read of tail: pairs with the collector's R2. */
	while (p->head - atomic_load_explicit(&p->hdr->tail, memory_order_acquire) > p->size / 2) {
		if (child_stop)
			return -EINTR;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int child_type(struct hb_producer *h, struct cur *k, unsigned *ntypes)
{
	struct hb_field f[HB_MAX_FIELDS];
	unsigned n = (unsigned)cur_uint(k, 1), i;
	const char *name = cur_str(k);
	int rc;

	for (i = 0; i < n && i < HB_MAX_FIELDS; i++) {
		f[i].tag = (enum hb_tag)cur_uint(k, 1);
		f[i].name = cur_str(k);
	}
	if (k->bad || n > HB_MAX_FIELDS)
		return -EPROTO;
	rc = hb_type_register(h, name, f, n);
	return rc == (int)(*ntypes)++ ? 0 : rc < 0 ? rc : -EPROTO;
}

static int child_metric(struct hb_producer *h, struct cur *k, unsigned *nmetrics)
{
	enum hb_metric_kind kind = (enum hb_metric_kind)cur_uint(k, 1);
	const char *name = cur_str(k);
	int rc;

	if (k->bad)
		return -EPROTO;
	rc = hb_metric_register(h, name, kind);
	return rc == (int)(*nmetrics)++ ? 0 : rc < 0 ? rc : -EPROTO;
}

static int child_event(struct hb_producer *h, struct cur *k)
{
	struct hb_val vals[HB_MAX_FIELDS];
	unsigned type = (unsigned)cur_uint(k, 2), prio = (unsigned)cur_uint(k, 1);
	unsigned n = (unsigned)cur_uint(k, 1), i;
	uint64_t req = cur_uint(k, 8);
	int rc;

	for (i = 0; i < n && i < HB_MAX_FIELDS; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		vals[i].tag = (uint32_t)cur_uint(k, 1);
		if (vals[i].tag == HB_T_STR || vals[i].tag == HB_T_BYTES) {
			vals[i].len = (uint32_t)cur_uint(k, 4);
			vals[i].v.p = cur_take(k, vals[i].len);
		} else {
			vals[i].v.u = cur_uint(k, 8);
		}
	}
	if (k->bad || n > HB_MAX_FIELDS)
		return -EPROTO;
	if ((rc = child_wait_space(h)) < 0)
		return rc;
	return hb_event_emit(h, type, prio, req, vals, n);
}

/* 1 when it was the last (status stopping: the ring is closed), else 0. */
static int child_beat(struct hb_producer *h, struct cur *k, unsigned nmetrics)
{
	enum hb_status status = (enum hb_status)cur_uint(k, 1);
	uint32_t n = (uint32_t)cur_uint(k, 4), i;
	const uint64_t *m = cur_take(k, (size_t)n * 3 * sizeof(uint64_t));
	uint64_t s[3];
	int rc;

	if (k->bad)
		return -EPROTO;
	if ((rc = child_wait_space(h)) < 0)
		return rc;
	for (i = 0; i < n && i < nmetrics; i++) {
		struct hb_metric_val *v = &h->hdr->metrics[i];

		memcpy(s, &m[3 * i], sizeof(s));
		atomic_store_explicit(&v->a, s[0], memory_order_relaxed);
		atomic_store_explicit(&v->b, s[1], memory_order_relaxed);
		atomic_store_explicit(&v->c, s[2], memory_order_relaxed);
	}
	hb_status_set(h, status);
	if (status == HB_STATUS_STOPPING) /* its last heartbeat: close as it did */
		return 1;
	rc = hb_heartbeat(h);
	return rc < 0 ? rc : 0;
}

/* 1: the ring is to be closed (a last heartbeat); 0: go on; -errno. */
static int child_apply(struct hb_producer *h, const char *msg, size_t n, unsigned *ntypes,
		       unsigned *nmetrics)
{
	struct cur k = {msg + 1, msg + n, n < 1};

	switch (n ? (uint8_t)msg[0] : 0) {
	case HBR_OP_TYPE:
		return child_type(h, &k, ntypes);
	case HBR_OP_METRIC:
		return child_metric(h, &k, nmetrics);
	case HBR_OP_EVENT:
		return child_event(h, &k);
	case HBR_OP_BEAT:
		return child_beat(h, &k, *nmetrics);
	case HBR_OP_CRASH:
		raise(SIGKILL); /* as the original died: the ring stays open */
		return -EINTR;
	default:
		return -EPROTO;
	}
}

struct rbuf {
	int fd;
	char *p;
	size_t off, len, cap;
};

/* Makes n bytes readable at b->p + b->off: 0, 1 at the end of the pipe,
 * or -errno (-EINTR on a stop). */
static int rbuf_need(struct rbuf *b, size_t n)
{
	ssize_t got;

	if (b->off) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	while (b->len < n) {
		if (n > b->cap) {
			size_t cap = b->cap ? b->cap : HBR_FLUSH_AT;
			char *v;

			while (cap < n)
				cap *= 2;
			if (!(v = realloc(b->p, cap)))
				return -ENOMEM;
			b->p = v;
			b->cap = cap;
		}
		got = read(b->fd, b->p + b->len, b->cap - b->len);
		if (got == 0)
			return 1;
		if (got < 0 && (errno != EINTR || child_stop))
			return -errno;
		b->len += got > 0 ? (size_t)got : 0;
	}
	return 0;
}

/* The next message (its op and body) into *msg, *n: 0, 1 at the end, -errno. */
static int child_next(struct rbuf *b, const char **msg, uint32_t *n)
{
	int rc = b->len - b->off >= 4 ? 0 : rbuf_need(b, 4);

	if (rc)
		return rc;
	memcpy(n, b->p + b->off, 4);
	if (b->len - b->off < 4 + (size_t)*n && (rc = rbuf_need(b, 4 + (size_t)*n)))
		return rc < 0 ? rc : -EPROTO; /* ended inside a message */
	*msg = b->p + b->off + 4;
	b->off += 4 + (size_t)*n;
	return 0;
}

static int child_loop(struct hb_producer *h, int fd)
{
	struct rbuf b = {.fd = fd};
	unsigned ntypes = 0, nmetrics = 0;
	const char *msg;
	uint32_t n;
	int rc;

	while (!child_stop && (rc = child_next(&b, &msg, &n)) == 0)
		if ((rc = child_apply(h, msg, n, &ntypes, &nmetrics)) != 0)
			break;
	if (child_stop)
		rc = 0; /* asked to stop: close cleanly */
	free(b.p);
	return rc < 0 ? rc : 0;
}

/* Only the pipe (as fd 3) and stdio stay open in the child: the other
 * children's pipes must see their end when the parent closes them. */
static int child_fds(int fd)
{
	long i, max = sysconf(_SC_OPEN_MAX);

	if (fd != 3 && dup2(fd, 3) < 0)
		return -1;
	if (close_range(4, ~0u, 0) == 0)
		return 3;
	for (i = 4; i < (max > 0 && max < 65536 ? max : 65536); i++)
		close((int)i);
	return 3;
}

static void __attribute__((noreturn)) child_main(int fd, const struct hb_config *cfg)
{
	struct sigaction sa = {.sa_handler = child_on_signal};
	struct hb_producer *h;
	sigset_t none;
	int rc;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fd = child_fds(fd)) < 0)
		_exit(1);
	rc = hb_open(&h, cfg);
	if (rc < 0) {
		fprintf(stderr, TOOL ": %s: cannot open a producer on bus %s: %s\n", cfg->name,
			cfg->bus, strerror(-rc));
		_exit(1);
	}
	rc = child_loop(h, fd);
	if (rc < 0)
		fprintf(stderr, TOOL ": %s: cannot publish: %s\n", cfg->name, strerror(-rc));
	hb_close(h);
	_exit(rc < 0 ? 1 : 0); /* not exit(): the parent's stdio and atexit are not ours */
}

int hbr_child_start(struct hbr_child *c, const struct hb_config *cfg)
{
	sigset_t old;
	int p[2], rc = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL); /* nothing buffered twice */
	sigchld_block(&old);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		child_main(p[0], cfg);
	}
	if (pid < 0 || kids_add(pid) < 0)
		rc = pid < 0 ? -errno : -ENOMEM;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (rc < 0) {
		if (pid > 0)
			kill(pid, SIGKILL);
		close(p[1]);
		return rc;
	}
	c->pid = pid;
	c->fd = p[1];
	c->ntypes = c->nmetrics = 0;
	c->len = 0;
	return 0;
}
