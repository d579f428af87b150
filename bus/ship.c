/* SPDX-License-Identifier: MIT */
/* ship.c - hbship's engine (ship.h). */
#include "ship.h"
#include "hb.h"
#include "hbc.h"
#include "prom.h"

#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { SLOT_FREE, SLOT_INFLIGHT, SLOT_ACKED, SLOT_FAILED };

struct ship_slot {
	natsMsg *msg;
	int state;
	char file[HBC_FNAME_MAX]; /* position after it: (file, off) */
	uint64_t off;
	uint32_t nrec;
	uint32_t nsynth;          /* of them, gaps made here (not in the archive) */
	uint64_t ts_first;
	char ring[256];           /* its producer, and the seq after its range */
	uint64_t start_ns, next;
	int has_seq;
};

struct ship {
	const struct ship_opts *o;
	volatile int *stop;
	natsConnection *nc;
	jsCtx *js;
	struct hb_reader *rd;
	char subject[256];
	char host[HBF_HOST_MAX];
	char bus[64];
	struct hbf_msg cur;
	msgpack_sbuffer out;

	/* the window: slots [tail, head), guarded by mu; the ack handler
	 * (a nats thread) changes their state and signals cv */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ship_slot *slots;
	uint64_t head, tail;
	atomic_int failed;      /* a message failed: the run stops */
	char fail_why[256];

	/* committed position: everything up to (file, off) is acknowledged */
	char pos_file[HBC_FNAME_MAX];
	uint64_t pos_off;
	int have_pos, pos_dirty;
	char pos_path[4096 + 64];
	int skipping;           /* re-reading up to the position */
	struct ship_seen seen;  /* per producer: the seq after what is acked */
	int lost;               /* the position's file was removed unshipped */

	int done;               /* --once: everything acknowledged */
	int outage;             /* logged a failure, no ack since */
	uint64_t outage_since;
	uint64_t backoff_ms;
	uint64_t next_periodic, next_save;

	/* own heartbeats and /metrics */
	struct hb_producer *self;
	int m_lag_bytes, m_lag_records, m_oldest_age, m_records, m_msgs, m_dups, m_failures;
	uint64_t records;
	uint64_t records_archive; /* of them, archive records (not gaps made here) */
	uint32_t cur_synth;       /* gaps made here in the message being built */
	_Atomic uint64_t msgs, dups, failures; /* counted by the ack handler */
	uint64_t msgs_published, records_published, retries;
	uint64_t start_ns;
	struct ship_count *count; /* the archive's records counted (the lag) */
	uint64_t count_base;      /* records_archive when it started counting */
	struct hbc_prom_server *srv;
	uint64_t next_metrics;
};

static uint64_t ship_mono_ms(void)
{
	return hbc_mono_ns() / 1000000u;
}

/* ---- position ---------------------------------------------------------- */

static int ship_pos_load(struct ship *s)
{
	char line[512], name[HBC_FNAME_MAX + 1];
	unsigned long long off;
	FILE *f = fopen(s->pos_path, "r");
	int ok = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fgets(line, sizeof(line), f) && !strcmp(line, "hbship-position 1\n") &&
	    fgets(line, sizeof(line), f) && sscanf(line, "file %63s", name) == 1 &&
	    fgets(line, sizeof(line), f) && sscanf(line, "offset %llu", &off) == 1 &&
	    strlen(name) < sizeof(s->pos_file)) {
		snprintf(s->pos_file, sizeof(s->pos_file), "%s", name);
		s->pos_off = off;
		s->have_pos = ok = 1;
		while (fgets(line, sizeof(line), f))
			ship_seen_read(&s->seen, line);
	}
	fclose(f);
	if (!ok)
		hbf_warn("%s: not a position file; shipping from the oldest file", s->pos_path);
	return 0;
}

static int ship_pos_save(struct ship *s)
{
	char tmp[sizeof(s->pos_path) + 8];
	FILE *f;
	int rc = 0;

	if (!s->pos_dirty)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->pos_path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "hbship-position 1\nfile %s\noffset %" PRIu64 "\n", s->pos_file, s->pos_off);
	ship_seen_write(&s->seen, f);
	if (fflush(f) || fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, s->pos_path))
		rc = -errno;
	if (rc)
		hbf_warn("cannot save the position in %s: %s", s->pos_path, strerror(-rc));
	else
		s->pos_dirty = 0;
	return rc;
}

