// The one implementation of the Backend interface, a template over an execution space:
// HostSpace (host/core/backend_cpu.cpp: host memory, OpenMP loops) and CudaSpace
// (host/core/backend_cuda.cpp: device memory, kernels queued on the backend's own stream).
// The sequencing of every operation (ping-pong, sub-steps, factor tables, scratch on first
// use) is written here once; the kernel arguments are built once at load, and only the state
// pointers (which swap between steps) and the step length change per call. The point-wise
// operators (reactions, chemotaxis, fractions) run as ops of the generic voxel loop; a new one
// is its header (kernels/X.hpp), its entry in kernels/ops.def and its call here.
//
// What a Space provides:
//   kName, kHostMemory              "cpu"/"cuda"; whether its buffers are host memory
//   Buffer<T>                       storage of n values, constructed from a label (errors name
//                                   it); data(), size(), empty(), swap()
//   exec()                          the handle the launchers of kernels/launch.hpp and the
//                                   voxel loop (kernels/parallel_for.hpp) take
//   device()                        the description Backend::device() returns
//   prepare()                       per-load setup of the threads that will run the loops
//   allocate(buf, n)                n values, contents undefined; waits for queued work first
//                                   when it replaces storage that work may use
//   to_space, to_host, copy, zero   byte copies host -> space, space -> host (returns when
//                                   the bytes are on the host), within the space, and a fill
//                                   with zero bytes; queued in order with the launches
//   sync()                          waits for everything queued
#pragma once
#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "host/core/backend.hpp"
#include "host/core/model.hpp"
#include "host/core/problem.hpp"
#include "kernels/backward_euler.hpp"
#include "kernels/chemotaxis.hpp"
#include "kernels/fold.hpp"
#include "kernels/fraction.hpp"
#include "kernels/launch.hpp"
#include "kernels/parallel_for.hpp"
#include "kernels/reduce.hpp"
#include "kernels/release.hpp"
#include "kernels/terms.hpp"

namespace tme {

template <class Space>
class SpaceBackend final : public Backend {
 public:
  template <class T>
  using Buffer = typename Space::template Buffer<T>;

  SpaceBackend() = default;
  SpaceBackend(const SpaceBackend&) = delete;
  SpaceBackend& operator=(const SpaceBackend&) = delete;
  // Queued work still reads and writes the buffers: let it end before they are freed (the
  // space, declared first, goes last).
  ~SpaceBackend() override {
    try {
      sp_.sync();
    } catch (...) {  // a failed kernel: nothing left to report it to
    }
  }

  std::string name() const override { return Space::kName; }
  std::string device() const override { return sp_.device(); }

