/* SPDX-License-Identifier: MIT */
/*
 * fleet.h - moving archives over NATS JetStream (DESIGN.md section 10):
 * the message format both ends speak (docs/FORMAT.md, "Fleet messages"),
 * the NATS connection options they share, and their logging.
 *
 * A message is a msgpack stream: a `ship` header map, one `producer` map
 * with the tables the records need, then records of that one producer
 * exactly as an archive holds them (event batches as they are). Its
 * Nats-Msg-Id names what it holds: host, producer identity (ring, start)
 * and the sequence range, so a re-sent message has the same id.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef HB_FLEET_H
#define HB_FLEET_H

#include <getopt.h>
#include <msgpack.h>
#include <nats/nats.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hb_reader.h"

#define HBF_MSG_MAGIC "hb-ship"
#define HBF_MSG_MAJOR 2 /* 2.0: event batches in the body; 1.x read too */
#define HBF_MSG_MINOR 0
#define HBF_HOST_MAX 64
#define HBF_ID_MAX 512

/* ---- logging: hbc_log's "PROG: text" lines (hbc_prog names the tool) -- */

#define hbf_warn(...) hbc_log(0, __VA_ARGS__)
#define hbf_info(...) hbc_log(1, __VA_ARGS__)
#define hbf_debug(...) hbc_log(2, __VA_ARGS__)
void hbc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- NATS connection --------------------------------------------------- */

struct hbf_nats_opts {
	const char *urls; /* "nats://127.0.0.1:4222,nats://..." */
	const char *creds, *nkey_seed, *token, *user, *password;
	const char *tls_ca, *tls_cert, *tls_key;
	int tls;
	const char *name; /* connection name shown by the server */
};

/* Long options both tools take (--nats, --creds, ...): the getopt entries
 * (terminated by a zero entry, val = HBF_OPT_BASE + i). */
#define HBF_OPT_BASE 1000
extern const struct option *hbf_nats_longopts;
extern const char hbf_nats_usage[];
/* Applies option val (HBF_OPT_BASE...) with arg: -1, or 2 (unknown). */
int hbf_nats_option(struct hbf_nats_opts *o, int val, const char *arg);
/* Set by SIGTERM and SIGINT once hbf_signals installed the handlers (which
 * also ignore SIGPIPE). */
extern volatile int hbf_stop;
void hbf_signals(void);
/* "PROG: FLAG: WHAT 'VAL'" on stderr; returns 2 (the usage exit code). */
int hbf_bad(const char *flag, const char *val, const char *what);
/* Parses argv: the tool's own options (nown of them; -q and -v are
 * hbc_verbosity's) and the NATS ones into nats. opt(ctx, ch, arg) takes
 * the tool's own and returns -1 to go on or an exit code. Returns -1 when
 * everything was taken, else the exit code (2: usage, named on stderr). */
int hbf_getopt(int argc, char **argv, const struct option *own, size_t nown,
	       struct hbf_nats_opts *nats, int (*opt)(void *ctx, int ch, const char *arg),
	       void *ctx);
/* Connects; when no server answers yet, the connection keeps trying in the
 * background (RetryOnFailedConnect) and *nc is still usable. State changes
 * (disconnected, reconnected) are logged once each. */
int hbf_nats_connect(natsConnection **nc, const struct hbf_nats_opts *o, char *err, size_t errlen);
/* Connections (re)established so far (by the callback of every connection,
 * in libnats' thread; read relaxed: a count that is only compared). */
extern _Atomic unsigned hbf_reconnects;
/* Closes and destroys nc (NULL: nothing), without logging a disconnect. */
void hbf_nats_close(natsConnection *nc);
/* "description (status)" of the last error of the nats library. */
const char *hbf_nats_err(natsStatus s, jsErrCode jerr, char *buf, size_t len);

/* ---- messages: building (hbship) -------------------------------------- */

/* A producer's identity in the fleet: (host, ring, start). */
struct hbf_ident {
	char host[HBF_HOST_MAX];
	const char *ring;
	uint64_t start_ns;
};

struct hbf_msg {
	msgpack_sbuffer body; /* the records */
	msgpack_packer pk;
	const struct hb_rd_producer *prod;
	uint64_t lo, hi;     /* sequence range of the records (has_seq) */
	int has_seq;
	uint64_t ts_first;   /* time of the first record that has a seq or ts */
	uint32_t nobj;       /* objects in the body */
	uint32_t nrec;       /* records they hold (each event of a batch counts) */
	uint64_t last_off;   /* offset of the last object added */
	const char *file;    /* its file */
};