/* Moves the position over the acknowledged slots at the tail. */
static void ship_commit(struct ship *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->tail < s->head && s->slots[s->tail % s->o->window].state == SLOT_ACKED) {
		struct ship_slot *sl = &s->slots[s->tail % s->o->window];

		memcpy(s->pos_file, sl->file, sizeof(s->pos_file));
		s->pos_off = sl->off;
		s->have_pos = s->pos_dirty = 1;
		s->records += sl->nrec;
		s->records_archive += sl->nrec - sl->nsynth;
		if (sl->has_seq)
			ship_seen_note(&s->seen, sl->ring, sl->start_ns, sl->next);
		sl->state = SLOT_FREE;
		s->tail++;
		if (s->outage) {
			hbf_warn("stream %s acknowledges again after %" PRIu64 " s; catching up",
				 s->o->stream, (ship_mono_ms() - s->outage_since) / 1000);
			s->outage = 0;
			s->backoff_ms = 0;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- lag and own heartbeats ------------------------------------------- */

/* Archive bytes from (file, off) on (file "": none). */
static uint64_t ship_lag_bytes(struct ship *s, const char *file, uint64_t off)
{
	DIR *d = *file ? opendir(s->o->dir) : NULL;
	struct dirent *e;
	uint64_t total = 0, ns;
	struct stat st;
	char path[sizeof(s->o->dir) + 260];

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		int cmp = strcmp(e->d_name, file);

		if (hbc_file_name_parse(e->d_name, &ns) || cmp < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->o->dir, e->d_name);
		if (stat(path, &st))
			continue;
		if (cmp > 0)
			total += (uint64_t)st.st_size;
		else if ((uint64_t)st.st_size > off)
			total += (uint64_t)st.st_size - off;
	}
	closedir(d);
	return total;
}

static void ship_self_open(struct ship *s)
{
	struct hb_config c = {.bus = s->o->bus, .name = "hbship", .interval_ms = 1000};

	s->self = &hb_producer_disabled;
	if (!s->o->heartbeats)
		return;
	if (hb_open(&s->self, &c)) {
		hbf_debug("no heartbeats of its own: cannot open a ring on bus %s", s->o->bus);
		return;
	}
	s->m_lag_bytes = hb_metric_register(s->self, "hbship.lag_bytes", HB_METRIC_GAUGE);
	s->m_lag_records = hb_metric_register(s->self, "hbship.lag_records", HB_METRIC_GAUGE);
	s->m_oldest_age = hb_metric_register(s->self, "hbship.oldest_unshipped_age_s",
					     HB_METRIC_GAUGE);
	s->m_records = hb_metric_register(s->self, "hbship.records_shipped", HB_METRIC_COUNTER);
	s->m_msgs = hb_metric_register(s->self, "hbship.messages_acked", HB_METRIC_COUNTER);
	s->m_dups = hb_metric_register(s->self, "hbship.messages_duplicate", HB_METRIC_COUNTER);
	s->m_failures = hb_metric_register(s->self, "hbship.publish_failures", HB_METRIC_COUNTER);
	hb_status_set(s->self, HB_STATUS_OK);
}

static void ship_gauge(struct hb_producer *p, int id, double v)
{
	if (id >= 0)
		hb_gauge_set(p, (unsigned)id, v);
}

static void ship_counter(struct hb_producer *p, int id, uint64_t *last, uint64_t now)
{
	if (id >= 0 && now > *last)
		hb_counter_add(p, (unsigned)id, now - *last);
	*last = now;
}

/* The figures of now: the lag from the counter, the rest from the
 * shipper's own counts. */
static void ship_observe(struct ship *s, struct ship_stats *st)
{
	uint64_t acked;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->mu);
	acked = s->records_archive;
	st->records_acked = s->records_archive;
	st->inflight = s->head - s->tail;
	st->failing = s->outage;
	pthread_mutex_unlock(&s->mu);
	ship_count_lag(s->count, acked - s->count_base, &st->lag);
	st->lag_bytes = st->lag.records ? ship_lag_bytes(s, st->lag.file, st->lag.off) : 0;
	st->now_ns = hbc_now_ns();
	st->start_ns = s->start_ns;
	st->msgs_published = s->msgs_published;
	st->records_published = s->records_published;
	st->msgs_acked = s->msgs;
	st->msgs_duplicate = s->dups;
	st->publish_failures = s->failures;
	st->retries = s->retries;
	st->backoff_ms = st->failing ? s->backoff_ms : 0;
	st->connected = s->nc && natsConnection_Status(s->nc) == NATS_CONN_STATUS_CONNECTED;
	st->host = s->host;
	st->bus = s->bus;
	st->stream = s->o->stream;
}