  void load(const Problem& p) override {
    p.check();
    sp_.sync();  // a reload replaces buffers that queued work may still use
    sp_.prepare();
    be_levels_.clear();  // sized for the grid: rebuilt on first use
    kept_.clear();       // voxel lists of the previous grid
    folded_.clear();     // running sums of the previous problem
    be_stats_ = LinearSolveStats();
    geom_ = p.grid.geom();
    ns_ = p.nspecies();
    nvox_ = geom_.d.nvox();
    host_coeffs_ = p.coeffs;
    put(coeffs_, p.coeffs);
    put(labels_, p.labels);
    put(src_, p.src);
    put(upt_, p.upt);
    put(hold_, p.hold);
    {
      std::vector<real> init = p.initial;
      apply_holds(p, init);
      put(a_, init);
    }
    zeros(b_, a_.size());
    for (Buffer<real>* b : {&cp_, &ep_, &vel_, &dose_}) sp_.allocate(*b, 0);  // scratch: on first use
    fac_dt_ = NAN;

    explicit_ = ExplicitArgs();
    explicit_.g = geom_;
    explicit_.nspecies = ns_;
    explicit_.label = ptr_or_null(labels_);
    explicit_.src = ptr_or_null(src_);
    explicit_.upt = ptr_or_null(upt_);
    explicit_.hold = ptr_or_null(hold_);
    explicit_.coeffs = ptr_or_null(coeffs_);

    sweep_ = SweepArgs();
    sweep_.g = geom_;
    sweep_.nspecies = ns_;
    sweep_.label = explicit_.label;
    sweep_.src = explicit_.src;
    sweep_.upt = explicit_.upt;
    sweep_.hold = explicit_.hold;
    sweep_.coeffs = explicit_.coeffs;

    LocalReactions lr = build_local_reactions(p.model, ns_);
    // Model terms in the solve (be/trbdf2): the secretion, uptake and vessel exchange of
    // diffusing fields go to the linear solve of their field, the rest stay in the reaction
    // pass.
    std::vector<Term> lin_terms, react_terms;
    lin_slot_.assign(size_t(ns_), -1);
    for (const Term& t : lr.terms) {
      const int field = lr.args.local[t.target];
      if (p.time.terms_in_solve && (t.kind == kTermSecretion || t.kind == kTermUptake || t.kind == kTermExchange) &&
          diffuses(host_coeffs_[field])) {
        lin_terms.push_back(t);
        lin_slot_[field] = t.target;
      } else {
        react_terms.push_back(t);
      }
    }
    put(terms_, react_terms);
    reaction_ = lr.args;
    reaction_.terms = ptr_or_null(terms_);
    reaction_.nterms = (int)react_terms.size();
    put(lin_terms_, lin_terms);
    lin_ = lr.args;
    lin_.terms = ptr_or_null(lin_terms_);
    lin_.nterms = (int)lin_terms.size();
    nglobals_ = (int)p.model.globals.size();

    const double h[3] = {p.grid.h[0], p.grid.h[1], p.grid.h[2]};
    chemo_ = build_chemotaxis_args(p.model, geom_, h, host_coeffs_);
    fraction_ = build_fraction_args(p.model);
    fraction_.nvox = nvox_;
    put(survival_, std::vector<double>(p.model.radio_pops.size() * size_t(nvox_), 1.0));
    fraction_.survival = ptr_or_null(survival_);
    zeros(check_first_, 1);
    // The copies above read the Problem and `init`, which belong to the caller and this
    // scope: let them complete before returning.
    sp_.sync();
  }

  void explicit_steps(double dt, int n) override {
    ExplicitArgs a = explicit_;
    a.dt = real(dt);
    for (int it = 0; it < n; ++it) {
      a.in = a_.data();
      a.out = b_.data();
      tme::explicit_step(sp_.exec(), a);
      a_.swap(b_);
    }
  }

  void implicit_steps(Scheme scheme, double dt, int n) override {
    if (n <= 0) return;
    if (scheme == Scheme::kBackwardEuler || scheme == Scheme::kTrBdf2) {
      for (int it = 0; it < n; ++it)
        for (int s = 0; s < ns_; ++s) {
          if (scheme == Scheme::kTrBdf2)
            trbdf2_solve(s, dt);
          else
            be_solve(s, dt);
        }
      return;
    }
    check_implicit_grid(geom_.d);
    const ImplicitScratchNeeds need = implicit_scratch_needs(scheme, host_coeffs_);
    if (need.rows && cp_.size() != a_.size()) zeros(cp_, a_.size());  // on first use
    if (need.rows_periodic && ep_.size() != a_.size()) zeros(ep_, a_.size());
    sweep_.cp = ptr_or_null(cp_);
    sweep_.ep = ptr_or_null(ep_);
    if (scheme != fac_scheme_ || dt != fac_dt_) {  // the factor tables depend on scheme and step only
      build_all_line_factors(scheme, dt, host_coeffs_, geom_, host_fac_);  // on the host
      for (int axis = 0; axis < 3; ++axis) fac_ptr_[axis] = stage(fac_[axis], host_fac_[axis]);
      fac_scheme_ = scheme;
      fac_dt_ = dt;
    }
    const auto exec = sp_.exec();
    run_implicit_steps(scheme, dt, n, sweep_, fac_ptr_, a_.data(), b_.data(),
                       [exec](const SweepArgs& s) { tme::implicit_sweep(exec, s); });
  }

  void solve_globals(const std::vector<double>& globals) override { set_globals(lin_, globals, nglobals_); }

  void react(double dt, const std::vector<double>& globals) override {
    if (reaction_.nterms == 0) return;
    ReactionArgs a = reaction_;
    set_globals(a, globals, nglobals_);
    parallel_for(sp_.exec(), nvox_, ReactOp{a, a_.data(), nvox_, real(dt)});
  }

