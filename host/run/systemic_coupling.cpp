// The systemic compartments coupled to the lesions of a run (see systemic_coupling.hpp).
#include "host/run/systemic_coupling.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "host/core/backend.hpp"
#include "host/core/node_source.hpp"
#include "host/io/number_text.hpp"

namespace tme {

SystemicCoupling::SystemicCoupling(systemic::SystemicModel model, systemic::Coupling coupling,
                                   const Model& lesion_model, double t_s, std::vector<std::string> lesion_names)
    : model_(std::move(model)),
      coupling_(std::move(coupling)),
      nglobals_((int)lesion_model.globals.size()),
      lesion_names_(std::move(lesion_names)) {
  systemic::check(model_);
  const systemic::Coupling& c = coupling_;
  auto systemic_input = [&](int g, const char* what) {
    if (g < 0 || g >= nglobals_ || lesion_model.globals[(size_t)g].kind != GlobalInput::Kind::kSystemic)
      throw std::invalid_argument(std::string("SystemicCoupling: the ") + what +
                                  " input is not a systemic input of the model");
  };
  systemic_input(c.effector_input, "effector");
  systemic_input(c.treg_input, "Treg");
  if (c.effector_tally_field < 0 || c.treg_tally_field < 0 || c.antigen_field < 0)
    throw std::invalid_argument("SystemicCoupling: the antigen field or the influx tallies are not set");
  if (c.antiCTLA4_drug >= 0) antiCTLA4_ = lesion_model.drugs.at((size_t)c.antiCTLA4_drug);
  state_ = systemic::initial_state(model_, coupling_, t_s);
  const size_t nl = (size_t)model_.nlesions;
  entered_E_.assign(nl, 0);
  entered_R_.assign(nl, 0);
  last_J_.assign(nl, 0);
  last_rate_E_.assign(nl, 0);
  last_rate_R_.assign(nl, 0);
  if (lesion_names_.size() != nl) {
    lesion_names_.clear();
    for (size_t l = 0; l < nl; ++l) lesion_names_.push_back("lesion" + std::to_string(l + 1));
  }
  for (const RadiationPlan& pl : lesion_model.plans) plan_names_.push_back(pl.name);
  if (coupling_.node_dose_per_Gy.size() != model_.nodes.size())
    throw std::invalid_argument("SystemicCoupling: node doses for " +
                                std::to_string(coupling_.node_dose_per_Gy.size()) + " nodes, expected " +
                                std::to_string(model_.nodes.size()));
  for (const std::vector<double>& d : coupling_.node_dose_per_Gy)
    if (d.size() != plan_names_.size())
      throw std::invalid_argument("SystemicCoupling: node doses for " + std::to_string(d.size()) + " plans, expected " +
                                  std::to_string(plan_names_.size()));
  released_.assign(nl, 0);
}

void SystemicCoupling::place_nodes(const std::vector<GridSpec>& grids) {
  if ((int)grids.size() != model_.nlesions)
    throw std::invalid_argument("SystemicCoupling: " + std::to_string(grids.size()) + " lesion grids, expected " +
                                std::to_string(model_.nlesions));
  sites_.clear();
  if (!(model_.local_egress > 0)) return;
  for (size_t n = 0; n < model_.nodes.size(); ++n) {
    const systemic::Node& node = model_.nodes[n];
    if (node.local_lesion < 0) continue;
    if (coupling_.effector_field < 0)
      throw std::invalid_argument("SystemicCoupling: lymph node '" + node.name +
                                  "' releases effectors into a lesion, but no population is set to receive them");
    Site s;
    s.node = (int)n;
    s.lesion = node.local_lesion;
    const GridSpec& g = grids[(size_t)s.lesion];
    s.voxels = node_voxels(g, node.position_um, node.radius_um);
    if (s.voxels.empty())
      throw std::invalid_argument("SystemicCoupling: lymph node '" + node.name + "' is not inside lesion " +
                                  std::to_string(s.lesion) + "'s grid");
    s.volume_mm3 = (double)s.voxels.size() * g.h[0] * g.h[1] * g.h[2] * 1e-9;
    sites_.push_back(std::move(s));
  }
}

void SystemicCoupling::attach(const std::vector<Backend*>& lesions) {
  if ((int)lesions.size() != model_.nlesions)
    throw std::invalid_argument("SystemicCoupling: " + std::to_string(lesions.size()) + " lesion backends, expected " +
                                std::to_string(model_.nlesions));
  backends_ = lesions;
  for (Site& s : sites_) s.kept = backends_[(size_t)s.lesion]->keep_voxels(s.voxels);
}

std::vector<int> SystemicCoupling::reduced_fields() const {
  return {coupling_.antigen_field, coupling_.effector_tally_field, coupling_.treg_tally_field};
}

std::vector<int> SystemicCoupling::folded_fields() const {
  return {coupling_.effector_tally_field, coupling_.treg_tally_field};
}

double SystemicCoupling::plasma_antiCTLA4(double t0, double t1) const {
  if (coupling_.antiCTLA4_drug < 0) return 0;
  return t1 > t0 ? pk::plasma_mean_nM(antiCTLA4_.pk, antiCTLA4_.doses, t0, t1)
                 : pk::plasma_nM(antiCTLA4_.pk, antiCTLA4_.doses, t0);
}

systemic::StepInputs SystemicCoupling::held_inputs(double span) const {
  systemic::StepInputs in;
  in.antigen_drained_nmol_per_s = last_J_;
  in.effector_influx_cells.resize(last_rate_E_.size());
  in.treg_influx_cells.resize(last_rate_R_.size());
  for (size_t l = 0; l < last_rate_E_.size(); ++l) {
    in.effector_influx_cells[l] = last_rate_E_[l] * span;
    in.treg_influx_cells[l] = last_rate_R_[l] * span;
  }
  return in;
}

void SystemicCoupling::input_means(int lesion, double a, double b, std::vector<double>& globals) {
  if (lesion < 0 || lesion >= model_.nlesions)
    throw std::invalid_argument("SystemicCoupling: lesion " + std::to_string(lesion) + " of " +
                                std::to_string(model_.nlesions));
  if ((int)globals.size() != nglobals_)
    throw std::invalid_argument("SystemicCoupling: " + std::to_string(globals.size()) + " globals, expected " +
                                std::to_string(nglobals_));
  if (a < state_.t_s)
    throw std::logic_error("SystemicCoupling: an interval starting at " + std::to_string(a) +
                           " s, before the compartments' time " + std::to_string(state_.t_s) + " s");
  if (!(cache_valid_ && cache_state_t_ == state_.t_s && cache_a_ == a && cache_b_ == b)) {
    // A copy of the state carried to a, then over [a, b], with the last step's inputs held.
    systemic::SystemicState s = state_;
    if (a > s.t_s) {
      systemic::StepInputs in = held_inputs(a - s.t_s);
      in.antiCTLA4_plasma_nM = plasma_antiCTLA4(s.t_s, a);
      systemic::advance(model_, s, s.t_s, a, in);
    }
    if (b > a) {
      systemic::StepInputs in = held_inputs(b - a);
      in.antiCTLA4_plasma_nM = plasma_antiCTLA4(a, b);
      const systemic::StepOutputs o = systemic::advance(model_, s, a, b, in);
      cache_E_ = o.effector_blood_mean_per_mL;
      cache_R_ = o.treg_blood_mean_per_mL;
    } else {
      cache_E_ = s.effector_blood / model_.blood_volume_mL;
      cache_R_ = s.treg_blood / model_.blood_volume_mL;
    }
    cache_valid_ = true;
    cache_state_t_ = state_.t_s;
    cache_a_ = a;
    cache_b_ = b;
  }
  // A pool driven below zero (influx beyond what blood holds) supplies nothing.
  globals[(size_t)coupling_.effector_input] = std::max(0.0, cache_E_) * coupling_.effector_input_per_cells_per_mL;
  globals[(size_t)coupling_.treg_input] = std::max(0.0, cache_R_) * coupling_.treg_input_per_cells_per_mL;
}

void SystemicCoupling::after_step(double t0, double t1, const std::vector<std::vector<double>>& totals) {
  const size_t nl = (size_t)model_.nlesions;
  if (totals.size() != nl)
    throw std::invalid_argument("SystemicCoupling: totals of " + std::to_string(totals.size()) + " lesions, expected " +
                                std::to_string(nl));
  systemic::StepInputs in;
  in.antigen_drained_nmol_per_s.resize(nl);
  in.effector_influx_cells.resize(nl);
  in.treg_influx_cells.resize(nl);
  // Attached, the tallies were emptied after the last step: their totals are this step's.
  const bool folding = !backends_.empty();
  for (size_t l = 0; l < nl; ++l) {
    const std::vector<double>& tot = totals[l];
    if (tot.size() != 3) throw std::invalid_argument("SystemicCoupling: 3 totals per lesion expected");
    // [unit x mm^3] -> [unit x um^3]
    in.antigen_drained_nmol_per_s[l] = systemic::antigen_drained_nmol_per_s(coupling_, std::max(0.0, tot[0]) * 1e9);
    const double dE = folding ? tot[1] : tot[1] - entered_E_[l], dR = folding ? tot[2] : tot[2] - entered_R_[l];
    if (!(dE >= 0 && dR >= 0))
      throw std::logic_error("SystemicCoupling: the cells entered into lesion " + std::to_string(l) +
                             " over a step are negative (effectors " + std::to_string(dE) + ", Treg " +
                             std::to_string(dR) + ")");
    in.effector_influx_cells[l] = dE;
    in.treg_influx_cells[l] = dR;
  }
  in.antiCTLA4_plasma_nM = plasma_antiCTLA4(t0, t1);
  const systemic::StepOutputs out = systemic::advance(model_, state_, t0, t1, in);
  // Nodes inside lesions release their local share into their voxels (in the state from the
  // next step on; the totals above are from before it).
  for (const Site& s : sites_) {
    const double r = out.local_release_cells[(size_t)s.node];
    if (!(r > 0)) continue;
    if (s.kept < 0)
      throw std::logic_error("SystemicCoupling: lymph node '" + model_.nodes[(size_t)s.node].name +
                             "' releases into lesion " + std::to_string(s.lesion) +
                             ", but the lesions' backends are not attached");
    backends_[(size_t)s.lesion]->add_at_voxels(s.kept, coupling_.effector_field, r / s.volume_mm3);
    released_[(size_t)s.lesion] += r;
  }
  const double dt = t1 - t0;
  for (size_t l = 0; l < nl; ++l) {
    entered_E_[l] = folding ? entered_E_[l] + in.effector_influx_cells[l] : totals[l][1];
    entered_R_[l] = folding ? entered_R_[l] + in.treg_influx_cells[l] : totals[l][2];
    if (folding) backends_[l]->fold_fields(folded_fields());
    last_J_[l] = in.antigen_drained_nmol_per_s[l];
    last_rate_E_[l] = in.effector_influx_cells[l] / dt;
    last_rate_R_[l] = in.treg_influx_cells[l] / dt;
  }
  cache_valid_ = false;
}

std::vector<double> SystemicCoupling::saved_state() const {
  const systemic::SystemicState& st = state_;
  std::vector<double> v{st.t_s, (double)st.nodes.size()};
  for (const systemic::NodeState& n : st.nodes) {
    v.insert(v.end(), {n.antigen_nmol, n.presented_nmol, n.naive, n.homing, (double)n.chain.size()});
    v.insert(v.end(), n.chain.begin(), n.chain.end());
  }
  const systemic::Tallies& t = st.tally;
  v.insert(v.end(), {st.effector_blood, st.treg_blood, t.naive_supply, t.expansion, t.naive_return, t.effector_death,
                     t.radiation_naive, t.radiation_chain, t.effector_to_lesions, t.primed, t.egress, t.treg_supply,
                     t.treg_death, t.treg_depleted, t.treg_to_lesions, t.effector_local});
  for (const std::vector<double>* per_lesion :
       {&entered_E_, &entered_R_, &last_J_, &last_rate_E_, &last_rate_R_, &released_})
    v.insert(v.end(), per_lesion->begin(), per_lesion->end());
  v.push_back((double)rows_.size());
  for (const std::vector<double>& r : rows_) v.insert(v.end(), r.begin(), r.end());
  v.push_back((double)node_doses_.size());
  for (const NodeDose& d : node_doses_)
    v.insert(v.end(), {d.time_s, (double)d.plan, d.prescribed_Gy, (double)d.node, d.dose_Gy, d.survival});
  return v;
}

void SystemicCoupling::restore_state(const std::vector<double>& v) {
  size_t i = 0;
  auto next = [&]() {
    if (i >= v.size()) throw std::invalid_argument("SystemicCoupling: a saved state too short for this model");
    return v[i++];
  };
  systemic::SystemicState st = state_;
  st.t_s = next();
  if (next() != (double)st.nodes.size())
    throw std::invalid_argument("SystemicCoupling: a saved state of another number of lymph nodes");
  for (systemic::NodeState& n : st.nodes) {
    n.antigen_nmol = next();
    n.presented_nmol = next();
    n.naive = next();
    n.homing = next();
    if (next() != (double)n.chain.size())
      throw std::invalid_argument("SystemicCoupling: a saved state of another number of chain stages");
    for (double& c : n.chain) c = next();
  }
  systemic::Tallies& t = st.tally;
  for (double* x : {&st.effector_blood, &st.treg_blood, &t.naive_supply, &t.expansion, &t.naive_return,
                    &t.effector_death, &t.radiation_naive, &t.radiation_chain, &t.effector_to_lesions, &t.primed,
                    &t.egress, &t.treg_supply, &t.treg_death, &t.treg_depleted, &t.treg_to_lesions, &t.effector_local})
    *x = next();
  std::vector<std::vector<double>> per(6, std::vector<double>((size_t)model_.nlesions));
  for (std::vector<double>& p : per)
    for (double& x : p) x = next();
  const double nrows = next();
  if (!(nrows >= 0 && nrows <= (double)v.size())) throw std::invalid_argument("SystemicCoupling: a bad row count");
  std::vector<std::vector<double>> rows((size_t)nrows, std::vector<double>(row_width()));
  for (std::vector<double>& r : rows)
    for (double& x : r) x = next();
  const double ndoses = next();
  if (!(ndoses >= 0 && ndoses <= (double)v.size())) throw std::invalid_argument("SystemicCoupling: a bad dose count");
  std::vector<NodeDose> doses((size_t)ndoses);
  for (NodeDose& d : doses) {
    d.time_s = next();
    d.plan = (int)next();
    d.prescribed_Gy = next();
    d.node = (int)next();
    d.dose_Gy = next();
    d.survival = next();
  }
  if (i != v.size()) throw std::invalid_argument("SystemicCoupling: a saved state too long for this model");
  state_ = std::move(st);
  entered_E_ = std::move(per[0]);
  entered_R_ = std::move(per[1]);
  last_J_ = std::move(per[2]);
  last_rate_E_ = std::move(per[3]);
  last_rate_R_ = std::move(per[4]);
  rows_ = std::move(rows);
  node_doses_ = std::move(doses);
  released_ = std::move(per[5]);
  cache_valid_ = false;
}

void SystemicCoupling::fraction(const FractionEvent& f) {
  if (f.plan < 0 || f.plan >= (int)plan_names_.size())
    throw std::invalid_argument("SystemicCoupling: a fraction of plan " + std::to_string(f.plan));
  for (size_t n = 0; n < model_.nodes.size(); ++n) {
    NodeDose d;
    d.time_s = f.time_s;
    d.plan = f.plan;
    d.prescribed_Gy = f.dose_Gy;
    d.node = (int)n;
    d.dose_Gy = coupling_.node_dose_per_Gy[n][(size_t)f.plan] * f.dose_Gy;
    d.survival = systemic::irradiate_node(model_, state_, (int)n, d.dose_Gy);
    node_doses_.push_back(d);
  }
  cache_valid_ = false;
}

size_t SystemicCoupling::row_width() const {
  return 2 + 5 * model_.nodes.size() + 4 + 13 + 3 * (size_t)model_.nlesions;
}

void SystemicCoupling::record_output(double t) {
  const systemic::SystemicState& s = state_;
  const double v = model_.blood_volume_mL;
  std::vector<double> r{t, t / 86400.0};
  for (const systemic::NodeState& n : s.nodes) {
    double chain = 0;
    for (double c : n.chain) chain += c;
    r.insert(r.end(), {n.antigen_nmol, n.presented_nmol, n.naive, chain, n.homing});
  }
  const systemic::Tallies& k = s.tally;
  r.insert(r.end(),
           {s.effector_blood, s.effector_blood / v, s.treg_blood, s.treg_blood / v, k.naive_supply, k.expansion,
            k.naive_return, k.effector_death, k.radiation_naive, k.radiation_chain, k.effector_to_lesions, k.primed,
            k.egress, k.treg_supply, k.treg_death, k.treg_depleted, k.treg_to_lesions});
  for (size_t l = 0; l < (size_t)model_.nlesions; ++l) r.insert(r.end(), {last_J_[l], entered_E_[l], entered_R_[l]});
  rows_.push_back(std::move(r));
}

std::string SystemicCoupling::systemic_csv() const {
  std::string h = "time_s,time_d";
  for (const systemic::Node& n : model_.nodes)
    for (const char* c : {"antigen [nmol]", "presented [nmol]", "naive [cells]", "chain [cells]", "homing [1]"})
      h += ",node." + n.name + "." + c;
  for (const char* c : {"blood.effectors [cells]", "blood.effectors [cells/mL]", "blood.treg [cells]",
                        "blood.treg [cells/mL]", "total.naive_supply [cells]", "total.expansion [cells]",
                        "total.naive_return [cells]", "total.effector_death [cells]", "total.radiation_naive [cells]",
                        "total.radiation_chain [cells]", "total.effectors_to_lesions [cells]", "total.primed [cells]",
                        "total.egress [cells]", "total.treg_supply [cells]", "total.treg_death [cells]",
                        "total.treg_depleted [cells]", "total.treg_to_lesions [cells]"})
    h += std::string(",") + c;
  for (const std::string& l : lesion_names_)
    for (const char* c : {"antigen_drained [nmol/s]", "effectors_entered [cells]", "treg_entered [cells]"})
      h += ",lesion." + l + "." + c;
  std::string s = h + "\n";
  for (const std::vector<double>& r : rows_) {
    for (size_t i = 0; i < r.size(); ++i) s += (i ? "," : "") + real_text(r[i]);
    s += "\n";
  }
  return s;
}

std::string SystemicCoupling::node_doses_csv() const {
  std::string s = "time_s,time_h,plan,plan_name,prescribed_Gy,node,dose_Gy,survival\n";
  for (const NodeDose& d : node_doses_)
    s += real_text(d.time_s) + "," + real_text(d.time_s / 3600) + "," + std::to_string(d.plan) + "," +
         plan_names_[(size_t)d.plan] + "," + real_text(d.prescribed_Gy) + "," + model_.nodes[(size_t)d.node].name +
         "," + real_text(d.dose_Gy) + "," + real_text(d.survival) + "\n";
  return s;
}

std::vector<std::pair<std::string, std::string>> SystemicCoupling::files() const {
  std::vector<std::pair<std::string, std::string>> f{{"systemic.csv", systemic_csv()}};
  if (!plan_names_.empty()) f.emplace_back("node_doses.csv", node_doses_csv());
  return f;
}

std::unique_ptr<SystemicCoupling> make_systemic_coupling(const LoadedPatient& patient) {
  const std::optional<LoadedSystemic>& s = patient.systemic();
  if (!s) return nullptr;
  std::vector<std::string> names;
  if (!patient.single()) names = patient.lesion_names;
  auto c = std::make_unique<SystemicCoupling>(s->model, s->coupling, patient.lesions.at(0).problem.model, 0.0, names);
  std::vector<GridSpec> grids;
  for (const LoadedScene& l : patient.lesions) grids.push_back(l.problem.grid);
  c->place_nodes(grids);
  return c;
}

}  // namespace tme
