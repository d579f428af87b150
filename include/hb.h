/* SPDX-License-Identifier: MIT */
/*
 * hb.h - producer side of the hb shared-memory telemetry bus.
 *
 * One header, libc and C11 atomics only (C11 or C++17 and later; see the
 * barrier layer below). The hot path (events, metric
 * updates, heartbeat ticks) is static inline below: no syscall, no lock,
 * no allocation, no unbounded loop. Opening a handle, registering types
 * and metrics and closing live in libhb (producers/hb.c).
 *
 * Every function returns 0 (or a non-negative id) on success and a
 * negative errno on failure. A handle returned by hb_open() is never NULL:
 * when the bus is disabled or the open failed it is a disabled handle on
 * which every call is a cheap no-op that returns 0: events, metric
 * updates, heartbeats and ticks do nothing, registrations return id 0 (an
 * id the other calls accept on that handle), hb_status_set and hb_close do
 * nothing. So code written for a live bus runs unchanged with telemetry
 * off; hb_open's return value says why a handle is disabled, and
 * hb_enabled() tells.
 *
 * Ring protocol (single producer, single consumer, byte ring):
 *
 *   head and tail are free-running uint64_t byte counters; the offset of a
 *   byte is (index & (data_size - 1)); they are only ever compared by
 *   subtraction, so they never need to wrap explicitly.
 *   Used bytes = head - tail, always <= data_size.
 *
 *   Producer                                Consumer (hbcollect)
 *   write record bytes at head              H = load_acquire(head)   [A1]
 *   store_release(head, head + len) [R1]    read records in [tail, H)
 *                                           ... archive write completes
 *   T = load_acquire(tail)          [A2]    store_release(tail, new) [R2]
 *
 *   A1 pairs with R1: the consumer sees a record's bytes once it sees the
 *   head that covers them. A2 pairs with R2: the producer reuses bytes only
 *   after the consumer is done with them. The producer keeps a cached copy
 *   of tail and reloads it only when that copy says the ring is (too) full.
 *
 *   Records are 8-byte aligned and never wrap: a record that does not fit
 *   before the end of the data area is preceded by an HB_REC_PAD record
 *   filling the rest, and starts at offset 0.
 */
#ifndef HB_H
#define HB_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Barrier layer: the one place this header says how shared words are
 * declared and accessed, so it compiles as C11 (strict -std=c11 too) and as
 * C++17/20. C: the words are _Atomic and accessed through <stdatomic.h>.
 * C++: the same words are plain integers of the same size and alignment
 * (asserted below) accessed through the __atomic builtins, which implement
 * the same memory model; <stdatomic.h> is not included there, so the header
 * goes before or after <atomic> and any other standard header.
 */
#ifdef __cplusplus
#define HB_ATOMIC(T) T
#define HB_ALIGNAS(n) alignas(n)
#define HB_STATIC_ASSERT(e, msg) static_assert(e, msg)
#define hb__load_relaxed(ptr) __atomic_load_n((ptr), __ATOMIC_RELAXED)
#define hb__load_acquire(ptr) __atomic_load_n((ptr), __ATOMIC_ACQUIRE)
#define hb__store_relaxed(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_RELAXED)
#define hb__store_release(ptr, v) __atomic_store_n((ptr), (v), __ATOMIC_RELEASE)
#else
#include <stdatomic.h>
#define HB_ATOMIC(T) _Atomic T
#define HB_ALIGNAS(n) _Alignas(n)
#define HB_STATIC_ASSERT(e, msg) _Static_assert(e, msg)
#define hb__load_relaxed(ptr) atomic_load_explicit((ptr), memory_order_relaxed)
#define hb__load_acquire(ptr) atomic_load_explicit((ptr), memory_order_acquire)
#define hb__store_relaxed(ptr, v) atomic_store_explicit((ptr), (v), memory_order_relaxed)
#define hb__store_release(ptr, v) atomic_store_explicit((ptr), (v), memory_order_release)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define HB_VERSION_STRING "0.1.0"

/* ---- shared constants ------------------------------------------------ */

#define HB_RING_MAGIC 0x0131474e49524268ull /* "hBRING1\1" little endian */
#define HB_RING_VERSION 1u

