#!/usr/bin/env python3
"""Time StreamScore's engine beside the engines users would otherwise run, in one run.

Models of the reference shapes (74 inputs): logistic regression, an MLP 74-64-32-1 (relu),
XGBoost 100 trees of depth 6 and LightGBM 100 trees of 31 leaves, trained here on
generated data and cached in .build/bench-models. Every engine scores the same pool of
65,536 rows (written once as float32; `streamscore bench model --input` reads the same
file), batch by batch through the pool, one thread, median of repeated runs after
warm-up, as `streamscore bench model` does.

Peers, timed natively by scripts/peer_harness.c (compiled here with gcc; no Python in the
timed loop): xgboost (C API, XGBoosterPredictFromDense), lightgbm (C API,
LGBM_BoosterPredictForMat; its single-row fast API at batch 1), tl2cgen-compiled C
(treelite) and lleaves (LLVM-compiled LightGBM). Timed through Python, because no C
header ships with them here, and marked "(py)" in the table: ONNX Runtime and numpy
(float32 matmul, for logistic). Their per-call times include the Python call (about
1-30 µs), which matters at batch 1 and not at batch 4096.

Usage: python3 scripts/bench_peers.py [--batch 1,8,64,512,4096] [--json out.json]
"""
import argparse
import warnings
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
WORK = ROOT / ".build" / "bench-models"
BIN = ROOT / ".build" / "release" / "streamscore"
FEATURES = 74
POOL_ROWS = 1 << 16


def ensure_venv():
    sys.path.insert(0, str(ROOT / "scripts"))
    import pinned_venv
    pinned_venv.ensure(VENV, ROOT / "scripts" / "requirements-bench.txt")


def build_models():
    """Trains the reference-shape models once; returns their paths."""
    import numpy as np
    WORK.mkdir(parents=True, exist_ok=True)
    paths = {
        "logistic": WORK / "logistic.json", "mlp": WORK / "mlp.json",
        "xgboost": WORK / "xgboost.json", "lightgbm": WORK / "lightgbm.txt",
    }
    pool = WORK / "rows.f32"
    if all(p.exists() for p in paths.values()) and pool.exists():
        return paths, np.fromfile(pool, dtype=np.float32).reshape(-1, FEATURES)
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    sys.path.insert(0, str(ROOT / "scripts"))
    from export_sklearn import export, to_native

    rng = np.random.default_rng(74)
    X = rng.normal(size=(20000, FEATURES)).astype(np.float32)
    y = (X[:, :10].sum(axis=1) + X[:, 10] * X[:, 11] + rng.normal(size=20000) > 0).astype(int)
    names = [f"f{i}" for i in range(FEATURES)]
    rows = rng.normal(size=(POOL_ROWS, FEATURES)).astype(np.float32)
    rows.tofile(pool)

    lr = LogisticRegression(max_iter=500).fit(X, y)
    export(lr, paths["logistic"], name="bench-logistic", version="1", inputs=names)
    mlp = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=30, random_state=1).fit(X, y)
    export(mlp, paths["mlp"], name="bench-mlp", version="1", inputs=names)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "eta": 0.1, "nthread": 2},
                        xgb.DMatrix(X, label=y, feature_names=names), num_boost_round=100)
    booster.save_model(str(paths["xgboost"]))
    gbm = lgb.train({"objective": "binary", "num_leaves": 31, "verbose": -1, "num_threads": 2},
                    lgb.Dataset(X, label=y, feature_name=names), num_boost_round=100)
    gbm.save_model(str(paths["lightgbm"]))
    # ONNX versions of the same models, for ONNX Runtime.
    from skl2onnx import to_onnx
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType
    for kind, estimator in [("logistic", lr), ("mlp", mlp)]:
        onx = to_onnx(estimator, X[:1], options={id(estimator): {"zipmap": False}}, target_opset=17)
        (WORK / f"{kind}.onnx").write_bytes(onx.SerializeToString())
    onx = onnxmltools.convert_xgboost(booster, initial_types=[("x", FloatTensorType([None, FEATURES]))], target_opset=15)
    (WORK / "xgboost.onnx").write_bytes(onx.SerializeToString())
    onx = onnxmltools.convert_lightgbm(gbm, initial_types=[("x", FloatTensorType([None, FEATURES]))], target_opset=15, zipmap=False)
    (WORK / "lightgbm.onnx").write_bytes(onx.SerializeToString())
    return paths, rows