static void ship_self_tick(struct ship *s, const struct ship_stats *st)
{
	static uint64_t l_records, l_msgs, l_dups, l_failures;

	ship_gauge(s->self, s->m_lag_bytes, (double)st->lag_bytes);
	ship_gauge(s->self, s->m_lag_records, (double)st->lag.records);
	ship_gauge(s->self, s->m_oldest_age,
		   st->lag.records && st->now_ns > st->lag.ts_ns
			   ? (double)(st->now_ns - st->lag.ts_ns) / 1e9 : 0);
	ship_counter(s->self, s->m_records, &l_records, s->records);
	ship_counter(s->self, s->m_msgs, &l_msgs, s->msgs);
	ship_counter(s->self, s->m_dups, &l_dups, s->dups);
	ship_counter(s->self, s->m_failures, &l_failures, s->failures);
	hb_tick(s->self);
}

static void ship_metrics_publish(struct ship *s, const struct ship_stats *st)
{
	char *text;
	size_t len;

	if (s->srv && !ship_metrics_render(st, &text, &len))
		hbc_prom_server_publish(s->srv, text, len);
}

/* Commit, save the position (at most every 100 ms), heartbeat (every
 * second), /metrics (every 250 ms). */
static void ship_periodic(struct ship *s, int force)
{
	uint64_t now = ship_mono_ms();
	int hb = now >= s->next_periodic, metrics = s->srv && (force || now >= s->next_metrics);
	struct ship_stats st;

	ship_commit(s);
	if (force || now >= s->next_save) {
		ship_pos_save(s);
		s->next_save = now + 100;
	}
	if (!hb && !metrics)
		return;
	ship_observe(s, &st);
	if (hb) {
		ship_self_tick(s, &st);
		s->next_periodic = now + 1000;
	}
	if (metrics) {
		ship_metrics_publish(s, &st);
		s->next_metrics = now + 250;
	}
}

/* ---- publishing -------------------------------------------------------- */

static void ship_on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *ctx)
{
	struct ship *s = ctx;
	uint64_t i;

	(void)js;
	pthread_mutex_lock(&s->mu);
	for (i = s->tail; i < s->head; i++) {
		struct ship_slot *sl = &s->slots[i % s->o->window];

		if (sl->state != SLOT_INFLIGHT || sl->msg != msg)
			continue;
		sl->msg = NULL;
		if (hbc_verbosity >= 2) {
			const char *id = NULL;

			natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
			hbf_debug("%s %s: stream seq %" PRIu64 "%s", pa ? "ack" : "nak", id ? id : "?",
				  pa ? pa->Sequence : 0, pa && pa->Duplicate ? " (duplicate)" : "");
		}
		if (pa) {
			sl->state = SLOT_ACKED;
			s->msgs++;
			s->dups += pa->Duplicate;
		} else {
			sl->state = SLOT_FAILED;
			s->failures++;
			if (!s->failed)
				snprintf(s->fail_why, sizeof(s->fail_why), "%s%s%s",
					 pae && pae->ErrText ? pae->ErrText
							     : natsStatus_GetText(pae ? pae->Err : NATS_ERR),
					 pae && pae->ErrCode ? " (JetStream error)" : "", "");
			s->failed = 1;
		}
		break;
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	natsMsg_Destroy(msg);
}

static void ship_fail(struct ship *s, const char *why)
{
	pthread_mutex_lock(&s->mu);
	if (!s->failed)
		snprintf(s->fail_why, sizeof(s->fail_why), "%s", why);
	s->failed = 1;
	pthread_mutex_unlock(&s->mu);
}

/* Waits for room in the window; 0, or -EAGAIN when the run failed. */
static int ship_wait_room(struct ship *s)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	while (!s->failed && s->head - s->tail >= s->o->window &&
	       s->slots[s->tail % s->o->window].state != SLOT_ACKED) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000)
			ts.tv_sec++, ts.tv_nsec -= 1000000000;
		pthread_cond_timedwait(&s->cv, &s->mu, &ts);
	}
	if (s->failed)
		rc = -EAGAIN;
	pthread_mutex_unlock(&s->mu);
	if (!rc)
		ship_commit(s); /* frees the acked tail */
	return rc;
}

