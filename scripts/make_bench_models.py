#!/usr/bin/env python3
"""Write the models `streamscore bench e2e` scores, trained on the demo's features.

The end-to-end benchmark feeds transactions (the generator's JSON) through the default
feature spec (13 inputs) into three models of the kinds users run, each written twice:
in the file StreamScore loads and as ONNX for the Python peer (scripts/peer_worker.py,
ONNX Runtime), so both score the same model:

  Models/bench/fraud-logistic.{json,onnx}  scikit-learn LogisticRegression (scaled)
  Models/bench/fraud-mlp.{json,onnx}       scikit-learn MLPClassifier 13-64-32-1 (relu)
  Models/bench/fraud-xgb.{json,onnx}       XGBoost, 100 trees of depth 6

With --large, two models that cost more per event than the worker's Kafka and JSON work
(where a score cache pays off), too big to commit, written to .build/bench-models:

  fraud-mlp-large.{json,onnx}  MLPClassifier 13-256-256-1
  fraud-xgb-large.{json,onnx}  XGBoost, 800 trees of depth 8

The training data is make_model_fixtures.py's demo transactions (same generator, same
featurisation). The small models are committed; run this again only to change them:

  python3 scripts/make_bench_models.py            # Models/bench
  python3 scripts/make_bench_models.py --large    # .build/bench-models (make bench-e2e)
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Models" / "bench"
LARGE = ROOT / ".build" / "bench-models"
sys.path.insert(0, str(ROOT / "scripts"))


def main():
    import pinned_venv
    pinned_venv.ensure(ROOT / ".venv-bench", ROOT / "scripts" / "requirements-bench.txt")
    import numpy as np
    import onnxmltools
    import xgboost as xgb
    from onnxmltools.convert.common.data_types import FloatTensorType
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from export_sklearn import export
    from make_model_fixtures import DEMO_NAMES, demo_events, demo_features

    large = "--large" in sys.argv[1:]
    rng = np.random.default_rng(2026)
    events, fraud = demo_events(rng, 60000)
    X, y = demo_features(events), fraud.astype(int)
    out = LARGE if large else OUT
    out.mkdir(parents=True, exist_ok=True)
    width = len(DEMO_NAMES)
    for kind, model in [
        ("logistic", LogisticRegression(max_iter=1000)),
        ("mlp", MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=60, random_state=1)),
    ] if not large else [
        ("mlp-large", MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=20, random_state=1)),
    ]:
        fitted = Pipeline([("scale", StandardScaler()), ("model", model)]).fit(X, y)
        export(fitted, out / f"fraud-{kind}.json", name=f"fraud-{kind}", version="1", inputs=DEMO_NAMES)
        onx = to_onnx(fitted, X[:1], options={id(fitted.steps[-1][1]): {"zipmap": False}}, target_opset=17)
        (out / f"fraud-{kind}.onnx").write_bytes(onx.SerializeToString())
    for name, depth, rounds, params in [("fraud-xgb", 6, 100, {})] if not large else [
        # Deep trees on noisy labels: every tree grows to full depth.
        ("fraud-xgb-large", 8, 800, {"min_child_weight": 0, "gamma": 0, "lambda": 0.01, "subsample": 0.5}),
    ]:
        labels = y if not params else (y ^ (rng.random(len(y)) < 0.2)).astype(int)
        booster = xgb.train(
            {"objective": "binary:logistic", "max_depth": depth, "eta": 0.1, "nthread": 2, "seed": 1, **params},
            xgb.DMatrix(X, label=labels, feature_names=DEMO_NAMES), num_boost_round=rounds)
        booster.save_model(str(out / f"{name}.json"))
        booster.feature_names = None  # the ONNX converter wants f0..fN
        onx = onnxmltools.convert_xgboost(booster, initial_types=[("x", FloatTensorType([None, width]))], target_opset=15)
        (out / f"{name}.onnx").write_bytes(onx.SerializeToString())
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir() if p.name.startswith('fraud-')))} to {out}")


if __name__ == "__main__":
    main()
