// SPDX-License-Identifier: MIT
//
// hb.hpp - a thin C++17 layer over <hb.h>: an RAII handle and events whose
// value tags are deduced from the argument types at compile time.
//
//   hb::producer p({.name = "gateway"});           // C++20; or pass an hb_config
//   auto done = p.type<uint64_t, double, std::string_view>("req.done",
//                                                          {"code", "ms", "who"});
//   p.event(done, HB_PRIO_NORMAL, req, 200u, 1.5, who);   // checked against the type
//   p.event(raw_id, HB_PRIO_HIGH, req, 42, 1.5, "ACME", sv); // tags from the arguments
//
// Everything is inline over the C hot path: the values go into an array of
// struct hb_val on the stack with constant tags, exactly what the C macro
// hb_event builds, and hb_event_emit does the rest. The C API stays usable
// on the same handle (get()).
//
// Tags: bool -> bool; signed integers -> i64; unsigned integers -> u64;
// float and double -> f64; const char *, char arrays, std::string and
// std::string_view -> str; hb::bytes{ptr, n} -> bytes. Any other type is a
// compile error.
#ifndef HB_HPP
#define HB_HPP

#include <hb.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace hb {

// Always inlined, as the C hot path is (HB_INLINE is static, for C).
#define HB_CXX_INLINE inline __attribute__((always_inline))

// A bytes field: n bytes at p (copied, at most HB_STR_MAX).
struct bytes {
	const void *p;
	size_t n;
};

namespace detail {

template <typename T> struct always_false : std::false_type {};

template <typename T> constexpr enum hb_tag tag_of()
{
	using U = std::remove_cv_t<std::remove_reference_t<T>>;

	if constexpr (std::is_same_v<U, bool>)
		return HB_T_BOOL;
	else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>)
		return HB_T_I64;
	else if constexpr (std::is_integral_v<U>)
		return HB_T_U64;
	else if constexpr (std::is_floating_point_v<U>)
		return HB_T_F64;
	else if constexpr (std::is_same_v<U, bytes>)
		return HB_T_BYTES;
	else if constexpr (std::is_convertible_v<const U &, std::string_view>)
		return HB_T_STR;
	else
		static_assert(always_false<U>::value,
			      "hb: no field tag for this type (integers, floating point, bool, "
			      "strings and hb::bytes have one)");
}

template <typename T> HB_CXX_INLINE struct hb_val val(const T &x)
{
	constexpr enum hb_tag tag = tag_of<T>();
	struct hb_val v;

	v.tag = tag;
	v.len = 0;
	if constexpr (tag == HB_T_BOOL) {
		v.v.u = x ? 1 : 0;
	} else if constexpr (tag == HB_T_I64) {
		v.v.i = static_cast<int64_t>(x);
	} else if constexpr (tag == HB_T_U64) {
		v.v.u = static_cast<uint64_t>(x);
	} else if constexpr (tag == HB_T_F64) {
		v.v.d = static_cast<double>(x);
	} else if constexpr (tag == HB_T_BYTES) {
		v.len = static_cast<uint32_t>(x.n > HB_STR_MAX ? HB_STR_MAX : x.n);
		v.v.p = x.p;
	} else {
		std::string_view s(x);

		v.len = static_cast<uint32_t>(s.size() > HB_STR_MAX ? HB_STR_MAX : s.size());
		v.v.p = s.data();
	}
	return v;
}

} // namespace detail

// A registered event type whose field types are part of the C++ type, so
// an event with the wrong arguments does not compile.
template <typename... F> struct event_type {
	int id = -1; // the registration's result: an id, or -errno
	bool ok() const { return id >= 0; }
};