static const char *ship_base(const char *path)
{
	const char *sl = strrchr(path, '/');

	return sl ? sl + 1 : path;
}

/* Publishes the message being built. 0, or -EAGAIN when the run failed. */
static int ship_flush(struct ship *s)
{
	struct ship_slot *sl;
	jsPubOptions po;
	natsMsg *msg = NULL;
	char id[HBF_ID_MAX];
	natsStatus st;

	if (!s->cur.nrec)
		return 0;
	if (ship_wait_room(s))
		return -EAGAIN;
	if (natsConnection_Status(s->nc) != NATS_CONN_STATUS_CONNECTED) {
		/* buffered until the reconnect, it would reach the stream after
		 * what is re-sent from the position */
		ship_fail(s, "not connected to NATS");
		return -EAGAIN;
	}
	hbf_msg_finish(&s->cur, s->host, s->bus, &s->out, id, sizeof(id));
	st = natsMsg_Create(&msg, s->subject, NULL, s->out.data, (int)s->out.size);
	if (st == NATS_OK)
		st = natsMsgHeader_Set(msg, "Nats-Msg-Id", id);
	if (st != NATS_OK) {
		natsMsg_Destroy(msg);
		ship_fail(s, natsStatus_GetText(st));
		return -EAGAIN;
	}
	pthread_mutex_lock(&s->mu);
	sl = &s->slots[s->head % s->o->window];
	sl->msg = msg;
	sl->state = SLOT_INFLIGHT;
	snprintf(sl->file, sizeof(sl->file), "%s", ship_base(s->cur.file));
	sl->off = s->cur.last_off;
	sl->nrec = s->cur.nrec;
	sl->nsynth = s->cur_synth;
	sl->ts_first = s->cur.ts_first;
	snprintf(sl->ring, sizeof(sl->ring), "%s", s->cur.prod->ring);
	sl->start_ns = s->cur.prod->start_ns;
	sl->next = s->cur.hi + 1;
	sl->has_seq = s->cur.has_seq;
	s->head++;
	pthread_mutex_unlock(&s->mu);
	jsPubOptions_Init(&po);
	po.MaxWait = s->o->ack_wait_ms;
	po.ExpectStream = s->o->stream;
	hbf_debug("publish %s (%zu bytes)", id, s->out.size);
	st = js_PublishMsgAsync(s->js, &msg, &po);
	if (st == NATS_OK) {
		s->msgs_published++;
		s->records_published += s->cur.nrec;
	}
	hbf_msg_begin(&s->cur, NULL);
	s->cur_synth = 0;
	if (st != NATS_OK) {
		char why[256];

		pthread_mutex_lock(&s->mu);
		if (sl->state == SLOT_INFLIGHT && sl->msg == msg)
			sl->state = SLOT_FAILED, sl->msg = NULL;
		pthread_mutex_unlock(&s->mu);
		natsMsg_Destroy(msg); /* NULL when the library kept it */
		ship_fail(s, hbf_nats_err(st, 0, why, sizeof(why)));
		return -EAGAIN;
	}
	return 0;
}

/* ---- the stream --------------------------------------------------------- */

