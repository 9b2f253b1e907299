#!/usr/bin/env bash
# Regenerate the fixtures and the expected JSON. Needs the reference stack that
# /work/shared/peers/setup.sh installs (Debian python3 with numpy, scipy, statsmodels, sklearn).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
REF=${EVAL_REF:-/work/shared/peers/eval_ref.py}
$PY make_fixtures.py .
# eval_ref.py prints NaN as a bare token and a timing; normalise both (NaN -> null, drop "seconds")
norm() { $PY -c 'import json,math,sys
o=json.loads(sys.stdin.read()); o.pop("seconds",None)
c=lambda v: None if isinstance(v,float) and math.isnan(v) else ({k:c(x) for k,x in v.items()} if isinstance(v,dict) else ([c(x) for x in v] if isinstance(v,list) else v))
print(json.dumps(c(o), indent=1))'; }
$PY "$REF" real.csv synthetic.csv --train train.csv | norm > expected_eval_ref.json
$PY "$REF" ties_real.csv ties_synthetic.csv | norm > expected_eval_ref_ties.json
# the edges: heavy ties, a constant series, monotone paths, fewer rows than 1/(1-alpha), copies of train rows
$PY make_edge_fixtures.py .
for a in 0.5 0.99 0.999; do
  $PY "$REF" edge_real.csv edge_synthetic.csv --train edge_train.csv --alpha $a | norm > expected_eval_ref_edge_$a.json
done
# eval_ref.py pools every row: run it on the scenario file without its scenario/step columns for the marginals
cut -d, -f3- scenarios.csv > /tmp/crucible_scenarios_pooled.csv
$PY "$REF" real.csv /tmp/crucible_scenarios_pooled.csv --train train.csv | norm > expected_eval_ref_scenarios.json
$PY reference_extra.py real.csv synthetic.csv --train train.csv | norm > expected_extra.json
$PY reference_extra.py real.csv scenarios.csv --train train.csv | norm > expected_extra_scenarios.json
$PY reference_extra.py ties_real.csv ties_synthetic.csv | norm > expected_extra_ties.json
# a flat 30-day stretch and a flat scenario: windows undefined at some lag are left out of its mean (statsmodels' pacf
# needs lags < half the 20-step window, so 9 lags)
$PY make_flat_fixtures.py .
$PY reference_extra.py flat_real.csv flat_scenarios.csv --lags 9 | norm > expected_extra_flat.json
# the learned Stocks-protocol metrics (needs torch and mpmath as well: /usr/bin/python3 on the development machine)
$PY reference_learned.py > expected_learned.json
# the utility section (scikit-learn LinearRegression, r2_score, mean_squared_error; scipy spearmanr)
$PY reference_utility.py real.csv synthetic.csv train.csv > expected_utility.json
$PY reference_utility.py real.csv scenarios.csv train.csv > expected_utility_scenarios.json
# the membership-inference attack (scipy gaussian_kde, sklearn roc_auc_score / roc_curve)
$PY reference_mia.py real.csv synthetic.csv train.csv > expected_mia.json
# the copy metrics: IMS (numpy) and NNDR (scipy cKDTree k=2)
$PY reference_copy_metrics.py real.csv synthetic.csv train.csv > expected_copy_metrics.json