#define HB_MAX_TYPES 64
#define HB_MAX_FIELDS 8
#define HB_MAX_METRICS 64
#define HB_NAME_MAX 64       /* producer name, incl. NUL */
#define HB_BUS_MAX 32        /* bus name, incl. NUL */
#define HB_TYPE_NAME_MAX 48  /* event type name, incl. NUL */
#define HB_FIELD_NAME_MAX 24 /* field name, incl. NUL */
#define HB_METRIC_NAME_MAX 56
#define HB_STR_MAX 1024 /* longer string/bytes values are truncated */

#define HB_CACHELINE 64

/* Value tags, in records and in type tables. */
enum hb_tag {
	HB_T_NONE = 0,
	HB_T_I64 = 1,
	HB_T_U64 = 2,
	HB_T_F64 = 3,
	HB_T_BOOL = 4,
	HB_T_STR = 5,
	HB_T_BYTES = 6,
};

enum hb_prio {
	HB_PRIO_LOW = 0,
	HB_PRIO_NORMAL = 1,
	HB_PRIO_HIGH = 2,
	HB_PRIO_URGENT = 3,
};

/* Record kinds in the ring. */
enum hb_rec_kind {
	HB_REC_PAD = 0,
	HB_REC_EVENT = 1,
	HB_REC_HEARTBEAT = 2,
};

enum hb_metric_kind {
	HB_METRIC_COUNTER = 1, /* u64, monotonic */
	HB_METRIC_GAUGE = 2,   /* double */
	HB_METRIC_TIMING = 3,  /* count, sum (ns), max (ns) */
	HB_METRIC_HEALTH = 4,  /* enum hb_health */
};

enum hb_health {
	HB_HEALTH_UNKNOWN = 0,
	HB_HEALTH_UP = 1,
	HB_HEALTH_DOWN = 2,
	HB_HEALTH_DEGRADED = 3,
	HB_HEALTH_OPEN = 4,
	HB_HEALTH_CLOSED = 5,
	HB_HEALTH_HALF_OPEN = 6,
};

enum hb_status {
	HB_STATUS_STARTING = 0,
	HB_STATUS_OK = 1,
	HB_STATUS_DEGRADED = 2,
	HB_STATUS_STOPPING = 3,
};

/* Ring header state, written by the producer. */
enum hb_ring_state {
	HB_RING_OPEN = 1,
	HB_RING_CLOSED = 2, /* hb_close() ran: nothing more will be written */
};

/* hdr.flags */
#define HB_RING_F_TSC 0x1u      /* record timestamps are TSC ticks */
#define HB_RING_F_BLOCKING 0x2u /* producer blocks instead of dropping */
#define HB_RING_F_DETAILED 0x4u /* heartbeats carry the metric snapshot */

/* ---- shared memory layout -------------------------------------------- */

struct hb_type_def {
	char name[HB_TYPE_NAME_MAX];
	uint8_t nfields;
	uint8_t tags[HB_MAX_FIELDS]; /* enum hb_tag per field */
	uint8_t _pad[7];
	char fields[HB_MAX_FIELDS][HB_FIELD_NAME_MAX];
};

struct hb_metric_def {
	char name[HB_METRIC_NAME_MAX];
	uint32_t kind; /* enum hb_metric_kind */
	uint32_t _pad;
};

/* Live metric value, written only by the producer (relaxed stores), read
 * by anyone. Counter: a = value. Gauge: a = double bits. Timing: a = count,
 * b = sum ns, c = max ns. Health: a = enum hb_health. */
struct hb_metric_val {
	HB_ATOMIC(uint64_t) a, b, c;
	uint64_t _pad;
};

/*
 * The ring's control block, at offset 0 of the shm object. The data area
 * starts at hdr_size (a page multiple) and is data_size bytes, a power of
 * two. Identity fields are written before magic is published with a
 * release store (R0); attach loads magic with acquire (A0).
 */
struct hb_ring_hdr {
	HB_ATOMIC(uint64_t) magic; /* HB_RING_MAGIC, published last (R0) */
	uint32_t version;       /* HB_RING_VERSION */
	uint32_t hdr_size;      /* sizeof(struct hb_ring_hdr) rounded to 4096 */
	uint32_t data_size;     /* power of two, >= 4096 */
	uint32_t flags;         /* HB_RING_F_* */
	uint32_t pid;
	uint32_t uid;
	uint32_t tid;
	uint32_t _pad0;
	uint64_t proc_start; /* process start time (clock ticks since boot) */
	uint64_t start_ns;   /* CLOCK_REALTIME at open */
	uint64_t start_tsc;  /* raw clock at open, paired with start_ns */
	uint64_t tsc_hz;     /* producer's estimate of raw ticks/s (1e9 if ns) */
	uint64_t interval_ns; /* heartbeat interval */
	char name[HB_NAME_MAX];
	char bus[HB_BUS_MAX];
	char host[64];
	char thread[32];