  // Per moving population: the face drifts into vel_ (once; every sub-step for a pass with
  // pressure entries, whose drift follows the moving population), then equal sub-steps within
  // the positivity limit, ping-ponging the population's block between the state and the spare
  // state; an odd count leaves the result in the spare block, copied back (one copy per pass).
  void chemotaxis(double dt) override {
    if (chemo_.empty()) return;
    if (vel_.size() != size_t(3 * nvox_)) zeros(vel_, size_t(3 * nvox_));  // on first use
    for (const ChemotaxisArgs& pass : chemo_) {
      ChemotaxisArgs a = pass;
      const long long off = a.cx[0].cell * nvox_;
      real* blocks[2] = {a_.data() + off, b_.data() + off};
      if (a.pressure) a.own_phi_max = real(own_phi_bound(a, blocks[0]));
      const int n = chemotaxis_substeps(a, dt);
      a.dt = real(dt / n);
      a.in = a_.data();  // signals (unchanged by the pass, but for the moving population)
      a.vel = vel_.data();
      a.cell_in = blocks[0];
      parallel_for(sp_.exec(), a.g.d, ChemotaxisVelocityOp{a});
      for (int it = 0; it < n; ++it) {
        a.cell_in = blocks[it % 2];
        a.cell_out = blocks[(it + 1) % 2];
        if (a.pressure && it > 0) parallel_for(sp_.exec(), a.g.d, ChemotaxisVelocityOp{a});
        parallel_for(sp_.exec(), a.g.d, ChemotaxisOp{a});
      }
      if (n % 2) sp_.copy(blocks[0], blocks[1], size_t(nvox_) * sizeof(real));
    }
  }

  // The bound on the moving population's own share of phi over a pressure pass
  // (ChemotaxisArgs::own_phi_max): 0 when it occupies no volume (its drift then does not
  // depend on it), else max(1, max_x c / capacity) at the pass's start. The floor 1 covers the
  // growth of the maximum during the pass, as densities of a crowding population rarely exceed
  // the capacity (growth turns into loss there).
  double own_phi_bound(const ChemotaxisArgs& a, const real* c) {
    double vol = 0;
    for (int q = 0; q < a.ncrowd; ++q)
      if (a.crowd_species[q] == a.cx[0].cell) vol += double(a.crowd_volume[q]);
    if (vol == 0) return 0;
    if (chemo_partial_.size() != size_t(kBeDotBlocks)) zeros(chemo_partial_, size_t(kBeDotBlocks));
    const long long nb = std::min<long long>(kBeDotBlocks, nvox_);
    parallel_for(sp_.exec(), nb, BeMaxAbsOp{c, nvox_, nb, chemo_partial_.data()});
    std::vector<double> part(size_t(nb), 0.0);
    sp_.to_host(part.data(), chemo_partial_.data(), size_t(nb) * sizeof(double));
    double m = 0;
    for (double x : part) m = std::max(m, x);
    return std::max(1.0, vol * m);
  }

  void apply_fraction(const std::vector<real>& dose) override {
    if ((long long)dose.size() != nvox_) throw std::invalid_argument("apply_fraction: one dose per voxel expected");
    FractionArgs a = fraction_;
    a.fields = a_.data();
    a.dose = stage(dose_, dose);
    parallel_for(sp_.exec(), a.nvox, FractionOp{a});
  }

