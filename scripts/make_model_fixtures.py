#!/usr/bin/env python3
"""Write the model fixtures with the libraries users train with.

Creates (once) a virtual environment in .venv-fixtures with the pinned packages of
scripts/requirements-fixtures.txt, re-runs itself inside it, trains small models on data
it generates, and writes to Tests/Fixtures/Models:

  <name>.json / <name>.txt   the model file, as the library itself saves it (XGBoost
                             Booster.save_model JSON, LightGBM Booster.save_model text) or
                             as scripts/export_sklearn.py writes it (native JSON)
  trees.X.csv, dense.X.csv,  input rows shared by several models: header of feature
  sk-logistic.X.csv          names, empty field = missing (trees.X.csv has missing values)
  <name>.expected.csv        the library's own prediction per row of its input (binary:
                             probability of the positive class; multi-class: one column
                             of probability per class, headed by the class labels)

It also trains the bundled demo model, Models/fraud-xgb.json (XGBoost on the default
feature spec's rows of transactions shaped like the generator's), and writes
Tests/Fixtures/Features/demo.{events.jsonl,rows.csv}: events and the rows this script
computes from them, which the worker's featurisation must reproduce, and a challenger,
Models/fraud-xgb-challenger.json (another XGBoost model on the same features, trained on
other rows with other settings: what `streamscore backfill --model` and `compare` show
side by side). Deterministic for the pinned versions on one CPU (fixed seeds, single
thread). Usage:
  python3 scripts/make_model_fixtures.py                 everything
  python3 scripts/make_model_fixtures.py --challenger    only the challenger model
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-fixtures"
OUT = ROOT / "Tests" / "Fixtures" / "Models"
REQUIREMENTS = ROOT / "scripts" / "requirements-fixtures.txt"
DEMO_MODEL = ROOT / "Models" / "fraud-xgb.json"
CHALLENGER_MODEL = ROOT / "Models" / "fraud-xgb-challenger.json"
FEATURES = ROOT / "Tests" / "Fixtures" / "Features"


def ensure_venv():
    sys.path.insert(0, str(ROOT / "scripts"))
    import pinned_venv
    pinned_venv.ensure(VENV, REQUIREMENTS)


def write_matrix(path, X, names):
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in X:
            f.write(",".join("" if v != v else repr(float(v)) for v in row) + "\n")


def write_scores(path, y, header=("score",)):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for v in y:
            values = v if hasattr(v, "__len__") else [v]
            f.write(",".join(repr(float(x)) for x in values) + "\n")


def data(rng, rows, features, missing):
    """Features with interactions and a noisy binary label; float32 like the worker."""
    import numpy as np
    X = rng.normal(size=(rows, features)).astype(np.float32)
    logit = 1.5 * X[:, 0] - X[:, 1] + X[:, 2] * X[:, 3] + 0.5 * np.abs(X[:, 4]) - 0.3
    y = (logit + rng.normal(scale=0.5, size=rows) > 0).astype(np.int32)
    target = (2 * X[:, 0] + X[:, 1] * X[:, 5] + rng.normal(scale=0.1, size=rows)).astype(np.float32)
    if missing:
        X[rng.random(X.shape) < missing] = np.nan
    return X, y, target


def main():
    ensure_venv()
    if "--challenger" in sys.argv:
        challenger_model()
        return
    import warnings
    warnings.filterwarnings("ignore")  # MLP convergence notes; the fixtures need no convergence
    import numpy as np
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    sys.path.insert(0, str(ROOT / "scripts"))
    from export_sklearn import export

    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261129)
    features = 8
    names = [f"x{i}" for i in range(features)]
    X_train, y_train, t_train = data(rng, 4000, features, missing=0.05)
    X_test, _, _ = data(rng, 257, features, missing=0.08)  # 257: not a multiple of 8
    X_dense_train, yd_train, _ = data(rng, 4000, features, missing=0)
    X_dense_test, _, _ = data(rng, 257, features, missing=0)

    write_matrix(OUT / "trees.X.csv", X_test, names)
    write_matrix(OUT / "dense.X.csv", X_dense_test, names)

    def save(name, expected):
        write_scores(OUT / f"{name}.expected.csv", expected)

    # XGBoost: binary:logistic, reg:squarederror and reg:logistic; missing values routed.
    dtrain = xgb.DMatrix(X_train, label=y_train, feature_names=names)
    for name, objective, label in [
        ("xgb-binary", "binary:logistic", y_train),
        ("xgb-regression", "reg:squarederror", t_train),
        ("xgb-reglogistic", "reg:logistic", y_train),
    ]:
        dtrain.set_label(label)
        booster = xgb.train(
            {"objective": objective, "max_depth": 5, "eta": 0.2, "nthread": 1, "seed": 1},
            dtrain, num_boost_round=30)
        booster.save_model(str(OUT / f"{name}.json"))
        save(name, booster.predict(xgb.DMatrix(X_test, feature_names=names)))

    # LightGBM: binary and regression, NaN-aware splits, plus zero-as-missing.
    for name, objective, label, extra in [
        ("lgb-binary", "binary", y_train, {}),
        ("lgb-regression", "regression", t_train, {}),
        ("lgb-zero-missing", "binary", y_train, {"zero_as_missing": True}),
    ]:
        params = {"objective": objective, "num_leaves": 15, "learning_rate": 0.2, "num_threads": 1,
                  "seed": 1, "deterministic": True, "verbose": -1, **extra}
        booster = lgb.train(params, lgb.Dataset(X_train, label=label, feature_name=names), num_boost_round=30)
        booster.save_model(str(OUT / f"{name}.txt"))
        save(name, booster.predict(X_test))

    # scikit-learn, exported to the native JSON format (scaler folded in).
    logistic = Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=1000))])
    logistic.fit(X_dense_train * [1, 10, 100, 1, 1, 0.1, 1, 1], yd_train)
    export(logistic, OUT / "sk-logistic.json", name="sk-logistic", version="1", inputs=names)
    scaled_test = (X_dense_test * [1, 10, 100, 1, 1, 0.1, 1, 1]).astype(np.float32)
    write_matrix(OUT / "sk-logistic.X.csv", scaled_test, names)
    save("sk-logistic", logistic.predict_proba(scaled_test)[:, 1])

    for activation in ["relu", "tanh", "logistic"]:
        mlp = Pipeline([("scale", StandardScaler()),
                        ("model", MLPClassifier(hidden_layer_sizes=(16, 8), activation=activation,
                                                max_iter=300, random_state=1))])
        mlp.fit(X_dense_train, yd_train)
        name = f"sk-mlp-{activation}"
        export(mlp, OUT / f"{name}.json", name=name, version="1", inputs=names)
        save(name, mlp.predict_proba(X_dense_test)[:, 1])

    demo_model(rng)
    challenger_model()
    multi_class(names)
    print(f"wrote fixtures to {OUT} and the demo model to {DEMO_MODEL}")


def multi_class(names):
    """Three-class scikit-learn models (softmax outputs), on dense.X.csv's distribution.

    Its own generator, so the fixtures above (and the demo model) stay as they were."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from export_sklearn import export

    rng = np.random.default_rng(3)
    X, _, _ = data(rng, 3000, len(names), missing=0)
    score = X[:, 0] + 0.5 * X[:, 1] * X[:, 2] + rng.normal(scale=0.3, size=len(X))
    labels = np.array(["low", "medium", "high"])[np.digitize(score, [-0.5, 0.7])]
    X_test = np.loadtxt(OUT / "dense.X.csv", delimiter=",", skiprows=1, dtype=np.float32)
    for name, model in [
        ("sk-logistic-multi", LogisticRegression(max_iter=1000)),
        ("sk-mlp-softmax", MLPClassifier(hidden_layer_sizes=(16,), activation="relu", max_iter=300, random_state=1)),
    ]:
        fitted = Pipeline([("scale", StandardScaler()), ("model", model)]).fit(X, labels)
        export(fitted, OUT / f"{name}.json", name=name, version="1", inputs=names)
        write_scores(OUT / f"{name}.expected.csv", fitted.predict_proba(X_test),
                     header=[str(c) for c in fitted.classes_])


