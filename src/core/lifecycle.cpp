#include "core/lifecycle.hpp"

#include <algorithm>
#include <array>

namespace oc::core {
namespace {

constexpr std::array<std::string_view, 3> kFinishedOrder = {"delivered", "cancelled", "expired"};
constexpr std::array<std::string_view, 4> kFinishedHold = {"captured", "voided", "expired",
                                                           "reversed"};
constexpr std::array<std::string_view, 3> kFinishedReservation = {"committed", "released",
                                                                  "expired"};

template <size_t N>
bool in(const std::array<std::string_view, N> &list, std::string_view s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

template <size_t N>
std::string sql_list(const std::array<std::string_view, N> &list) {
    std::string out;
    for (std::string_view s : list) {
        if (!out.empty()) out += ", ";
        out += '\'';
        out += s;
        out += '\'';
    }
    return out;
}

}  // namespace

bool order_finished(std::string_view status) {
    return in(kFinishedOrder, status);
}

bool hold_finished(std::string_view status) {
    return in(kFinishedHold, status);
}

bool reservation_finished(std::string_view status, bool past_expiry, bool has_claim) {
    if (in(kFinishedReservation, status)) return true;
    return status == "active" && past_expiry && !has_claim;
}

int64_t finished_retention_s(int64_t finished_retention_s, int64_t idempotency_ttl_s) {
    if (finished_retention_s <= 0) return 0;
    return std::max(finished_retention_s, idempotency_ttl_s);
}

bool purgeable(bool finished, int64_t age_s, int64_t retention_s) {
    return finished && retention_s > 0 && age_s > retention_s;
}

std::string finished_order_statuses_sql() {
    return sql_list(kFinishedOrder);
}
std::string finished_hold_statuses_sql() {
    return sql_list(kFinishedHold);
}
std::string finished_reservation_statuses_sql() {
    return sql_list(kFinishedReservation);
}

}  // namespace oc::core
