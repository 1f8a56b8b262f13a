// tmesim sensitivity SCENE: samples the declared ranges of model parameters (Latin hypercube
// designs, host/core/sensitivity.hpp), runs the scene once per sample (in J worker processes),
// and writes the samples, the Sobol or Morris indices, provenance and a bar chart
// (viz/sensitivity.py). docs/sensitivity.md describes it.
#include "host/cli/sensitivity.hpp"

#include <omp.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <ostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "host/cli/commands.hpp"
#include "host/cli/output_dir.hpp"
#include "host/core/backend.hpp"
#include "host/core/observables.hpp"
#include "host/core/sensitivity.hpp"
#include "host/core/simulation.hpp"
#include "host/core/version.hpp"
#include "host/io/run_dir.hpp"
#include "host/run/run.hpp"
#include "host/scene/scene.hpp"
#include "host/scene/units.hpp"

namespace fs = std::filesystem;

namespace tme {

namespace {

const char* kOutcomeExpected =
    "FIELD.SCOPE.STAT[@TIME] or auc(FIELD.SCOPE.STAT)[@TIME], STAT one of total, mean, min, max, e.g. "
    "'T.tumour.total@21 d' or 'auc(T.grid.total)@21 d'";

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

// A parameter being sampled.
struct Sampled {
  std::string name, unit;  // unit "1" for a number without unit
  double low = 0, high = 0, value = 0;
  std::string source;
};

// One run of the scene with the parameters at x: the outcome. Throws on failure.
double evaluate(const SensitivityOptions& o, const std::vector<std::string>& base_set, const std::string& until,
                const std::vector<Sampled>& params, const Outcome& oc, const ResolvedOutcome& r,
                const std::vector<double>& x) {
  SceneOverrides ov{base_set, until};
  for (size_t k = 0; k < params.size(); ++k) ov.set.push_back(parameter_setting(params[k].name, x[k], params[k].unit));
  const LoadedScene ls = load_scene(o.scene, Machine{}, ov);
  const Problem& p = ls.problem;
  auto b = make_backend(o.backend);
  b->load(p);
  Simulation sim(p, *b);
  std::vector<real> state;
  double prev_t = 0, prev_v = 0, auc = 0, last = 0;
  bool first = true;
  for (double t : sim.output_times()) {
    sim.advance_to(t);
    sim.check_state();
    b->read_state(state);
    const auto stats = compute_observables(p, state);
    const double v = r.value(stats);
    if (!first) auc += 0.5 * (v + prev_v) * (t - prev_t) / 86400.0;  // [unit d]
    first = false;
    prev_t = t;
    prev_v = v;
    last = v;
  }
  return oc.auc ? auc : last;
}

}  // namespace

// The shortest text that reads back to the same double.
std::string exact(double x) {
  char buf[40];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string parameter_setting(const std::string& name, double value, const std::string& unit) {
  return "parameters." + name + "=" + exact(value) + (unit == "1" ? "" : " " + unit);
}

double ResolvedOutcome::value(const std::vector<std::vector<Stats>>& stats) const {
  const Stats& s = stats[field][scope];
  return (stat == "total" ? s.total : stat == "mean" ? s.mean : stat == "min" ? s.min : s.max) * factor;
}

ResolvedOutcome resolve_outcome(const Problem& p, const Outcome& oc, const std::string& text,
                                const std::string& well_mixed_hint) {
  ResolvedOutcome r;
  r.stat = oc.stat;
  int scope = 0;
  for (int s = 0; s < p.nspecies(); ++s)
    if (p.species[s].name == oc.field) r.field = s;
  std::vector<std::string> scopes{"grid"};
  for (const NamedMask& m : p.regions) scopes.push_back(m.name);
  for (size_t k = 0; k < scopes.size(); ++k)
    if (scopes[k] == oc.scope) scope = (int)k + 1;
  if (r.field < 0 || scope == 0) {
    std::string fields, sc;
    for (const SpeciesInfo& s : p.species) fields += (fields.empty() ? "" : ", ") + s.name;
    for (const std::string& s : scopes) sc += (sc.empty() ? "" : ", ") + s;
    throw std::invalid_argument(
        "'" + text + "': " +
        (r.field < 0 ? "no field '" + oc.field + "' (expected one of " + fields + ")"
                     : "no scope '" + oc.scope + "' (expected grid or an observed region: " + sc + ")"));
  }
  r.scope = scope - 1;
  if (p.grid.nvox() == 1 && r.scope > 0 && p.regions[r.scope - 1].mask[0] == 0)
    throw std::invalid_argument("'" + text + "': region '" + oc.scope +
                                "' covers at most half of the well-mixed part, so the voxel is outside it and its "
                                "totals are 0 (expected " +
                                well_mixed_hint + " " + oc.scope + ", or the scope grid)");
  r.t_s = p.time.t_end;
  const std::vector<TotalUnit> totals = total_units(p);
  r.unit = oc.stat == "total" ? totals[r.field].name : p.species[r.field].unit;
  r.factor = oc.stat == "total" ? totals[r.field].factor : 1;
  r.column = oc.field + "." + oc.scope + "." + oc.stat + " [" + r.unit + "]";
  char tbuf[64];
  std::snprintf(tbuf, sizeof tbuf, "%g d", r.t_s / 86400.0);
  r.out_unit = oc.auc ? r.unit + " d" : r.unit;
  const std::string col = oc.field + "." + oc.scope + "." + oc.stat;
  r.name = (oc.auc ? "auc(" + col + ") from 0 to " + tbuf : col + " at " + tbuf) + " [" + r.out_unit + "]";
  return r;
}

Outcome parse_outcome(const std::string& text_in) {
  const std::string text = trim(text_in);
  Outcome oc;
  std::string col = text;
  const size_t at = text.find('@');
  if (at != std::string::npos) {
    col = trim(text.substr(0, at));
    oc.time_text = trim(text.substr(at + 1));
    if (oc.time_text.empty())
      throw std::invalid_argument("'" + text + "': no time after '@' (expected " + kOutcomeExpected + ")");
  }
  if (col.size() > 5 && col.compare(0, 4, "auc(") == 0 && col.back() == ')') {
    oc.auc = true;
    col = trim(col.substr(4, col.size() - 5));
  }
  const size_t unit = col.find(" [");  // an observables.csv header's unit, ignored
  if (unit != std::string::npos && col.back() == ']') col = trim(col.substr(0, unit));
  std::vector<std::string> parts;
  std::stringstream ss(col);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty())
    throw std::invalid_argument("'" + text + "' is not a column FIELD.SCOPE.STAT (expected " + kOutcomeExpected + ")");
  oc.field = parts[0];
  oc.scope = parts[1];
  oc.stat = parts[2];
  if (oc.stat != "total" && oc.stat != "mean" && oc.stat != "min" && oc.stat != "max")
    throw std::invalid_argument("'" + text + "': unknown statistic '" + oc.stat + "' (expected " + kOutcomeExpected +
                                ")");
  return oc;
}

int cmd_sensitivity(const SensitivityOptions& o, std::ostream& out, std::ostream& err) {
  const std::string started = utc_now();
  const auto wall0 = std::chrono::steady_clock::now();
  const std::string me = "tmesim sensitivity: ";
  Outcome oc;
  try {
    oc = parse_outcome(o.outcome);
  } catch (const std::invalid_argument& e) {
    err << me << "--outcome " << e.what() << "\n";
    return 2;
  }
  if (o.method != "sobol" && o.method != "morris") {
    err << me << "--method '" << o.method << "' (expected sobol or morris)\n";
    return 2;
  }
  const int min_samples = o.method == "sobol" ? 2 : 1;
  if (o.samples < min_samples) {
    err << me << "--samples " << o.samples << " (expected at least " << min_samples << ")\n";
    return 2;
  }
  if (o.jobs < 1) {
    err << me << "--jobs " << o.jobs << " (expected at least 1)\n";
    return 2;
  }

  // The scene as every run sees it, but for the sampled parameters.
  std::vector<std::string> base_set = o.set;
  if (o.well_mixed) base_set.push_back("well_mixed=" + (o.well_mixed_over.empty() ? "grid" : o.well_mixed_over));
  const std::string until = oc.time_text;
  LoadedScene ls;
  try {
    ls = load_scene(o.scene, Machine{}, SceneOverrides{base_set, until});
  } catch (const SceneError& e) {
    err << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "\n";
    return 1;
  }
  for (const std::string& w : ls.warnings) err << "warning: " << w << "\n";
  const Problem& p = ls.problem;

  // The parameters: those named, or every one with a range.
  std::vector<Sampled> params;
  std::vector<std::string> ranged;
  for (const SceneParameter& sp : ls.parameters)
    if (sp.ranged) ranged.push_back(sp.name);
  auto find = [&](const std::string& n) -> const SceneParameter* {
    for (const SceneParameter& sp : ls.parameters)
      if (sp.name == n) return &sp;
    return nullptr;
  };
  const std::string ranged_list = ranged.empty() ? "none has one" : "one of " + [&] {
    std::string s;
    for (const std::string& n : ranged) s += (s.empty() ? "" : ", ") + n;
    return s;
  }();
  for (const std::string& n : o.params.empty() ? ranged : o.params) {
    const SceneParameter* sp = find(n);
    if (!sp || !sp->ranged) {
      err << me << "--params: " << (sp ? "'" + n + "' has no range" : "'" + n + "' is not a parameter of the model")
          << " (expected a parameter declared with range: [low, high]: " << ranged_list << ")\n";
      return 2;
    }
    if (!(sp->high > sp->low)) {
      err << me << "--params: the range of '" << n << "' is a single value (expected low < high)\n";
      return 2;
    }
    for (const Sampled& s : params)
      if (s.name == n) {
        err << me << "--params: '" << n << "' is named twice\n";
        return 2;
      }
    params.push_back({sp->name, sp->unit, sp->low, sp->high, sp->number, sp->source});
  }
  if (params.empty()) {
    err << me << "the scene's model declares no parameter with a range (range: [low, high]) to sample\n";
    return 2;
  }
  const int d = (int)params.size();

  // The outcome against this scene.
  ResolvedOutcome r;
  try {
    r = resolve_outcome(p, oc, o.outcome, "--well-mixed-over");
  } catch (const std::invalid_argument& e) {
    err << me << "--outcome " << e.what() << "\n";
    return 2;
  }

  // The design.
  const unsigned long long seed = o.seed >= 0 ? (unsigned long long)o.seed : p.seed;
  std::mt19937_64 rng(seed);
  std::vector<gsa::Point> points;
  gsa::SobolDesign sobol;
  gsa::MorrisDesign morris;
  if (o.method == "sobol") {
    sobol = gsa::sobol_design(o.samples, d, rng);
    points = sobol.points();
  } else {
    try {
      morris = gsa::morris_design(o.samples, d, o.levels, rng);
    } catch (const std::invalid_argument& e) {
      err << me << "--levels " << o.levels << " (expected an even number >= 2)\n";
      return 2;
    }
    points = morris.points;
  }
  std::vector<double> lows, highs;
  for (const Sampled& s : params) lows.push_back(s.low), highs.push_back(s.high);
  std::vector<std::vector<double>> xs;
  for (const gsa::Point& u : points) xs.push_back(gsa::map_to_box(u, lows, highs));
  const int npts = (int)xs.size();

  const fs::path dir = o.out.empty() ? fs::path("sensitivity") / p.name : fs::path(o.out);
  const std::unique_ptr<RunDirectory> rd = open_output_dir(dir, o.force, me, err);
  if (!rd) return 2;
  if (!o.quiet)
    out << "sensitivity: " << o.method << ", " << d << " parameters, " << npts << " runs"
        << (o.well_mixed ? " (well-mixed)" : "") << ", " << o.jobs << (o.jobs == 1 ? " job" : " jobs") << "; outcome "
        << r.name << std::endl;

  // The runs: in this process (one job) or in o.jobs worker processes, sample i in worker
  // i mod jobs, each sending (index, value, message) records back through a pipe.
  std::vector<double> y(npts, std::numeric_limits<double>::quiet_NaN());
  std::vector<std::string> why(npts);
  auto run_one = [&](int i, double& v, std::string& msg) {
    try {
      v = evaluate(o, base_set, until, params, oc, r, xs[i]);
    } catch (const std::exception& e) {
      msg = e.what();
    }
  };
  int done = 0;
  auto last_print = std::chrono::steady_clock::now();
  auto progress = [&] {
    if (o.quiet) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < npts && std::chrono::duration<double>(now - last_print).count() < 2) return;
    last_print = now;
    out << "progress: " << done << " of " << npts << " runs" << std::endl;
  };
  if (o.jobs == 1) {
    for (int i = 0; i < npts; ++i) {
      run_one(i, y[i], why[i]);
      ++done;
      progress();
    }
  } else {
    out.flush();
    err.flush();
    const int jobs = std::min(o.jobs, npts);
    std::vector<int> fds;
    std::vector<pid_t> pids;
    const int threads = std::max(1, omp_get_num_procs() / jobs);
    for (int k = 0; k < jobs; ++k) {
      int fd[2];
      if (::pipe(fd) != 0) {
        err << me << "pipe: " << std::strerror(errno) << "\n";
        return 1;
      }
      const pid_t pid = ::fork();
      if (pid < 0) {
        err << me << "fork: " << std::strerror(errno) << "\n";
        return 1;
      }
      if (pid == 0) {  // worker: no OpenMP region has run in the parent, so its pool starts here
        ::close(fd[0]);
        for (int other : fds) ::close(other);
        omp_set_num_threads(threads);
        for (int i = k; i < npts; i += jobs) {
          double v = std::numeric_limits<double>::quiet_NaN();
          std::string msg;
          run_one(i, v, msg);
          std::string rec(sizeof(int) + sizeof(double) + sizeof(size_t), '\0');
          const size_t len = msg.size();
          std::memcpy(rec.data(), &i, sizeof(int));
          std::memcpy(rec.data() + sizeof(int), &v, sizeof(double));
          std::memcpy(rec.data() + sizeof(int) + sizeof(double), &len, sizeof(size_t));
          rec += msg;
          for (size_t off = 0; off < rec.size();) {
            const ssize_t w = ::write(fd[1], rec.data() + off, rec.size() - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) ::_exit(3);
            off += (size_t)w;
          }
        }
        ::close(fd[1]);
        ::_exit(0);
      }
      ::close(fd[1]);
      fds.push_back(fd[0]);
      pids.push_back(pid);
    }
    std::vector<std::string> buf(jobs);
    std::vector<bool> open(jobs, true);
    int nopen = jobs;
    while (nopen > 0) {
      std::vector<pollfd> pf;
      std::vector<int> which;
      for (int k = 0; k < jobs; ++k)
        if (open[k]) pf.push_back({fds[k], POLLIN, 0}), which.push_back(k);
      if (::poll(pf.data(), pf.size(), -1) < 0) {
        if (errno == EINTR) continue;
        err << me << "poll: " << std::strerror(errno) << "\n";
        return 1;
      }
      for (size_t q = 0; q < pf.size(); ++q) {
        if (!(pf[q].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int k = which[q];
        char chunk[65536];
        const ssize_t n = ::read(fds[k], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          open[k] = false;
          --nopen;
          ::close(fds[k]);
          continue;
        }
        buf[k].append(chunk, (size_t)n);
        const size_t head = sizeof(int) + sizeof(double) + sizeof(size_t);
        while (buf[k].size() >= head) {
          int i = 0;
          double v = 0;
          size_t len = 0;
          std::memcpy(&i, buf[k].data(), sizeof(int));
          std::memcpy(&v, buf[k].data() + sizeof(int), sizeof(double));
          std::memcpy(&len, buf[k].data() + sizeof(int) + sizeof(double), sizeof(size_t));
          if (buf[k].size() < head + len) break;
          if (i >= 0 && i < npts) {
            y[i] = v;
            why[i] = buf[k].substr(head, len);
            ++done;
          }
          buf[k].erase(0, head + len);
        }
        progress();
      }
    }
    for (pid_t pid : pids) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  int failed = 0;
  for (int i = 0; i < npts; ++i)
    if (!why[i].empty() || !std::isfinite(y[i])) {
      if (failed < 5)
        err << me << "run " << i << " failed: " << (why[i].empty() ? "no result (its worker died)" : why[i]) << "\n";
      ++failed;
    }
  if (failed > 0) {
    err << me << failed << " of " << npts << " runs failed; no indices written (partial output left in "
        << rd->work().string() << ")\n";
    return 1;
  }

  // samples.csv: every run's parameters and outcome, in design order.
  std::ostringstream sc;
  sc << "run," << (o.method == "sobol" ? "block" : "trajectory");
  for (const Sampled& s : params) sc << "," << csv_field(s.name + " [" + s.unit + "]");
  sc << "," << csv_field(r.name) << "\n";
  for (int i = 0; i < npts; ++i) {
    std::string block;
    if (o.method == "sobol") {
      const int b = i / o.samples;
      block = b == 0 ? "A" : b == 1 ? "B" : "AB_" + params[b - 2].name;
    } else {
      block = std::to_string(i / (d + 1));
    }
    sc << i << "," << block;
    for (int k = 0; k < d; ++k) sc << "," << exact(xs[i][k]);
    sc << "," << exact(y[i]) << "\n";
  }

  // indices.csv
  std::ostringstream ic;
  std::vector<std::pair<std::string, double>> ranking;  // for the summary
  try {
    if (o.method == "sobol") {
      const auto idx = gsa::sobol_indices(y, o.samples, d, rng, o.bootstrap, 0.95);
      ic << "parameter,unit,low,high,S1,S1_low,S1_high,ST,ST_low,ST_high\n";
      for (int k = 0; k < d; ++k) {
        ic << csv_field(params[k].name) << "," << csv_field(params[k].unit) << "," << exact(params[k].low) << ","
           << exact(params[k].high) << "," << exact(idx[k].S1) << "," << exact(idx[k].S1_low) << ","
           << exact(idx[k].S1_high) << "," << exact(idx[k].ST) << "," << exact(idx[k].ST_low) << ","
           << exact(idx[k].ST_high) << "\n";
        ranking.push_back({params[k].name, idx[k].ST});
      }
    } else {
      const auto idx = gsa::morris_indices(morris, y);
      ic << "parameter,unit,low,high,mu,mu_star,sigma\n";
      for (int k = 0; k < d; ++k) {
        ic << csv_field(params[k].name) << "," << csv_field(params[k].unit) << "," << exact(params[k].low) << ","
           << exact(params[k].high) << "," << exact(idx[k].mu) << "," << exact(idx[k].mu_star) << ","
           << exact(idx[k].sigma) << "\n";
        ranking.push_back({params[k].name, idx[k].mu_star});
      }
    }
  } catch (const std::invalid_argument& e) {
    err << me << e.what() << " (partial output left in " << rd->work().string() << ")\n";
    return 1;
  }

  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::ostringstream pj;
  pj << "{\n  \"tmesim_version\": " << json_quote(version()) << ",\n  \"git_hash\": " << json_quote(git_hash())
     << ",\n  \"command_line\": " << json_quote(o.command_line) << ",\n  \"scene\": " << json_quote(o.scene)
     << ",\n  \"scene_name\": " << json_quote(p.name) << ",\n  \"method\": " << json_quote(o.method)
     << ",\n  \"samples\": " << o.samples << ",\n  \"runs\": " << npts << ",\n  \"seed\": " << seed
     << ",\n  \"jobs\": " << o.jobs << ",\n  \"backend\": " << json_quote(o.backend) << ",\n  \"well_mixed\": "
     << json_quote(o.well_mixed ? (o.well_mixed_over.empty() ? "grid" : o.well_mixed_over) : "none")
     << ",\n  \"outcome\": " << json_quote(o.outcome) << ",\n  \"outcome_name\": " << json_quote(r.name)
     << ",\n  \"outcome_unit\": " << json_quote(r.out_unit) << ",\n  \"set\": [";
  for (size_t k = 0; k < o.set.size(); ++k) pj << (k ? ", " : "") << json_quote(o.set[k]);
  pj << "],\n  \"sampling\": "
     << json_quote(o.method == "sobol" ? "two independent Latin hypercubes A, B; AB_i: A with column i from B"
                                       : "Morris trajectories, " + std::to_string(o.levels) + " levels")
     << ",\n  \"estimators\": "
     << json_quote(o.method == "sobol" ? "S1 Saltelli 2010, ST Jansen 1999, 95% percentile bootstrap (" +
                                             std::to_string(o.bootstrap) + " resamplings)"
                                       : "elementary effects per whole range: mu, mu* (Campolongo 2007), sigma")
     << ",\n  \"parameters\": [";
  for (int k = 0; k < d; ++k)
    pj << (k ? "," : "") << "\n    {\"name\": " << json_quote(params[k].name)
       << ", \"unit\": " << json_quote(params[k].unit) << ", \"value\": " << exact(params[k].value)
       << ", \"low\": " << exact(params[k].low) << ", \"high\": " << exact(params[k].high)
       << ", \"source\": " << json_quote(params[k].source) << "}";
  pj << "\n  ],\n  \"started_utc\": " << json_quote(started) << ",\n  \"finished_utc\": " << json_quote(utc_now())
     << ",\n  \"wall_s\": " << exact(wall) << "\n}\n";
  try {
    write_text_atomic(rd->work() / "samples.csv", sc.str());
    write_text_atomic(rd->work() / "indices.csv", ic.str());
    write_text_atomic(rd->work() / "scene.resolved.yaml", ls.resolved_yaml);
  } catch (const std::exception& e) {
    err << me << e.what() << "\n";
    return 1;
  }
  // provenance.json (which the plot reads for its title), the bar chart, then the directory
  // is moved into place.
  int plot = 1;
  try {
    write_text_atomic(rd->work() / "provenance.json", pj.str());
    plot = run_viz_script("sensitivity", "sensitivity.py", {rd->work().string()}, out, err);
    rd->commit();
  } catch (const std::exception& e) {
    err << me << e.what() << "\n";
    return 1;
  }
  if (!o.quiet) {
    std::stable_sort(ranking.begin(), ranking.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    out << "wrote " << npts << " runs in " << exact(std::round(wall * 10) / 10) << " s to " << dir.string() << "\n";
    out << (o.method == "sobol" ? "total index ST" : "mu* [" + r.out_unit + " per range]") << ", largest first:";
    for (size_t k = 0; k < ranking.size() && k < 10; ++k) {
      char b[64];
      std::snprintf(b, sizeof b, "%.3g", ranking[k].second);
      out << (k ? ", " : " ") << ranking[k].first << " " << b;
    }
    out << "\n";
  }
  if (plot != 0)
    err << me << "the bar chart (sensitivity.png) was not written; the CSVs are in " << dir.string() << "\n";
  return plot == 0 ? 0 : 1;
}

}  // namespace tme
