/* SPDX-License-Identifier: MIT */
/*
 * fork_emit.c - the parent emits, forks a child that emits and closes,
 * emits again, forks a child that emits and exits without closing, and
 * emits again; all through one process-wide handle opened before the
 * forks. Event "fork.ev": who (0 parent, 1 and 2 the children), n (0.. per
 * who). Prints "parent=PID closer=PID leaver=PID". Run by tests/e2e/fork.sh.
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

static pid_t child(uint64_t who, uint64_t n, int close_it)
{
	pid_t pid = fork();

	if (pid == 0) {
		int rc = emit(who, 0, n);

		if (close_it)
			hb_close(p);
		_exit(rc ? 3 : 0); /* no atexit handlers: as a crash would leave it */
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
	pid_t closer, leaver;

	if (hb_open(&p, &cfg) || (type = hb_type_register(p, "fork.ev", f, 2)) < 0)
		return 1;
	if (emit(0, 0, 1000))
		return 1;
	closer = child(1, 500, 1);
	if (closer < 0 || reap(closer) || emit(0, 1000, 2000))
		return 1;
	leaver = child(2, 300, 0);
	if (leaver < 0 || reap(leaver) || emit(0, 2000, 2500))
		return 1;
	hb_close(p);
	printf("parent=%d closer=%d leaver=%d\n", (int)getpid(), (int)closer, (int)leaver);
	return 0;
}