	/* Producer line: written only by the producer. */
	HB_ALIGNAS(HB_CACHELINE) HB_ATOMIC(uint64_t) head; /* R1 */
	HB_ATOMIC(uint64_t) seq;          /* next sequence number = attempted */
	HB_ATOMIC(uint64_t) dropped;      /* records dropped (ring full or shed) */
	HB_ATOMIC(uint64_t) last_hb_ns;   /* CLOCK_REALTIME of the last heartbeat */
	HB_ATOMIC(uint32_t) state;        /* enum hb_ring_state */
	HB_ATOMIC(uint32_t) ntypes;       /* R3: release after a type_def is filled */
	HB_ATOMIC(uint32_t) nmetrics;     /* R4: release after a metric_def is filled */
	HB_ATOMIC(uint32_t) hb_status;    /* enum hb_status */

	/* Consumer line: written only by the collector. */
	HB_ALIGNAS(HB_CACHELINE) HB_ATOMIC(uint64_t) tail; /* R2 */
	HB_ATOMIC(uint64_t) persisted_seq; /* highest seq known written + 1 */
	HB_ATOMIC(uint32_t) collector_pid;
	uint32_t _pad1;

	HB_ALIGNAS(HB_CACHELINE) struct hb_type_def types[HB_MAX_TYPES];
	struct hb_metric_def metric_defs[HB_MAX_METRICS];
	HB_ALIGNAS(HB_CACHELINE) struct hb_metric_val metrics[HB_MAX_METRICS];
};

#define HB_RING_HDR_SIZE ((sizeof(struct hb_ring_hdr) + 4095) & ~(size_t)4095)

HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, head) % HB_CACHELINE == 0, "head line");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, tail) % HB_CACHELINE == 0, "tail line");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, tail) - offsetof(struct hb_ring_hdr, head) >= HB_CACHELINE,
	       "head and tail share a line");
HB_STATIC_ASSERT(sizeof(struct hb_type_def) == 256, "type_def size");
HB_STATIC_ASSERT(sizeof(struct hb_metric_def) == 64, "metric_def size");
HB_STATIC_ASSERT(sizeof(struct hb_metric_val) == 32, "metric_val size");
/* The ring is a wire format between processes and languages: the same
 * numbers hold in C and in C++, where the atomic words are plain integers. */
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, version) == 8, "hb_ring_hdr.version");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, proc_start) == 40, "hb_ring_hdr.proc_start");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, name) == 80, "hb_ring_hdr.name");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, thread) == 240, "hb_ring_hdr.thread");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, head) == 320, "hb_ring_hdr.head");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, hb_status) == 364, "hb_ring_hdr.hb_status");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, tail) == 384, "hb_ring_hdr.tail");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, collector_pid) == 400, "hb_ring_hdr.collector_pid");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, types) == 448, "hb_ring_hdr.types");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, metric_defs) == 16832, "hb_ring_hdr.metric_defs");
HB_STATIC_ASSERT(offsetof(struct hb_ring_hdr, metrics) == 20928, "hb_ring_hdr.metrics");
HB_STATIC_ASSERT(sizeof(struct hb_ring_hdr) == 22976, "hb_ring_hdr size");
HB_STATIC_ASSERT(offsetof(struct hb_type_def, nfields) == 48, "hb_type_def.nfields");
HB_STATIC_ASSERT(offsetof(struct hb_type_def, fields) == 64, "hb_type_def.fields");

/*
 * Record layout in the data area (little endian, 8-byte aligned):
 *
 *   struct hb_rec (24 bytes)
 *   event:     uint64_t req; uint8_t tags[8]; then one 8-byte slot per field
 *              (i64/u64/f64/bool in the slot; str/bytes: slot = length,
 *              followed by the bytes padded to 8)
 *   heartbeat: struct hb_rec_hb, then nmetrics x 3 uint64_t (a, b, c as in
 *              struct hb_metric_val) when nmetrics > 0
 *   pad:       len bytes to skip (only kind and len are meaningful)
 */
struct hb_rec {
	uint32_t len; /* whole record in bytes, multiple of 8 */
	uint8_t kind; /* enum hb_rec_kind */
	uint8_t prio; /* enum hb_prio */
	uint16_t type; /* event type id */
	uint64_t seq;
	uint64_t ts; /* raw clock: TSC ticks if HB_RING_F_TSC, else ns */
};