def timed(fn, rows, batch, min_run=0.02, runs=9):
    """Median seconds per call, batches taken in turn from the pool."""
    windows = max(1, len(rows) // batch)
    views = [rows[(i % windows) * batch:(i % windows + 1) * batch] for i in range(min(windows, 256))]
    calls = 1
    while True:
        t = time.perf_counter()
        for i in range(calls):
            fn(views[i % len(views)])
        if time.perf_counter() - t >= min_run:
            break
        calls *= 2
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        for i in range(calls):
            fn(views[i % len(views)])
        samples.append((time.perf_counter() - t) / calls)
    samples.sort()
    return samples[len(samples) // 2]


def python_engines(kind, path):
    """(engine name, callable(batch)) for the peers timed through Python."""
    import numpy as np
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # the converted classifiers warn about label shapes on every call
    session = ort.InferenceSession(str(WORK / f"{kind}.onnx"), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    out = [("onnxruntime (py)", lambda x: session.run(None, {input_name: x}))]
    if kind == "logistic":
        doc = json.loads(path.read_text())
        w = np.asarray(doc["weights"], dtype=np.float32)
        b = np.float32(doc["bias"])
        out.append(("numpy (py)", lambda x: 1 / (1 + np.exp(-(x @ w + b)))))
    return out


def native_engines(kind, path):
    """(engine name, shared library, model argument) for the peers timed by peer_harness."""
    import lightgbm
    import xgboost
    site = Path(xgboost.__file__).parent
    out = []
    if kind == "xgboost":
        out.append(("xgboost", site / "lib" / "libxgboost.so", path))
    if kind == "lightgbm":
        out.append(("lightgbm", Path(lightgbm.__file__).parent / "lib" / "lib_lightgbm.so", path))
        import lleaves
        obj, lib = WORK / "lightgbm.lleaves.o", WORK / "lightgbm.lleaves.so"
        if not lib.exists():
            lleaves.Model(model_file=str(path)).compile(cache=str(obj))
            subprocess.check_call(["gcc", "-shared", "-o", str(lib), str(obj), "-lm"])
        out.append(("lleaves", lib, "-"))
    if kind in ("xgboost", "lightgbm"):
        import tl2cgen
        import treelite
        lib = WORK / f"{kind}.tl2cgen.so"
        if not lib.exists():
            model = (treelite.frontend.load_xgboost_model(str(path)) if kind == "xgboost"
                     else treelite.frontend.load_lightgbm_model(str(path)))
            tl2cgen.export_lib(model, toolchain="gcc", libpath=str(lib), params={"parallel_comp": 8})
        out.append(("tl2cgen", lib, "-"))
    return out


def harness():
    binary = WORK / "peer_harness"
    source = ROOT / "scripts" / "peer_harness.c"
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        subprocess.check_call(["gcc", "-O2", "-o", str(binary), str(source), "-ldl", "-lm"])
    return binary


def native(engine, library, model, batches):
    out = subprocess.check_output([str(harness()), engine, str(library), str(model), str(WORK / "rows.f32"),
                                   str(FEATURES), ",".join(map(str, batches))])
    return {r["batch"]: r["us_per_call"] / 1e6 for r in map(json.loads, out.decode().splitlines())}


def ours(path, batches):
    if not BIN.exists():
        subprocess.check_call(["make", "release"], cwd=ROOT)
    out = subprocess.check_output([str(BIN), "bench", "model", str(path), "--input", str(WORK / "rows.f32"),
                                   "--batch", ",".join(map(str, batches)), "--json"], cwd=ROOT)
    return {r["batch"]: r["us_per_call"] / 1e6 for r in json.loads(out)}


def main():
    ensure_venv()
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", default="1,8,64,512,4096")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",")]
    paths, rows = build_models()
    results = []
    print(f"{'model':9} {'batch':>6} {'engine':16} {'us/call':>10} {'rows/s':>13} {'streamscore/peer':>17}")
    for kind, path in paths.items():
        mine = ours(path, batches)
        measured = {name: native(name, lib, model, batches) for name, lib, model in native_engines(kind, path)}
        peers = python_engines(kind, path)
        for batch in batches:
            print(f"{kind:9} {batch:6d} {'streamscore':16} {mine[batch] * 1e6:10.3f} {batch / mine[batch]:13.0f} {'':>17}")
            results.append({"model": kind, "batch": batch, "engine": "streamscore", "us_per_call": mine[batch] * 1e6,
                            "rows_per_s": batch / mine[batch]})
            timings = [(name, times[batch]) for name, times in measured.items()]
            timings += [(name, timed(fn, rows, batch)) for name, fn in peers]
            for name, seconds in timings:
                ratio = seconds / mine[batch]
                print(f"{'':9} {'':6} {name:16} {seconds * 1e6:10.3f} {batch / seconds:13.0f} {ratio:16.2f}x")
                results.append({"model": kind, "batch": batch, "engine": name, "us_per_call": seconds * 1e6,
                                "rows_per_s": batch / seconds, "streamscore_speedup": ratio})
    print("(py): timed through Python, the call overhead included; the others natively (peer_harness.c)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