void hbf_msg_init(struct hbf_msg *m);
void hbf_msg_free(struct hbf_msg *m);
/* Starts a message of prod's records (the body is emptied). */
void hbf_msg_begin(struct hbf_msg *m, const struct hb_rd_producer *prod);
/* 1 when rec is one hbship ships: a record of a producer (an event
 * batch whole too), not a file header nor a producer/types/metrics record
 * (tables travel in the producer map); else 0. */
int hbf_rec_shipped(const struct hb_rd_record *rec);
/* Adds a record of m->prod. 0, or -EINVAL for a record that is not shipped
 * (hbf_rec_shipped) or not of m->prod. */
int hbf_msg_add(struct hbf_msg *m, const struct hb_rd_record *rec);
/* Adds a gap record of m->prod: from..to will never be shipped (why). */
void hbf_msg_add_gap(struct hbf_msg *m, uint64_t from, uint64_t to, uint64_t ts_ns,
		     const char *why);
/* The whole message (header, producer map, body) into out (reset first);
 * its Nats-Msg-Id into id. */
int hbf_msg_finish(struct hbf_msg *m, const char *host, const char *bus, msgpack_sbuffer *out,
		   char *id, size_t idlen);
/* A subject token from a host name: '.', '*', '>' and spaces become '_'. */
void hbf_subject_token(char *dst, size_t len, const char *s);

/* ---- messages: reading (hbsink) --------------------------------------- */

struct hbf_parsed {
	char host[HBF_HOST_MAX];
	char bus[64];
	msgpack_object producer; /* the producer map */
	char ring[256];
	uint64_t start_ns;
	uint64_t p;              /* the p its records carry */
	size_t body_off;         /* offset of the first record in the data */
};

/* Checks the header and producer map of a message. 0, or -EPROTO with a
 * reason in why (not ours, bad version, bad producer map...). The objects
 * live in z, which the caller frees. */
int hbf_msg_parse(const char *data, size_t len, msgpack_zone *z, struct hbf_parsed *out,
		  const char **why);
/* What dedup needs of a record: its seq range (gap: from..to; event,
 * heartbeat: seq..seq; event batch: its events'), or has_seq 0 and its ts
 * for other bus records. */
struct hbf_rec_key {
	int has_seq;
	uint64_t lo, hi;
	uint64_t ts_ns;
	int is_gap;
	int is_batch;    /* then ts_ns..ts_max are its events' times, and its */
	uint64_t ts_max; /* first event is first bytes into it */
	size_t first;
};
/* The next record of the body at *off: 1 with its key and, unless it is
 * an event batch (checked whole as a reader checks one, not decoded), the
 * object; 0 at the end; -EPROTO (why set) when the rest is not a valid
 * record of producer p. z holds the object (or was scratch). */
int hbf_msg_next(const char *data, size_t len, size_t *off, msgpack_zone *z, uint64_t p,
		 msgpack_object *rec, struct hbf_rec_key *k, const char **why);
/* The key of a record decoded by hbf_msg_next (not a batch). */
int hbf_rec_key(const msgpack_object *rec, struct hbf_rec_key *k);
/* Packs rec with its producer number replaced by p; a gap as the gap of
 * gap_lo..gap_hi (a part of its own range; ignored for other records). */
void hbf_pack_rec(msgpack_packer *pk, const msgpack_object *rec, uint64_t p, uint64_t gap_lo,
		  uint64_t gap_hi);
/* The same for an event, heartbeat or event batch array [k, p, ...] as its
 * n bytes came in a message (raw, checked by hbf_msg_next): its header and
 * k copied, p packed, the rest copied as it is, nothing decoded. 0, or
 * -EINVAL (nothing packed) when its first elements are not in a form it
 * knows. */
int hbf_pack_rec_raw(msgpack_packer *pk, const char *raw, size_t n, uint64_t p);
/* The events from sequence number lo to hi (within its range) of the event
 * batch whose n bytes are raw (checked by hbf_msg_next, key k), as a batch
 * of producer p of their own: its header packed, their bytes copied. */
void hbf_pack_batch_part(msgpack_packer *pk, const char *raw, size_t n,
			 const struct hbf_rec_key *k, uint64_t p, uint64_t lo, uint64_t hi);
/* Packs a producer map with p, why and seq_next replaced. */
void hbf_pack_producer(msgpack_packer *pk, const msgpack_object *prod, uint64_t p, const char *why,
		       uint64_t seq_next);

#endif
