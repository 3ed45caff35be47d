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
    /// The preloading producer's linger.ms (how the backlog was batched), nil when unknown.
    var backlogLingerMs: Int?

    private static func model(_ s: E2EPlan.Subject) -> String {
        switch s {
        case .streamscore(let m, _, _, _, _), .peer(let m, _): m.name
        case .passthrough, .kcat: "-"
        }
    }

    /// The subject column of the tables: StreamScore without metrics is told apart.
    private static func title(_ s: E2EPlan.Subject) -> String {
        if case .streamscore(_, _, _, _, false) = s { return "no-metrics" }
        return s.label
    }

    private static func cache(_ s: E2EPlan.Subject) -> String {
        if case .streamscore(_, let c, _, _, _) = s { return c.rawValue }
        return "-"
    }

    private static func delivery(_ s: E2EPlan.Subject) -> String {
        if case .streamscore(_, _, _, let d, _) = s { return d.description }
        return "-"
    }

    private static func batch(_ s: E2EPlan.Subject) -> E2EPlan.Batch? {
        switch s {
        case .streamscore(_, _, let b, _, _), .peer(_, let b), .passthrough(let b): b
        case .kcat: nil
        }
    }

    /// A drain against its twin (a cached drain against the uncached one, exactly-once
    /// against at-least-once), everything else equal, round by round: the rounds run
    /// round-robin, so round `i` of the two ran minutes apart at most, on the same machine,
    /// and their ratio cancels most of the drift that spreads each drain's own rounds.
    struct Pair {
        /// The drain's index in `rows`.
        var row: Int
        /// Its round `i` events/s over the twin's round `i` events/s.
        var ratios: [Double]

        var median: Double {
            let sorted = ratios.sorted()
            return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }

        /// Rounds in which the drain was faster than its twin.
        var faster: Int { ratios.filter { $0 > 1 }.count }
    }

    /// Every cached drain that has an uncached twin (same delivery) with as many rounds
    /// (two at least).
    var cachePairs: [Pair] {
        pairs { cache, delivery, metrics in cache == .off ? nil : (.off, delivery, metrics) }
    }

    /// Every exactly-once drain that has an at-least-once twin (same cache) with as many
    /// rounds (two at least).
    var deliveryPairs: [Pair] {
        pairs { cache, delivery, metrics in delivery == .atLeastOnce ? nil : (cache, .atLeastOnce, metrics) }
    }

    /// Every drain with metrics served that has a twin without them (same cache and
    /// delivery) with as many rounds (two at least): what metrics cost the hot path.
    var metricsPairs: [Pair] {
        pairs { cache, delivery, metrics in metrics ? (cache, delivery, false) : nil }
    }

    /// Drains paired with the twin `twin` names (nil: not paired), same model, repeats and batch.
    private func pairs(
        _ twin: (E2EPlan.Cache, E2EPlan.Delivery, Bool) -> (E2EPlan.Cache, E2EPlan.Delivery, Bool)?
    ) -> [Pair] {
        let drains = rows.filter { $0.mode == "drain" }
        return rows.indices.compactMap { i in
            let row = rows[i]
            guard row.mode == "drain", case .streamscore(let model, let cache, let batch, let delivery, let metrics) = row.subject,
                  let (twinCache, twinDelivery, twinMetrics) = twin(cache, delivery, metrics) else { return nil }
            let match = drains.first {
                guard case .streamscore(let m, let c, let b, let d, let served) = $0.subject, c == twinCache, d == twinDelivery,
                      served == twinMetrics else { return false }
                return m.name == model.name && b.maxRows == batch.maxRows && b.maxWaitMs == batch.maxWaitMs && $0.repeatRatio == row.repeatRatio
            }
            guard let base = match?.measurement.roundRates, base.count == row.measurement.roundRates.count, base.count > 1,
                  base.allSatisfy({ $0 > 0 }) else { return nil }
            return Pair(row: i, ratios: zip(row.measurement.roundRates, base).map { $0 / $1 })
        }
    }

    var json: String {
        let pairs = Dictionary(uniqueKeysWithValues: cachePairs.map { ($0.row, $0.ratios) })
        let deliveryPairs = Dictionary(uniqueKeysWithValues: self.deliveryPairs.map { ($0.row, $0.ratios) })
        let metricsPairs = Dictionary(uniqueKeysWithValues: self.metricsPairs.map { ($0.row, $0.ratios) })
        let objects: [[String: Any]] = rows.indices.map { i in
            let row = rows[i]
            let m = row.measurement
            var o: [String: Any] = [
                "mode": row.mode, "subject": row.subject.label, "model": Self.model(row.subject), "cache": Self.cache(row.subject),
                "delivery": Self.delivery(row.subject), "repeat_ratio": row.repeatRatio, "events": m.expected, "outputs": m.meter.records,
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
            if row.mode == "drain", let linger = backlogLingerMs { o["backlog_linger_ms"] = linger }
            if let t = m.targetRate { o["target_events_per_s"] = Self.round(t) }
            if let kcat = kcatBeside(row), kcat.measurement.meter.latencyMilliseconds(percentile: 99) > 0 {
                o["p99_x_kcat"] = Self.round(m.meter.latencyMilliseconds(percentile: 99) / kcat.measurement.meter.latencyMilliseconds(percentile: 99))
            }
            if let p = m.producedRate { o["produced_events_per_s"] = Self.round(p) }
            if !m.stages.isEmpty { o["stage_seconds"] = m.stages.mapValues(Self.round) }
            if m.meter.records > 0, !m.threadCPUSeconds.isEmpty {
                o["thread_cpu_us_per_event"] = m.threadCPUSeconds.mapValues { Self.round($0 / Double(m.meter.records) * 1e6) }
            }
            if !m.cache.isEmpty { o["cache_counters"] = m.cache }
            if !m.roundRates.isEmpty { o["rounds_events_per_s"] = m.roundRates.map(Self.round) }
            if let ratios = pairs[i] { o["rounds_x_cache_off"] = ratios.map { ($0 * 1000).rounded() / 1000 } }
            if let ratios = deliveryPairs[i] { o["rounds_x_at_least_once"] = ratios.map { ($0 * 1000).rounded() / 1000 } }
            if let ratios = metricsPairs[i] { o["rounds_x_metrics_off"] = ratios.map { ($0 * 1000).rounded() / 1000 } }
            if case .streamscore(_, _, _, _, let served) = row.subject { o["metrics"] = served }
            return o
        }
        let data = try! JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// The kcat pipe's rate run at the same target rate as a StreamScore rate run.
    func kcatBeside(_ row: Row) -> Row? {
        guard row.mode == "rate", case .streamscore = row.subject, let target = row.measurement.targetRate else { return nil }
        return rows.first { if case .kcat = $0.subject { $0.mode == "rate" && $0.measurement.targetRate == target } else { false } }
    }

    var table: String {
        let roundCount = rows.map(\.measurement.roundRates.count).max() ?? 0
        var out = "Drain: \(events) preloaded events, \(partitions) partitions"
            + (backlogLingerMs.map { ", written with linger.ms \($0) and batches of up to 10,000" } ?? "")
        out += roundCount > 1 ? "; the median of \(roundCount) rounds, and their range\n" : "\n"
        out += Self.line(
            ["subject", "model", "cache", "delivery", "repeats", "batch", "events/s"] + (roundCount > 1 ? ["range"] : [])
                + ["x pass", "x kcat", "x peer", "CPU s/M", "RSS MiB", "complete"])
        for row in rows where row.mode == "drain" {
            let m = row.measurement
            let range = m.roundRates.isEmpty ? "-" : "\(Self.format(m.roundRates.min()! / 1000, 0))-\(Self.format(m.roundRates.max()! / 1000, 0))k"
            out += Self.line([
                Self.title(row.subject), Self.model(row.subject), Self.cache(row.subject), Self.delivery(row.subject), Self.percent(row.repeatRatio),
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
            out += Self.line(["subject", "model", "cache", "delivery", "repeats", "batch", "target/s", "sent/s", "p50", "p90", "p99", "p99.9", "max", "outputs", "p99 x kcat"])
            for row in rates {
                let m = row.measurement
                let besideKcat = kcatBeside(row).map { Self.ratio(m.meter.latencyMilliseconds(percentile: 99), $0.measurement.meter.latencyMilliseconds(percentile: 99)) }
                out += Self.line([
                    Self.title(row.subject), Self.model(row.subject), Self.cache(row.subject), Self.delivery(row.subject), Self.percent(row.repeatRatio),
                    Self.batch(row.subject)?.description ?? "-", Self.format(m.targetRate ?? 0, 0), Self.format(m.producedRate ?? 0, 0),
                    Self.format(m.meter.latencyMilliseconds(percentile: 50), 1), Self.format(m.meter.latencyMilliseconds(percentile: 90), 1),
                    Self.format(m.meter.latencyMilliseconds(percentile: 99), 1), Self.format(m.meter.latencyMilliseconds(percentile: 99.9), 1),
                    Self.format(m.meter.maxLatencyMilliseconds, 1), m.complete ? "\(m.meter.records)" : "NO (\(m.meter.records)/\(m.expected))",
                    besideKcat ?? "-",
                ])
            }
        }
        for (pairs, title) in [
            (cachePairs, "Score cache against no cache, round by round (events/s with the cache over events/s without, in the same round)"),
            (deliveryPairs, "Exactly-once against at-least-once, round by round (events/s exactly-once over events/s at-least-once, in the same round)"),
            (metricsPairs, "Metrics served against no metrics, round by round (events/s with /metrics, histograms and librdkafka statistics over events/s without, in the same round)"),
        ] where !pairs.isEmpty {
            out += "\n\(title)\n"
            out += Self.line(["model", "cache", "delivery", "repeats", "batch", "median", "range", "faster in"])
            for pair in pairs {
                let row = rows[pair.row]
                out += Self.line([
                    Self.model(row.subject), Self.cache(row.subject), Self.delivery(row.subject), Self.percent(row.repeatRatio),
                    Self.batch(row.subject)?.description ?? "-",
                    Self.format(pair.median, 2) + "x", "\(Self.format(pair.ratios.min()!, 2))-\(Self.format(pair.ratios.max()!, 2))",
                    "\(pair.faster) of \(pair.ratios.count)",
                ])
            }
        }
        let staged = rows.filter { $0.mode == "drain" && !$0.measurement.stages.isEmpty }
        if !staged.isEmpty {
            let stages = ["poll", "decode", "queue_wait", "batch_wait", "cache", "inference", "encode", "produce", "commit"]
            out += "\nWhere the worker's time went while draining (seconds, from streamscore_stage_seconds_total)\n"
            out += Self.line(["subject", "model", "cache", "delivery", "repeats"] + stages)
            for row in staged {
                out += Self.line(
                    [Self.title(row.subject), Self.model(row.subject), Self.cache(row.subject), Self.delivery(row.subject), Self.percent(row.repeatRatio)]
                        + stages.map { Self.format(row.measurement.stages[$0] ?? 0, 2) })
            }
        }
        out += threadTable
        return out
    }

    /// CPU per event by thread kind, for every run (µs: the kind's CPU seconds over the
    /// outputs), the process's whole CPU time included (start-up, the group join, the idle
    /// tail): where a microsecond of the worker's cost goes.
    var threadTable: String {
        let measured = rows.filter { !$0.measurement.threadCPUSeconds.isEmpty && $0.measurement.meter.records > 0 }
        guard !measured.isEmpty else { return "" }
        let shown = ThreadKind.preferredOrder.filter { kind in measured.contains { $0.measurement.threadCPUSeconds[kind] != nil } }
        var out = "\nCPU per event by thread (µs; all the subject's processes, start to stop; other: every other thread)\n"
        out += Self.line(["subject", "mode", "model", "cache", "delivery"] + shown + ["other", "total"])
        for row in measured {
            let m = row.measurement
            let perEvent = 1e6 / Double(m.meter.records)
            let other = m.threadCPUSeconds.filter { !shown.contains($0.key) }.values.reduce(0, +)
            out += Self.line(
                [Self.title(row.subject), row.mode, Self.model(row.subject), Self.cache(row.subject), Self.delivery(row.subject)]
                    + shown.map { Self.format((m.threadCPUSeconds[$0] ?? 0) * perEvent, 2) }
                    + [Self.format(other * perEvent, 2), Self.format(m.threadCPUSeconds.values.reduce(0, +) * perEvent, 2)])
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
