/* SPDX-License-Identifier: MIT */
/* hbsink - writes a fleet archive from a NATS JetStream stream (sink.h):
 * a durable pull consumer that acknowledges messages only once their
 * records are written (and synced as --fsync says). */
#include "hbc.h"
#include "sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sink_opts {
	struct hbf_nats_opts nats;
	struct sink_cfg cfg;
	int dir_set;
	const char *stream, *durable, *prefix;
	unsigned batch;
	uint64_t batch_bytes;
	int64_t ack_wait_ms;
};

static void sink_usage(FILE *f)
{
	fputs("usage: hbsink --dir FLEETDIR [OPTIONS]\n"
	      "Read hb fleet messages from a NATS JetStream stream with a durable consumer\n"
	      "and write them, each record once, into FLEETDIR/<host>/<bus>/hb-*.msgpack.\n"
	      "\n"
	      "  --dir FLEETDIR         the fleet archive (required; created when missing)\n"
	      "  --stream NAME          JetStream stream (default HB)\n"
	      "  --subject PREFIX       subjects PREFIX.> (default hb)\n"
	      "  --durable NAME         durable consumer name (default hbsink)\n"
	      "  --batch N              messages fetched at once at most (default 256)\n"
	      "  --batch-bytes SIZE     bytes fetched at once at most (default 4M; never less\n"
	      "                         than the server's largest message)\n"
	      "  --ack-wait DUR         redelivery after DUR without an ack (default 30s)\n"
	      "  --rotate-size SIZE     start a new file after SIZE bytes (default 64M, 0 = never)\n"
	      "  --rotate-age DUR       start a new file after DUR (default 1h, 0 = never)\n"
	      "  --retain-files N       keep at most N files per host and bus (default unlimited)\n"
	      "  --retain-bytes SIZE    keep at most SIZE bytes per host and bus (default unlimited)\n"
	      "  --fsync MODE           never | interval | always (default interval): always\n"
	      "                         syncs before every ack\n"
	      "  --fsync-interval DUR   fsync period with --fsync interval (default 1s)\n"
	      "  --cache-window SIZE    keep about SIZE of each file's newest bytes in the\n"
	      "                         page cache, start writeback and drop the rest as it\n"
	      "                         is written (default 32M, 0 = leave it to the kernel)\n",
	      f);
	fputs(hbf_nats_usage, f);
	fputs("  -q, --quiet            log only problems\n"
	      "  -v, --verbose          log more\n"
	      "  --help                 this text\n"
	      "  --version              print the version\n"
	      "\n"
	      "SIZE takes k, M, G; DUR takes ms, s, m, h, d (default s).\n"
	      "A message that is not a valid fleet message is reported with its stream\n"
	      "sequence and skipped. SIGTERM/SIGINT: finishes the batch, syncs, exits 0.\n",
	      f);
}

enum {
	O_DIR = 256, O_STREAM, O_SUBJECT, O_DURABLE, O_BATCH, O_BATCH_BYTES, O_ACK_WAIT, O_RSIZE, O_RAGE, O_RFILES,
	O_RBYTES, O_FSYNC, O_FSYNC_IV, O_CACHE_WINDOW, O_HELP, O_VERSION,
};

static const struct option sink_own_opts[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"stream", required_argument, NULL, O_STREAM},
	{"subject", required_argument, NULL, O_SUBJECT},
	{"durable", required_argument, NULL, O_DURABLE},
	{"batch", required_argument, NULL, O_BATCH},
	{"batch-bytes", required_argument, NULL, O_BATCH_BYTES},
	{"ack-wait", required_argument, NULL, O_ACK_WAIT},
	{"rotate-size", required_argument, NULL, O_RSIZE},
	{"rotate-age", required_argument, NULL, O_RAGE},
	{"retain-files", required_argument, NULL, O_RFILES},
	{"retain-bytes", required_argument, NULL, O_RBYTES},
	{"fsync", required_argument, NULL, O_FSYNC},
	{"fsync-interval", required_argument, NULL, O_FSYNC_IV},
	{"cache-window", required_argument, NULL, O_CACHE_WINDOW},
	{"help", no_argument, NULL, O_HELP},
	{"version", no_argument, NULL, O_VERSION},
};


static int sink_name_opt(const char **dst, const char *flag, const char *arg, int dots)
{
	size_t i, n = strlen(arg);

	for (i = 0; i < n; i++)
		if (strchr("*> \t/\\", arg[i]) || (arg[i] == '.' && !dots))
			break;
	if (!n || n > 128 || i < n || arg[0] == '.' || arg[n - 1] == '.')
		return hbf_bad(flag, arg, "invalid name");
	*dst = arg;
	return -1;
}

