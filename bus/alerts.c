/* SPDX-License-Identifier: MIT */
/* alerts.c - threshold rules with hysteresis (see alerts.h). */
#include "alerts.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HBC_ALERT_MAXWORDS 12

static int hbc_alert_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Parses a non-negative number, with an optional '%' when pct is allowed
 * (then divided by 100). */
static int hbc_alert_num(const char *s, int pct, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v != v)
		return -EINVAL;
	if (pct && *end == '%')
		end++, v /= 100.0;
	else if (pct)
		v /= 100.0;
	return *end ? -EINVAL : (*out = v, 0);
}

static int hbc_alert_split(char *buf, char **w)
{
	char *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(buf, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == HBC_ALERT_MAXWORDS)
			return -1;
		w[n++] = t;
	}
	return n;
}

/* Parses the optional trailing words "clear Y" and "producer GLOB". */
static int hbc_alert_tail(struct hbc_alert_rule *r, char **w, int n, int pct, char *err,
			 size_t errlen)
{
	int i, have_clear = 0;

	for (i = 0; i < n; i += 2) {
		if (i + 1 >= n)
			return hbc_alert_err(err, errlen, "'%s' needs a value", w[i]);
		if (!strcmp(w[i], "clear") && r->kind != HBC_ALERT_STATE) {
			if (hbc_alert_num(w[i + 1], pct, &r->clear))
				return hbc_alert_err(err, errlen, "bad clear level '%s'", w[i + 1]);
			have_clear = 1;
		} else if (!strcmp(w[i], "producer")) {
			if (strlen(w[i + 1]) >= sizeof(r->producer))
				return hbc_alert_err(err, errlen, "producer glob too long");
			snprintf(r->producer, sizeof(r->producer), "%s", w[i + 1]);
		} else {
			return hbc_alert_err(err, errlen, "unexpected '%s'", w[i]);
		}
	}
	if (!have_clear)
		r->clear = r->fire * 0.8;
	if (r->clear > r->fire)
		return hbc_alert_err(err, errlen, "clear level above the firing level");
	return 0;
}

static int hbc_alert_parse_words(struct hbc_alert_rule *r, char **w, int n, char *err,
				size_t errlen)
{
	if (n >= 5 && !strcmp(w[1], "rate")) {
		r->kind = HBC_ALERT_RATE;
		if (strlen(w[2]) >= sizeof(r->metric))
			return hbc_alert_err(err, errlen, "metric name too long");
		snprintf(r->metric, sizeof(r->metric), "%s", w[2]);
		if (strcmp(w[3], ">"))
			return hbc_alert_err(err, errlen, "expected '>' after the metric");
		if (hbc_alert_num(w[4], 0, &r->fire))
			return hbc_alert_err(err, errlen, "bad rate '%s'", w[4]);
		return hbc_alert_tail(r, w + 5, n - 5, 0, err, errlen);
	}
	if (n >= 4 && !strcmp(w[1], "fill")) {
		r->kind = HBC_ALERT_FILL;
		if (strcmp(w[2], ">"))
			return hbc_alert_err(err, errlen, "expected '>' after fill");
		if (hbc_alert_num(w[3], 1, &r->fire) || r->fire > 1)
			return hbc_alert_err(err, errlen, "bad percentage '%s'", w[3]);
		return hbc_alert_tail(r, w + 4, n - 4, 1, err, errlen);
	}
	if (n >= 3 && !strcmp(w[1], "state")) {
		r->kind = HBC_ALERT_STATE;
		if (!strcmp(w[2], "late"))
			r->state = HB_STATE_LATE;
		else if (!strcmp(w[2], "dead"))
			r->state = HB_STATE_DEAD;
		else
			return hbc_alert_err(err, errlen, "state must be late or dead, not '%s'", w[2]);
		return hbc_alert_tail(r, w + 3, n - 3, 0, err, errlen);
	}
	return hbc_alert_err(err, errlen, "expected 'NAME rate|fill|state ...'");
}

