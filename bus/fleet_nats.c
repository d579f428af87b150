/* SPDX-License-Identifier: MIT */
/* fleet_nats.c - the NATS connection options and logging hbship and hbsink
 * share (fleet.h). */
#include "fleet.h"
#include "hbc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	HBF_NATS = HBF_OPT_BASE,
	HBF_CREDS,
	HBF_NKEY,
	HBF_TOKEN,
	HBF_USER,
	HBF_PASSWORD,
	HBF_TLS,
	HBF_TLS_CA,
	HBF_TLS_CERT,
	HBF_TLS_KEY,
};

static const struct option hbf_longopts[] = {
	{"nats", required_argument, NULL, HBF_NATS},
	{"creds", required_argument, NULL, HBF_CREDS},
	{"nkey-seed", required_argument, NULL, HBF_NKEY},
	{"token", required_argument, NULL, HBF_TOKEN},
	{"user", required_argument, NULL, HBF_USER},
	{"password", required_argument, NULL, HBF_PASSWORD},
	{"tls", no_argument, NULL, HBF_TLS},
	{"tls-ca", required_argument, NULL, HBF_TLS_CA},
	{"tls-cert", required_argument, NULL, HBF_TLS_CERT},
	{"tls-key", required_argument, NULL, HBF_TLS_KEY},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{NULL, 0, NULL, 0},
};
const struct option *hbf_nats_longopts = hbf_longopts;

const char hbf_nats_usage[] =
	"  --nats URL[,URL...]    NATS servers (default nats://127.0.0.1:4222)\n"
	"  --creds FILE           user credentials file (JWT and NKey seed)\n"
	"  --nkey-seed FILE       NKey seed file\n"
	"  --token TOKEN          authentication token ($HB_NATS_TOKEN)\n"
	"  --user USER            user name ($HB_NATS_USER)\n"
	"  --password PASS        password ($HB_NATS_PASSWORD)\n"
	"  --tls                  require TLS\n"
	"  --tls-ca FILE          CA certificates to verify the server with (implies --tls)\n"
	"  --tls-cert FILE        client certificate (with --tls-key; implies --tls)\n"
	"  --tls-key FILE         client private key\n";

int hbf_nats_option(struct hbf_nats_opts *o, int val, const char *arg)
{
	switch (val) {
	case HBF_NATS: o->urls = arg; break;
	case HBF_CREDS: o->creds = arg; break;
	case HBF_NKEY: o->nkey_seed = arg; break;
	case HBF_TOKEN: o->token = arg; break;
	case HBF_USER: o->user = arg; break;
	case HBF_PASSWORD: o->password = arg; break;
	case HBF_TLS: o->tls = 1; break;
	case HBF_TLS_CA: o->tls_ca = arg, o->tls = 1; break;
	case HBF_TLS_CERT: o->tls_cert = arg, o->tls = 1; break;
	case HBF_TLS_KEY: o->tls_key = arg, o->tls = 1; break;
	default: return 2;
	}
	return -1;
}

volatile int hbf_stop;

static void hbf_on_signal(int sig)
{
	(void)sig;
	hbf_stop = 1;
}

void hbf_signals(void)
{
	struct sigaction sa = {.sa_handler = hbf_on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int hbf_bad(const char *flag, const char *val, const char *what)
{
	fprintf(stderr, "%s: %s: %s '%s'\n", hbc_prog, flag, what, val);
	return 2;
}

int hbf_getopt(int argc, char **argv, const struct option *own, size_t nown,
	       struct hbf_nats_opts *nats, int (*opt)(void *ctx, int ch, const char *arg),
	       void *ctx)
{
	struct option opts[64];
	size_t n = 0, i;
	int ch, rc;

	for (i = 0; i < nown && n < 40; i++)
		opts[n++] = own[i];
	for (i = 0; hbf_longopts[i].name; i++)
		opts[n++] = hbf_longopts[i];
	opts[n] = (struct option){NULL, 0, NULL, 0};
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "qv", opts, NULL)) != -1) {
		if (ch == '?') {
			fprintf(stderr, "%s: %s: unknown or incomplete option\n", hbc_prog,
				argv[optind - 1]);
			return 2;
		}
		if (ch == 'q' || ch == 'v') {
			hbc_verbosity = ch == 'q' ? 0 : 2;
			continue;
		}
		rc = ch >= HBF_OPT_BASE ? hbf_nats_option(nats, ch, optarg) : opt(ctx, ch, optarg);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: %s: unexpected argument\n", hbc_prog, argv[optind]);
		return 2;
	}
	return -1;
}

