// SPDX-License-Identifier: MIT
//
// check.cpp - the C++ side of tests/install/check.c: builds against the
// installed <hb.h> and <hb.hpp> only, as C++17 and C++20 with g++ and
// clang++, with the hb headers before the standard ones or (with
// -DHB_CHECK_STD_FIRST) after them, and runs the C API and the wrapper
// once. Run by tests/e2e/installed_header.sh; exits 0 when every call
// succeeded.
#ifdef HB_CHECK_STD_FIRST
#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#endif
#include <hb.h>
#include <hb.hpp>
#ifndef HB_CHECK_STD_FIRST
#include <atomic>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#endif

#define CHECK(expr)                                                                        \
	do {                                                                               \
		long long rc_ = (long long)(expr);                                         \
		if (rc_ < 0) {                                                             \
			std::fprintf(stderr, "%s:%d: %s = %lld\n", __FILE__, __LINE__, #expr, \
				     rc_);                                                 \
			return 1;                                                          \
		}                                                                          \
	} while (0)

int main()
{
	static const struct hb_field fields[] = {{"id", HB_T_U64}, {"msg", HB_T_STR}};
	struct hb_config cfg = {};
	std::atomic<int> sent{0};
	std::string_view who("ACME");

	cfg.name = "install-check-cxx";
	cfg.ring_kb = 64;
	hb::producer p(cfg);
	CHECK(p.open_error());
	int t = p.type("check.hello", {{"id", HB_T_U64}, {"msg", HB_T_STR}});
	CHECK(t);
	CHECK(hb_type_register(p.get(), "check.hello", fields, 2));
	auto typed = p.type<int, double, std::string_view>("check.typed", {"n", "x", "who"});
	CHECK(typed.id);
	CHECK(hb_event(p.get(), (unsigned)t, HB_PRIO_NORMAL, 1, HB_U64(7), HB_STR("hello")));
	CHECK(p.event((unsigned)t, HB_PRIO_HIGH, 2, 8u, std::string("world")));
	CHECK(p.event(typed, HB_PRIO_LOW, 3, 42, 1.5, who));
	sent += 3;
	CHECK(p.heartbeat());
	std::printf("install-check-cxx: ok (hb %s, %d events)\n", HB_VERSION_STRING, sent.load());
	return 0;
}