  void read_survival(std::vector<double>& out) override {
    out.resize(survival_.size());
    if (!out.empty()) sp_.to_host(out.data(), survival_.data(), out.size() * sizeof(double));
  }
  void write_survival(const std::vector<double>& in) override {
    if (in.size() != survival_.size()) throw std::invalid_argument("write_survival: wrong size");
    if (!in.empty()) sp_.to_space(survival_.data(), in.data(), in.size() * sizeof(double));
  }
  void read_state(std::vector<real>& out) override {
    out.resize(a_.size());
    sp_.to_host(out.data(), a_.data(), a_.size() * sizeof(real));
  }
  void write_state(const std::vector<real>& in) override {
    if (in.size() != a_.size()) throw std::invalid_argument("write_state: wrong size");
    sp_.to_space(a_.data(), in.data(), in.size() * sizeof(real));
  }
  long long first_bad_value(const std::vector<real>& lower, const std::vector<real>& upper) override {
    return tme::state_check(sp_.exec(), state_check_args(a_.data(), nvox_, ns_, lower, upper), check_first_.data());
  }
  void field_sums(const std::vector<int>& species, std::vector<double>& sums) override {
    sums.assign(species.size(), 0.0);
    if (species.empty()) return;
    const long long nb = std::min<long long>(kSumBlocks, nvox_);
    if (sum_partial_.size() < size_t(nb)) zeros(sum_partial_, size_t(nb));
    sum_host_.resize(size_t(nb));
    for (size_t q = 0; q < species.size(); ++q) {
      const int s = species[q];
      if (s < 0 || s >= ns_)
        throw std::invalid_argument("field_sums: field index " + std::to_string(s) + " out of range");
      parallel_for(sp_.exec(), nb, FieldSumOp{a_.data() + size_t(s) * size_t(nvox_), nvox_, nb, sum_partial_.data()});
      sp_.to_host(sum_host_.data(), sum_partial_.data(), size_t(nb) * sizeof(double));
      double total = 0;
      for (long long t = 0; t < nb; ++t) total += sum_host_[t];
      sums[q] = total;
    }
  }
  int keep_voxels(const std::vector<long long>& voxels) override {
    if (voxels.empty()) throw std::invalid_argument("keep_voxels: empty voxel list");
    std::vector<long long> sorted = voxels;
    std::sort(sorted.begin(), sorted.end());
    for (size_t q = 0; q < sorted.size(); ++q) {
      if (sorted[q] < 0 || sorted[q] >= nvox_)
        throw std::invalid_argument("keep_voxels: voxel " + std::to_string(sorted[q]) + " outside the grid of " +
                                    std::to_string(nvox_) + " voxels");
      if (q > 0 && sorted[q] == sorted[q - 1])
        throw std::invalid_argument("keep_voxels: voxel " + std::to_string(sorted[q]) + " listed twice");
    }
    kept_.push_back(std::make_unique<Buffer<long long>>("kept_voxels"));
    sp_.allocate(*kept_.back(), voxels.size());
    sp_.to_space(kept_.back()->data(), voxels.data(), voxels.size() * sizeof(long long));
    return int(kept_.size()) - 1;
  }
  void add_at_voxels(int id, int species, double value) override {
    if (id < 0 || id >= int(kept_.size()))
      throw std::invalid_argument("add_at_voxels: no kept voxel list " + std::to_string(id));
    if (species < 0 || species >= ns_)
      throw std::invalid_argument("add_at_voxels: field index " + std::to_string(species) + " out of range");
    const Buffer<long long>& v = *kept_[size_t(id)];
    parallel_for(sp_.exec(), (long long)v.size(),
                 AddAtVoxelsOp{a_.data() + size_t(species) * size_t(nvox_), v.data(), real(value)});
  }
  void fold_fields(const std::vector<int>& species) override {
    for (int s : species) {
      Buffer<double>& sum = folded("fold_fields", s);
      parallel_for(sp_.exec(), nvox_, FoldOp{a_.data() + size_t(s) * size_t(nvox_), sum.data()});
    }
  }
  void read_folded(int species, std::vector<double>& out) override {
    if (species < 0 || species >= ns_)
      throw std::invalid_argument("read_folded: field index " + std::to_string(species) + " out of range");
    out.assign(size_t(nvox_), 0.0);
    if (size_t(species) < folded_.size() && folded_[size_t(species)])
      sp_.to_host(out.data(), folded_[size_t(species)]->data(), size_t(nvox_) * sizeof(double));
  }
  void write_folded(int species, const std::vector<double>& in) override {
    Buffer<double>& sum = folded("write_folded", species);
    if (in.size() != size_t(nvox_))
      throw std::invalid_argument("write_folded: " + std::to_string(in.size()) + " values for " +
                                  std::to_string(nvox_) + " voxels");
    sp_.to_space(sum.data(), in.data(), in.size() * sizeof(double));
  }
  void finish() override { sp_.sync(); }
  LinearSolveStats linear_solve_stats() const override { return be_stats_; }

 private:
  template <class T>
  static T* ptr_or_null(const Buffer<T>& b) {
    return b.empty() ? nullptr : const_cast<T*>(b.data());
  }
  // Host values into space buffer b (resized to fit).
  template <class T>
  void put(Buffer<T>& b, const std::vector<T>& v) {
    sp_.allocate(b, v.size());
    if (!v.empty()) sp_.to_space(b.data(), v.data(), v.size() * sizeof(T));
  }
  template <class T>
  void zeros(Buffer<T>& b, size_t n) {
    sp_.allocate(b, n);
    if (n) sp_.zero(b.data(), n * sizeof(T));
  }
  // Where the space's launches read host values `v` from: v itself when the space works in
  // host memory, else a copy in `b`.
  const real* stage(Buffer<real>& b, const std::vector<real>& v) {
    if constexpr (Space::kHostMemory) {
      return v.empty() ? nullptr : v.data();
    } else {
      put(b, v);
      return ptr_or_null(b);
    }
  }