static int sink_opt(void *ctx, int ch, const char *arg)
{
	struct sink_opts *o = ctx;
	struct sink_cfg *c = &o->cfg;
	uint64_t v;

	switch (ch) {
	case O_DIR:
		if (!*arg || strlen(arg) >= sizeof(c->dir) - 256)
			return hbf_bad("--dir", arg, "invalid directory");
		snprintf(c->dir, sizeof(c->dir), "%s", arg);
		o->dir_set = 1;
		return -1;
	case O_STREAM: return sink_name_opt(&o->stream, "--stream", arg, 0);
	case O_SUBJECT: return sink_name_opt(&o->prefix, "--subject", arg, 1);
	case O_DURABLE: return sink_name_opt(&o->durable, "--durable", arg, 0);
	case O_BATCH:
		if (hbc_parse_size(arg, &v) || strpbrk(arg, "kKmMgGbB") || !v || v > 4096)
			return hbf_bad("--batch", arg, "invalid number (1-4096)");
		o->batch = (unsigned)v;
		return -1;
	case O_BATCH_BYTES:
		if (hbc_parse_size(arg, &o->batch_bytes) || o->batch_bytes < 1024 ||
		    o->batch_bytes > (1ull << 30))
			return hbf_bad("--batch-bytes", arg, "invalid size (1k-1G)");
		return -1;
	case O_ACK_WAIT:
		if (hbc_parse_duration(arg, &v) || v < 1000000000u)
			return hbf_bad("--ack-wait", arg, "invalid duration (at least 1s)");
		o->ack_wait_ms = (int64_t)(v / 1000000u);
		return -1;
	case O_RSIZE:
		return hbc_parse_size(arg, &c->rotate_size) ? hbf_bad("--rotate-size", arg, "invalid size") : -1;
	case O_RAGE:
		return hbc_parse_duration(arg, &c->rotate_age_ns) ? hbf_bad("--rotate-age", arg, "invalid duration") : -1;
	case O_RFILES:
		return hbc_parse_size(arg, &c->retain_files) || strpbrk(arg, "kKmMgGbB")
			       ? hbf_bad("--retain-files", arg, "invalid number")
			       : -1;
	case O_RBYTES:
		return hbc_parse_size(arg, &c->retain_bytes) ? hbf_bad("--retain-bytes", arg, "invalid size") : -1;
	case O_FSYNC:
		return hbc_fsync_parse(arg, &c->fsync) ? hbf_bad("--fsync", arg, "unknown mode") : -1;
	case O_FSYNC_IV:
		if (hbc_parse_duration(arg, &c->fsync_interval_ns) || !c->fsync_interval_ns)
			return hbf_bad("--fsync-interval", arg, "invalid duration");
		return -1;
	case O_CACHE_WINDOW:
		return hbc_parse_size(arg, &c->cache_window) ? hbf_bad("--cache-window", arg, "invalid size") : -1;
	case O_HELP: sink_usage(stdout); return 0;
	case O_VERSION: printf("hbsink %s\n", HB_VERSION_STRING); return 0;
	default:
		fputs("Try 'hbsink --help' for more information.\n", stderr);
		return 2;
	}
}

static int sink_parse_args(struct sink_opts *o, int argc, char **argv)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->stream = "HB";
	o->durable = "hbsink";
	o->prefix = "hb";
	o->batch = 256;
	o->batch_bytes = 4ull << 20;
	o->ack_wait_ms = 30000;
	o->cfg.rotate_size = 64ull << 20;
	o->cfg.rotate_age_ns = 3600ull * 1000000000u;
	o->cfg.fsync = HBC_FSYNC_INTERVAL;
	o->cfg.fsync_interval_ns = 1000000000u;
	o->cfg.cache_window = 32ull << 20;
	rc = hbf_getopt(argc, argv, sink_own_opts, sizeof(sink_own_opts) / sizeof(sink_own_opts[0]),
			&o->nats, sink_opt, o);
	if (rc >= 0)
		return rc;
	if (!o->dir_set) {
		fputs("hbsink: --dir FLEETDIR is required\n", stderr);
		return 2;
	}
	return -1;
}

/* ---- the consumer -------------------------------------------------------- */

struct sink_run {
	const struct sink_opts *o;
	struct sink *sk;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	int down;        /* logged a failure, no success since */
	unsigned sub_gen; /* hbf_reconnects when sub was made */
	uint64_t bad;
	natsMsg **msgs;  /* a fetched batch, --batch at most */
	unsigned char *ok; /* of them, those applied */
	int stale;       /* something may come late to sub's inbox: a new one */
};