static int ship_stream_create(struct ship *s)
{
	char subj[256], why[256];
	const char *subjects[1] = {subj};
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus st;

	snprintf(subj, sizeof(subj), "%s.>", s->o->prefix);
	jsStreamConfig_Init(&sc);
	sc.Name = s->o->stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = js_FileStorage;
	sc.Replicas = s->o->replicas;
	sc.MaxBytes = s->o->max_bytes ? s->o->max_bytes : -1;
	sc.MaxAge = s->o->max_age_ns;
	sc.Discard = s->o->discard_new ? js_DiscardNew : js_DiscardOld;
	sc.Duplicates = s->o->dup_window_ns; /* at most the age limit (the server's rule) */
	if (s->o->max_age_ns && sc.Duplicates > s->o->max_age_ns)
		sc.Duplicates = s->o->max_age_ns;
	st = js_AddStream(&si, s->js, &sc, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (st != NATS_OK) {
		ship_fail(s, hbf_nats_err(st, jerr, why, sizeof(why)));
		return -EAGAIN;
	}
	hbf_info("created stream %s (subjects %s, %" PRId64 " replicas)", s->o->stream, subj,
		 s->o->replicas);
	return 0;
}

static int ship_stream_ensure(struct ship *s)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	char why[256];
	natsStatus st = js_GetStreamInfo(&si, s->js, s->o->stream, NULL, &jerr);

	jsStreamInfo_Destroy(si);
	if (st == NATS_OK)
		return 0;
	if (st == NATS_NOT_FOUND && s->o->create)
		return ship_stream_create(s);
	if (st == NATS_NOT_FOUND)
		snprintf(why, sizeof(why), "stream %s does not exist (and --no-create)",
			 s->o->stream);
	else
		hbf_nats_err(st, jerr, why, sizeof(why));
	ship_fail(s, why);
	return -EAGAIN;
}

/* ---- reading ------------------------------------------------------------ */

static void ship_on_idle(void *ctx)
{
	struct ship *s = ctx;

	if (!s->skipping)
		ship_flush(s);
	ship_periodic(s, 0);
	if (*s->stop || s->failed)
		hb_reader_stop(s->rd);
}

static void ship_on_damage(void *ctx, const char *file, uint64_t off, uint64_t len,
			   const char *what)
{
	(void)ctx, (void)len;
	hbf_warn("%s: offset %" PRIu64 ": %s (skipped)", file, off, what);
}

static void ship_header(struct ship *s, const struct hb_rd_record *rec)
{
	const msgpack_object *h = hb_rd_map_get(rec->obj, "host"), *b = hb_rd_map_get(rec->obj, "bus");
	char tok[HBF_HOST_MAX];

	if (h && h->type == MSGPACK_OBJECT_STR && h->via.str.size < sizeof(s->host)) {
		memcpy(s->host, h->via.str.ptr, h->via.str.size);
		s->host[h->via.str.size] = 0;
	}
	if (b && b->type == MSGPACK_OBJECT_STR && b->via.str.size < sizeof(s->bus)) {
		memcpy(s->bus, b->via.str.ptr, b->via.str.size);
		s->bus[b->via.str.size] = 0;
	}
	hbf_subject_token(tok, sizeof(tok), s->host);
	snprintf(s->subject, sizeof(s->subject), "%s.%s.%s", s->o->prefix, tok, s->bus);
}

/* After the loss of unshipped files: before the first record of each
 * producer, a gap from what was acknowledged of it up to the first number
 * the oldest file left holds (its producer record's seq_next). */
static void ship_lost_gap(struct ship *s, const struct hb_rd_record *rec)
{
	const struct hb_rd_producer *pr = rec->producer;
	struct ship_seen_ent *e;

	if (!pr || !pr->ring || rec->kind == HB_RD_HEADER ||
	    (rec->kind == HB_RD_BUS && rec->bus_kind && !strcmp(rec->bus_kind, "producer")))
		return;
	e = ship_seen_get(&s->seen, pr->ring, pr->start_ns);
	if (!e || e->gap_done)
		return;
	e->gap_done = 1;
	if (pr->seq_next > e->next) {
		hbf_warn("%s: seq %" PRIu64 "..%" PRIu64 " removed by retention before they "
			 "were shipped: sent as a gap",
			 pr->name, e->next, pr->seq_next - 1);
		hbf_msg_add_gap(&s->cur, e->next, pr->seq_next - 1, rec->ts_ns, "retention");
		s->cur_synth++;
	}
}

