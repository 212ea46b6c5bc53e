"""A realistic synthetic portfolio of a Chinese corporate bank, with known true parameters.

``generate_sample(out_dir, customers=..., seed=...)`` writes one file per contract table and
``truth.json``; later stages (ingest, models, valuation) are tested by recovering what the
generator put in. The true models:

- credit quality: an annual rating-migration Markov chain (Jarrow, Lando & Turnbull 1997);
- relationship attrition: Weibull proportional hazards (Cox 1972) with a randomised marketing
  treatment effect;
- fee-earning transactions: BG/NBD (Fader, Hardie & Lee 2005, Marketing Science 24(2)) with
  Gamma-Gamma amounts (Fader, Hardie & Lee 2005, J. Marketing Research 42(4); Colombo & Jiang
  1999);
- financial ratios linear in the grade and the latent quality; deposits a log AR(1).

Modules: :mod:`.params` (every true parameter), :mod:`.portfolio` (customers, migration,
relationships, marketing), :mod:`.lending` (facilities, repayments, credit events),
:mod:`.activity` (transactions, deposits, financials, ratings), :mod:`.rates` (LPR, FTP),
:mod:`.badrows` (contract-breaking rows), :mod:`.output` (formats and writers),
:mod:`.generator` (the chunk loop and ``truth.json``).
"""

from lendvalue.sample.generator import DEFAULT_AS_OF, SampleSummary, generate_sample

__all__ = ["DEFAULT_AS_OF", "SampleSummary", "generate_sample"]