// An hb_open handle, closed when it goes out of scope. Movable, not
// copyable. A handle that failed to open is disabled: every call is a no-op
// returning 0 (open_error() says why).
class producer {
public:
	explicit producer(const struct hb_config &cfg) { rc_ = hb_open(&p_, &cfg); }
	producer() { rc_ = hb_open(&p_, nullptr); }
	~producer() { hb_close(p_); }
	producer(const producer &) = delete;
	producer &operator=(const producer &) = delete;
	producer(producer &&o) noexcept : p_(o.p_), rc_(o.rc_) { o.p_ = &hb_producer_disabled; }
	producer &operator=(producer &&o) noexcept
	{
		if (this != &o) {
			hb_close(p_);
			p_ = o.p_;
			rc_ = o.rc_;
			o.p_ = &hb_producer_disabled;
		}
		return *this;
	}

	struct hb_producer *get() const { return p_; }
	int open_error() const { return rc_; }
	bool enabled() const { return hb_enabled(p_) != 0; }

	// Registers a type whose field tags come from F...; names: one per field.
	template <typename... F>
	event_type<F...> type(const char *name, const char *const (&names)[sizeof...(F) ? sizeof...(F) : 1])
	{
		static_assert(sizeof...(F) <= HB_MAX_FIELDS, "hb: at most HB_MAX_FIELDS fields");
		struct hb_field f[sizeof...(F) ? sizeof...(F) : 1] = {};
		const enum hb_tag tags[sizeof...(F) ? sizeof...(F) : 1] = {detail::tag_of<F>()...};

		for (size_t i = 0; i < sizeof...(F); i++) {
			f[i].name = names[i];
			f[i].tag = tags[i];
		}
		return event_type<F...>{hb_type_register(p_, name, f, sizeof...(F))};
	}
	// Registers a type from a field list, as hb_type_register does.
	int type(const char *name, std::initializer_list<struct hb_field> fields)
	{
		return hb_type_register(p_, name, fields.begin(), static_cast<unsigned>(fields.size()));
	}
	int metric(const char *name, enum hb_metric_kind kind) { return hb_metric_register(p_, name, kind); }

	// An event of a type registered by id: tags from the argument types.
	template <typename... A> HB_CXX_INLINE int event(unsigned type, enum hb_prio prio, uint64_t req, const A &...a)
	{
		static_assert(sizeof...(A) <= HB_MAX_FIELDS, "hb: at most HB_MAX_FIELDS fields");
		const struct hb_val v[sizeof...(A) ? sizeof...(A) : 1] = {detail::val(a)...};

		return hb_event_emit(p_, type, prio, req, v, static_cast<unsigned>(sizeof...(A)));
	}
	// An event of a typed registration: the argument types must give the
	// registered tags, or it does not compile.
	template <typename... F, typename... A>
	HB_CXX_INLINE int event(event_type<F...> t, enum hb_prio prio, uint64_t req, const A &...a)
	{
		static_assert(sizeof...(F) == sizeof...(A), "hb: wrong number of fields for this event type");
		static_assert(((detail::tag_of<F>() == detail::tag_of<A>()) && ...),
			      "hb: an argument's tag differs from the registered field's");
		if (t.id < 0)
			return 0; // registration failed: nothing to emit, as on a disabled handle
		return event(static_cast<unsigned>(t.id), prio, req, a...);
	}

	HB_CXX_INLINE int counter_add(unsigned id, uint64_t n = 1) { return hb_counter_add(p_, id, n); }
	HB_CXX_INLINE int gauge_set(unsigned id, double v) { return hb_gauge_set(p_, id, v); }
	HB_CXX_INLINE int timing_add(unsigned id, uint64_t ns) { return hb_timing_add(p_, id, ns); }
	HB_CXX_INLINE int health_set(unsigned id, enum hb_health h) { return hb_health_set(p_, id, h); }
	HB_CXX_INLINE int tick() { return hb_tick(p_); }
	int heartbeat() { return hb_heartbeat(p_); }
	void status(enum hb_status s) { hb_status_set(p_, s); }

private:
	struct hb_producer *p_ = &hb_producer_disabled;
	int rc_ = 0;
};

} // namespace hb

#endif // HB_HPP
