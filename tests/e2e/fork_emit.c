/* SPDX-License-Identifier: MIT */
/*
 * fork_emit.c - the parent emits, forks a child that emits and closes,
 * emits again, forks a child that emits and _exits without closing, emits
 * again, forks a child that emits and calls exit() without closing, emits
 * again and returns from main without closing; all through one
 * process-wide handle opened before the forks. Event "fork.ev": who (0
 * parent, 1-3 the children), n (0.. per who). Prints "parent=PID
 * closer=PID leaver=PID exiter=PID". Run by tests/e2e/fork.sh.
 */
#include <hb.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct hb_producer *p;
static int type;

static int emit(uint64_t who, uint64_t from, uint64_t to)
{
	for (uint64_t n = from; n < to; n++)
		if (hb_event(p, (unsigned)type, HB_PRIO_NORMAL, n, HB_U64(who), HB_U64(n)) != 0)
			return -1;
	return hb_heartbeat(p);
}

enum how { LEAVE, CLOSE, EXIT };

/* A child that emits n events as who, then: LEAVE, _exit without closing
 * (no atexit handler: as a crash leaves it); CLOSE, hb_close and _exit;
 * EXIT, exit() without closing. */
static pid_t child(uint64_t who, uint64_t n, enum how how)
{
	pid_t pid = fork();

	if (pid == 0) {
		int rc = emit(who, 0, n);

		if (how == CLOSE)
			hb_close(p);
		if (how == EXIT)
			exit(rc ? 3 : 0);
		_exit(rc ? 3 : 0);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(void)
{
	static const struct hb_field f[] = {{"who", HB_T_U64}, {"n", HB_T_U64}};
	struct hb_config cfg = {.name = "forker", .ring_kb = 1024};
	pid_t closer, leaver, exiter;

	if (hb_open(&p, &cfg) || (type = hb_type_register(p, "fork.ev", f, 2)) < 0)
		return 1;
	if (emit(0, 0, 1000))
		return 1;
	closer = child(1, 500, CLOSE);
	if (closer < 0 || reap(closer) || emit(0, 1000, 2000))
		return 1;
	leaver = child(2, 300, LEAVE);
	if (leaver < 0 || reap(leaver) || emit(0, 2000, 2500))
		return 1;
	exiter = child(3, 200, EXIT);
	if (exiter < 0 || reap(exiter) || emit(0, 2500, 3000))
		return 1;
	printf("parent=%d closer=%d leaver=%d exiter=%d\n", (int)getpid(), (int)closer,
	       (int)leaver, (int)exiter);
	return 0; /* exit() closes the parent's ring too */
}