struct hb_rec_hb {
	uint64_t rt_ns;    /* CLOCK_REALTIME when emitted, paired with rec.ts */
	uint64_t count;    /* heartbeats emitted so far, this one included */
	uint64_t interval_ns;
	uint32_t status;   /* enum hb_status */
	uint32_t nmetrics; /* metric slots that follow, 0 when not detailed */
};

HB_STATIC_ASSERT(sizeof(struct hb_rec) == 24, "rec size");
HB_STATIC_ASSERT(sizeof(struct hb_rec_hb) == 32, "rec_hb size");

#define HB_EVENT_FIXED (sizeof(struct hb_rec) + 16)

/* ---- the producer handle (process-local) ----------------------------- */

/*
 * Two kinds of handle share this struct:
 *
 * - process-wide (hb_open's default; id != 0): usable from any thread. It
 *   owns no ring: each thread that calls it gets a ring of its own, made on
 *   the thread's first call (cold: shm_open, mmap) and closed at the
 *   thread's exit, so every ring keeps one producer. The hot path finds the
 *   calling thread's ring through a one-entry thread-local cache keyed by
 *   id (hb__ring_of). hdr points at the handle's own copy of the type and
 *   metric tables (process memory, not shm); gauges and health flags live
 *   there, counters and timings in each thread's ring, summed into every
 *   heartbeat.
 * - single-thread (hb_config.single_thread, hb_producer_attach; id == 0):
 *   the handle is its ring; only one thread may use it at a time.
 */
struct hb_producer {
	/* hot, written only by the owning thread */
	uint64_t head;        /* local copy of hdr->head */
	uint64_t cached_tail; /* last tail seen (A2) */
	uint64_t seq;         /* next sequence number */
	uint64_t dropped;
	uint64_t hb_next;     /* raw clock of the next heartbeat due */
	uint8_t *data;
	struct hb_ring_hdr *hdr;
	uint32_t mask;
	uint32_t size;
	uint32_t limit[4];    /* max used bytes allowed per priority */
	uint8_t enabled;
	uint8_t use_tsc;
	uint8_t blocking;
	uint8_t detailed;
	/* registered types and metrics; on a process-wide handle read by every
	 * thread (relaxed: an id reaches another thread through the program's
	 * own synchronisation, after its registration) */
	HB_ATOMIC(uint32_t) nmetrics;
	HB_ATOMIC(uint32_t) ntypes;
	uint32_t status;
	uint64_t id; /* process-wide handle: key of the thread cache; 0: p is a ring */

	/* cold */
	uint64_t hb_interval_raw; /* interval in raw clock ticks */
	uint64_t hb_count;
	size_t map_size;
	char shm_name[128];
	struct hb_producer *proc; /* a thread's ring: its process-wide handle */
	void *priv;               /* libhb's state of a process-wide handle */
};

/* The handle is process memory shared by libhb (C) and inline code that may
 * be C++: the same layout in both. */
HB_STATIC_ASSERT(offsetof(struct hb_producer, enabled) == 80, "hb_producer.enabled");
HB_STATIC_ASSERT(offsetof(struct hb_producer, nmetrics) == 84, "hb_producer.nmetrics");
HB_STATIC_ASSERT(offsetof(struct hb_producer, id) == 96, "hb_producer.id");
HB_STATIC_ASSERT(offsetof(struct hb_producer, shm_name) == 128, "hb_producer.shm_name");
HB_STATIC_ASSERT(sizeof(struct hb_producer) == 272, "hb_producer size");

/* The calling thread's ring of a process-wide handle, cached (libhb). */
struct hb__tls {
	uint64_t id;              /* the handle's id, 0: empty */
	struct hb_producer *ring; /* this thread's ring of it */
};
extern __thread struct hb__tls hb__tls_cache __attribute__((tls_model("initial-exec")));

/* A disabled handle: every call on it returns 0 at once. */
extern struct hb_producer hb_producer_disabled;

/* ---- cold path (libhb) ----------------------------------------------- */

