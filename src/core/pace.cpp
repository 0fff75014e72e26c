#include "core/pace.hpp"

#include <algorithm>

namespace oc::core {

int64_t Pace::pause_us(int64_t now_us) const {
    if (until_us_ <= now_us) return 0;
    return std::min(until_us_ - now_us, kMaxPauseUs);
}

void Pace::spent(int64_t start_us, int64_t rows, int64_t rate) {
    if (rate <= 0 || rows <= 0) {
        if (rate <= 0) until_us_ = 0;
        return;
    }
    // rows * 1e6 / rate without overflow for any int64 row count
    int64_t cost = rows >= INT64_MAX / 1'000'000 ? INT64_MAX / 2 : rows * 1'000'000 / rate;
    // Debt older than one maximal pause is forgiven: it could not be waited
    // for anyway.
    int64_t base = std::max(until_us_, start_us);
    until_us_ = std::min(base, start_us + kMaxPauseUs) + std::min(cost, kMaxPauseUs);
}

}  // namespace oc::core