  // ---- Coupled backward Euler (kernels/backward_euler.hpp) ----
  struct BeLevel {
    Buffer<real> self{"be_self"}, w0{"be_w_x"}, w1{"be_w_y"}, w2{"be_w_z"}, x{"be_x"}, b{"be_b"}, r{"be_r"};
    Buffer<uint8_t> act{"be_active"};
    MgLevel L;
  };

  // The level hierarchy (on first use): aggregation by 2 along every axis longer than 1 until
  // at most kBeCoarsestVoxels cells.
  void be_allocate() {
    if (!be_levels_.empty()) return;
    Dims d = geom_.d;
    for (;;) {
      auto lev = std::make_unique<BeLevel>();
      const size_t n = size_t(d.nvox());
      for (Buffer<real>* b : {&lev->self, &lev->w0, &lev->w1, &lev->w2, &lev->x, &lev->b, &lev->r}) zeros(*b, n);
      zeros(lev->act, n);
      MgLevel& L = lev->L;
      L.d = d;
      L.self = lev->self.data();
      L.w[0] = lev->w0.data();
      L.w[1] = lev->w1.data();
      L.w[2] = lev->w2.data();
      L.x = lev->x.data();
      L.b = lev->b.data();
      L.r = lev->r.data();
      L.act = lev->act.data();
      // Red-black colouring splits the level unless a periodic axis has an odd length > 1.
      L.rb = 1;
      const int len[3] = {d.nx, d.ny, d.nz};
      for (int a = 0; a < 3; ++a)
        for (const SpeciesCoeffs& sc : host_coeffs_)
          if (axis_periodic(sc, a) && len[a] > 1 && len[a] % 2) L.rb = 0;
      be_levels_.push_back(std::move(lev));
      if (d.nvox() <= kBeCoarsestVoxels || (d.nx == 1 && d.ny == 1 && d.nz == 1)) break;
      d = Dims{(d.nx + 1) / 2, (d.ny + 1) / 2, (d.nz + 1) / 2};
    }
    const size_t n = size_t(nvox_);
    for (Buffer<real>* b : {&be_delta_, &be_p_, &be_q_}) zeros(*b, n);
    zeros(be_partial_, size_t(2 * kBeDotBlocks));
    be_host_partial_.assign(2 * kBeDotBlocks, 0.0);
  }

  // x . y over the fine grid, in a fixed order (kernels/backward_euler.hpp).
  double be_dot(const real* x, const real* y) {
    const long long nb = std::min<long long>(kBeDotBlocks, nvox_);
    parallel_for(sp_.exec(), nb, BeDotOp{x, y, nvox_, nb, be_partial_.data()});
    sp_.to_host(be_host_partial_.data(), be_partial_.data(), size_t(nb) * sizeof(double));
    double s = 0;
    for (long long t = 0; t < nb; ++t) s += be_host_partial_[t];
    return s;
  }

  // max |x| over the fine grid.
  double be_max_abs(const real* x) {
    const long long nb = std::min<long long>(kBeDotBlocks, nvox_);
    parallel_for(sp_.exec(), nb, BeMaxAbsOp{x, nvox_, nb, be_partial_.data()});
    sp_.to_host(be_host_partial_.data(), be_partial_.data(), size_t(nb) * sizeof(double));
    double m = 0;
    for (long long t = 0; t < nb; ++t) m = std::max(m, be_host_partial_[t]);
    return m;
  }

  void be_smooth(const MgLevel& L, bool forward) {
    if (L.rb) {
      parallel_for(sp_.exec(), mg_half_dims(L.d), MgSmoothOp{L, forward ? 0 : 1});
      parallel_for(sp_.exec(), mg_half_dims(L.d), MgSmoothOp{L, forward ? 1 : 0});
    } else {
      parallel_for(sp_.exec(), L.d, MgResidualOp{L});
      parallel_for(sp_.exec(), L.d, MgJacobiOp{L, real(kBeJacobiWeight)});
    }
  }