/* One record read from the archive. 0, or -EAGAIN when the run failed. */
static int ship_record(struct ship *s, const struct hb_rd_record *rec)
{
	if (s->skipping) {
		int cmp = strcmp(ship_base(rec->file), s->pos_file);

		if (cmp < 0 || (cmp == 0 && rec->offset <= s->pos_off)) {
			if (rec->kind == HB_RD_HEADER)
				ship_header(s, rec);
			return 0;
		}
		s->skipping = 0;
	}
	if (!s->have_pos) {
		/* nothing shipped yet: (oldest file, 0) says so, and keeps the
		 * collector's retention off the files (the header at 0 is never
		 * shipped) */
		snprintf(s->pos_file, sizeof(s->pos_file), "%s", ship_base(rec->file));
		s->pos_off = 0;
		s->have_pos = s->pos_dirty = 1;
	}
	if (rec->kind == HB_RD_HEADER) {
		if (ship_flush(s))
			return -EAGAIN;
		ship_header(s, rec);
		return 0;
	}
	if (s->cur.nrec &&
	    (rec->producer != s->cur.prod || rec->file != s->cur.file ||
	     s->cur.body.size >= s->o->max_msg) &&
	    ship_flush(s))
		return -EAGAIN;
	if (!s->cur.nrec) {
		hbf_msg_begin(&s->cur, rec->producer);
		s->cur_synth = 0;
	}
	if (s->lost)
		ship_lost_gap(s, rec);
	if (hbf_msg_add(&s->cur, rec) == -EINVAL && !s->cur.nrec)
		hbf_msg_begin(&s->cur, NULL);
	return 0;
}

/* (Re)starts counting the archive's records after (file, off): the lag
 * figures need it only for heartbeats and /metrics. */
static void ship_count_restart(struct ship *s, const char *file, uint64_t off)
{
	int rc;

	ship_count_stop(s->count);
	s->count = NULL;
	if (!s->o->heartbeats && !s->o->metrics)
		return;
	pthread_mutex_lock(&s->mu);
	s->count_base = s->records_archive;
	pthread_mutex_unlock(&s->mu);
	rc = ship_count_start(&s->count, s->o->dir, file, off);
	if (rc)
		hbf_warn("cannot count the archive's records (no lag figures): %s", strerror(-rc));
}

/* The file to start from: the position's, or the directory (the oldest
 * file) when there is none or retention removed it. */
static void ship_start_path(struct ship *s, char *path, size_t len)
{
	struct stat st;

	s->skipping = 0;
	snprintf(path, len, "%s", s->o->dir);
	if (!s->have_pos)
		return;
	snprintf(path, len, "%s/%s", s->o->dir, s->pos_file);
	if (!stat(path, &st)) {
		s->skipping = 1;
		if (s->o->once) /* without following, a file is read alone */
			snprintf(path, len, "%s", s->o->dir);
		return;
	}
	hbf_warn("%s was removed before it was shipped past offset %" PRIu64
		 "; shipping from the oldest file left, what was lost as gaps",
		 s->pos_file, s->pos_off);
	s->lost = 1;
	for (size_t i = 0; i < s->seen.n; i++)
		s->seen.e[i].gap_done = 0;
	snprintf(path, len, "%s", s->o->dir);
	if (s->count) /* count again from the oldest file too */
		ship_count_restart(s, NULL, 0);
}

/* Waits up to ms for every message in flight to settle. */
static void ship_settle(struct ship *s, int64_t ms)
{
	uint64_t until = ship_mono_ms() + (uint64_t)ms, i;
	int busy;

	do {
		busy = 0;
		pthread_mutex_lock(&s->mu);
		for (i = s->tail; i < s->head; i++)
			busy |= s->slots[i % s->o->window].state == SLOT_INFLIGHT;
		pthread_mutex_unlock(&s->mu);
		if (busy)
			usleep(10000);
	} while (busy && ship_mono_ms() < until);
	ship_commit(s);
}

/* Nothing shipped yet: the position (oldest file, 0), saved at once, keeps
 * the collector's retention off the files even before NATS answers. */
