// SPDX-License-Identifier: MIT
//
// cxx_threads.cpp - a C++17 service in miniature: one hb::producer, four
// threads, each emitting through the C API (even n) and through the
// wrapper (odd n) events whose fields follow from (thread, n), so that
// tests/e2e/cxx_threads.sh can check every one field for field.
//
//   cxx.ev: t (u64), n (i64), x (f64), ok (bool), who (str)
#include <hb.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

static constexpr int threads = 4;
static constexpr int per_thread = 5000;

int main()
{
	struct hb_config cfg = {};
	cfg.name = "cxx";
	cfg.ring_kb = 4096;
	hb::producer p(cfg);
	if (p.open_error() < 0 || !p.enabled())
		return 1;
	auto ev = p.type<uint64_t, int64_t, double, bool, std::string_view>("cxx.ev",
									     {"t", "n", "x", "ok", "who"});
	int c = p.metric("cxx.sent", HB_METRIC_COUNTER);
	if (!ev.ok() || c < 0)
		return 1;
	std::vector<std::thread> th;
	std::vector<int> bad(threads, 0);
	for (int t = 0; t < threads; t++)
		th.emplace_back([&, t] {
			std::string who = "ACME-" + std::to_string(t);
			for (int64_t n = 0; n < per_thread; n++) {
				double x = (double)n * 0.5 + t;
				bool ok = (n % 3) == 0;
				int rc;

				if (n % 2 == 0)
					rc = hb_event(p.get(), (unsigned)ev.id, HB_PRIO_NORMAL, (uint64_t)n,
						      HB_U64((uint64_t)t), HB_I64(-n), HB_F64(x),
						      HB_BOOL(ok), HB_STR(who.c_str()));
				else
					rc = p.event(ev, HB_PRIO_HIGH, (uint64_t)n, (uint64_t)t, -n, x,
						     ok, std::string_view(who));
				bad[t] += rc != 0;
				bad[t] += p.counter_add((unsigned)c) != 0;
			}
		});
	for (auto &x : th)
		x.join();
	for (int t = 0; t < threads; t++)
		if (bad[t])
			return 1;
	return p.heartbeat() == 0 ? 0 : 1;
}