  // One V-cycle on level l from x = 0: x ~ A^-1 b (a symmetric operator of b).
  void be_vcycle(size_t l) {
    const MgLevel& L = be_levels_[l]->L;
    if (l == 0) sp_.zero(L.x, size_t(L.d.nvox()) * sizeof(real));  // coarse levels: zeroed by the restriction
    if (l + 1 == be_levels_.size()) {
      for (int it = 0; it < kBeCoarseSweeps; ++it) be_smooth(L, true);
      if (L.rb)
        parallel_for(sp_.exec(), mg_half_dims(L.d), MgSmoothOp{L, 0});
      else
        be_smooth(L, true);
      return;
    }
    const MgLevel& C = be_levels_[l + 1]->L;
    be_smooth(L, true);
    parallel_for(sp_.exec(), L.d, MgResidualOp{L});
    parallel_for(sp_.exec(), C.d, MgRestrictOp{L, C});
    be_vcycle(l + 1);
    parallel_for(sp_.exec(), L.d, MgProlongOp{L, C});
    be_smooth(L, false);
  }

  // The assembly arguments of species s at step (or stage step) dt [s] (u: its state block).
  BeAssembleArgs be_args(int s, double dt) {
    const SpeciesCoeffs& hc = host_coeffs_[s];
    BeAssembleArgs a;
    a.g = geom_;
    a.dt = real(dt);
    a.u = a_.data() + s * nvox_;
    a.sc = ptr_or_null(coeffs_) + s;
    a.label = explicit_.label;
    a.src = hc.src_slot >= 0 ? explicit_.src + hc.src_slot * nvox_ : nullptr;
    a.upt = hc.upt_slot >= 0 ? explicit_.upt + hc.upt_slot * nvox_ : nullptr;
    a.hold = hc.hold_slot >= 0 ? explicit_.hold + hc.hold_slot * nvox_ : nullptr;
    if (lin_slot_[s] >= 0) {
      a.lin = lin_;
      a.lin_slot = lin_slot_[s];
      a.state = a_.data();
      a.nvox = nvox_;
    }
    return a;
  }
  static bool diffuses(const SpeciesCoeffs& hc) {
    bool d = false;
    for (int l = 0; l < (hc.uses_labels ? kMaxLabels : 1); ++l) d |= hc.D[l] > 0;
    return d;
  }
  bool be_diffuses(int s) const { return diffuses(host_coeffs_[s]); }

  // One backward Euler step of species s: preconditioned CG on A d = G(u), then u += d.
  void be_solve(int s, double dt) {
    be_allocate();
    BeAssembleArgs a = be_args(s, dt);
    if (!be_diffuses(s)) {  // a diagonal system: solved per voxel
      parallel_for(sp_.exec(), nvox_, BeDiagonalOp{a, a_.data() + s * nvox_});
      be_stats_.solves += 1;
      return;
    }
    be_linear_solve(s, a);
    parallel_for(sp_.exec(), nvox_, BeFinishOp{be_delta_.data(), a_.data() + s * nvox_});
  }

  // One TR-BDF2 step of species s (kernels/backward_euler.hpp): two solves with the matrix
  // I/(beta dt) - L + K; a result below -kTrNegativeTolerance times the largest starting value
  // is replaced by a backward Euler step from the start.
  void trbdf2_solve(int s, double dt) {
    be_allocate();
    real* u = a_.data() + s * nvox_;
    if (!be_diffuses(s)) {
      parallel_for(sp_.exec(), nvox_, BeDiagonalTrBdf2Op{be_args(s, dt), u});
      be_stats_.solves += 2;
      return;
    }
    if (be_prev_.size() != size_t(nvox_)) zeros(be_prev_, size_t(nvox_));  // on first use
    const size_t bytes = size_t(nvox_) * sizeof(real);
    sp_.copy(be_prev_.data(), u, bytes);
    BeAssembleArgs a = be_args(s, kTrBeta * dt);
    a.jacobian = 1;
    a.rhs_scale = real(2);
    be_linear_solve(s, a);
    parallel_for(sp_.exec(), nvox_, BeAddOp{be_delta_.data(), u});
    a.rhs_scale = real(1);
    a.prev = be_prev_.data();
    a.prev_coef = real(kTrPrevCoef / dt);
    be_linear_solve(s, a);
    const long long nb = std::min<long long>(kBeDotBlocks, nvox_);
    parallel_for(sp_.exec(), nb, BeTrCheckOp{u, be_delta_.data(), be_prev_.data(), nvox_, nb, be_partial_.data()});
    sp_.to_host(be_host_partial_.data(), be_partial_.data(), size_t(2 * nb) * sizeof(double));
    double lo = 0, hi = 0;
    for (long long t = 0; t < nb; ++t) {
      const double x = be_host_partial_[2 * t];
      if (!(x >= lo)) lo = x;
      hi = std::max(hi, be_host_partial_[2 * t + 1]);
    }
    if (lo >= -kTrNegativeTolerance * hi) {
      parallel_for(sp_.exec(), nvox_, BeFinishOp{be_delta_.data(), u});
      return;
    }
    sp_.copy(u, be_prev_.data(), bytes);
    be_stats_.fallbacks += 1;
    be_solve(s, dt);
  }

