#!/usr/bin/env python3
"""Writes deploy/grafana/streamscore.json, the StreamScore Grafana dashboard.

The panels are data here (title, what it means, queries), so the dashboard stays
reviewable; edit this file and run it, not the JSON. Every query uses the selector
{job=~"$job", instance=~"$instance"} and only series the worker exports (the deploy
topology test checks each expression against a live Prometheus scraping a real worker).

    python3 scripts/make_dashboard.py
"""
import json
import pathlib

SEL = 'job=~"$job", instance=~"$instance"'
R = "$__rate_interval"

def q(expr, legend):
    return {"expr": expr, "legendFormat": legend}

# (title, description, unit, [queries], width, kind)
ROWS = [
    ("Throughput", [
        ("Events in and out",
         "Records fetched from the input topic, scored outputs acknowledged by the broker (exactly-once: committed), and dead letters, per second. In and out should track each other; a gap that stays open means the worker falls behind (see Lag).",
         "ops", [q(f'sum(rate(streamscore_events_consumed_total{{{SEL}}}[{R}]))', "in"),
                 q(f'sum(rate(streamscore_outputs_total{{{SEL}}}[{R}]))', "scored"),
                 q(f'sum(rate(streamscore_dead_letters_total{{{SEL}}}[{R}]))', "dead letters")], 12, "timeseries"),
        ("Dead letters by reason",
         "Events that could not be scored, per second, by reason (malformed_json, missing_field, wrong_type, too_large, tombstone, non_finite). They are on the dead-letter topic with the original and the error; a new reason or a jump usually means an upstream schema change.",
         "ops", [q(f'sum by (reason) (rate(streamscore_dead_letters_total{{{SEL}}}[{R}]))', "{{reason}}")], 12, "timeseries"),
    ]),
    ("Latency and lag", [
        ("Event age at output (p50, p99)",
         "Output time minus the input record's timestamp: how old a score is when it is published (exactly-once: when its transaction commits). Includes time the event waited in Kafka, so it grows when the worker falls behind.",
         "s", [q(f'histogram_quantile(0.5, sum by (le) (rate(streamscore_event_age_seconds_bucket{{{SEL}}}[{R}])))', "p50"),
               q(f'histogram_quantile(0.99, sum by (le) (rate(streamscore_event_age_seconds_bucket{{{SEL}}}[{R}])))', "p99")], 8, "timeseries"),
        ("Lag (records) per partition",
         "Records between each assigned partition's end and the acknowledged watermark, from librdkafka's statistics (every statistics.interval.ms, 5 s by default). Flat near zero: keeping up. Growing: the input outruns the worker.",
         "short", [q(f'streamscore_consumer_lag{{{SEL}}}', "{{topic}}/{{partition}}")], 8, "timeseries"),
        ("Lag (seconds) per partition",
         "Age of the oldest record fetched and not yet completed, per partition (0 when none is pending). Milliseconds while keeping up; it grows while the worker falls behind or a record is stuck.",
         "s", [q(f'streamscore_consumer_lag_seconds{{{SEL}}}', "{{topic}}/{{partition}}")], 8, "timeseries"),
    ]),
    ("Scores", [
        ("Flag rate",
         "Share of scored events at or above the decision threshold (decision \"flag\"). A sudden change with a steady input rate is drift: of the input, or a model swap.",
         "percentunit", [q(f'sum(rate(streamscore_flagged_total{{{SEL}}}[{R}])) / sum(rate(streamscore_outputs_total{{{SEL}}}[{R}]))', "flagged")], 8, "timeseries"),
        ("Score distribution",
         "Scores sent per second by score bucket (a probability for classifiers). The shape is the model's view of the input; when it moves, the input or the model changed.",
         "short", [q(f'sum by (le) (increase(streamscore_score_bucket{{{SEL}}}[{R}]))', "{{le}}")], 8, "heatmap"),
        ("Score quantiles",
         "Median and 90th percentile score over time: a one-line view of the distribution's drift.",
         "short", [q(f'histogram_quantile(0.5, sum by (le) (rate(streamscore_score_bucket{{{SEL}}}[{R}])))', "p50"),
                   q(f'histogram_quantile(0.9, sum by (le) (rate(streamscore_score_bucket{{{SEL}}}[{R}])))', "p90")], 8, "timeseries"),
    ]),
    ("Where the time goes", [
        ("Stage time",
         "Seconds spent in each stage per second, summed over the threads that run it (1 = one core busy, or one thread waiting, the whole time). batch_wait and queue_wait are waiting, the rest is work; commit is exactly-once's transaction commits.",
         "s", [q(f'sum by (stage) (rate(streamscore_stage_seconds_total{{{SEL}}}[{R}]))', "{{stage}}")], 12, "timeseries"),
        ("Stage step p99",
         "99th percentile duration of one step of each stage: a poll, a decoded chunk, a batch's cache lookup, model call, encoding, producing, a commit.",
         "s", [q(f'histogram_quantile(0.99, sum by (stage, le) (rate(streamscore_stage_duration_seconds_bucket{{{SEL}}}[{R}])))', "{{stage}}")], 12, "timeseries"),
        ("Batch rows",
         "Rows per model call: the mean, and the median from the histogram. Batches fill to batch.max_rows under load and stay small when the stream is light (batch.max_wait_ms ends them).",
         "short", [q(f'sum(rate(streamscore_batch_rows_total{{{SEL}}}[{R}])) / sum(rate(streamscore_batches_total{{{SEL}}}[{R}]))', "mean"),
                   q(f'histogram_quantile(0.5, sum by (le) (rate(streamscore_batch_rows_bucket{{{SEL}}}[{R}])))', "p50")], 8, "timeseries"),
        ("Producer queue",
         "Outputs handed to librdkafka and not yet acknowledged. It rises when the broker is slow to acknowledge; at queue.buffering.max.messages scoring waits (nothing is dropped).",
         "short", [q(f'streamscore_producer_queue_records{{{SEL}}}', "{{instance}}")], 8, "timeseries"),
        ("Pauses and rebalances",
         "Times per minute the consumer paused its partitions because the intake queue was full (back-pressure), and rebalances (partitions assigned, revoked). Frequent rebalances cost throughput and, at-least-once, duplicates.",
         "short", [q(f'sum(increase(streamscore_consumer_pauses_total{{{SEL}}}[1m]))', "pauses"),
                   q(f'sum by (kind) (increase(streamscore_rebalances_total{{{SEL}}}[1m]))', "rebalance {{kind}}")], 8, "timeseries"),
    ]),
    ("Score cache", [
        ("Cache hit ratio",
         "Share of lookups answered by the cache (the in-process tier or Redis). Errors and bypasses are lookups that scored without it.",
         "percentunit", [q(f'sum(rate(streamscore_cache_requests_total{{result="hit", {SEL}}}[{R}])) / sum(rate(streamscore_cache_requests_total{{{SEL}}}[{R}]))', "hit ratio"),
                         q(f'sum(rate(streamscore_cache_local_hits_total{{{SEL}}}[{R}])) / sum(rate(streamscore_cache_requests_total{{{SEL}}}[{R}]))', "in-process tier")], 8, "timeseries"),
        ("Redis round trip p99",
         "99th percentile time of a Redis call (an MGET per batch, the writer's SETs), writing and waiting for the reply. Near the cache's timeout_ms, calls start to fail and count towards the breaker.",
         "s", [q(f'histogram_quantile(0.99, sum by (le) (rate(streamscore_redis_round_trip_seconds_bucket{{{SEL}}}[{R}])))', "p99")], 8, "timeseries"),
        ("Circuit breakers",
         "Redis read and write breakers: 0 closed (using Redis), 1 open (scoring without it after repeated failures), 2 half-open (probing).",
         "short", [q(f'max(streamscore_cache_breaker_state{{{SEL}}})', "read"),
                   q(f'max(streamscore_cache_write_breaker_state{{{SEL}}})', "write")], 8, "timeseries"),
    ]),
    ("Process", [
        ("CPU",
         "CPU seconds per second of each worker process (1 = one core). Divided by the event rate, the cost per event.",
         "short", [q(f'rate(process_cpu_seconds_total{{{SEL}}}[{R}])', "{{instance}}")], 8, "timeseries"),
        ("Resident memory",
         "Resident memory of each worker: the model, librdkafka's bounded buffers, the intake queue and the in-process cache tier.",
         "bytes", [q(f'process_resident_memory_bytes{{{SEL}}}', "{{instance}}")], 8, "timeseries"),
        ("Exactly-once transactions",
         "Transactions committed and aborted per minute (exactly-once mode), and fencings. An abort rewinds and rescores its range: nothing lost or duplicated, time spent.",
         "short", [q(f'sum by (result) (increase(streamscore_transactions_total{{{SEL}}}[1m]))', "{{result}}"),
                   q(f'sum(increase(streamscore_transactions_fenced_total{{{SEL}}}[1m]))', "fenced")], 8, "timeseries"),
    ]),
]


