/* SPDX-License-Identifier: MIT */
/*
 * pidwatch.c - whether the process behind each source still runs (a
 * pidfd polled for all at once, else kill(pid, 0) and the start time in
 * /proc/PID/stat against pid reuse), and the periodic liveness check that
 * follows from it: the operating view ages each producer (late, dead) and
 * every change it hands back is written as a state record.
 */
#include "collector.h"

#include "hbs/proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Periodic liveness of r: every change the operating view finds is
 * written. */
static void hbc_feed_age(struct hbc_collector *c, struct hbc_source *r, uint64_t now_ns)
{
	struct hbc_live_obs obs = {.pid_alive = !r->gone};
	struct hbc_live_change ch;
	msgpack_packer *pk;

	/* A5 (hbc_source_at_head) reads the same store: a ring marked closed is
	 * exiting, its backlog draining; the drain writes exited at its end */
	if (!c->ops || atomic_load_explicit(&r->v.hdr->state, memory_order_acquire) == HB_RING_CLOSED)
		return;
	obs.hb_attempt_ns = atomic_load_explicit(&r->v.hdr->last_hb_ns, memory_order_relaxed);
	while ((pk = hbc_pk(c)) && hbc_ops_check(c->ops, r->p, &obs, now_ns, &ch))
		hbc_source_change(c, r, pk, &ch);
}

static int hbc_pid_ok(uint32_t pid)
{
	return pid >= 1 && pid <= 0x3fffffff; /* never 0 or negative for kill() */
}

/* 1 when the pid now runs a process other than the ring's (or none). */
static int hbc_pid_reused(const struct hbc_source *r)
{
	char buf[1024];
	const char *start;
	ssize_t n;

	if (!r->proc_start)
		return 0;
	n = hbs_proc_stat_read(r->id.pid, buf, sizeof(buf));
	if (n <= 0)
		return n == -ENOENT;
	start = hbs_proc_stat_field(buf, HBS_STAT_START);
	if (!start || *start < '0' || *start > '9')
		return 0;
	return strtoull(start, NULL, 10) != r->proc_start;
}

static int hbc_pid_gone(const struct hbc_source *r, int check_start)
{
	if (!hbc_pid_ok(r->id.pid))
		return 0;
	if (r->pidfd < 0 && kill((pid_t)r->id.pid, 0) < 0 && errno == ESRCH)
		return 1;
	return check_start && hbc_pid_reused(r);
}

/* At attach: a pidfd makes later checks one poll() for every ring, and
 * cannot be fooled by pid reuse. */
void hbc_source_pidfd(struct hbc_source *r)
{
	long fd;

	if (!hbc_pid_ok(r->id.pid))
		return;
	fd = syscall(SYS_pidfd_open, (pid_t)r->id.pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			r->gone = 1;
		return;
	}
	r->pidfd = (int)fd;
	if (hbc_pid_reused(r))
		r->gone = 1;
}

static void hbc_pidfds_poll(struct hbc_collector *c)
{
	size_t i, n = 0;

	if (c->npfds < c->nsources) {
		struct pollfd *p = realloc(c->pfds, c->nsources * sizeof(*p));

		if (!p)
			return;
		c->pfds = p;
		c->npfds = c->nsources;
	}
	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];

		if (r->state == HBC_SRC_ACTIVE && r->pidfd >= 0 && !r->gone)
			c->pfds[n++] = (struct pollfd){.fd = r->pidfd, .events = POLLIN};
	}
	if (!n || poll(c->pfds, n, 0) <= 0)
		return;
	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];
		size_t j;

		if (r->pidfd < 0 || r->gone)
			continue;
		for (j = 0; j < n; j++)
			if (c->pfds[j].fd == r->pidfd && c->pfds[j].revents)
				r->gone = 1;
	}
}

void hbc_liveness_check(struct hbc_collector *c, int check_start)
{
	uint64_t now_ns = hbc_now_ns();
	size_t i;

	hbc_pidfds_poll(c);
	for (i = 0; i < c->nsources; i++) {
		struct hbc_source *r = c->sources[i];

		if (r->state != HBC_SRC_ACTIVE)
			continue;
		/* without a pidfd: kill(pid, 0), and the start time once a second */
		if (!r->gone && r->pidfd < 0 && hbc_pid_gone(r, check_start))
			r->gone = 1;
		/* liveness proper (healthy, late, dead, missed heartbeats) is
		 * liveness.c's; a gone process is dead (pid-gone) */
		hbc_feed_age(c, r, now_ns);
	}
}
