#!/usr/bin/env python3
"""Export a fitted scikit-learn classifier to StreamScore's native JSON model format.

Supported: LogisticRegression and MLPClassifier, alone or as the last step of a Pipeline
whose other steps are StandardScaler (folded into the first layer's weights, so the
worker scores raw features). Binary classifiers have one output, the probability of the
positive class; multi-class ones one probability per class (softmax), with the class
labels in "classes" (a multinomial LogisticRegression; the one-vs-rest liblinear solver
is refused, its probabilities are not a softmax).

  from export_sklearn import export
  export(fitted, "model.json", name="fraud", version="3", inputs=["amount", ...])

or from the shell, with a pickled estimator:
  python3 scripts/export_sklearn.py model.pkl model.json --name fraud --version 3

Format (format_version 1):
  {"format_version": 1, "kind": "logistic", "name", "version", "inputs"?,
   "weights": [w0, ...], "bias": b}
  {"format_version": 1, "kind": "logistic", "name", "version", "inputs"?, "classes",
   "weights": [[...in...] per class], "bias": [b per class]}           (multi-class)
  {"format_version": 1, "kind": "mlp", "name", "version", "inputs"?, "classes"?,
   "layers": [{"weights": [[...in...] per output unit], "bias": [...], "activation":
               "relu" | "tanh" | "logistic" | "identity" | "softmax"}, ...]}
  A binary MLP's last layer has one unit ("logistic": the probability); a multi-class
  one ends in a "softmax" layer with one unit per class.
"""
import json
import sys


def _unwrap(estimator):
    """Returns (mean, scale, model): the folded affine input transform and the model."""
    import numpy as np
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = estimator.steps if isinstance(estimator, Pipeline) else [("model", estimator)]
    model = steps[-1][1]
    mean, scale = None, None
    for _, step in steps[:-1]:
        if not isinstance(step, StandardScaler):
            raise ValueError(f"cannot fold pipeline step {type(step).__name__}; only StandardScaler")
        m = step.mean_ if step.with_mean else np.zeros(step.n_features_in_)
        s = step.scale_ if step.with_std else np.ones(step.n_features_in_)
        # Compose: x -> (x - mean)/scale, applied after any earlier scaler.
        if mean is None:
            mean, scale = m, s
        else:
            mean, scale = mean + m * scale, scale * s
    return mean, scale, model


def _fold(weights_in_by_out, bias, mean, scale):
    """Folds (x - mean)/scale into a first layer given as [in][out] weights."""
    import numpy as np
    W = np.asarray(weights_in_by_out, dtype=np.float64)
    b = np.asarray(bias, dtype=np.float64)
    if mean is None:
        return W, b
    W2 = W / scale[:, None]
    b2 = b - (mean / scale) @ W
    return W2, b2


def to_native(estimator, name, version, inputs=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    mean, scale, model = _unwrap(estimator)
    classes = [str(c) for c in getattr(model, "classes_", [])]
    if len(classes) < 2:
        raise ValueError(f"a classifier with at least 2 classes is needed (found {len(classes)})")
    multi = len(classes) > 2
    doc = {"format_version": 1, "name": name, "version": str(version)}
    if inputs is not None:
        doc["inputs"] = list(inputs)
    if multi:
        doc["classes"] = classes
    if isinstance(model, LogisticRegression):
        if multi and model.solver == "liblinear":
            raise ValueError("the liblinear solver is one-vs-rest; export a multinomial LogisticRegression (lbfgs, saga, ...)")
        W, b = _fold(model.coef_.T, model.intercept_, mean, scale)
        if multi:
            doc.update({"kind": "logistic", "weights": W.T.tolist(), "bias": list(map(float, b))})
        else:
            doc.update({"kind": "logistic", "weights": W[:, 0].tolist(), "bias": float(b[0])})
    elif isinstance(model, MLPClassifier):
        expected = "softmax" if multi else "logistic"
        if model.out_activation_ != expected:
            raise ValueError(f"unsupported output activation {model.out_activation_} (expected {expected})")
        layers = []
        for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
            if i == 0:
                W, b = _fold(W, b, mean, scale)
            last = i == len(model.coefs_) - 1
            layers.append({"weights": W.T.tolist(), "bias": list(map(float, b)),
                           "activation": expected if last else model.activation})
        doc.update({"kind": "mlp", "layers": layers})
    else:
        raise ValueError(f"unsupported estimator {type(model).__name__}")
    return doc


def export(estimator, path, name, version, inputs=None):
    with open(path, "w") as f:
        json.dump(to_native(estimator, name, version, inputs), f)
        f.write("\n")


if __name__ == "__main__":
    import argparse
    import pickle

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pickle", help="pickled fitted estimator")
    parser.add_argument("output", help="native JSON model to write")
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--inputs", help="comma-separated input names, in order")
    args = parser.parse_args()
    with open(args.pickle, "rb") as f:
        estimator = pickle.load(f)
    export(estimator, args.output, args.name, args.version, args.inputs.split(",") if args.inputs else None)
    sys.exit(0)
