/* SPDX-License-Identifier: MIT */
/* model.c - hbtop's model: archive follower thread and ring header scan. */
#include "top.h"

#include <hb_state.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHM_DIR "/dev/shm"

struct top_ring {
	char name[128]; /* shm name without '/' */
	const struct hb_ring_hdr *h;
	size_t size;
	int seen;
};

/* A producer's newest events as JSON (opts.recent), a ring of TOP_RECENT. */
struct top_recent {
	uint32_t n, at;
	char ev[TOP_RECENT][512];
};

struct top_pmap {
	const struct hb_rd_producer *p;
	uint32_t row;
};

struct top_model {
	struct top_opts o;
	pthread_mutex_t mu; /* guards everything below but rings */
	pthread_t th;
	struct hb_reader *rd;
	int stop;
	int caught_up;
	struct top_row *rows;
	uint32_t nrows, caprows;
	struct top_pmap *pmap;
	uint32_t npmap, cappmap;
	uint64_t records, max_ts;
	uint32_t coll_pid;
	int coll_running;
	char err[256];
	uint64_t damage;
	/* ring mappings: used by the snapshot caller only */
	struct top_ring *rings;
	uint32_t nrings, caprings;
	/* opts.recent: per row, NULL until its first event (guarded by mu) */
	struct top_recent **recent;
	uint32_t caprecent;
};

static uint64_t top_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int top_str(const msgpack_object *o, char *out, size_t len)
{
	size_t n;

	if (!o || o->type != MSGPACK_OBJECT_STR || !len)
		return -1;
	n = o->via.str.size < len - 1 ? o->via.str.size : len - 1;
	memcpy(out, o->via.str.ptr, n);
	out[n] = 0;
	return 0;
}

static uint64_t top_uint(const msgpack_object *o)
{
	if (!o)
		return 0;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return o->via.u64;
	if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
		return o->via.f64 > 0 ? (uint64_t)o->via.f64 : 0;
	return 0;
}

static double top_num(const msgpack_object *o, double def)
{
	if (!o)
		return def;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (double)o->via.u64;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return (double)o->via.i64;
	if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
		return o->via.f64;
	return def;
}

/* The row of ring on host (NULL: any host; a ring header does not know
 * the name its collector gives the host). */