  // Assembles species s from a (a.L, a.delta set here), builds the coarse levels and solves
  // A d = b into be_delta_ by preconditioned CG (d = 0 when b = 0).
  void be_linear_solve(int s, BeAssembleArgs a) {
    MgLevel& F = be_levels_[0]->L;
    a.L = F;
    a.delta = be_delta_.data();
    parallel_for(sp_.exec(), geom_.d, BeAssembleOp{a});
    for (size_t l = 0; l + 1 < be_levels_.size(); ++l)
      parallel_for(sp_.exec(), be_levels_[l + 1]->L.d, MgCoarsenOp{be_levels_[l]->L, be_levels_[l + 1]->L});
    // Level 0: b is the CG residual, x the preconditioned residual z.
    real* r = F.b;
    real* z = F.x;
    real* p = be_p_.data();
    real* q = be_q_.data();
    double rr0 = be_dot(r, r);
    be_stats_.solves += 1;
    if (rr0 != rr0)
      throw std::runtime_error("be: the right-hand side of species " + std::to_string(s) + " is not finite");
    // A right-hand side at the underflow level (or whose squares leave double's range) is
    // scaled to unit size first (be_rhs_exponent), from its largest value.
    int e = 0;
    const double lo = std::sqrt(double(std::numeric_limits<real>::min())), n = double(nvox_);
    if (!(rr0 >= lo * lo * n && rr0 <= n / (lo * lo))) {
      const double m = be_max_abs(r);
      if (!(m < HUGE_VAL))
        throw std::runtime_error("be: the right-hand side of species " + std::to_string(s) + " is not finite");
      if (m == 0) return;  // a steady state: the increment is 0
      e = be_rhs_exponent(m);
      if (e) {
        parallel_for(sp_.exec(), nvox_, BeScaleOp{real(std::ldexp(1.0, e)), r});
        rr0 = be_dot(r, r);
      }
    }
    const double stop = kBeTolerance * kBeTolerance * rr0;
    be_vcycle(0);
    sp_.copy(p, z, size_t(nvox_) * sizeof(real));
    double rz = be_dot(r, z);
    for (int it = 1;; ++it) {
      parallel_for(sp_.exec(), F.d, MgApplyOp{F, p, q});
      const double pq = be_dot(p, q);
      if (!(pq > 0) || !(rz > 0))
        throw std::runtime_error("be: the linear solve of species " + std::to_string(s) +
                                 " broke down (operator or preconditioner not positive definite)");
      parallel_for(sp_.exec(), nvox_, BeUpdateOp{real(rz / pq), p, q, be_delta_.data(), r});
      const double rr = be_dot(r, r);
      be_stats_.iterations += 1;
      if (rr <= stop) break;
      if (it >= kBeMaxIterations)
        throw std::runtime_error("be: the linear solve of species " + std::to_string(s) + " did not reach " +
                                 "the relative residual " + std::to_string(kBeTolerance) + " in " +
                                 std::to_string(kBeMaxIterations) + " iterations (reached " +
                                 std::to_string(std::sqrt(rr / rr0)) + ")");
      be_vcycle(0);
      const double rz_next = be_dot(r, z);
      parallel_for(sp_.exec(), nvox_, BeDirectionOp{real(rz_next / rz), z, p});
      rz = rz_next;
    }
    if (e) parallel_for(sp_.exec(), nvox_, BeScaleOp{real(std::ldexp(1.0, -e)), be_delta_.data()});
  }

