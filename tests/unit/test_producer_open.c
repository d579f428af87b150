/* SPDX-License-Identifier: MIT */
/* Opening a producer: disabled handles, environment overrides, name
 * validation, shm naming and permissions, and closing. */
#include "test_ring_fixture.h"

#include <pthread.h>
#include <sys/stat.h>

/* ---- one handle per thread, opened at the same time ------------------ */

#define OPENERS 4

struct opener {
	pthread_barrier_t *go;
	int rc, emitted;
	char shm_name[128];
};

static void *open_emit_close(void *arg)
{
	static const struct hb_field f1[] = {{"n", HB_T_I64}};
	struct hb_config cfg = fx_config("thr", 4);
	struct opener *o = arg;
	struct hb_producer *p;

	pthread_barrier_wait(o->go);
	o->rc = hb_open(&p, &cfg);
	if (o->rc)
		return NULL;
	snprintf(o->shm_name, sizeof(o->shm_name), "%s", p->shm_name);
	hb_type_register(p, "thr.ev", f1, 1);
	for (int i = 0; i < 10; i++)
		o->emitted += hb_event(p, 0, HB_PRIO_NORMAL, 0, HB_I64(i)) == 0;
	hb_close(p);
	return NULL;
}

/* First in the program: the first hb_open of a process also calibrates the
 * clock, which is what threads race on. */
