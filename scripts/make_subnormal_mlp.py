#!/usr/bin/env python3
"""Writes an MLP some of whose hidden units underflowed to subnormal floats, and its twin
with them at zero, from Models/bench/fraud-mlp.json (for `streamscore bench model`,
BENCHMARKS.md "Subnormal weights").

A network trained with weight decay, or exported through float32, can carry weights below
float32's smallest normal (~1.18e-38). A unit whose incoming weights and bias all did
computes subnormal results, and x86 takes a microcode assist for each. Here every third
unit of each hidden layer gets its weights and bias × 1e-38 (subnormal: as good as zero
for the scores), so the two files score alike.

    python3 scripts/make_subnormal_mlp.py [OUT_DIR]   # default .build/bench-models
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / ".build" / "bench-models"
out.mkdir(parents=True, exist_ok=True)
model = json.loads((root / "Models" / "bench" / "fraud-mlp.json").read_text())

def variant(scale, suffix):
    m = json.loads(json.dumps(model))
    m["name"] = model["name"] + suffix
    units = 0
    for layer in m["layers"][:-1]:
        for o, row in enumerate(layer["weights"]):
            if o % 3 == 0:
                layer["weights"][o] = [w * scale for w in row]
                layer["bias"][o] *= scale
                units += 1
    path = out / f"fraud-mlp{suffix}.json"
    path.write_text(json.dumps(m))
    print(f"{path}: {units} hidden units {'subnormal' if scale else 'zero'}")

variant(1e-38, "-subnormal")
variant(0.0, "-flushed")