static void ship_pos_placeholder(struct ship *s)
{
	DIR *d;
	struct dirent *e;
	uint64_t ns;

	if (s->have_pos || !(d = opendir(s->o->dir)))
		return;
	while ((e = readdir(d)))
		if (!hbc_file_name_parse(e->d_name, &ns) &&
		    (!s->have_pos || strcmp(e->d_name, s->pos_file) < 0)) {
			memcpy(s->pos_file, e->d_name, strlen(e->d_name) + 1); /* 37 bytes */
			s->have_pos = s->pos_dirty = 1;
		}
	closedir(d);
	s->pos_off = 0;
	ship_pos_save(s);
}

/* One run: from the position until a failure or stop. */
static int ship_session(struct ship *s)
{
	struct hb_reader_opts ro = {.flags = HB_RD_BATCHES | (s->o->once ? 0 : HB_RD_FOLLOW),
				    .poll_ms = 20, .on_idle = ship_on_idle,
				    .on_damage = ship_on_damage, .ctx = s};
	struct hb_rd_record rec;
	char path[sizeof(s->o->dir) + HBC_FNAME_MAX + 2];
	const char *paths[1] = {path};
	int rc;

	ship_pos_placeholder(s);
	if (ship_stream_ensure(s))
		return -EAGAIN;
	ship_start_path(s, path, sizeof(path));
	rc = hb_reader_open(&s->rd, paths, 1, &ro);
	if (rc) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), ": %s", strerror(-rc));
		ship_fail(s, path);
		return -EAGAIN;
	}
	hbf_msg_begin(&s->cur, NULL);
	s->cur_synth = 0;
	while (!s->failed && (rc = hb_reader_next(s->rd, &rec)) > 0) {
		if (*s->stop) /* between archive objects: the position names one */
			break;
		if (ship_record(s, &rec))
			break;
		if (s->cur.nobj == 1)
			ship_periodic(s, 0);
	}
	if (rc < 0)
		ship_fail(s, strerror(-rc));
	if ((*s->stop || s->o->once) && !s->failed)
		ship_flush(s);
	if (s->o->once && !s->failed && rc == 0 && !*s->stop) {
		ship_settle(s, s->o->ack_wait_ms + 1000);
		pthread_mutex_lock(&s->mu);
		if (s->tail != s->head && !s->failed) /* unanswered: send again */
			snprintf(s->fail_why, sizeof(s->fail_why), "no ack within the ack wait");
		s->failed |= s->tail != s->head;
		pthread_mutex_unlock(&s->mu);
		s->done = !s->failed;
	}
	return s->failed ? -EAGAIN : 0;
}

/* After a failed run: forget what is not committed, report once, back off. */
static void ship_recover(struct ship *s)
{
	uint64_t until, i;
	char why[sizeof(s->fail_why)];

	ship_settle(s, s->o->ack_wait_ms + 1000);
	ship_pos_save(s);
	pthread_mutex_lock(&s->mu);
	for (i = s->tail; i < s->head; i++) {
		struct ship_slot *sl = &s->slots[i % s->o->window];

		if (sl->state == SLOT_INFLIGHT) /* never answered: its ack no longer counts */
			sl->msg = NULL;
		sl->state = SLOT_FREE;
	}
	s->head = s->tail;
	s->failed = 0;
	memcpy(why, s->fail_why, sizeof(why)); /* a late nak may write it now */
	pthread_mutex_unlock(&s->mu);
	if (!s->outage) {
		hbf_warn("publishing to stream %s fails: %s; retrying from %s offset %" PRIu64
			 " with backoff",
			 s->o->stream, why, s->have_pos ? s->pos_file : "the oldest file",
			 s->pos_off);
		s->outage = 1;
		s->outage_since = ship_mono_ms();
	} else {
		hbf_debug("still failing: %s", why);
	}
	s->retries++;
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 100;
	if (s->backoff_ms > s->o->backoff_max_ms)
		s->backoff_ms = s->o->backoff_max_ms;
	until = ship_mono_ms() + s->backoff_ms;
	while (!*s->stop && ship_mono_ms() < until) {
		usleep(20000);
		ship_periodic(s, 0);
	}
}