def panel(pid, title, description, unit, targets, x, y, w, kind):
    p = {
        "id": pid, "type": kind, "title": title, "description": description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"x": x, "y": y, "w": w, "h": 8},
        "targets": [dict(t, refId=chr(ord("A") + i), datasource={"type": "prometheus", "uid": "${datasource}"})
                    for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }
    if kind == "heatmap":
        for t in p["targets"]:
            t["format"] = "heatmap"
        p["options"] = {"calculate": False, "yAxis": {"unit": unit}, "cellGap": 1}
    else:
        p["options"] = {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
    return p


def dashboard():
    panels, pid, y = [], 1, 0
    for row_title, row_panels in ROWS:
        panels.append({"id": pid, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
        pid, y, x = pid + 1, y + 1, 0
        for title, description, unit, targets, w, kind in row_panels:
            if x + w > 24:
                x, y = 0, y + 8
            panels.append(panel(pid, title, description, unit, targets, x, y, w, kind))
            pid, x = pid + 1, x + w
        y += 8
    variable = lambda name, label, query, multi: {
        "name": name, "label": label, "type": "query",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "query": {"query": query, "refId": name}, "definition": query,
        "includeAll": True, "multi": multi, "allValue": ".+", "refresh": 2,
        "current": {"selected": True, "text": "All", "value": "$__all"},
    }
    return {
        "title": "StreamScore",
        "uid": "streamscore",
        "description": "A StreamScore worker group: throughput, dead letters, event age, lag, scores, stage times, the score cache and the process. Every panel says what it shows in its description (the i next to its title).",
        "tags": ["streamscore", "kafka"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "editable": True,
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
             "current": {"selected": True, "text": "Prometheus", "value": "prometheus"}},
            variable("job", "Job", "label_values(streamscore_build_info, job)", False),
            variable("instance", "Worker", 'label_values(streamscore_build_info{job=~"$job"}, instance)', True),
        ]},
        "annotations": {"list": []},
        "panels": panels,
    }


if __name__ == "__main__":
    out = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "streamscore.json"
    out.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {out}")