/* Cuts line at a '#' that starts a word: the rest is a comment. */
static void hbc_alert_uncomment(char *line)
{
	char *p;

	for (p = line; (p = strchr(p, '#')); p++)
		if (p == line || p[-1] == ' ' || p[-1] == '\t') {
			*p = 0;
			return;
		}
}

int hbc_alert_parse(const char *spec, struct hbc_alert_rule *r, char *err, size_t errlen)
{
	char line[512], buf[512], *w[HBC_ALERT_MAXWORDS];
	const char *rest;
	size_t len;
	int n;

	memset(r, 0, sizeof(*r));
	if (strlen(spec) >= sizeof(buf))
		return hbc_alert_err(err, errlen, "rule too long");
	snprintf(line, sizeof(line), "%s", spec);
	hbc_alert_uncomment(line);
	memcpy(buf, line, sizeof(buf));
	n = hbc_alert_split(buf, w);
	if (n < 0)
		return hbc_alert_err(err, errlen, "too many words");
	if (n < 1)
		return hbc_alert_err(err, errlen, "empty rule");
	if (strlen(w[0]) >= sizeof(r->name) || strspn(w[0], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
							   "KLMNOPQRSTUVWXYZ0123456789_.:-") !=
							strlen(w[0]))
		return hbc_alert_err(err, errlen, "bad rule name '%s'", w[0]);
	snprintf(r->name, sizeof(r->name), "%s", w[0]);
	snprintf(r->producer, sizeof(r->producer), "*");
	rest = line + strspn(line, " \t");
	rest += strlen(w[0]);
	rest += strspn(rest, " \t");
	len = strcspn(rest, "\r\n");
	while (len && (rest[len - 1] == ' ' || rest[len - 1] == '\t'))
		len--; /* the blanks before a comment */
	snprintf(r->text, sizeof(r->text), "%.*s", (int)len, rest);
	return hbc_alert_parse_words(r, w, n, err, errlen);
}

