// Stock rules: quantities, the jsonb items document, bucket allocation and
// re-striping, reservation status transitions. Pure functions over values
// read under row locks; the database clock decides expiry (callers pass
// `expired` in).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oc::core {

constexpr int kMaxBuckets = 1024;

// Argument rules (22023 with the argument's name).
void require_quantity(int64_t quantity, std::string_view what);  // > 0
void require_on_hand(int64_t on_hand, std::string_view what);    // >= 0
void require_buckets(int64_t buckets, std::string_view what);    // 1..kMaxBuckets
void require_delta(int64_t delta, std::string_view what);        // != 0

// ------------------------------------------------------------ items document

// What the PostgreSQL layer read from one element of the items array.
enum class JsonKind { Missing, String, Number, Other };
struct RawItem {
    bool is_object = false;
    JsonKind sku_kind = JsonKind::Missing;
    std::string sku;       // when sku_kind == String
    size_t sku_chars = 0;  // length in characters
    JsonKind quantity_kind = JsonKind::Missing;
    std::string quantity;     // numeric text when quantity_kind == Number
    std::string unknown_key;  // a key besides sku and quantity (empty: none)
};

struct Item {
    std::string sku;
    int64_t quantity;
    size_t index;  // position in the document (0-based)
};

// Parses numeric text as a positive bigint; nullopt when it is not an
// integer, not positive or above the bigint range. Never throws.
std::optional<int64_t> parse_positive_int64(std::string_view numeric_text) noexcept;

// Validates the items document: a non-empty array of objects, each with a
// "sku" string of 1..200 characters and a "quantity" that is an integer > 0
// within bigint. Duplicate SKUs are refused. Throws Error(InvalidParameter)
// whose detail names the path of the bad element ("items[2].quantity ...").
// Returns the items sorted by sku (the canonical lock order).
std::vector<Item> validate_items(bool is_array, const std::vector<RawItem> &raw);

// ------------------------------------------------------------ buckets

struct BucketLevel {
    int bucket;
    int64_t on_hand;
    int64_t reserved;
    int64_t available() const { return on_hand - reserved; }
    // The "enough units" rule: this bucket alone can give `quantity` now.
    bool serves(int64_t quantity) const { return available() >= quantity; }
};

// The bucket after a reservation of `quantity` from it: reserved grows by
// it. nullopt when the bucket cannot give it (the "enough units" rule, with
// the levels' arithmetic checked), so a writer that has the row locked
// computes the new version and the decision in one call.
std::optional<BucketLevel> after_reserve(const BucketLevel &level, int64_t quantity) noexcept;

struct Part {
    int bucket;
    int64_t quantity;
    friend bool operator==(const Part &a, const Part &b) {
        return a.bucket == b.bucket && a.quantity == b.quantity;
    }
};

struct StockLevel {
    int64_t on_hand = 0;
    int64_t reserved = 0;
    int64_t available() const { return on_hand - reserved; }
};
StockLevel total(const std::vector<BucketLevel> &buckets);

// "available=…, requested=…, on_hand=…, reserved=…"
std::string stock_detail(const StockLevel &level, std::optional<int64_t> requested = std::nullopt);

// A bucket of a striped item as the direct writer found it in its snapshot.
struct BucketCandidate {
    int bucket;
    bool enough;  // had enough free units (BucketLevel::serves)
    bool busy;    // another transaction was updating it
    int rank;     // its place in this call's spread order (spread_rank)
};

// Where bucket `bucket` of an item of `buckets` stands for a call with
// `offset`: buyers with different offsets start on different buckets.
int spread_rank(int bucket, int offset, int buckets) noexcept;

// The order in which a writer tries the buckets of a striped item: those
// with enough units first, then those no one was updating, then the spread
// order, then the lower number.
bool tried_before(const BucketCandidate &a, const BucketCandidate &b) noexcept;

// Whether one bucket alone can give `quantity` as the levels stand. A
// writer places such a request in one bucket without first expiring due
// reservations; otherwise it expires them and plans (plan_allocation).
bool one_bucket_serves(const std::vector<BucketLevel> &buckets, int64_t quantity);

// Splits `quantity` over the buckets: one bucket when one has enough (the
// one with the least that still suffices, keeping full buckets for large
// requests), otherwise the fewest buckets, taking the fullest first. Throws OC004 when the total
// available is not enough.
std::vector<Part> plan_allocation(std::string_view sku, const std::vector<BucketLevel> &buckets,
                                  int64_t quantity);

// Re-stripes an item over `n` buckets holding `on_hand` units in total. A live
// reservation part in old bucket b moves to bucket b % n (remap_bucket), so
// new bucket k's reserved is the sum of old reserved over b % n == k. Units
// not reserved are spread evenly (the first buckets get one more). Throws
// OC004 when on_hand is below the total reserved. Buckets 0..n-1, in order.
std::vector<BucketLevel> plan_layout(std::string_view sku, const std::vector<BucketLevel> &old,
                                     int n, int64_t on_hand);
inline int remap_bucket(int bucket, int n) {
    return bucket % n;
}

// adjust_stock: the new on_hand (overflow-checked); OC004 when it would take
// available below zero.
int64_t check_adjust(std::string_view sku, const StockLevel &level, int64_t delta);

// ------------------------------------------------------------ reservations

enum class ReservationStatus { Active, Committed, Released, Expired };
std::string_view to_string(ReservationStatus s) noexcept;
ReservationStatus parse_reservation_status(std::string_view s);  // Internal on junk

struct Reservation {
    std::string order_ref;
    std::string sku;
    int64_t quantity;
    ReservationStatus status;
    bool expired;  // expires_at <= database now
};

// An active reservation past its expiry is expired for every reader.
ReservationStatus effective_status(const Reservation &r) noexcept;

// A repeated reserve of the same (order_ref, sku): replay when the quantity
// and expires_in match, OC009 otherwise.
void check_reserve_replay(const Reservation &existing, int64_t quantity, bool same_ttl);

enum class StockAction { Replay, Commit, Release, Expire };
// active -> committed. committed again: replay. released: OC007. expired
// (marked or past expires_at): OC008.
StockAction decide_commit(const Reservation &r);
// active -> released (past expiry: -> expired, units back, no error).
// released or expired again: replay. committed: OC007.
StockAction decide_release(const Reservation &r);

}  // namespace oc::core