static struct top_row *top_row_by_ring(struct top_model *m, const char *host, const char *ring,
				       int create)
{
	uint32_t i;

	for (i = 0; i < m->nrows; i++)
		if (!strcmp(m->rows[i].ring, ring) && (!host || !strcmp(m->rows[i].host, host)))
			return &m->rows[i];
	if (!create)
		return NULL;
	if (m->nrows == m->caprows) {
		uint32_t cap = m->caprows ? m->caprows * 2 : 16;
		struct top_row *nr = realloc(m->rows, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		m->rows = nr;
		m->caprows = cap;
	}
	memset(&m->rows[m->nrows], 0, sizeof(m->rows[0]));
	snprintf(m->rows[m->nrows].ring, sizeof(m->rows[0].ring), "%s", ring);
	snprintf(m->rows[m->nrows].host, sizeof(m->rows[0].host), "%s", host ? host : "");
	m->rows[m->nrows].fill = -1;
	return &m->rows[m->nrows++];
}

static struct top_row *top_row_of(struct top_model *m, const struct hb_rd_producer *p)
{
	uint32_t i;

	if (!p)
		return NULL;
	/* newest mappings last: a producer is restated once per file */
	for (i = m->npmap; i-- > 0;)
		if (m->pmap[i].p == p)
			return &m->rows[m->pmap[i].row];
	return NULL;
}

static void top_pmap_add(struct top_model *m, const struct hb_rd_producer *p, uint32_t row)
{
	if (m->npmap == m->cappmap) {
		uint32_t cap = m->cappmap ? m->cappmap * 2 : 64;
		struct top_pmap *np = realloc(m->pmap, cap * sizeof(*np));

		if (!np)
			return;
		m->pmap = np;
		m->cappmap = cap;
	}
	m->pmap[m->npmap++] = (struct top_pmap){.p = p, .row = row};
}

static void top_fold_producer(struct top_model *m, const struct hb_rd_record *rec)
{
	const struct hb_rd_producer *p = rec->producer;
	/* one host's bus: its rings are its own, whatever it calls the host */
	const char *host = m->o.fleet || m->o.paths ? (p->host ? p->host : "") : NULL;
	struct top_row *r = top_row_by_ring(m, host, p->ring, 1);
	size_t off = 0;
	uint32_t i;

	if (!r)
		return;
	top_pmap_add(m, p, (uint32_t)(r - m->rows));
	/* the threads of one process are producers of one name: name/thread */
	if (p->thread && p->thread[0])
		snprintf(r->name, sizeof(r->name), "%.31s/%.31s", p->name, p->thread);
	else
		snprintf(r->name, sizeof(r->name), "%s", p->name);
	snprintf(r->host, sizeof(r->host), "%s", p->host ? p->host : "");
	r->pid = p->pid;
	r->start_ns = p->start_ns;
	r->interval_ms = p->interval_ms;
	r->types[0] = 0;
	for (i = 0; i < p->ntypes && off + 2 < sizeof(r->types); i++)
		off += (size_t)snprintf(r->types + off, sizeof(r->types) - off, "%s%s", i ? "," : "",
					p->types[i].name ? p->types[i].name : "");
	for (i = 0; i < p->nmetrics && i < TOP_METRICS; i++) {
		snprintf(r->m[i].name, sizeof(r->m[i].name), "%s", p->metrics[i].name);
		r->m[i].kind = p->metrics[i].kind;
	}
	if (r->nmetrics < i)
		r->nmetrics = i;
}

static void top_fold_alert(struct top_row *r, const msgpack_object *o)
{
	char name[32], ev[16];
	uint32_t i;

	if (top_str(hb_rd_map_get(o, "name"), name, sizeof(name)) ||
	    top_str(hb_rd_map_get(o, "event"), ev, sizeof(ev)))
		return;
	for (i = 0; i < r->nalerts && strcmp(r->alerts[i], name); i++)
		;
	if (!strcmp(ev, "fired") && i == r->nalerts && i < TOP_ALERTS)
		snprintf(r->alerts[r->nalerts++], sizeof(r->alerts[0]), "%s", name);
	else if (!strcmp(ev, "cleared") && i < r->nalerts)
		memmove(r->alerts[i], r->alerts[i + 1], (--r->nalerts - i) * sizeof(r->alerts[0]));
}

/* The archive's state name, through the one vocabulary every side uses. */
static enum top_state top_state_parse(const char *s)
{
	switch (hb_state_parse(s, strlen(s))) {
	case HB_STATE_HEALTHY: return TS_HEALTHY;
	case HB_STATE_LATE: return TS_LATE;
	case HB_STATE_DEAD: return TS_DEAD;
	case HB_STATE_EXITED: return TS_EXITED;
	case HB_STATE_CRASHED: return TS_CRASHED;
	case HB_STATE_BACKLOGGED: return TS_BACKLOGGED;
	case HB_STATE_QUARANTINED: return TS_QUARANTINED;
	default: return TS_UNKNOWN;
	}
}

static void top_fold_bus(struct top_model *m, const struct hb_rd_record *rec)
{
	struct top_row *r = top_row_of(m, rec->producer);
	const msgpack_object *o = rec->obj;
	char s[32];

	if (!strcmp(rec->bus_kind, "producer")) {
		top_fold_producer(m, rec);
	} else if (!strcmp(rec->bus_kind, "metrics") && rec->producer) {
		top_fold_producer(m, rec);
	} else if (!strcmp(rec->bus_kind, "state") && r) {
		if (!top_str(hb_rd_map_get(o, "state"), s, sizeof(s)))
			r->state = top_state_parse(s);
		if (top_str(hb_rd_map_get(o, "why"), r->why, sizeof(r->why)))
			r->why[0] = 0;
	} else if (!strcmp(rec->bus_kind, "gap") && r) {
		r->gaps_n += top_uint(hb_rd_map_get(o, "n"));
	} else if (!strcmp(rec->bus_kind, "collector")) {
		m->coll_pid = (uint32_t)top_uint(hb_rd_map_get(o, "pid"));
		if (!top_str(hb_rd_map_get(o, "event"), s, sizeof(s)))
			m->coll_running = strcmp(s, "stop") != 0;
	} else if (!strcmp(rec->bus_kind, "alert") && r) {
		top_fold_alert(r, o);
	}
}

static void top_fold_proc(struct top_row *r, const msgpack_object *map)
{
	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return;
	r->have_proc = 1;
	r->cpu_pct = top_num(hb_rd_map_get(map, "cpu_pct"), -1);
	r->rss_bytes = top_uint(hb_rd_map_get(map, "rss_bytes"));
	r->threads = (int64_t)top_num(hb_rd_map_get(map, "threads"), -1);
	r->fds = (int64_t)top_num(hb_rd_map_get(map, "fds"), -1);
}

static void top_fold_metric(struct top_metric *t, const msgpack_object *v)
{
	union {
		double d;
		uint64_t u;
	} g;

	t->pa = t->a, t->pb = t->b;
	t->have_prev = 1;
	if (v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size >= 3) {
		t->a = top_uint(&v->via.array.ptr[0]);
		t->b = top_uint(&v->via.array.ptr[1]);
		t->c = top_uint(&v->via.array.ptr[2]);
	} else if (v->type == MSGPACK_OBJECT_STR) {
		top_str(v, t->health, sizeof(t->health));
	} else if (t->kind == HB_METRIC_GAUGE) {
		g.d = top_num(v, 0);
		t->a = g.u;
	} else {
		t->a = top_uint(v);
	}
}

static void top_fold_heartbeat(struct top_row *r, const struct hb_rd_record *rec)
{
	const msgpack_object *a = rec->obj->via.array.ptr;
	uint32_t i, n;

	r->heartbeats++;
	r->prev_hb_ns = r->last_hb_ns;
	if (rec->ts_ns > r->last_hb_ns)
		r->last_hb_ns = rec->ts_ns;
	snprintf(r->status, sizeof(r->status), "%s", rec->status ? rec->status : "");
	r->interval_ms = rec->interval_ms;
	if (rec->metrics) {
		n = rec->metrics->via.array.size;
		for (i = 0; i < n && i < r->nmetrics; i++)
			top_fold_metric(&r->m[i], &rec->metrics->via.array.ptr[i]);
	}
	if (rec->obj->via.array.size > 8)
		top_fold_proc(r, &a[8]);
}

static void top_fold_event(struct top_row *r, const struct hb_rd_record *rec)
{
	uint64_t sec = rec->ts_ns / 1000000000u;
	uint32_t b = (uint32_t)(sec % TOP_BUCKETS);

	r->events++;
	if (rec->type_id >= 0 && rec->type_id < 64)
		r->types_seen |= 1ull << rec->type_id;
	if (r->bucket_sec[b] != sec) {
		if (sec < r->bucket_sec[b])
			return; /* older than the window */
		r->bucket_sec[b] = sec;
		r->bucket_n[b] = 0;
	}
	r->bucket_n[b]++;
}

/* Keeps the event as JSON in its row's ring of newest events. */
static void top_recent_add(struct top_model *m, uint32_t row, const struct hb_rd_record *rec)
{
	struct top_recent *t;
	size_t n;

	if (row >= m->caprecent) {
		uint32_t cap = row < 16 ? 32 : row * 2;
		struct top_recent **nr = realloc(m->recent, cap * sizeof(*nr));

		if (!nr)
			return;
		memset(nr + m->caprecent, 0, (cap - m->caprecent) * sizeof(*nr));
		m->recent = nr;
		m->caprecent = cap;
	}
	if (!m->recent[row] && !(m->recent[row] = calloc(1, sizeof(*t))))
		return;
	t = m->recent[row];
	n = hb_rd_format_json(t->ev[t->at], sizeof(t->ev[0]), rec);
	if (n >= sizeof(t->ev[0])) /* too long for the slot: its head, marked */
		snprintf(t->ev[t->at], sizeof(t->ev[0]), "{\"k\":\"event\",\"truncated\":true,"
			 "\"seq\":%llu,\"ts_ns\":%llu}", (unsigned long long)rec->seq,
			 (unsigned long long)rec->ts_ns);
	else
		t->ev[t->at][n && t->ev[t->at][n - 1] == '\n' ? n - 1 : n] = 0;
	t->at = (t->at + 1) % TOP_RECENT;
	if (t->n < TOP_RECENT)
		t->n++;
}

/* Notes the heartbeat just folded into r: its read latency while following
 * the live end, and the heartbeats missed since the one before. */
static void top_hb_note(struct top_model *m, struct top_row *r, const struct hb_rd_record *rec)
{
	uint64_t iv = (uint64_t)r->interval_ms * 1000000u, gap;
	struct top_hb *h = &r->hb_hist[r->hb_hist_at];

	if (r->prev_hb_ns && rec->ts_ns == r->last_hb_ns && iv) {
		gap = r->last_hb_ns - r->prev_hb_ns;
		if (gap * 2 > 3 * iv)
			r->missed += (gap + iv / 2) / iv - 1;
	}
	h->ts_ns = rec->ts_ns;
	h->lat_ns = -1;
	if (!m->o.paths && m->caught_up) {
		uint64_t now = top_now_ns();

		h->lat_ns = now > rec->ts_ns ? (int64_t)(now - rec->ts_ns) : 0;
	}
	r->hb_hist_at = (r->hb_hist_at + 1) % TOP_HB_HIST;
	if (r->hb_hist_n < TOP_HB_HIST)
		r->hb_hist_n++;
}

static void top_fold(struct top_model *m, const struct hb_rd_record *rec)
{
	struct top_row *r;

	if (rec->ts_ns > m->max_ts)
		m->max_ts = rec->ts_ns;
	if (rec->kind == HB_RD_HEADER) {
		m->coll_pid = (uint32_t)top_uint(hb_rd_map_get(rec->obj, "collector_pid"));
		return;
	}
	if (rec->kind == HB_RD_BUS) {
		if (rec->bus_kind)
			top_fold_bus(m, rec);
		return;
	}
	r = top_row_of(m, rec->producer);
	if (!r)
		return;
	m->records++;
	r->records++;
	if (rec->kind == HB_RD_EVENT) {
		top_fold_event(r, rec);
		if (m->o.recent)
			top_recent_add(m, (uint32_t)(r - m->rows), rec);
	} else if (rec->kind == HB_RD_HEARTBEAT) {
		top_fold_heartbeat(r, rec);
		top_hb_note(m, r, rec);
	}
}

static void top_on_idle(void *ctx)
{
	struct top_model *m = ctx;

	pthread_mutex_lock(&m->mu);
	m->caught_up = 1;
	pthread_mutex_unlock(&m->mu);
}

static void top_on_damage(void *ctx, const char *file, uint64_t off, uint64_t len,
			  const char *what)
{
	struct top_model *m = ctx;

	(void)len;
	pthread_mutex_lock(&m->mu);
	m->damage++;
	snprintf(m->err, sizeof(m->err), "%s: offset %llu: %s", file, (unsigned long long)off,
		 what);
	pthread_mutex_unlock(&m->mu);
}

static int top_reader_open(struct top_model *m)
{
	struct hb_reader_opts ro = {.flags = m->o.paths ? 0 : HB_RD_FOLLOW, .poll_ms = 50,
				    .on_damage = top_on_damage, .on_idle = top_on_idle, .ctx = m};
	const char *dir = m->o.dir;
	struct hb_reader *rd;
	int rc;

	rc = m->o.paths ? hb_reader_open(&rd, m->o.paths, m->o.npaths, &ro)
			: hb_reader_open(&rd, &dir, 1, &ro);
	pthread_mutex_lock(&m->mu);
	if (rc)
		snprintf(m->err, sizeof(m->err), "%s: %s", m->o.paths ? m->o.paths[0] : dir,
			 strerror(-rc));
	else if (m->stop)
		hb_reader_close(rd), rc = -ECANCELED;
	else
		m->rd = rd, m->err[0] = 0;
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static void *top_reader_thread(void *arg)
{
	struct top_model *m = arg;
	struct hb_rd_record rec;
	int rc;

	while (top_reader_open(m)) {
		struct timespec ts = {0, 200000000};

		if (m->o.paths || __atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
			top_on_idle(m);
			return NULL;
		}
		top_on_idle(m); /* nothing to catch up with yet */
		nanosleep(&ts, NULL);
	}
	while ((rc = hb_reader_next(m->rd, &rec)) == 1) {
		if (m->o.replay)
			top_replay_wait(m->o.replay, rec.ts_ns);
		pthread_mutex_lock(&m->mu);
		top_fold(m, &rec);
		pthread_mutex_unlock(&m->mu);
	}
	if (rc < 0) {
		pthread_mutex_lock(&m->mu);
		snprintf(m->err, sizeof(m->err), "archive: %s", strerror(-rc));
		pthread_mutex_unlock(&m->mu);
	}
	top_on_idle(m);
	return NULL;
}

void top_opts_defaults(struct top_opts *o, char *out, size_t len)
{
	const char *env;

	if (!o->bus)
		o->bus = (env = getenv("HB_BUS")) && *env ? env : "default";
	if (o->dir)
		return;
	if (hb_default_dir(o->bus, out, len)) /* no home: an error names "" */
		out[0] = 0;
	o->dir = out;
}

int top_model_start(struct top_model **out, const struct top_opts *o)
{
	struct top_model *m = calloc(1, sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	m->o = *o;
	m->coll_running = -1;
	pthread_mutex_init(&m->mu, NULL);
	rc = -pthread_create(&m->th, NULL, top_reader_thread, m);
	if (rc) {
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int top_model_caught_up(struct top_model *m)
{
	int c;

	pthread_mutex_lock(&m->mu);
	c = m->caught_up;
	pthread_mutex_unlock(&m->mu);
	return c;
}

void top_model_stop(struct top_model *m)
{
	uint32_t i;

	pthread_mutex_lock(&m->mu);
	__atomic_store_n(&m->stop, 1, __ATOMIC_RELEASE);
	if (m->rd)
		hb_reader_stop(m->rd);
	pthread_mutex_unlock(&m->mu);
	if (m->o.replay)
		top_replay_stop(m->o.replay);
	pthread_join(m->th, NULL);
	if (m->rd)
		hb_reader_close(m->rd);
	for (i = 0; i < m->nrings; i++)
		munmap((void *)m->rings[i].h, m->rings[i].size);
	free(m->rings);
	for (i = 0; i < m->caprecent; i++)
		free(m->recent[i]);
	free(m->recent);
	free(m->rows);
	free(m->pmap);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* ---- ring headers ------------------------------------------------------ */

/* Maps the header of ring name read-only and validates it. */
static const struct hb_ring_hdr *top_ring_map(const char *name, size_t *size)
{
	char path[256];
	const struct hb_ring_hdr *h;
	struct stat st;
	void *mem;
	int fd;

	snprintf(path, sizeof(path), SHM_DIR "/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (size_t)st.st_size < HB_RING_HDR_SIZE) {
		close(fd);
		return NULL;
	}
	mem = mmap(NULL, HB_RING_HDR_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		return NULL;
	h = mem;
	if (hb_ring_hdr_check(h, (size_t)st.st_size)) {
		munmap(mem, HB_RING_HDR_SIZE);
		return NULL;
	}
	*size = HB_RING_HDR_SIZE;
	return h;
}

static void top_rings_scan(struct top_model *m)
{
	char prefix[HB_BUS_MAX + 8];
	struct dirent *d;
	uint32_t i;
	DIR *dir;

	snprintf(prefix, sizeof(prefix), "hb.%s.", m->o.bus);
	for (i = 0; i < m->nrings; i++)
		m->rings[i].seen = 0;
	dir = opendir(SHM_DIR);
	while (dir && (d = readdir(dir))) {
		if (strncmp(d->d_name, prefix, strlen(prefix)) || strlen(d->d_name) >= 128)
			continue;
		for (i = 0; i < m->nrings && strcmp(m->rings[i].name, d->d_name); i++)
			;
		if (i == m->nrings) {
			size_t size;
			const struct hb_ring_hdr *h = top_ring_map(d->d_name, &size);

			if (!h)
				continue;
			if (m->nrings == m->caprings) {
				uint32_t cap = m->caprings ? m->caprings * 2 : 16;
				struct top_ring *nr = realloc(m->rings, cap * sizeof(*nr));

				if (!nr) {
					munmap((void *)h, size);
					continue;
				}
				m->rings = nr;
				m->caprings = cap;
			}
			snprintf(m->rings[i].name, sizeof(m->rings[i].name), "%s", d->d_name);
			m->rings[i].h = h;
			m->rings[i].size = size;
			m->nrings++;
		}
		m->rings[i].seen = 1;
	}
	if (dir)
		closedir(dir);
	for (i = 0; i < m->nrings;) {
		if (m->rings[i].seen) {
			i++;
			continue;
		}
		munmap((void *)m->rings[i].h, m->rings[i].size);
		m->rings[i] = m->rings[--m->nrings];
	}
}

static int top_pid_alive(uint32_t pid)
{
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The state a live ring header shows by itself, and why (the collector's
 * words for the same change). */
static enum top_state top_ring_state(const struct hb_ring_hdr *h, uint64_t last_hb,
				     uint64_t now, const char **why)
{
	uint64_t iv = h->interval_ns ? h->interval_ns : 1000000000u;
	uint64_t ref = last_hb ? last_hb : h->start_ns;
	uint64_t age = now > ref ? now - ref : 0;

	*why = "";
	if (atomic_load_explicit(&h->state, memory_order_acquire) == HB_RING_CLOSED)
		return *why = "closed", TS_EXITED;
	if (!top_pid_alive(h->pid))
		return *why = "pid-gone", TS_DEAD;
	if (age > 3 * iv)
		return *why = "no-heartbeat", TS_DEAD;
	if (age * 2 > 3 * iv)
		return *why = "late", TS_LATE;
	if (last_hb)
		*why = "heartbeat";
	return last_hb ? TS_HEALTHY : TS_UNKNOWN;
}

/* Folds one live ring header into its row (model mutex held). */
static void top_ring_fold(struct top_model *m, const struct top_ring *rg, uint64_t now)
{
	const struct hb_ring_hdr *h = rg->h;
	struct top_row *r = top_row_by_ring(m, NULL, rg->name, 1);
	uint64_t head, tail, last;
	enum top_state st;
	const char *why;

	if (!r)
		return;
	if (!r->name[0]) {
		if (h->thread[0])
			snprintf(r->name, sizeof(r->name), "%.31s/%.31s", h->name, h->thread);
		else
			snprintf(r->name, sizeof(r->name), "%.*s", (int)sizeof(h->name) - 1, h->name);
		snprintf(r->host, sizeof(r->host), "%.*s", (int)sizeof(h->host) - 1, h->host);
		r->pid = h->pid;
		r->start_ns = h->start_ns;
		r->interval_ms = (uint32_t)(h->interval_ns / 1000000u);
	}
	head = atomic_load_explicit(&h->head, memory_order_relaxed);
	tail = atomic_load_explicit(&h->tail, memory_order_relaxed);
	r->fill = head >= tail && head - tail <= h->data_size ? (double)(head - tail) / h->data_size
							      : -1;
	r->drops = atomic_load_explicit(&h->dropped, memory_order_relaxed);
	last = atomic_load_explicit(&h->last_hb_ns, memory_order_relaxed);
	if (last > r->last_hb_ns)
		r->last_hb_ns = last;
	st = top_ring_state(h, r->last_hb_ns, now, &why);
	if (st != r->state) /* seen here before the collector's state record */
		snprintf(r->why, sizeof(r->why), "%s", why);
	r->state = st;
	r->live = 1;
}

void top_model_snapshot(struct top_model *m, struct top_snap *s)
{
	uint64_t now;
	uint32_t i;

	if (!m->o.paths && !m->o.fleet)
		top_rings_scan(m);
	pthread_mutex_lock(&m->mu);
	now = m->o.replay ? top_replay_now(m->o.replay, m->max_ts)
	      : m->o.paths ? m->max_ts : top_now_ns();
	for (i = 0; i < m->nrows; i++) {
		m->rows[i].live = 0;
		m->rows[i].fill = -1;
		m->rows[i].drops = m->rows[i].gaps_n;
	}
	for (i = 0; i < m->nrings; i++)
		top_ring_fold(m, &m->rings[i], now);
	top_snap_free(s);
	memset(s, 0, sizeof(*s));
	s->now_ns = now;
	s->rows = malloc((m->nrows ? m->nrows : 1) * sizeof(*s->rows));
	if (s->rows && m->nrows) {
		memcpy(s->rows, m->rows, m->nrows * sizeof(*s->rows));
		s->nrows = m->nrows;
	}
	s->records = m->records;
	s->coll_pid = m->coll_pid;
	s->coll_running = m->o.paths || m->o.fleet ? -1 : m->coll_pid ? top_pid_alive(m->coll_pid) : 0;
	s->fleet = s->by_host = m->o.fleet;
	if (s->fleet) /* a fleet file's header names the sink */
		s->coll_pid = 0;
	for (i = 1; i < m->nrows && !s->by_host; i++)
		s->by_host = strcmp(m->rows[i].host, m->rows[0].host) != 0;
	s->caught_up = m->caught_up;
	s->damage = m->damage;
	snprintf(s->dir, sizeof(s->dir), "%s", m->o.paths ? m->o.paths[0] : m->o.dir);
	snprintf(s->err, sizeof(s->err), "%s", m->err);
	pthread_mutex_unlock(&m->mu);
	for (i = 0; i < s->nrows; i++) {
		s->events += s->rows[i].events;
		s->drops += s->rows[i].drops;
		s->events_per_s += top_row_rate(&s->rows[i], now);
	}
}

void top_model_pause(struct top_model *m, int on)
{
	if (m->o.replay)
		top_replay_pause(m->o.replay, on);
}

void top_model_step(struct top_model *m, uint64_t ns)
{
	if (m->o.replay)
		top_replay_step(m->o.replay, ns);
}

void top_snap_free(struct top_snap *s)
{
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
}

int top_model_recent(struct top_model *m, const char *ring, char *out, size_t len)
{
	const struct top_recent *t;
	struct top_row *r;
	size_t off = 0;
	uint32_t i, row;
	int rc = -ENOENT;

	pthread_mutex_lock(&m->mu);
	r = top_row_by_ring(m, NULL, ring, 0);
	if (!r || len < 3)
		goto out;
	row = (uint32_t)(r - m->rows);
	t = row < m->caprecent ? m->recent[row] : NULL;
	out[off++] = '[';
	for (i = 0; t && i < t->n; i++) {
		const char *e = t->ev[(t->at + TOP_RECENT - t->n + i) % TOP_RECENT];
		size_t n = strlen(e);

		if (off + n + 3 > len) {
			rc = -ENOSPC;
			goto out;
		}
		if (i)
			out[off++] = ',';
		memcpy(out + off, e, n);
		off += n;
	}
	out[off++] = ']';
	out[off] = 0;
	rc = (int)off;
out:
	pthread_mutex_unlock(&m->mu);
	return rc;
}