/* A zeroed struct hb_config (or NULL) means every default. */
struct hb_config {
	const char *bus;       /* default "default"; env HB_BUS overrides */
	const char *name;      /* producer name; default program name */
	const char *thread;    /* free-form thread tag, may be NULL */
	unsigned interval_ms;  /* heartbeat interval; default 1000; HB_INTERVAL_MS */
	unsigned ring_kb;      /* data area in KiB, rounded up to a power of two;
				  default 1024; HB_RING_KB */
	int disabled;          /* 1: every call is a no-op; HB_ENABLED=0/1 overrides */
	int lean;              /* 1: heartbeats without the metric snapshot;
				  HB_DETAILED=0/1 overrides */
	int blocking;          /* block instead of dropping when full; default 0 */
	unsigned hwm_pct;      /* above this fill, low/normal events are shed;
				  default 75, 100 disables shedding */
	unsigned mode;         /* shm mode; default 0600 */
	int single_thread;     /* 1: the handle is one ring, for one thread at a
				  time (the last nanosecond: no thread lookup);
				  default 0: any thread, a ring per thread */
};

struct hb_field {
	const char *name;
	enum hb_tag tag;
};

/* Opens a producer handle on a bus. Always sets *out (to a disabled handle
 * on failure or when disabled). Returns 0 or -errno. The handle is
 * process-wide unless cfg->single_thread: any thread may use it, each
 * thread's records going to that thread's own ring (its first call makes
 * it), named cfg->name with the thread's name as thread tag (see
 * hb_thread_tag_set). After fork() the child's calls go to rings of its
 * own, under its pid; a single-thread handle is disabled in the child. */
int hb_open(struct hb_producer **out, const struct hb_config *cfg);
/* Emits a final heartbeat (status stopping), marks the ring(s) closed and
 * unmaps them. The collector drains and removes them. On a process-wide
 * handle this closes every thread's ring: no other thread may be using the
 * handle then (as with free). A thread that exits closes its own rings. */
void hb_close(struct hb_producer *p);
/* Sets the calling thread's tag (at most 31 bytes) for the rings it makes
 * from now on (default: the thread's name, pthread_setname_np; for the
 * thread that opened the handle, cfg->thread when set). 0 or -EINVAL. */
int hb_thread_tag_set(const char *tag);
/* Cold part of hb__ring_of: finds or makes the calling thread's ring of a
 * process-wide handle; a disabled handle if it cannot be made. */
struct hb_producer *hb__thread_ring(struct hb_producer *p);
/* Registers an event type; returns its id (>= 0) or -errno. Registering the
 * same name and fields again returns the existing id. */
int hb_type_register(struct hb_producer *p, const char *name, const struct hb_field *fields,
		     unsigned nfields);
/* Registers a metric; returns its id (>= 0) or -errno. */
int hb_metric_register(struct hb_producer *p, const char *name, enum hb_metric_kind kind);
/* Emits a heartbeat now. Returns 0 or -errno (-ENOBUFS when dropped). */
int hb_heartbeat(struct hb_producer *p);
void hb_status_set(struct hb_producer *p, enum hb_status status);
/* Checks a bus, producer, type, field or metric name: [A-Za-z0-9_.:-],
 * not empty, not "." or "..", shorter than max. 0 or -EINVAL. */
int hb_name_check(const char *name, size_t max);

/* Lays out a ring header in caller-supplied memory of hdr_size + data_size
 * bytes (plain memory or shm) and returns 0 or -errno. */
int hb_ring_format(void *mem, size_t total, uint32_t data_size, const struct hb_config *cfg);
/* Validates a ring header in map_size bytes, the one check of every side
 * (the producer attaching, the collector, hbtop): bad magic, or not
 * published yet, -EPROTO; another layout version (HB_RING_VERSION)
 * -EPROTONOSUPPORT; sizes, layout or unterminated names -EINVAL. 0 when
 * usable. */
int hb_ring_hdr_check(const struct hb_ring_hdr *h, size_t map_size);
/* Makes p a producer handle over a ring formatted in memory (no shm) of
 * hdr_size + data_size bytes, as hb_ring_format laid it out: 0, or what
 * hb_ring_hdr_check says of its header. */
int hb_producer_attach(struct hb_producer *p, void *mem, const struct hb_config *cfg);
/* Out of line parts of the hot path (ring full, wrap, blocking). */
void *hb__reserve_slow(struct hb_producer *p, uint32_t len, unsigned prio);
uint64_t hb__clock_ns(void);

/* ---- hot path -------------------------------------------------------- */

/* The hot path is always inlined: the compiler then sees constant tags and
 * field counts at each call site and unrolls the field loop. */
#define HB_INLINE static inline __attribute__((always_inline))
/* ... which gcc -O2 does only when asked: the loops over the fields of an
 * event are unrolled, so tags and sizes fold into constants. */