static int ship_metrics_start(struct ship *s)
{
	char err[256];
	int rc;

	if (!s->o->metrics)
		return 0;
	rc = hbc_prom_server_start(&s->srv, s->o->metrics, err, sizeof(err));
	if (rc) {
		hbf_warn("--metrics %s", err);
		return rc;
	}
	hbf_info("metrics on %s (port %d)", s->o->metrics, hbc_prom_server_port(s->srv));
	return 0;
}

static int ship_connect(struct ship *s)
{
	jsOptions jo;
	char err[256];
	natsStatus st;
	struct hbf_nats_opts no = s->o->nats;

	no.name = "hbship";
	if (hbf_nats_connect(&s->nc, &no, err, sizeof(err))) {
		hbf_warn("cannot connect to NATS: %s", err);
		return -EIO;
	}
	jsOptions_Init(&jo);
	jo.Wait = s->o->ack_wait_ms;
	jo.PublishAsync.MaxPending = s->o->window + 16;
	jo.PublishAsync.AckHandler = ship_on_ack;
	jo.PublishAsync.AckHandlerClosure = s;
	st = natsConnection_JetStream(&s->js, s->nc, &jo);
	if (st != NATS_OK) {
		hbf_warn("JetStream context: %s", natsStatus_GetText(st));
		return -EIO;
	}
	return 0;
}

static void ship_free(struct ship *s)
{
	ship_count_stop(s->count);
	hbc_prom_server_stop(s->srv);
	if (s->rd)
		hb_reader_close(s->rd);
	if (s->js) {
		natsMsgList pending;

		/* publishes still unacknowledged when the run stopped: the
		 * library hands them back (NATS_NOT_FOUND when none), and they
		 * go with it; the saved position is before them. libnats 3.4
		 * makes the list with the first publish and crashes on a
		 * context that never published. */
		if (s->msgs_published &&
		    js_PublishAsyncGetPendingList(&pending, s->js) == NATS_OK)
			natsMsgList_Destroy(&pending);
		jsCtx_Destroy(s->js);
	}
	hbf_nats_close(s->nc);
	hb_close(s->self);
	hbf_msg_free(&s->cur);
	msgpack_sbuffer_destroy(&s->out);
	free(s->slots);
	ship_seen_free(&s->seen);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

int ship_run(const struct ship_opts *o, volatile int *stop)
{
	struct ship s = {.o = o, .stop = stop};
	int rc;

	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	hbf_msg_init(&s.cur);
	msgpack_sbuffer_init(&s.out);
	snprintf(s.bus, sizeof(s.bus), "%s", o->bus);
	gethostname(s.host, sizeof(s.host) - 1);
	snprintf(s.pos_path, sizeof(s.pos_path), "%s/hbship-%s.pos", o->dir, o->stream);
	s.slots = calloc(o->window, sizeof(*s.slots));
	s.start_ns = hbc_now_ns();
	rc = s.slots ? ship_pos_load(&s) : -ENOMEM;
	if (!rc)
		rc = ship_metrics_start(&s);
	if (!rc)
		rc = ship_connect(&s);
	if (rc) {
		ship_free(&s);
		return rc;
	}
	ship_count_restart(&s, s.have_pos ? s.pos_file : NULL, s.pos_off);
	ship_self_open(&s);
	hbf_info("shipping %s to stream %s%s%s", o->dir, o->stream,
		 s.have_pos ? " from " : "", s.have_pos ? s.pos_file : "");
	while (!*stop) {
		rc = ship_session(&s);
		if (s.rd)
			hb_reader_close(s.rd);
		s.rd = NULL;
		if (s.done)
			break;
		if (rc && !*stop)
			ship_recover(&s);
	}
	/* what is not acknowledged by then is re-sent by the next run */
	ship_settle(&s, o->ack_wait_ms);
	ship_periodic(&s, 1);
	rc = o->once && !s.done ? -EINTR : 0;
	hbf_info("stopped at %s offset %" PRIu64 " (%" PRIu64 " records shipped)",
		 s.have_pos ? s.pos_file : "-", s.pos_off, s.records);
	ship_free(&s);
	return rc;
}