  Space sp_;  // first: destroyed last
  GridGeom geom_;
  int ns_ = 0;
  long long nvox_ = 0;
  std::vector<SpeciesCoeffs> host_coeffs_;          // host copy (factor tables, feature flags)
  Buffer<SpeciesCoeffs> coeffs_{"species_coeffs"};  // nspecies entries
  Buffer<uint8_t> labels_{"tissue_labels"};         // 1 byte per voxel, or empty
  Buffer<real> src_{"source_blocks"};               // source Vmax blocks [unit/s]
  Buffer<real> upt_{"uptake_blocks"};               // uptake Vmax blocks [unit/s]
  Buffer<real> hold_{"held_values"};                // held-value blocks [unit] (NaN = free)
  Buffer<real> a_{"state"}, b_{"state_spare"};      // state ping-pong, nspecies * nvox each
  Buffer<real> cp_{"implicit_rows"};                // implicit per-line scratch, nspecies * nvox
  Buffer<real> ep_{"implicit_rows_periodic"};       // same, for periodic axes
  std::vector<real> host_fac_[3];                   // implicit factor tables per axis, built on the host
  Buffer<real> fac_[3] = {Buffer<real>("implicit_factors_x"), Buffer<real>("implicit_factors_y"),
                          Buffer<real>("implicit_factors_z")};  // their copies in the space
  const real* fac_ptr_[3] = {nullptr, nullptr, nullptr};        // where the sweeps read them
  Scheme fac_scheme_ = Scheme::kLodEuler;                       // scheme and step [s] the tables were built for
  double fac_dt_ = NAN;
  Buffer<Term> terms_{"reaction_terms"};   // term table in local slots (without those in the solve)
  Buffer<Term> lin_terms_{"solve_terms"};  // the model terms in the linear solves (terms_in_solve)
  ReactionArgs lin_;                       // their arguments (local slots as the reaction pass)
  std::vector<int> lin_slot_;              // per species: its local slot when terms are in its solve, else -1
  int nglobals_ = 0;
  Buffer<real> vel_{"chemotaxis_face_drift"};                    // 3 * nvox (12 bytes per voxel)
  Buffer<double> chemo_partial_{"pressure_max_partials"};        // kBeDotBlocks block maxima (own_phi_bound)
  Buffer<real> dose_{"fraction_dose"};                           // [Gy], nvox (device spaces only)
  Buffer<unsigned long long> check_first_{"state_check_first"};  // state check scratch, 1 word

  // Kernel arguments built at load (state pointers and step set per call).
  ExplicitArgs explicit_;
  SweepArgs sweep_;
  ReactionArgs reaction_;
  std::vector<ChemotaxisArgs> chemo_;  // one pass per moving population
  FractionArgs fraction_;

  // Coupled backward Euler scratch (be_allocate; released by load).
  std::vector<std::unique_ptr<BeLevel>> be_levels_;  // multigrid levels, fine first
  Buffer<real> be_delta_{"be_increment"}, be_p_{"be_direction"}, be_q_{"be_operator_direction"};
  Buffer<real> be_prev_{"trbdf2_step_start"};     // trbdf2: the species' state at the step's start
  Buffer<double> be_partial_{"be_dot_partials"};  // 2 kBeDotBlocks partial sums (dot products, TR-BDF2 check)
  std::vector<double> be_host_partial_;
  Buffer<double> survival_{"lq_survival"};            // npop * nvox survival products (FractionArgs::survival)
  Buffer<double> sum_partial_{"field_sum_partials"};  // kSumBlocks partial sums (field_sums)
  std::vector<double> sum_host_;
  // The running sum of field s (fold_fields), zeros when first asked for; `what` names the caller.
  Buffer<double>& folded(const char* what, int s) {
    if (s < 0 || s >= ns_)
      throw std::invalid_argument(std::string(what) + ": field index " + std::to_string(s) + " out of range");
    if (folded_.size() < size_t(ns_)) folded_.resize(size_t(ns_));
    auto& b = folded_[size_t(s)];
    if (!b) {
      b = std::make_unique<Buffer<double>>("folded_sums");
      zeros(*b, size_t(nvox_));
    }
    return *b;
  }
  std::vector<std::unique_ptr<Buffer<double>>>
      folded_;  // per field: its running sum (fold_fields), until the next load
  std::vector<std::unique_ptr<Buffer<long long>>> kept_;  // voxel lists of keep_voxels, until the next load
  LinearSolveStats be_stats_;                             // since load
};

}  // namespace tme