static void handles_open_concurrently_from_threads(void **state)
{
	struct opener o[OPENERS] = {0};
	pthread_t th[OPENERS];
	pthread_barrier_t go;

	(void)state;
	pthread_barrier_init(&go, NULL, OPENERS);
	for (int i = 0; i < OPENERS; i++) {
		o[i].go = &go;
		assert_int_equal(pthread_create(&th[i], NULL, open_emit_close, &o[i]), 0);
	}
	for (int i = 0; i < OPENERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (int i = 0; i < OPENERS; i++) {
		struct hb_ring_view v;

		assert_int_equal(o[i].rc, 0);
		assert_int_equal(o[i].emitted, 10);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(o[i].shm_name, o[j].shm_name);
		assert_int_equal(hb_ring_view_attach(&v, o[i].shm_name), 0);
		assert_int_equal(atomic_load(&v.hdr->seq), 11); /* 10 events + closing heartbeat */
		assert_int_equal(atomic_load(&v.hdr->state), HB_RING_CLOSED);
		hb_ring_view_detach(&v);
		shm_unlink(o[i].shm_name);
	}
}

/* One convention on a disabled handle: every call does nothing and
 * returns 0, bad arguments included (nothing is checked, nothing written). */
static void every_call_is_a_no_op(struct hb_producer *p)
{
	static const struct hb_field f1[] = {{"n", HB_T_I64}};

	assert_ptr_equal(p, &hb_producer_disabled);
	assert_false(hb_enabled(p));
	assert_int_equal(hb_type_register(p, "x", f1, 1), 0);
	assert_int_equal(hb_type_register(p, "bad/name", f1, 1), 0);
	assert_int_equal(hb_metric_register(p, "m", HB_METRIC_COUNTER), 0);
	assert_int_equal(hb_event(p, 0, HB_PRIO_URGENT, 1, HB_I64(1)), 0);
	assert_int_equal(hb_event(p, 7, 99, 1, HB_I64(1)), 0);
	assert_int_equal(hb_counter_add(p, 0, 1), 0);
	assert_int_equal(hb_counter_add(p, 63, 1), 0);
	assert_int_equal(hb_gauge_set(p, 0, 1.0), 0);
	assert_int_equal(hb_timing_add(p, 0, 1), 0);
	assert_int_equal(hb_health_set(p, 0, HB_HEALTH_UP), 0);
	assert_int_equal(hb_tick(p), 0);
	assert_int_equal(hb_heartbeat(p), 0);
	hb_status_set(p, HB_STATUS_OK);
	hb_close(p);
	hb_close(p); /* twice is fine too */
	assert_false(hb_enabled(p));
}

static void disabled_by_env_creates_nothing(void **state)
{
	struct hb_config cfg = fx_config("off", 64);
	struct hb_producer *p = NULL;

	(void)state;
	setenv("HB_ENABLED", "0", 1);
	assert_int_equal(hb_open(&p, &cfg), 0);
	unsetenv("HB_ENABLED");
	every_call_is_a_no_op(p);
	assert_int_equal(fx_shm_count(fx_bus), 0);
}

static void disabled_by_config_creates_nothing(void **state)
{
	struct hb_config cfg = fx_config("off", 64);
	struct hb_producer *p = NULL;

	(void)state;
	cfg.disabled = 1;
	assert_int_equal(hb_open(&p, &cfg), 0);
	every_call_is_a_no_op(p);
	assert_int_equal(fx_shm_count(fx_bus), 0);
}

static void env_enables_what_config_disabled(void **state)
{
	struct hb_config cfg = fx_config("on", 4);
	struct hb_producer *p = NULL;
	char name[128];

	(void)state;
	cfg.disabled = 1;
	setenv("HB_ENABLED", "1", 1);
	assert_int_equal(hb_open(&p, &cfg), 0);
	unsetenv("HB_ENABLED");
	assert_true(p->enabled);
	snprintf(name, sizeof(name), "%s", p->shm_name);
	hb_close(p);
	assert_int_equal(shm_unlink(name), 0);
}

static void failed_open_gives_disabled_handle(void **state)
{
	struct hb_config cfg = fx_config("bad/name", 64);
	struct hb_producer *p = NULL;

	(void)state;
	assert_int_equal(hb_open(&p, &cfg), -EINVAL);
	every_call_is_a_no_op(p);
	assert_int_equal(fx_shm_count(fx_bus), 0);
}

static void shm_name_mode_and_identity(void **state)
{
	struct hb_config cfg = fx_config("ident", 4);
	struct hb_producer *p;
	char want[128], path[160];
	struct stat st;

	(void)state;
	cfg.thread = "worker-1";
	assert_int_equal(hb_open(&p, &cfg), 0);
	snprintf(want, sizeof(want), "/hb.%s.ident.%d.", fx_bus, (int)getpid());
	assert_int_equal(strncmp(p->shm_name, want, strlen(want)), 0);
	snprintf(path, sizeof(path), "/dev/shm%s", p->shm_name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, HB_RING_HDR_SIZE + 4096);
	assert_string_equal(p->hdr->name, "ident");
	assert_string_equal(p->hdr->bus, fx_bus);
	assert_string_equal(p->hdr->thread, "worker-1");
	assert_int_equal(p->hdr->pid, getpid());
	assert_int_equal(atomic_load(&p->hdr->state), HB_RING_OPEN);
	hb_close(p);
	assert_int_equal(unlink(path), 0);
}

static void two_handles_get_two_rings(void **state)
{
	struct hb_config cfg = fx_config("twin", 4);
	struct hb_producer *a, *b;
	char na[128], nb[128];

	(void)state;
	assert_int_equal(hb_open(&a, &cfg), 0);
	assert_int_equal(hb_open(&b, &cfg), 0);
	assert_string_not_equal(a->shm_name, b->shm_name);
	assert_int_equal(fx_shm_count(fx_bus), 2);
	snprintf(na, sizeof(na), "%s", a->shm_name);
	snprintf(nb, sizeof(nb), "%s", b->shm_name);
	hb_close(a);
	hb_close(b);
	shm_unlink(na);
	shm_unlink(nb);
}

static void config_values_apply_without_env(void **state)
{
	struct hb_config cfg = fx_config("conf", 64);
	struct fx f;

	(void)state;
	cfg.interval_ms = 500;
	fx_open(&f, FX_SHM, &cfg);
	assert_int_equal(f.v.hdr->data_size, 65536);
	assert_int_equal(f.v.hdr->interval_ns, 500000000ull);
	assert_true(f.v.hdr->flags & HB_RING_F_DETAILED);
	assert_false(f.v.hdr->flags & HB_RING_F_BLOCKING);
	fx_close(&f);
}

static void env_overrides_config(void **state)
{
	struct hb_config cfg = fx_config("env", 64);
	char bus[HB_BUS_MAX], want[128];
	const struct hb_rec *r;
	struct fx f;

	(void)state;
	snprintf(bus, sizeof(bus), "%.24se", fx_bus);
	setenv("HB_BUS", bus, 1);
	setenv("HB_RING_KB", "5", 1); /* rounded up to a power of two */
	setenv("HB_INTERVAL_MS", "250", 1);
	setenv("HB_DETAILED", "0", 1);
	fx_open(&f, FX_SHM, &cfg);
	fx_env_reset();
	snprintf(want, sizeof(want), "/hb.%s.env.", bus);
	assert_int_equal(strncmp(f.shm_name, want, strlen(want)), 0);
	assert_string_equal(f.v.hdr->bus, bus);
	assert_int_equal(f.v.hdr->data_size, 8192);
	assert_int_equal(f.v.hdr->interval_ns, 250000000ull);
	assert_false(f.v.hdr->flags & HB_RING_F_DETAILED);
	assert_int_equal(hb_metric_register(f.p, "m", HB_METRIC_COUNTER), 0);
	assert_int_equal(hb_heartbeat(f.p), 0);
	r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(((const struct hb_rec_hb *)(r + 1))->nmetrics, 0);
	assert_int_equal(((const struct hb_rec_hb *)(r + 1))->interval_ns, 250000000ull);
	fx_close(&f);
}

static void bad_env_values_keep_config(void **state)
{
	struct hb_config cfg = fx_config("env", 16);
	struct fx f;

	(void)state;
	setenv("HB_RING_KB", "lots", 1);
	setenv("HB_INTERVAL_MS", "-5", 1);
	fx_open(&f, FX_SHM, &cfg);
	fx_env_reset();
	assert_int_equal(f.v.hdr->data_size, 16384);
	assert_int_equal(f.v.hdr->interval_ns, 3600ull * 1000000000ull);
	fx_close(&f);
}

static void name_check_accepts_valid_names(void **state)
{
	char longest[HB_NAME_MAX];

	(void)state;
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = 0;
	assert_int_equal(hb_name_check("a", HB_NAME_MAX), 0);
	assert_int_equal(hb_name_check("load-0", HB_NAME_MAX), 0);
	assert_int_equal(hb_name_check("svc.db:main_1", HB_NAME_MAX), 0);
	assert_int_equal(hb_name_check("...", HB_NAME_MAX), 0);
	assert_int_equal(hb_name_check(longest, HB_NAME_MAX), 0);
}

static void name_check_rejects_bad_names(void **state)
{
	static const char *bad[] = {"",     ".",   "..",  "a/b", "/",     "/a",   "a\nb",
				    "\x01", "a b", "a\t", "é",   "a*b",   "a\\b", NULL};
	char toolong[HB_NAME_MAX + 1];

	(void)state;
	for (int i = 0; bad[i]; i++)
		if (hb_name_check(bad[i], HB_NAME_MAX) != -EINVAL)
			fail_msg("accepted bad name #%d '%s'", i, bad[i]);
	assert_int_equal(hb_name_check(NULL, HB_NAME_MAX), -EINVAL);
	memset(toolong, 'a', HB_NAME_MAX);
	toolong[HB_NAME_MAX] = 0;
	assert_int_equal(hb_name_check(toolong, HB_NAME_MAX), -EINVAL);
	toolong[HB_NAME_MAX - 1] = 0; /* exactly max incl. NUL does not fit */
	assert_int_equal(hb_name_check(toolong, HB_NAME_MAX - 1), -EINVAL);
}

static void open_rejects_bad_bus_and_producer_names(void **state)
{
	static const char *bad[] = {"a/b", "..", "x\ny", "has space", NULL};
	char toolong[HB_BUS_MAX + 1];
	struct hb_producer *p;

	(void)state;
	for (int i = 0; bad[i]; i++) {
		struct hb_config cfg = fx_config(bad[i], 4);

		assert_int_equal(hb_open(&p, &cfg), -EINVAL);
		assert_ptr_equal(p, &hb_producer_disabled);
		cfg = fx_config("ok", 4);
		cfg.bus = bad[i];
		assert_int_equal(hb_open(&p, &cfg), -EINVAL);
		assert_ptr_equal(p, &hb_producer_disabled);
	}
	memset(toolong, 'b', HB_BUS_MAX);
	toolong[HB_BUS_MAX] = 0;
	struct hb_config cfg = fx_config("ok", 4);
	cfg.bus = toolong;
	assert_int_equal(hb_open(&p, &cfg), -EINVAL);
	assert_int_equal(fx_shm_count(fx_bus), 0);
}

static void close_marks_ring_closed_after_final_heartbeat(void **state)
{
	static const struct hb_field f1[] = {{"n", HB_T_I64}};
	struct hb_config cfg = fx_config("bye", 4);
	const struct hb_rec *r;
	struct hb_producer *p;
	struct fx f;

	fx_open(&f, *(const enum fx_kind *)*state, &cfg);
	p = f.p;
	hb_type_register(p, "bye.ev", f1, 1);
	assert_int_equal(hb_event(p, 0, HB_PRIO_LOW, 1, HB_I64(1)), 0);
	hb_close(p);
	f.p = &hb_producer_disabled; /* p is gone (shm) or disabled (mem) */
	assert_int_equal(atomic_load(&f.v.hdr->state), HB_RING_CLOSED);
	r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(r->kind, HB_REC_EVENT);
	r = fx_next(&f);
	assert_non_null(r);
	assert_int_equal(r->kind, HB_REC_HEARTBEAT);
	assert_int_equal(r->seq, 1);
	assert_int_equal(((const struct hb_rec_hb *)(r + 1))->status, HB_STATUS_STOPPING);
	assert_null(fx_next(&f));
	assert_int_equal(atomic_load(&f.v.hdr->seq), 2);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handles_open_concurrently_from_threads),
		cmocka_unit_test(disabled_by_env_creates_nothing),
		cmocka_unit_test(disabled_by_config_creates_nothing),
		cmocka_unit_test(env_enables_what_config_disabled),
		cmocka_unit_test(failed_open_gives_disabled_handle),
		cmocka_unit_test(shm_name_mode_and_identity),
		cmocka_unit_test(two_handles_get_two_rings),
		cmocka_unit_test(config_values_apply_without_env),
		cmocka_unit_test(env_overrides_config),
		cmocka_unit_test(bad_env_values_keep_config),
		cmocka_unit_test(name_check_accepts_valid_names),
		cmocka_unit_test(name_check_rejects_bad_names),
		cmocka_unit_test(open_rejects_bad_bus_and_producer_names),
		FX_BOTH(close_marks_ring_closed_after_final_heartbeat),
	};
	return FX_RUN("producer_open", tests);
}