#if defined(__clang__)
#define HB_UNROLL _Pragma("unroll 8")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define HB_UNROLL _Pragma("GCC unroll 8")
#else
#define HB_UNROLL
#endif
#define HB_LIKELY(x) __builtin_expect(!!(x), 1)
#define HB_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* 1 when calls on p do something, 0 on a disabled handle. */
HB_INLINE int hb_enabled(const struct hb_producer *p)
{
	return p->enabled;
}

/* The ring the calling thread writes p's records to: p itself for a
 * single-thread handle; for a process-wide one the thread's own, from the
 * thread cache (one TLS load and compare), made on the thread's first call. */
HB_INLINE struct hb_producer *hb__ring_of(struct hb_producer *p)
{
	if (!p->id)
		return p;
	if (HB_LIKELY(hb__tls_cache.id == p->id))
		return hb__tls_cache.ring;
	return hb__thread_ring(p);
}

struct hb_val {
	uint32_t tag;
	uint32_t len;
	union {
		int64_t i;
		uint64_t u;
		double d;
		const void *p;
	} v;
};

/* One field value: HB_I64(a), HB_U64(b), HB_F64(c), HB_BOOL(d), HB_STR(s),
 * HB_BYTES(b, n). C builds them as compound literals; C++ has none, so
 * there they are calls to the inline constructors below (hb.hpp deduces
 * them from the argument types instead). */
#ifndef __cplusplus
#define HB_I64(x) ((struct hb_val){.tag = HB_T_I64, .v.i = (int64_t)(x)})
#define HB_U64(x) ((struct hb_val){.tag = HB_T_U64, .v.u = (uint64_t)(x)})
#define HB_F64(x) ((struct hb_val){.tag = HB_T_F64, .v.d = (double)(x)})
#define HB_BOOL(x) ((struct hb_val){.tag = HB_T_BOOL, .v.u = !!(x)})
#define HB_STR(s) ((struct hb_val){.tag = HB_T_STR, .len = (uint32_t)strlen(s), .v.p = (s)})
#define HB_BYTES(b, n) ((struct hb_val){.tag = HB_T_BYTES, .len = (uint32_t)(n), .v.p = (b)})

/* hb_event(p, type, prio, req, HB_I64(a), HB_STR(s), ...): up to 8 fields. */
#define hb_event(p, type, prio, req, ...)                                                         \
	hb_event_emit((p), (type), (prio), (req), (const struct hb_val[]){__VA_ARGS__},           \
		      sizeof((const struct hb_val[]){__VA_ARGS__}) / sizeof(struct hb_val))
#else
HB_INLINE struct hb_val hb__val(uint32_t tag, uint32_t len, uint64_t u, const void *ptr)
{
	struct hb_val v;

	v.tag = tag;
	v.len = len;
	if (ptr)
		v.v.p = ptr;
	else
		v.v.u = u;
	return v;
}
HB_INLINE struct hb_val hb__val_f64(double d)
{
	struct hb_val v = hb__val(HB_T_F64, 0, 0, NULL);

	v.v.d = d;
	return v;
}
#define HB_I64(x) hb__val(HB_T_I64, 0, (uint64_t)(int64_t)(x), NULL)
#define HB_U64(x) hb__val(HB_T_U64, 0, (uint64_t)(x), NULL)
#define HB_F64(x) hb__val_f64((double)(x))
#define HB_BOOL(x) hb__val(HB_T_BOOL, 0, !!(x), NULL)
#define HB_STR(s) hb__val(HB_T_STR, (uint32_t)strlen(s), 0, (s))
#define HB_BYTES(b, n) hb__val(HB_T_BYTES, (uint32_t)(n), 0, (b))
/* hb_event(p, type, prio, req, HB_I64(a), ...): hb__event_cxx below. */
#define hb_event(p, type, prio, req, ...) hb__event_cxx((p), (type), (prio), (req), __VA_ARGS__)
#endif

HB_INLINE uint64_t hb_clock_raw(const struct hb_producer *p)
{
#if defined(__x86_64__) || defined(__i386__)
	if (HB_LIKELY(p->use_tsc))
		return __builtin_ia32_rdtsc();
#endif
	(void)p;
	return hb__clock_ns(); /* clock_gettime(CLOCK_REALTIME): vDSO, no syscall */
}

/* Asks for the two cache lines HB_AHEAD bytes past off, for writing: in a
 * ring larger than the caches (or whose lines the consumer's core holds)
 * the miss is then paid ahead of the record that needs the line. */
