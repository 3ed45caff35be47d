import Foundation

/// The results of one `bench e2e` run: a readable table, or JSON (one object per
/// configuration) for tracking.
struct E2EReport {
    struct Row {
        var mode: String  // "drain" or "rate"
        var subject: E2EPlan.Subject
        var repeatRatio: Double
        var measurement: E2ERunner.Measurement
        var passthrough: Double?
        var kcat: Double?
        var peer: Double?
    }

    var rows: [Row] = []
    var events: Int
    var partitions: Int
    var ratePartitions: Int

    private static func model(_ s: E2EPlan.Subject) -> String {
        switch s {
        case .streamscore(let m, _, _), .peer(let m, _): m.name
        case .passthrough, .kcat: "-"
        }
    }

    private static func cache(_ s: E2EPlan.Subject) -> String {
        if case .streamscore(_, let c, _) = s { return c.rawValue }
        return "-"
    }

    private static func batch(_ s: E2EPlan.Subject) -> E2EPlan.Batch? {
        switch s {
        case .streamscore(_, _, let b), .peer(_, let b), .passthrough(let b): b
        case .kcat: nil
        }
    }

    var json: String {
        let objects: [[String: Any]] = rows.map { row in
            let m = row.measurement
            var o: [String: Any] = [
                "mode": row.mode, "subject": row.subject.label, "model": Self.model(row.subject), "cache": Self.cache(row.subject),
                "repeat_ratio": row.repeatRatio, "events": m.expected, "outputs": m.meter.records,
                "distinct_inputs": m.meter.distinctSources, "complete": m.complete,
                "duplicates": m.meter.withoutSource > 0 ? NSNull() : m.meter.records - m.meter.distinctSources,
                "events_per_s": Self.round(m.meter.eventsPerSecond),
                "passthrough_events_per_s": row.passthrough.map(Self.round) ?? NSNull(),
                "kcat_events_per_s": row.kcat.map(Self.round) ?? NSNull(),
                "peer_events_per_s": row.peer.map(Self.round) ?? NSNull(),
                "latency_count": Int(m.meter.latency.totalCount),
                "p50_ms": m.meter.latencyMilliseconds(percentile: 50), "p90_ms": m.meter.latencyMilliseconds(percentile: 90),
                "p99_ms": m.meter.latencyMilliseconds(percentile: 99), "p999_ms": m.meter.latencyMilliseconds(percentile: 99.9),
                "max_ms": m.meter.maxLatencyMilliseconds,
                "rss_mb": Self.round(m.rssMiB), "cpu_s_per_million": Self.round(Self.cpuPerMillion(m)),
                "partitions": row.mode == "rate" ? ratePartitions : partitions,
            ]
            if let b = Self.batch(row.subject) {
                o["batch_max_rows"] = b.maxRows
                o["batch_max_wait_ms"] = b.maxWaitMs
            }
            if let t = m.targetRate { o["target_events_per_s"] = Self.round(t) }
            if let p = m.producedRate { o["produced_events_per_s"] = Self.round(p) }
            if !m.stages.isEmpty { o["stage_seconds"] = m.stages.mapValues(Self.round) }
            if !m.cache.isEmpty { o["cache_counters"] = m.cache }
            if !m.roundRates.isEmpty { o["rounds_events_per_s"] = m.roundRates.map(Self.round) }
            return o
        }
        let data = try! JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    var table: String {
        let roundCount = rows.map(\.measurement.roundRates.count).max() ?? 0
        var out = "Drain: \(events) preloaded events, \(partitions) partitions"
        out += roundCount > 1 ? "; the median of \(roundCount) rounds, and their range\n" : "\n"
        out += Self.line(
            ["subject", "model", "cache", "repeats", "batch", "events/s"] + (roundCount > 1 ? ["range"] : [])
                + ["x pass", "x kcat", "x peer", "CPU s/M", "RSS MiB", "complete"])
        for row in rows where row.mode == "drain" {
            let m = row.measurement
            let range = m.roundRates.isEmpty ? "-" : "\(Self.format(m.roundRates.min()! / 1000, 0))-\(Self.format(m.roundRates.max()! / 1000, 0))k"
            out += Self.line([
                row.subject.label, Self.model(row.subject), Self.cache(row.subject), Self.percent(row.repeatRatio),
                Self.batch(row.subject)?.description ?? "-", Self.format(m.meter.eventsPerSecond, 0),
            ] + (roundCount > 1 ? [range] : []) + [
                Self.ratio(m.meter.eventsPerSecond, row.passthrough), Self.ratio(m.meter.eventsPerSecond, row.kcat),
                Self.ratio(m.meter.eventsPerSecond, row.peer), Self.format(Self.cpuPerMillion(m), 1), Self.format(m.rssMiB, 0),
                m.complete ? "yes" : "NO (\(m.meter.records)/\(m.expected))",
            ])
        }
        let rates = rows.filter { $0.mode == "rate" }
        if !rates.isEmpty {
            out += "\nRate: end-to-end latency (output arrival - input timestamp), ms; \(ratePartitions) partitions\n"
            out += Self.line(["subject", "model", "cache", "repeats", "batch", "target/s", "sent/s", "p50", "p90", "p99", "p99.9", "max", "outputs"])
            for row in rates {
                let m = row.measurement
                out += Self.line([
                    row.subject.label, Self.model(row.subject), Self.cache(row.subject), Self.percent(row.repeatRatio),
                    Self.batch(row.subject)?.description ?? "-", Self.format(m.targetRate ?? 0, 0), Self.format(m.producedRate ?? 0, 0),
                    Self.format(m.meter.latencyMilliseconds(percentile: 50), 1), Self.format(m.meter.latencyMilliseconds(percentile: 90), 1),
                    Self.format(m.meter.latencyMilliseconds(percentile: 99), 1), Self.format(m.meter.latencyMilliseconds(percentile: 99.9), 1),
                    Self.format(m.meter.maxLatencyMilliseconds, 1), m.complete ? "\(m.meter.records)" : "NO (\(m.meter.records)/\(m.expected))",
                ])
            }
        }
        let staged = rows.filter { $0.mode == "drain" && !$0.measurement.stages.isEmpty }
        if !staged.isEmpty {
            let stages = ["poll", "decode", "queue_wait", "batch_wait", "cache", "inference", "encode", "produce"]
            out += "\nWhere the worker's time went while draining (seconds, from streamscore_stage_seconds_total)\n"
            out += Self.line(["subject", "model", "cache", "repeats"] + stages)
            for row in staged {
                out += Self.line(
                    [row.subject.label, Self.model(row.subject), Self.cache(row.subject), Self.percent(row.repeatRatio)]
                        + stages.map { Self.format(row.measurement.stages[$0] ?? 0, 2) })
            }
        }
        return out
    }

    private static func cpuPerMillion(_ m: E2ERunner.Measurement) -> Double {
        m.meter.records > 0 ? m.cpuSeconds / Double(m.meter.records) * 1e6 : 0
    }

    private static func round(_ x: Double) -> Double { (x * 100).rounded() / 100 }
    private static func format(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    private static func percent(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }
    private static func ratio(_ x: Double, _ base: Double?) -> String {
        guard let base, base > 0 else { return "-" }
        return String(format: "%.2f", x / base)
    }

    private static func line(_ cells: [String]) -> String {
        cells.map { $0.count >= 12 ? $0 + " " : $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined() + "\n"
    }
}
