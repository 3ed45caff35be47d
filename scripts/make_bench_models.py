#!/usr/bin/env python3
"""Write the models `streamscore bench e2e` scores, trained on the demo's features.

The end-to-end benchmark feeds transactions (the generator's JSON) through the default
feature spec (13 inputs) into three models of the kinds users run, each written twice:
in the file StreamScore loads and as ONNX for the Python peer (scripts/peer_worker.py,
ONNX Runtime), so both score the same model:

  Models/bench/fraud-logistic.{json,onnx}  scikit-learn LogisticRegression (scaled)
  Models/bench/fraud-mlp.{json,onnx}       scikit-learn MLPClassifier 13-64-32-1 (relu)
  Models/bench/fraud-xgb.{json,onnx}       XGBoost, 100 trees of depth 6

The training data is make_model_fixtures.py's demo transactions (same generator, same
featurisation). The outputs are committed; run this again only to change them:

  python3 scripts/make_bench_models.py
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Models" / "bench"
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

    rng = np.random.default_rng(2026)
    events, fraud = demo_events(rng, 60000)
    X, y = demo_features(events), fraud.astype(int)
    OUT.mkdir(parents=True, exist_ok=True)
    width = len(DEMO_NAMES)
    for kind, model in [
        ("logistic", LogisticRegression(max_iter=1000)),
        ("mlp", MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=60, random_state=1)),
    ]:
        fitted = Pipeline([("scale", StandardScaler()), ("model", model)]).fit(X, y)
        export(fitted, OUT / f"fraud-{kind}.json", name=f"fraud-{kind}", version="1", inputs=DEMO_NAMES)
        onx = to_onnx(fitted, X[:1], options={id(fitted.steps[-1][1]): {"zipmap": False}}, target_opset=17)
        (OUT / f"fraud-{kind}.onnx").write_bytes(onx.SerializeToString())
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 2, "seed": 1},
        xgb.DMatrix(X, label=y, feature_names=DEMO_NAMES), num_boost_round=100)
    booster.save_model(str(OUT / "fraud-xgb.json"))
    booster.feature_names = None  # the ONNX converter wants f0..fN
    onx = onnxmltools.convert_xgboost(booster, initial_types=[("x", FloatTensorType([None, width]))], target_opset=15)
    (OUT / "fraud-xgb.onnx").write_bytes(onx.SerializeToString())
    print(f"wrote {', '.join(sorted(p.name for p in OUT.iterdir()))} to {OUT}")


if __name__ == "__main__":
    main()