# The demo's feature spec (the default `features.inputs`, Configs/streamscore.yaml),
# computed here the way the worker computes it: float64 arithmetic, then float32.
DEMO_COUNTRIES = ["DE", "FR", "NL", "ES", "IT"]
DEMO_CHANNELS = ["pos", "ecom"]
DEMO_NAMES = (["amount", "distance_km", "txn_last_hour", "card_age_days"]
              + [f"country={c}" for c in DEMO_COUNTRIES] + ["country=*"]
              + [f"channel={c}" for c in DEMO_CHANNELS] + ["hour_of_day"])


def demo_features(events):
    """Rows for events given as dicts, as the default feature spec makes them."""
    import math
    import numpy as np
    rows = []
    for e in events:
        country = [1.0 if e["country"] == c else 0.0 for c in DEMO_COUNTRIES]
        country.append(0.0 if e["country"] in DEMO_COUNTRIES else 1.0)
        channel = [1.0 if e["channel"] == c else 0.0 for c in DEMO_CHANNELS]
        seconds = math.floor(e["timestamp"] / 1000)
        rows.append([math.log1p(e["amount"]), math.log1p(e["distance_km"]), float(e["txn_last_hour"]),
                     math.log1p(e["card_age_days"])] + country + channel + [float(seconds % 86400 // 3600)])
    return np.array(rows, dtype=np.float64).astype(np.float32)


def demo_events(rng, n):
    """Transactions shaped like `streamscore produce`'s (TransactionGenerator.swift), and
    which are fraud.

    Ordinary card use at home (a euro country, mostly at a point of sale), plus about 2%
    fraud: a large amount, abroad, far from home, online, a burst of recent transactions
    and a new card. Ordinary events sometimes look risky on one or two signals (travel
    abroad, a big purchase, a new card, a burst), so the model has to combine them.
    """
    import numpy as np
    fraud = rng.random(n) < 0.02
    amount = np.clip(np.exp(rng.normal(3.5, 1.0, n)), 1, 500)
    distance = rng.uniform(0, 50, n)
    recent = rng.integers(0, 4, n)
    age = 200 + rng.integers(0, 3000, n)
    home = rng.integers(0, 5, n)
    abroad = rng.integers(5, 10, n)
    ecom = rng.random(n) >= 0.7
    travel = ~fraud & (rng.random(n) < 0.05)
    distance[travel] = rng.uniform(500, 5000, travel.sum())
    big = ~fraud & (rng.random(n) < 0.03)
    amount[big] = rng.uniform(800, 3000, big.sum())
    new_card = ~fraud & (rng.random(n) < 0.03)
    age[new_card] = 1 + rng.integers(0, 30, new_card.sum())
    burst = ~fraud & (rng.random(n) < 0.05)
    recent[burst] = 4 + rng.integers(0, 9, burst.sum())
    amount[fraud] = rng.uniform(800, 3000, fraud.sum())
    distance[fraud] = rng.uniform(500, 5000, fraud.sum())
    recent[fraud] = 6 + rng.integers(0, 10, fraud.sum())
    slow = fraud & (rng.random(n) < 0.25)  # fraud that does not burst
    recent[slow] = rng.integers(0, 4, slow.sum())
    age[fraud] = 1 + rng.integers(0, 30, fraud.sum())
    ecom[fraud] = True
    countries = ["DE", "FR", "NL", "ES", "IT", "US", "GB", "BR", "NG", "IN"]
    foreign = fraud | travel
    timestamp = 1_700_000_000_000 + rng.integers(0, 30 * 86_400_000, n)
    events = [{
        "id": f"tx-{i}", "card_id": f"card-{i % 5000:06d}", "merchant": f"m-{i % 4999}",
        "amount": round(float(amount[i]), 2), "currency": "EUR", "mcc": 5411,
        "country": countries[abroad[i] if foreign[i] else home[i]], "channel": "ecom" if ecom[i] else "pos",
        "timestamp": int(timestamp[i]), "distance_km": round(float(distance[i]), 2),
        "txn_last_hour": int(recent[i]), "card_age_days": int(age[i]),
    } for i in range(n)]
    return events, fraud


def demo_model(rng):
    """The bundled demo model: XGBoost on the default feature spec's rows of transactions
    shaped like the generator's, and a fixture that checks the worker's featurisation
    against this script's (Tests/Fixtures/Features)."""
    import json
    import xgboost as xgb
    events, fraud = demo_events(rng, 60000)
    X = demo_features(events)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 1},
        xgb.DMatrix(X, label=fraud.astype(int), feature_names=DEMO_NAMES), num_boost_round=40)
    booster.save_model(str(DEMO_MODEL))

    # Featurisation fixture: events as the worker reads them (some written with escapes,
    # extra and nested fields, keys in another order) and this script's rows.
    sample, _ = demo_events(rng, 300)
    FEATURES.mkdir(parents=True, exist_ok=True)
    with open(FEATURES / "demo.events.jsonl", "w") as f:
        for i, e in enumerate(sample):
            if i % 3 == 0:
                e = dict(reversed(list(e.items())))
            if i % 5 == 0:
                e["extra"] = {"nested": [1, {"country": "XX"}], "note": "caf\u00e9"}
            text = json.dumps(e, separators=(",", ":"))
            if i % 7 == 0:  # the same strings, escaped
                text = text.replace(f'"{e["channel"]}"', '"' + "".join(f"\\u{ord(c):04x}" for c in e["channel"]) + '"')
            f.write(text + "\n")
    write_matrix(FEATURES / "demo.rows.csv", demo_features(sample), DEMO_NAMES)


def challenger_model():
    """A challenger to the demo model: the same features, trained on a small recent sample
    (5,000 rows of its own seed, so the other outputs do not move) with a small model
    (6 rounds of depth-2 trees). It scores every event differently and flips a few
    decisions (about 1 in 1,000 of the generator's events), which `compare` shows."""
    import numpy as np
    import xgboost as xgb
    events, fraud = demo_events(np.random.default_rng(20261204), 5000)
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 2, "eta": 0.2, "nthread": 1, "seed": 2},
        xgb.DMatrix(demo_features(events), label=fraud.astype(int), feature_names=DEMO_NAMES), num_boost_round=6)
    booster.save_model(str(CHALLENGER_MODEL))


if __name__ == "__main__":
    main()
