// Dose accounting over a course: per-voxel cumulative physical dose, BED and EQD2,
// and the delivered-schedule report (one row per fraction and scope). Host only; the BED and
// EQD2 formulas are the TME_HD ones of kernels/radiation.hpp, shared with the device.
//
// Units: dose, BED and EQD2 [Gy], alpha/beta [Gy], time [s] of run time (t = 0 is the start
// of the run). Voxels are in grid order (x fastest), nvox of them. See docs/radiotherapy.md.
// Errors: std::invalid_argument naming what was wrong and what was expected.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tme {
namespace rt {

// Per-voxel accumulated dose quantities over a course (host).
class DoseAccumulator {
 public:
  // labels: tissue label per voxel (nvox bytes) or empty (every voxel label 0);
  // alpha_beta_Gy: alpha/beta [Gy] per label (index = label), each finite and > 0, with an
  // entry for every label used. Throws for nvox < 0, a labels size other than nvox, an empty
  // table, a non-positive or non-finite alpha/beta, or a label beyond the table.
  DoseAccumulator(long long nvox, std::vector<uint8_t> labels, std::vector<double> alpha_beta_Gy);

  // Adds one fraction: physical dose [Gy] per voxel (nvox values, finite, >= 0). Checks the
  // whole map before changing anything (a throw leaves the accumulator as it was).
  void add_fraction(const std::vector<double>& dose_Gy);

  const std::vector<double>& physical_Gy() const { return physical_; }   // sum of d [Gy]
  const std::vector<double>& bed_Gy() const { return bed_; }             // sum of d (1 + d / (a/b)) [Gy]
  const std::vector<double>& eqd2_Gy() const { return eqd2_; }           // BED / (1 + 2 / (a/b)) [Gy]
  const std::vector<double>& last_fraction_Gy() const { return last_; }  // zeros before any
  int fractions() const { return fractions_; }                           // number of add_fraction calls
  long long voxels() const { return (long long)physical_.size(); }
  // Sets the sums as saved by a checkpoint (the four maps of voxels() values each and the
  // fraction count); throws std::invalid_argument for other sizes or a negative count.
  void restore(std::vector<double> physical_Gy, std::vector<double> bed_Gy, std::vector<double> eqd2_Gy,
               std::vector<double> last_Gy, int fractions);

 private:
  double alpha_beta_of(size_t voxel) const { return ab_[labels_.empty() ? 0 : labels_[voxel]]; }
  std::vector<uint8_t> labels_;
  std::vector<double> ab_;                            // [Gy] per label
  std::vector<double> physical_, bed_, eqd2_, last_;  // [Gy] per voxel
  int fractions_ = 0;
};

// Summary of one delivered fraction over one scope (the whole grid or a named region).
// Statistics are of the physical dose of this fraction [Gy]; NaN when voxels == 0.
struct DeliveredRow {
  double time_s = 0;                           // delivery time [s] of run time
  int plan = 0;                                // plan index
  std::string plan_name;                       // plan name
  double prescribed_Gy = 0;                    // prescribed dose of the fraction [Gy]
  std::string scope;                           // "grid" (every voxel) or a region name
  double mean_Gy = 0, min_Gy = 0, max_Gy = 0;  // over the scope's voxels [Gy]
  long long voxels = 0;                        // voxels in the scope
};

// Rows for one fraction: first scope "grid" (all voxels of dose_Gy), then one per region
// (mask of dose_Gy.size() bytes, nonzero = inside) in the order given. A region with no voxel
// gives voxels 0 and NaN statistics. Throws for a null mask or a mask of the wrong size.
std::vector<DeliveredRow> summarise_fraction(
    double time_s, int plan, const std::string& plan_name, double prescribed_Gy, const std::vector<double>& dose_Gy,
    const std::vector<std::pair<std::string, const std::vector<uint8_t>*>>& regions);

// CSV text, one line per row after the header
//   time_s,time_h,plan,prescribed_Gy,scope,voxels,mean_Gy,min_Gy,max_Gy
// time_h = time_s / 3600; reals as %.9g; NaN as an empty cell; a scope containing a comma,
// quote or line break is quoted (RFC 4180). Every line ends in '\n'. Write it with
// write_text_atomic (host/io/run_dir.hpp).
std::string delivered_schedule_csv(const std::vector<DeliveredRow>& rows);

}  // namespace rt
}  // namespace tme