static int sink_subscribe(struct sink_run *r)
{
	jsSubOptions so;
	jsErrCode jerr = 0;
	char subj[256], why[256];
	natsStatus st;

	jsSubOptions_Init(&so);
	so.Stream = r->o->stream;
	so.Config.Durable = r->o->durable;
	so.Config.AckPolicy = js_AckExplicit;
	so.Config.DeliverPolicy = js_DeliverAll;
	so.Config.AckWait = r->o->ack_wait_ms * 1000000;
	so.Config.MaxAckPending = (int64_t)r->o->batch * 4;
	snprintf(subj, sizeof(subj), "%s.>", r->o->prefix);
	r->sub_gen = atomic_load_explicit(&hbf_reconnects, memory_order_relaxed);
	st = js_PullSubscribe(&r->sub, r->js, subj, r->o->durable, NULL, &so, &jerr);
	if (st == NATS_OK)
		return 0;
	if (!r->down)
		hbf_warn("cannot consume stream %s as %s: %s; retrying", r->o->stream, r->o->durable,
			 hbf_nats_err(st, jerr, why, sizeof(why)));
	r->down = 1;
	return -EAGAIN;
}

/* Reports a message that is not ours (or broken) and terminates it. */
static void sink_bad_msg(struct sink_run *r, natsMsg *m, const char *why)
{
	jsMsgMetaData *md = NULL;
	uint64_t seq = 0;

	if (natsMsg_GetMetaData(&md, m) == NATS_OK && md)
		seq = md->Sequence.Stream;
	jsMsgMetaData_Destroy(md);
	hbf_warn("stream %s sequence %" PRIu64 " (subject %s, %d bytes): %s; skipped",
		 r->o->stream, seq, natsMsg_GetSubject(m), natsMsg_GetDataLength(m), why);
	r->bad++;
	natsMsg_Term(m, NULL);
}

/* Applies, writes and acks the n messages fetched (r->msgs), which it
 * destroys. */
static int sink_batch(struct sink_run *r, int n)
{
	const char *why;
	int i, rc = 0;

	for (i = 0; !rc && i < n; i++) {
		natsMsg *m = r->msgs[i];

		rc = sink_apply(r->sk, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), &why);
		r->ok[i] = rc == 0;
		if (rc == -EPROTO)
			sink_bad_msg(r, m, why);
		rc = rc == -EPROTO ? 0 : rc; /* else not acked: redelivered */
	}
	if (!rc)
		rc = sink_flush(r->sk, 0);
	if (rc)
		hbf_warn("writing the fleet archive: %s; not acknowledged", strerror(-rc));
	for (i = 0; i < n; i++) {
		if (!rc && r->ok[i])
			natsMsg_Ack(r->msgs[i], NULL);
		natsMsg_Destroy(r->msgs[i]);
	}
	return rc;
}

#define SINK_FETCH_MS 500
#define SINK_MSG_OVER 65536 /* a message's headers and subject, beyond its payload */

/* The next messages into r->msgs, up to --batch and --batch-bytes (at
 * least the largest message the server takes, which would otherwise stop
 * the consumer): a one-shot pull (no_wait
 * with a wait) that the server ends as soon as it delivered what the
 * stream holds for the sink, or waits up to SINK_FETCH_MS for the first.
 * (A pull for a whole batch that waits holds what came first until the
 * batch is full or the wait ends.) The count (0: none came), or -1 (*st
 * says why).
 *
 * libnats 3.4 first takes what an earlier fetch left in the inbox, then
 * asks the server for the rest of the batch but goes on until it holds
 * that rest counted from zero: with k left over and k > batch - k it
 * writes past its array. Something is left over only when a fetch gave
 * up before the server ended its pull (libnats asks for 10 ms less than
 * it waits, so only a late answer does): after such a fetch, or when
 * anything is left over, the subscription is made anew, and what came
 * late to the old inbox is delivered again after the ack wait. */