#define HB_AHEAD 512u
HB_INLINE void hb__prefetch_ahead(const struct hb_producer *p, uint32_t off)
{
	const char *a = (const char *)p->data + ((off + HB_AHEAD) & p->mask);
	const char *b = (const char *)p->data + ((off + HB_AHEAD + 64) & p->mask);

#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0\n\tprefetchw %1" : : "m"(*a), "m"(*b));
#else
	__builtin_prefetch(a, 1);
	__builtin_prefetch(b, 1);
#endif
}

/* Reserves len bytes (multiple of 8) for a record of priority prio.
 * Returns NULL when the record must be dropped. */
HB_INLINE void *hb_ring_reserve(struct hb_producer *p, uint32_t len, unsigned prio)
{
	uint32_t off = (uint32_t)p->head & p->mask;

	if (HB_LIKELY(off + len <= p->size && p->head + len - p->cached_tail <= p->limit[prio & 3])) {
		hb__prefetch_ahead(p, off);
		return p->data + off;
	}
	return hb__reserve_slow(p, len, prio);
}

/* Publishes the record reserved last (R1, pairs with the consumer's A1). */
HB_INLINE void hb_ring_commit(struct hb_producer *p, uint32_t len)
{
	p->head += len;
	hb__store_release(&p->hdr->head, p->head);
}

HB_INLINE void hb__drop(struct hb_producer *p)
{
	p->dropped++;
	hb__store_relaxed(&p->hdr->dropped, p->dropped);
}

HB_INLINE uint32_t hb__val_size(const struct hb_val *v)
{
	uint32_t n = v->len > HB_STR_MAX ? HB_STR_MAX : v->len;

	return 8 + ((v->tag == HB_T_STR || v->tag == HB_T_BYTES) ? ((n + 7) & ~7u) : 0);
}

/* memcpy for the bytes of a str or bytes field: the short ones (most
 * of them) with a few overlapping loads and stores instead of a call. */