int hbc_alerts_add(struct hbc_alerts *a, const char *spec, char *err, size_t errlen)
{
	struct hbc_alert_rule r, *nr;
	int rc = hbc_alert_parse(spec, &r, err, errlen);

	if (rc)
		return rc;
	nr = realloc(a->rules, (a->nrules + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	a->rules = nr;
	a->rules[a->nrules++] = r;
	return 0;
}

int hbc_alerts_load(struct hbc_alerts *a, const char *path, char *err, size_t errlen)
{
	char line[512], msg[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");

		lineno++;
		hbc_alert_uncomment(s);
		if (!s[strspn(s, " \t\r\n")])
			continue; /* blank, or only a comment */
		rc = hbc_alerts_add(a, s, msg, sizeof(msg));
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			break;
		}
	}
	fclose(f);
	return rc;
}

static struct hbc_alert_inst *hbc_alert_inst_get(struct hbc_alerts *a, uint32_t rule, uint32_t p)
{
	struct hbc_alert_inst *ni;
	size_t i;

	for (i = 0; i < a->ninst; i++)
		if (a->inst[i].rule == rule && a->inst[i].p == p)
			return &a->inst[i];
	if (a->ninst == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;

		ni = realloc(a->inst, cap * sizeof(*ni));
		if (!ni)
			return NULL;
		a->inst = ni;
		a->cap = cap;
	}
	ni = &a->inst[a->ninst++];
	*ni = (struct hbc_alert_inst){.rule = rule, .p = p};
	return ni;
}

/* Computes the rule's value now; 0 when there is none yet. */
static int hbc_alert_value(const struct hbc_alert_rule *r, struct hbc_alert_inst *it,
			  const struct hbc_alert_input *in, double *v)
{
	uint32_t i;

	switch (r->kind) {
	case HBC_ALERT_FILL:
		*v = in->fill;
		return in->fill >= 0;
	case HBC_ALERT_STATE:
		*v = (double)in->state;
		return 1;
	case HBC_ALERT_RATE:
		for (i = 0; i < in->ncounters; i++)
			if (!strcmp(in->counter_names[i], r->metric))
				break;
		if (i == in->ncounters)
			return 0;
		if (it->have_prev && in->ts_ns <= it->prev_ns)
			return 0; /* same or older sample: no new rate */
		if (it->have_prev && in->counters[i] >= it->prev_val)
			*v = (double)(in->counters[i] - it->prev_val) * 1e9 /
			     (double)(in->ts_ns - it->prev_ns);
		else
			*v = -1; /* first sample or counter reset */
		it->have_prev = 1;
		it->prev_val = in->counters[i];
		it->prev_ns = in->ts_ns;
		return *v >= 0;
	}
	return 0;
}

static void hbc_alert_emit(const struct hbc_alert_rule *r, const struct hbc_alert_input *in,
			  int fired, double v, double th, const char *why, hbc_alert_fn fn, void *ctx)
{
	struct hbc_alert_event ev = {.rule = r, .p = in->p, .producer = in->producer,
				    .fired = fired, .value = v, .threshold = th, .why = why};

	if (fn)
		fn(ctx, &ev);
}

/* Decides fire/clear for one instance; returns 1 on an event. */
static int hbc_alert_step(const struct hbc_alert_rule *r, struct hbc_alert_inst *it,
			 const struct hbc_alert_input *in, double v, hbc_alert_fn fn, void *ctx)
{
	it->value = v;
	if (r->kind == HBC_ALERT_STATE) {
		int bad = hb_state_down(in->state) ||
			  (r->state == HB_STATE_LATE && in->state == HB_STATE_LATE);

		if (bad == it->active)
			return 0;
		it->active = bad;
		/* cleared: why is the state it is in now ("healthy", "exited",
		 * "backlogged", ...) */
		hbc_alert_emit(r, in, bad, v, (double)r->state, bad ? NULL : hb_state_name(in->state),
			      fn, ctx);
		return 1;
	}
	if (!it->active && v > r->fire) {
		it->active = 1;
		hbc_alert_emit(r, in, 1, v, r->fire, NULL, fn, ctx);
		return 1;
	}
	if (it->active && v <= r->clear) {
		it->active = 0;
		hbc_alert_emit(r, in, 0, v, r->clear, "below", fn, ctx);
		return 1;
	}
	return 0;
}

int hbc_alerts_eval(struct hbc_alerts *a, const struct hbc_alert_input *in, hbc_alert_fn fn,
		   void *ctx)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < a->nrules; i++) {
		const struct hbc_alert_rule *r = &a->rules[i];
		struct hbc_alert_inst *it;
		double v;

		if (fnmatch(r->producer, in->producer ? in->producer : "", 0))
			continue;
		it = hbc_alert_inst_get(a, i, in->p);
		if (!it || !hbc_alert_value(r, it, in, &v))
			continue;
		n += hbc_alert_step(r, it, in, v, fn, ctx);
	}
	return n;
}

void hbc_alerts_forget(struct hbc_alerts *a, uint32_t p, const char *producer, hbc_alert_fn fn,
		      void *ctx)
{
	struct hbc_alert_input in = {.p = p, .producer = producer};
	size_t i = 0;

	while (i < a->ninst) {
		struct hbc_alert_inst *it = &a->inst[i];

		if (it->p != p) {
			i++;
			continue;
		}
		if (it->active)
			hbc_alert_emit(&a->rules[it->rule], &in, 0, it->value, a->rules[it->rule].clear,
				      "gone", fn, ctx);
		a->inst[i] = a->inst[--a->ninst];
	}
}

unsigned hbc_alerts_active(const struct hbc_alerts *a, int p_only, uint32_t p)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < a->ninst; i++)
		if (a->inst[i].active && (!p_only || a->inst[i].p == p))
			n++;
	return n;
}

void hbc_alerts_free(struct hbc_alerts *a)
{
	free(a->rules);
	free(a->inst);
	*a = (struct hbc_alerts){0};
}