static int sink_fetch(struct sink_run *r, natsStatus *st)
{
	natsMsgList l = {0};
	jsFetchRequest fr;
	uint64_t t0 = hbc_mono_ns();
	int left = 0, n;

	jsFetchRequest_Init(&fr);
	fr.Batch = (int)r->o->batch;
	fr.NoWait = true;
	fr.Expires = SINK_FETCH_MS * 1000000ll;
	fr.MaxBytes = (int64_t)r->o->batch_bytes;
	if (fr.MaxBytes < natsConnection_GetMaxPayload(r->nc) + SINK_MSG_OVER)
		fr.MaxBytes = natsConnection_GetMaxPayload(r->nc) + SINK_MSG_OVER;
	*st = natsSubscription_FetchRequest(&l, r->sub, &fr);
	if (hbc_mono_ns() - t0 >= (SINK_FETCH_MS - 5) * 1000000ull ||
	    natsSubscription_GetPending(r->sub, &left, NULL) != NATS_OK || left)
		r->stale = 1;
	if (*st == NATS_TIMEOUT || *st == NATS_NOT_FOUND)
		return 0;
	if (*st != NATS_OK || l.Count > (int)r->o->batch) {
		natsMsgList_Destroy(&l);
		return -1;
	}
	n = l.Count;
	memcpy(r->msgs, l.Msgs, (size_t)n * sizeof(*r->msgs));
	memset(l.Msgs, 0, (size_t)n * sizeof(*l.Msgs));
	natsMsgList_Destroy(&l);
	return n;
}

static void sink_loop(struct sink_run *r)
{
	natsStatus st;
	char why[256];
	int n;

	while (!hbf_stop) {
		/* a fetch while disconnected queues its pull request until the
		 * reconnect, and then the server answers every queued one into
		 * the same inbox: libnats 3.4's fetch was seen to overrun its
		 * batch array with them. So: no fetch unless connected, and a
		 * new subscription (inbox) after each reconnect. */
		if (natsConnection_Status(r->nc) != NATS_CONN_STATUS_CONNECTED) {
			usleep(100000);
			continue;
		}
		if (r->sub && (r->stale || r->sub_gen != atomic_load_explicit(&hbf_reconnects,
									     memory_order_relaxed))) {
			natsSubscription_Destroy(r->sub);
			r->sub = NULL;
			r->stale = 0;
		}
		if (!r->sub && sink_subscribe(r)) {
			usleep(500000);
			continue;
		}
		n = sink_fetch(r, &st);
		if (n == 0) {
			sink_flush(r->sk, 0); /* the interval fsync comes due while idle */
			continue;
		}
		if (n < 0) {
			if (!r->down)
				hbf_warn("fetching from stream %s: %s; retrying", r->o->stream,
					 hbf_nats_err(st, 0, why, sizeof(why)));
			r->down = 1;
			usleep(200000);
			continue;
		}
		if (r->down)
			hbf_warn("consuming stream %s again", r->o->stream);
		r->down = 0;
		if (sink_batch(r, n))
			usleep(200000);
	}
}

static int sink_connect(struct sink_run *r)
{
	struct hbf_nats_opts no = r->o->nats;
	jsOptions jo;
	char err[256];

	no.name = "hbsink";
	if (hbf_nats_connect(&r->nc, &no, err, sizeof(err))) {
		hbf_warn("cannot connect to NATS: %s", err);
		return -EIO;
	}
	jsOptions_Init(&jo);
	return natsConnection_JetStream(&r->js, r->nc, &jo) == NATS_OK ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	struct sink_opts o;
	struct sink_run r = {.o = &o};
	struct sink_stats st;
	int rc;

	hbc_prog = "hbsink";
	rc = sink_parse_args(&o, argc, argv);
	if (rc >= 0)
		return rc;
	hbf_signals();
	rc = sink_open(&r.sk, &o.cfg);
	if (rc) {
		hbf_warn("%s: %s", o.cfg.dir, strerror(-rc));
		return 1;
	}
	r.msgs = calloc(o.batch, sizeof(*r.msgs));
	r.ok = calloc(o.batch, 1);
	rc = r.msgs && r.ok ? sink_connect(&r) : -ENOMEM;
	if (!rc) {
		hbf_info("writing stream %s into %s as consumer %s", o.stream, o.cfg.dir, o.durable);
		sink_loop(&r);
		rc = sink_flush(r.sk, 1);
	}
	sink_stats(r.sk, &st);
	hbf_info("stopped: %" PRIu64 " messages, %" PRIu64 " records written, %" PRIu64
		 " duplicates dropped, %" PRIu64 " bad messages skipped",
		 st.msgs, st.records, st.dups, r.bad);
	if (r.sub)
		natsSubscription_Destroy(r.sub);
	if (r.js)
		jsCtx_Destroy(r.js);
	hbf_nats_close(r.nc);
	sink_close(r.sk);
	free(r.msgs);
	free(r.ok);
	nats_Close();
	return rc ? 1 : 0;
}