HB_INLINE void hb__copy(void *dst, const void *src, uint32_t n)
{
	const uint8_t *s = (const uint8_t *)src;
	uint8_t *d = (uint8_t *)dst;

	if (HB_UNLIKELY(n > 16)) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

/* Emits one event. Returns 0, -ENOBUFS when dropped, -EINVAL on bad
 * arguments (an unknown value tag too); 0 on a disabled handle. */
HB_INLINE int hb_event_emit(struct hb_producer *p, unsigned type, unsigned prio, uint64_t req,
				const struct hb_val *vals, unsigned n)
{
	uint32_t len = HB_EVENT_FIXED;
	struct hb_producer *w;
	struct hb_rec *r;
	uint64_t *slot;
	uint8_t *tags;
	unsigned i;

	if (HB_UNLIKELY(!p->enabled))
		return 0;
	if (HB_UNLIKELY(n > HB_MAX_FIELDS || type >= hb__load_relaxed(&p->ntypes) ||
			prio > HB_PRIO_URGENT))
		return -EINVAL;
	HB_UNROLL
	for (i = 0; i < n; i++) {
		/* an unknown tag would make the whole ring fail validation */
		if (HB_UNLIKELY(vals[i].tag - 1u >= HB_T_BYTES))
			return -EINVAL;
		len += hb__val_size(&vals[i]);
	}
	w = hb__ring_of(p);
	if (HB_UNLIKELY(!w->enabled))
		return 0; /* this thread's ring could not be made */
	r = (struct hb_rec *)hb_ring_reserve(w, len, prio);
	hb__store_relaxed(&w->hdr->seq, w->seq + 1);
	if (HB_UNLIKELY(!r)) {
		w->seq++;
		hb__drop(w);
		return -ENOBUFS;
	}
	r->len = len;
	r->kind = HB_REC_EVENT;
	r->prio = (uint8_t)prio;
	r->type = (uint16_t)type;
	r->seq = w->seq++;
	r->ts = hb_clock_raw(w);
	slot = (uint64_t *)(r + 1);
	slot[0] = req;
	tags = (uint8_t *)&slot[1];
	memset(tags, 0, 8);
	slot += 2;
	HB_UNROLL
	for (i = 0; i < n; i++) {
		tags[i] = (uint8_t)vals[i].tag;
		if (vals[i].tag == HB_T_STR || vals[i].tag == HB_T_BYTES) {
			uint32_t l = vals[i].len > HB_STR_MAX ? HB_STR_MAX : vals[i].len;

			*slot++ = l;
			hb__copy(slot, vals[i].v.p, l);
			slot += (l + 7) / 8;
		} else {
			*slot++ = vals[i].v.u;
		}
	}
	hb_ring_commit(w, len);
	return 0;
}

/* The calling thread's slot of metric id for a counter or timing (summed
 * over the threads into every heartbeat), NULL when there is nothing to do
 * (*rc says what to return). */
HB_INLINE struct hb_metric_val *hb__metric_own(struct hb_producer *p, unsigned id, int *rc)
{
	struct hb_producer *w;

	*rc = 0;
	if (HB_UNLIKELY(!p->enabled))
		return NULL;
	if (HB_UNLIKELY(id >= hb__load_relaxed(&p->nmetrics))) {
		*rc = -EINVAL;
		return NULL;
	}
	w = hb__ring_of(p);
	return HB_LIKELY(w->enabled) ? &w->hdr->metrics[id] : NULL;
}

/* The handle's slot of metric id for a gauge or health flag (one value per
 * process, the last one set wins), NULL as above. */
HB_INLINE struct hb_metric_val *hb__metric_shared(struct hb_producer *p, unsigned id, int *rc)
{
	*rc = 0;
	if (HB_UNLIKELY(!p->enabled))
		return NULL;
	if (HB_UNLIKELY(id >= hb__load_relaxed(&p->nmetrics))) {
		*rc = -EINVAL;
		return NULL;
	}
	return &p->hdr->metrics[id];
}

HB_INLINE int hb_counter_add(struct hb_producer *p, unsigned id, uint64_t n)
{
	int rc;
	struct hb_metric_val *m = hb__metric_own(p, id, &rc);

	if (HB_UNLIKELY(!m))
		return rc;
	/* one writer per slot: load + store, no read-modify-write needed */
	hb__store_relaxed(&m->a, hb__load_relaxed(&m->a) + n);
	return 0;
}

HB_INLINE int hb_gauge_set(struct hb_producer *p, unsigned id, double v)
{
	int rc;
	struct hb_metric_val *m = hb__metric_shared(p, id, &rc);
	uint64_t bits;

	if (HB_UNLIKELY(!m))
		return rc;
	memcpy(&bits, &v, sizeof(bits));
	hb__store_relaxed(&m->a, bits);
	return 0;
}

HB_INLINE int hb_timing_add(struct hb_producer *p, unsigned id, uint64_t ns)
{
	int rc;
	struct hb_metric_val *m = hb__metric_own(p, id, &rc);

	if (HB_UNLIKELY(!m))
		return rc;
	hb__store_relaxed(&m->a, hb__load_relaxed(&m->a) + 1);
	hb__store_relaxed(&m->b, hb__load_relaxed(&m->b) + ns);
	if (ns > hb__load_relaxed(&m->c))
		hb__store_relaxed(&m->c, ns);
	return 0;
}

HB_INLINE int hb_health_set(struct hb_producer *p, unsigned id, enum hb_health h)
{
	int rc;
	struct hb_metric_val *m = hb__metric_shared(p, id, &rc);

	if (HB_UNLIKELY(!m))
		return rc;
	hb__store_relaxed(&m->a, (uint64_t)h);
	return 0;
}

/* Call from the producer's loop: emits a heartbeat when the interval has
 * passed. Returns 1 when one was emitted, 0 when not due, -errno. On a
 * process-wide handle each thread that ticks heartbeats its own ring: a
 * thread that stops ticking shows as late, then dead. */
HB_INLINE int hb_tick(struct hb_producer *p)
{
	struct hb_producer *w;
	int rc;

	if (HB_UNLIKELY(!p->enabled))
		return 0;
	w = hb__ring_of(p);
	if (HB_UNLIKELY(!w->enabled))
		return 0;
	if (HB_LIKELY(hb_clock_raw(w) < w->hb_next))
		return 0;
	rc = hb_heartbeat(w);
	return rc < 0 ? rc : 1;
}

#ifdef __cplusplus
}

/* hb_event in C++: the values go into an array on the stack, as the
 * compound literal does in C; the count is a constant at the call site. */
template <typename... V>
HB_INLINE int hb__event_cxx(struct hb_producer *p, unsigned type, unsigned prio, uint64_t req,
			    const V &...v)
{
	const struct hb_val vals[sizeof...(V) ? sizeof...(V) : 1] = {v...};

	return hb_event_emit(p, type, prio, req, vals, (unsigned)sizeof...(V));
}
#endif
#endif /* HB_H */
