// Dose accounting and the delivered-schedule report (see delivery.hpp).
#include "host/rt/delivery.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "host/io/number_text.hpp"
#include "host/rt/format.hpp"
#include "host/rt/schedule.hpp"
#include "kernels/radiation.hpp"

namespace tme {
namespace rt {

namespace {

[[noreturn]] void acc_fail(const std::string& what) { throw std::invalid_argument("dose accumulator: " + what); }

// A text cell, quoted (RFC 4180) when it holds a comma, quote or line break.
std::string csv_text(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

DoseAccumulator::DoseAccumulator(long long nvox, std::vector<uint8_t> labels, std::vector<double> alpha_beta_Gy)
    : labels_(std::move(labels)), ab_(std::move(alpha_beta_Gy)) {
  if (nvox < 0) acc_fail("voxel count " + std::to_string(nvox) + " is negative (expected >= 0)");
  if (!labels_.empty() && (long long)labels_.size() != nvox)
    acc_fail(std::to_string(labels_.size()) + " labels for " + std::to_string(nvox) +
             " voxels (expected one per voxel, or none for all label 0)");
  if (ab_.empty()) acc_fail("empty alpha/beta table (expected one value > 0 Gy per label)");
  for (size_t l = 0; l < ab_.size(); ++l)
    if (!(std::isfinite(ab_[l]) && ab_[l] > 0))
      acc_fail("alpha/beta of label " + std::to_string(l) + " is " + num(ab_[l]) + " Gy (expected finite and > 0)");
  for (size_t i = 0; i < labels_.size(); ++i)
    if (labels_[i] >= ab_.size())
      acc_fail("voxel " + std::to_string(i) + " has label " + std::to_string(labels_[i]) +
               " but the alpha/beta table has " + std::to_string(ab_.size()) + " entries (labels 0.." +
               std::to_string(ab_.size() - 1) + ")");
  physical_.assign((size_t)nvox, 0.0);
  bed_ = eqd2_ = last_ = physical_;
}

void DoseAccumulator::restore(std::vector<double> physical_Gy, std::vector<double> bed_Gy, std::vector<double> eqd2_Gy,
                              std::vector<double> last_Gy, int fractions) {
  const size_t n = physical_.size();
  if (physical_Gy.size() != n || bed_Gy.size() != n || eqd2_Gy.size() != n || last_Gy.size() != n || fractions < 0)
    throw std::invalid_argument("DoseAccumulator::restore: expected 4 maps of " + std::to_string(n) +
                                " voxels and a fraction count >= 0");
  physical_ = std::move(physical_Gy);
  bed_ = std::move(bed_Gy);
  eqd2_ = std::move(eqd2_Gy);
  last_ = std::move(last_Gy);
  fractions_ = fractions;
}

void DoseAccumulator::add_fraction(const std::vector<double>& dose_Gy) {
  if (dose_Gy.size() != physical_.size())
    acc_fail("fraction has " + std::to_string(dose_Gy.size()) + " dose values for " + std::to_string(physical_.size()) +
             " voxels (expected one per voxel)");
  for (size_t i = 0; i < dose_Gy.size(); ++i)
    if (!(std::isfinite(dose_Gy[i]) && dose_Gy[i] >= 0))
      acc_fail("fraction dose at voxel " + std::to_string(i) + " is " + num(dose_Gy[i]) +
               " Gy (expected finite and >= 0)");
  for (size_t i = 0; i < dose_Gy.size(); ++i) {
    const double d = dose_Gy[i], ab = alpha_beta_of(i);  // [Gy]
    physical_[i] += d;
    bed_[i] += bed_increment(d, ab);
    eqd2_[i] = eqd2_from_bed(bed_[i], ab);  // from the sum: exact relation to BED
    last_[i] = d;
  }
  ++fractions_;
}

std::vector<DeliveredRow> summarise_fraction(
    double time_s, int plan, const std::string& plan_name, double prescribed_Gy, const std::vector<double>& dose_Gy,
    const std::vector<std::pair<std::string, const std::vector<uint8_t>*>>& regions) {
  for (const auto& [name, mask] : regions) {
    if (!mask) throw std::invalid_argument("summarise_fraction: region '" + name + "' has no mask (null pointer)");
    if (mask->size() != dose_Gy.size())
      throw std::invalid_argument("summarise_fraction: region '" + name + "' mask has " + std::to_string(mask->size()) +
                                  " voxels, expected " + std::to_string(dose_Gy.size()) + " (one per dose value)");
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Statistics over the voxels where inside(i) holds.
  auto row = [&](const std::string& scope, auto inside) {
    DeliveredRow r{time_s, plan, plan_name, prescribed_Gy, scope, nan, nan, nan, 0};
    double sum = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;  // [Gy]
    for (size_t i = 0; i < dose_Gy.size(); ++i)
      if (inside(i)) {
        sum += dose_Gy[i];
        lo = std::fmin(lo, dose_Gy[i]);
        hi = std::fmax(hi, dose_Gy[i]);
        ++r.voxels;
      }
    if (r.voxels > 0) r.mean_Gy = sum / (double)r.voxels, r.min_Gy = lo, r.max_Gy = hi;
    return r;
  };
  std::vector<DeliveredRow> rows;
  rows.push_back(row("grid", [](size_t) { return true; }));
  for (const auto& [name, mask] : regions) rows.push_back(row(name, [m = mask](size_t i) { return (*m)[i] != 0; }));
  return rows;
}

std::string delivered_schedule_csv(const std::vector<DeliveredRow>& rows) {
  std::string s = "time_s,time_h,plan,plan_name,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy\n";
  for (const auto& r : rows)
    s += csv_real(r.time_s) + "," + csv_real(r.time_s / kSecondsPerHour) + "," + std::to_string(r.plan) + "," +
         csv_text(r.plan_name) + "," + csv_real(r.prescribed_Gy) + "," + csv_text(r.scope) + "," +
         std::to_string(r.voxels) + "," + csv_real(r.mean_Gy) + "," + csv_real(r.min_Gy) + "," + csv_real(r.max_Gy) +
         "\n";
  return s;
}

}  // namespace rt
}  // namespace tme
