#include "tests/support/reference_model.hpp"

namespace tme {
namespace {

constexpr double kDay = 86400;

}  // namespace

Problem reference_tme_problem(int n) {
  using namespace ref_model;
  Problem p = make_uniform_problem({n, n, n}, 20, kN, 0, 0);
  const double D[kN] = {0, 0, 0.1, 0.1, 0.1, 10, 4, 26, 10, 20, 13, 10, 10, 10, 10, 0, 0};  // [um^2/s]
  const double decay[kN] = {0,    0,       0,      0,      0,      6.5e-5, 2.78e-5, 1.65e-4, 9.7e-4,
                            1e-4, 1.67e-5, 2.3e-5, 1.7e-5, 1.7e-5, 1.7e-5, 0,       0};
  for (int s = 0; s < kN; ++s) {
    p.coeffs[s].D[0] = real(D[s]);
    p.coeffs[s].decay = real(decay[s]);
  }
  const Dims d = p.grid.d;
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        const long long v = d.index(i, j, k);
        const double x = i - n / 2.0, y = j - n / 2.0, z = k - n / 2.0;
        const bool in = x * x + y * y + z * z < n * n / 9.0;
        auto set = [&](int f, double val) { p.initial[f * d.nvox() + v] = real(val); };
        set(kTum, in ? 1.5e5 : 0);
        set(kCd8, in ? 2e3 : 200);
        set(kTreg, 300);
        set(kMyel, 500);
        set(kPdl1, 0.1);
        set(kVes, ((i * 7 + j * 13 + k * 29) % 50 == 0) ? 0.05 : 0.005);
      }
  Model& m = p.model;
  GlobalInput plasma_pd1, plasma_pdl1, plasma_ctla4, blood;
  plasma_pd1.name = "plasma_antiPD1";
  plasma_pdl1.name = "plasma_antiPDL1";
  plasma_ctla4.name = "plasma_antiCTLA4";
  blood.name = "blood_CD8";
  plasma_pd1.value = 300;
  plasma_pdl1.value = 0;
  plasma_ctla4.value = 50;
  blood.value = 500;
  m.globals = {plasma_pd1, plasma_pdl1, plasma_ctla4, blood};
  Term kill = make_term(kTermKill, kTum, kCd8, 2e-3 / kDay);
  kill.nfactors = 3;
  kill.f[0] = make_factor(kFactorHillInh, kPdl1, 0.2);
  kill.f[0].ab[0] = kApd1;
  kill.f[0].kd[0] = real(0.26);
  kill.f[0].ab[1] = kApdl1;
  kill.f[0].kd[1] = real(0.4);
  kill.f[1] = make_factor(kFactorHillInh, kTgfb, 0.5);
  kill.f[2] = make_factor(kFactorHillInh, kTreg, 0.31);
  kill.f[2].b = kCd8;
  kill.nproducts = 1;
  kill.prod[0] = {kAg, real(1e-3)};
  Term grow = make_term(kTermGrowth, kTum, -1, 0.1 / kDay);
  Term doom = make_term(kTermConversion, kDoom, -1, 0.1725 / kDay);
  doom.nproducts = 1;
  doom.prod[0] = {kAg, real(1e-3)};
  Term prol = make_term(kTermGrowth, kCd8, -1, 1.0 / kDay);
  prol.nfactors = 1;
  prol.f[0] = make_factor(kFactorHillAct, kIl2, 0.32);
  Term cd8d = make_term(kTermConversion, kCd8, -1, 0.1 / kDay);
  Term ifng = make_term(kTermSecretion, kIfng, kCd8, 1e-9);
  Term il2u = make_term(kTermUptake, kIl2, kCd8, 1e-9, 0.3);
  Term il2s = make_term(kTermSecretion, kIl2, kCd8, 5e-10);
  Term tgfb = make_term(kTermSecretion, kTgfb, kTum, 1e-11);
  Term cxcl = make_term(kTermSecretion, kCxcl10, kTum, 1e-10);
  cxcl.nfactors = 1;
  cxcl.f[0] = make_factor(kFactorHillAct, kIfng, 0.1);
  Term ccl2 = make_term(kTermSecretion, kCcl2, kTum, 1e-11);
  Term pdl1 = make_term(kTermRelax, kPdl1, -1, 1 / kDay, 0.1, 1.0);
  pdl1.nfactors = 1;
  pdl1.f[0] = make_factor(kFactorHillAct, kIfng, 0.11, 1.26);
  Term ex1 = make_term(kTermExchange, kApd1, kVes, 3e-3);
  ex1.global = 0;
  Term ex2 = make_term(kTermExchange, kApdl1, kVes, 3e-3);
  ex2.global = 1;
  Term ex3 = make_term(kTermExchange, kActla4, kVes, 3e-3);
  ex3.global = 2;
  Term tin = make_term(kTermInflux, kCd8, kVes, 1e-6);
  tin.global = 3;
  tin.nfactors = 1;
  tin.f[0] = make_factor(kFactorHillAct, kCxcl10, 0.1);
  Term min = make_term(kTermInflux, kMyel, kVes, 5e-7);
  min.global = 3;
  min.nfactors = 1;
  min.f[0] = make_factor(kFactorHillAct, kCcl2, 0.1);
  Term treg = make_term(kTermConversion, kTreg, -1, 0.1 / kDay);
  treg.nfactors = 1;
  treg.f[0] = make_factor(kFactorHillAct, kActla4, 18.2);
  Term agu = make_term(kTermUptake, kAg, kMyel, 1e-9);
  Term ifn1 = make_term(kTermSecretion, kIfn1, kDoom, 1e-12);
  m.terms = {kill, grow, doom, prol, cd8d, ifng, il2u, il2s, tgfb, cxcl,
             ccl2, pdl1, ex1,  ex2,  ex3,  tin,  min,  treg, agu,  ifn1};
  m.crowd_species = {kTum, kDoom, kCd8, kTreg, kMyel};
  m.crowd_volume.assign(5, 1 / 2e5);
  Chemotaxis c;
  c.cell = kCd8;
  c.signal = kCxcl10;
  c.chi = real(1e3);
  c.vmax = real(1.0 / 60);
  Chemotaxis c2 = c;
  c2.cell = kMyel;
  c2.signal = kCcl2;
  m.chemotaxis = {c, c2};
  m.rtol = 1e-3;
  m.atol.assign(kN, 1e-6);
  p.time.integrator = Integrator::kLod;
  p.time.step = 600;
  p.time.t_end = 600;
  p.time.output_every = 600;
  return p;
}

}  // namespace tme