const char *hbf_nats_err(natsStatus s, jsErrCode jerr, char *buf, size_t len)
{
	const char *last = nats_GetLastError(NULL);

	if (jerr)
		snprintf(buf, len, "%s (JetStream error %d)", last && *last ? last : natsStatus_GetText(s),
			 (int)jerr);
	else
		snprintf(buf, len, "%s", last && *last ? last : natsStatus_GetText(s));
	return buf;
}

static _Atomic int hbf_closing; /* set by the caller, read in libnats' thread */

void hbf_nats_close(natsConnection *nc)
{
	if (!nc)
		return;
	atomic_store_explicit(&hbf_closing, 1, memory_order_relaxed);
	natsConnection_Close(nc);
	natsConnection_Destroy(nc);
}

static void hbf_on_disconnected(natsConnection *nc, void *ctx)
{
	(void)nc, (void)ctx;
	if (!atomic_load_explicit(&hbf_closing, memory_order_relaxed))
		hbf_warn("disconnected from NATS; reconnecting in the background");
}

_Atomic unsigned hbf_reconnects;

static void hbf_on_reconnected(natsConnection *nc, void *ctx)
{
	char url[256] = "";

	(void)ctx;
	atomic_fetch_add_explicit(&hbf_reconnects, 1, memory_order_relaxed);
	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	hbf_warn("connected to NATS at %s", url);
}

static natsStatus hbf_nats_auth(natsOptions *no, const struct hbf_nats_opts *o)
{
	const char *tok = o->token ? o->token : getenv("HB_NATS_TOKEN");
	const char *user = o->user ? o->user : getenv("HB_NATS_USER");
	const char *pass = o->password ? o->password : getenv("HB_NATS_PASSWORD");
	natsStatus s = NATS_OK;

	if (o->creds)
		s = natsOptions_SetUserCredentialsFromFiles(no, o->creds, NULL);
	if (s == NATS_OK && o->nkey_seed)
		s = natsOptions_SetNKeyFromSeed(no, NULL, o->nkey_seed);
	if (s == NATS_OK && tok)
		s = natsOptions_SetToken(no, tok);
	if (s == NATS_OK && user)
		s = natsOptions_SetUserInfo(no, user, pass);
	if (s == NATS_OK && o->tls)
		s = natsOptions_SetSecure(no, true);
	if (s == NATS_OK && o->tls_ca)
		s = natsOptions_LoadCATrustedCertificates(no, o->tls_ca);
	if (s == NATS_OK && o->tls_cert)
		s = natsOptions_LoadCertificatesChain(no, o->tls_cert, o->tls_key);
	return s;
}

/* Splits "a,b,c" into urls (at most 16). */
static int hbf_split_urls(char *list, const char **urls, int max)
{
	int n = 0;

	for (char *save = NULL, *u = strtok_r(list, ",", &save); u && n < max;
	     u = strtok_r(NULL, ",", &save))
		if (*u)
			urls[n++] = u;
	return n;
}

int hbf_nats_connect(natsConnection **nc, const struct hbf_nats_opts *o, char *err, size_t errlen)
{
	char *list = strdup(o->urls ? o->urls : "nats://127.0.0.1:4222");
	const char *urls[16];
	natsOptions *no = NULL;
	natsStatus s;
	int n;

	*nc = NULL;
	if (!list)
		return -ENOMEM;
	n = hbf_split_urls(list, urls, 16);
	s = n ? natsOptions_Create(&no) : NATS_INVALID_ARG;
	if (s == NATS_OK)
		s = natsOptions_SetServers(no, urls, n);
	if (s == NATS_OK && o->name)
		s = natsOptions_SetName(no, o->name);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(no, -1); /* forever */
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(no, 250);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(no, 100, 1000);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(no, true, hbf_on_reconnected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(no, hbf_on_disconnected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(no, hbf_on_reconnected, NULL);
	if (s == NATS_OK)
		s = hbf_nats_auth(no, o);
	if (s == NATS_OK) {
		s = natsConnection_Connect(nc, no);
		if (s == NATS_NOT_YET_CONNECTED) {
			hbf_warn("no NATS server answers at %s yet; trying in the background",
				 o->urls ? o->urls : "nats://127.0.0.1:4222");
			s = NATS_OK;
		}
	}
	if (s != NATS_OK)
		hbf_nats_err(s, 0, err, errlen);
	natsOptions_Destroy(no);
	free(list);
	return s == NATS_OK ? 0 : -EIO;
}
