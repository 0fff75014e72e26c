// Pacing of expire_due (order_credit.expire_max_rate): a session that
// sweeps a backlog in many calls keeps to at most `rate` rows per second
// over those calls, so that the WAL of the expired rows reaches the
// buyers' commits at a rate they absorb. Pure arithmetic over microsecond
// timestamps; the PostgreSQL layer sleeps.
#pragma once

#include <cstdint>

namespace oc::core {

class Pace {
  public:
    // Longest pause before one call, whatever the debt (a big call is not
    // followed by minutes of waiting).
    static constexpr int64_t kMaxPauseUs = 1'000'000;

    // How long the call starting at `now_us` waits first (0: not at all).
    int64_t pause_us(int64_t now_us) const;

    // The call that started at `start_us` expired `rows` at `rate` rows per
    // second (rate <= 0: unpaced, the debt is dropped). Calls are paced
    // from their starts: a call that itself took longer than rows / rate
    // leaves nothing to wait for.
    void spent(int64_t start_us, int64_t rows, int64_t rate);

  private:
    int64_t until_us_ = 0;  // the next call may start from here
};

}  // namespace oc::core
