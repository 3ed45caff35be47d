@testable import streamscore
import Testing

/// How `bench e2e` lays out its runs: rounds of drains, and the median it reports.
@Suite("End-to-end benchmark plan")
struct E2EPlanTests {
    static func measurement(_ eventsPerSecond: Double, complete: Bool = true) -> E2ERunner.Measurement {
        var m = E2ERunner.Measurement(expected: 1_001)
        m.meter.records = 1_001
        m.meter.firstArrival = 0
        m.meter.lastArrival = Int64(1_000 / eventsPerSecond * 1e6)
        m.complete = complete
        return m
    }

    /// A drain row of `subject` whose rounds ran at `rounds` events/s (its median round kept).
    static func drainRow(_ subject: E2EPlan.Subject, repeats: Double = 0.9, _ rounds: [Double]) -> E2EReport.Row {
        var m = E2EBench.median(rounds.map { measurement($0) })
        m.roundRates = rounds
        return E2EReport.Row(mode: "drain", subject: subject, repeatRatio: repeats, measurement: m)
    }

    @Test("Each round of a drain writes to its own output topic, and the broker is told of every one")
    func roundsHaveTheirOwnOutputs() {
        let model = E2EPlan.Model(name: "mlp", path: "m.json", onnxPath: "m.onnx")
        let plan = E2EPlan(
            models: [model], caches: [.off, .local], repeats: [0.9], batches: [.init(maxRows: 256, maxWaitMs: 2)], rates: [0.5],
            kcat: false, peer: false, rounds: 3)
        #expect(plan.drains.count == 3, "passthrough and two cache modes")
        #expect(plan.drains.allSatisfy { $0.outputs.count == 3 })
        let outputs = plan.drains.flatMap(\.outputs) + plan.rateRuns.map(\.output)
        #expect(Set(outputs).count == outputs.count, "no two runs share an output topic")
        let topics = Set(plan.topics(ratePartitions: 8).map(\.name))
        #expect(Set(outputs).isSubset(of: topics))
    }

    @Test("The report keeps the median round, with every round's rate; one incomplete round marks the drain incomplete")
    func median() {
        let rates = [90_000.0, 120_000, 100_000, 80_000, 110_000]
        let m = E2EBench.median(rates.map { Self.measurement($0) })
        #expect(abs(m.meter.eventsPerSecond - 100_000) < 1)
        #expect(m.roundRates.count == 5 && m.complete)
        let even = E2EBench.median([110_000.0, 90_000, 100_000, 120_000].map { Self.measurement($0) })
        #expect(abs(even.meter.eventsPerSecond - 100_000) < 1, "the lower middle of an even count")
        let broken = E2EBench.median([Self.measurement(100_000), Self.measurement(90_000, complete: false), Self.measurement(95_000)])
        #expect(!broken.complete)
        #expect(E2EBench.median([Self.measurement(70_000)]).roundRates.isEmpty, "one round: no range")
    }

    @Test("Each cached drain is compared with its uncached twin round by round: same model, repeats and batch")
    func cachePairs() {
        let mlp = E2EPlan.Model(name: "mlp", path: "m.json", onnxPath: "m.onnx")
        let trees = E2EPlan.Model(name: "xgboost", path: "x.json", onnxPath: "x.onnx")
        let batch = E2EPlan.Batch(maxRows: 256, maxWaitMs: 2)
        func drain(_ model: E2EPlan.Model, _ cache: E2EPlan.Cache, _ repeats: Double, _ rounds: [Double]) -> E2EReport.Row {
            Self.drainRow(.streamscore(model: model, cache: cache, batch: batch), repeats: repeats, rounds)
        }
        var report = E2EReport(events: 1_001, partitions: 4, ratePartitions: 4)
        report.rows = [
            drain(mlp, .off, 0.9, [100, 80, 120]),
            drain(mlp, .local, 0.9, [110, 76, 132]),  // 1.10, 0.95, 1.10
            drain(mlp, .off, 0, [100, 100, 100]),
            drain(mlp, .redis, 0, [50, 60, 70]),
            drain(trees, .local, 0.9, [200, 200, 200]),  // no uncached xgboost drain: no pair
            drain(mlp, .redis, 0.5, [90, 90, 90]),  // no uncached drain at 50%: no pair
        ]
        let pairs = report.cachePairs
        #expect(pairs.map(\.row) == [1, 3])
        #expect(pairs[0].ratios.map { ($0 * 100).rounded() } == [110, 95, 110])
        #expect(pairs[0].faster == 2 && abs(pairs[0].median - 1.1) < 1e-9)
        #expect(pairs[1].faster == 0 && abs(pairs[1].median - 0.6) < 1e-9)
        #expect(report.table.contains("faster in"))
        #expect(report.json.contains("rounds_x_cache_off"))
    }

    @Test("Each exactly-once drain is compared with its at-least-once twin round by round; the plan crosses deliveries with caches")
    func deliveryPairs() {
        let mlp = E2EPlan.Model(name: "mlp", path: "m.json", onnxPath: "m.onnx")
        let batch = E2EPlan.Batch(maxRows: 256, maxWaitMs: 2)
        func drain(_ cache: E2EPlan.Cache, _ delivery: E2EPlan.Delivery, _ rounds: [Double]) -> E2EReport.Row {
            Self.drainRow(.streamscore(model: mlp, cache: cache, batch: batch, delivery: delivery), rounds)
        }
        var report = E2EReport(events: 1_001, partitions: 4, ratePartitions: 4)
        report.rows = [
            drain(.off, .atLeastOnce, [100, 80, 120]),
            drain(.off, .exactlyOnce(intervalMs: 100), [80, 72, 96]),  // 0.8, 0.9, 0.8
            drain(.local, .exactlyOnce(intervalMs: 25), [50, 50, 50]),  // no at-least-once drain with the local cache: no pair
        ]
        let pairs = report.deliveryPairs
        #expect(pairs.map(\.row) == [1])
        #expect(abs(pairs[0].median - 0.8) < 1e-9 && pairs[0].faster == 0)
        #expect(report.cachePairs.isEmpty, "a cached drain pairs with the uncached drain of the same delivery only")
        #expect(report.table.contains("Exactly-once against at-least-once") && report.table.contains("eos/100ms"))
        #expect(report.json.contains("rounds_x_at_least_once"))

        let plan = E2EPlan(
            models: [mlp], caches: [.off, .local], repeats: [0.9], batches: [batch], rates: [0.5], kcat: false, peer: false,
            deliveries: [.atLeastOnce, .exactlyOnce(intervalMs: 100)])
        let subjects = plan.drains.compactMap { d -> String? in
            if case .streamscore(_, let c, _, let delivery, _) = d.subject { return "\(c.rawValue)/\(delivery)" }
            return nil
        }
        #expect(subjects == ["off/alo", "off/eos/100ms", "local/alo", "local/eos/100ms"])
        #expect(plan.rateRuns.count == 5, "passthrough and every StreamScore drain get their rate runs")
    }

    @Test("Each drain with metrics is compared with its twin without them round by round; the plan crosses metrics with deliveries")
    func metricsPairs() {
        let xgb = E2EPlan.Model(name: "xgboost", path: "x.json", onnxPath: "x.onnx")
        let batch = E2EPlan.Batch(maxRows: 256, maxWaitMs: 2)
        func drain(_ metrics: Bool, _ rounds: [Double]) -> E2EReport.Row {
            Self.drainRow(.streamscore(model: xgb, cache: .off, batch: batch, metrics: metrics), rounds)
        }
        var report = E2EReport(events: 1_001, partitions: 4, ratePartitions: 4)
        report.rows = [drain(true, [99, 100, 97]), drain(false, [100, 100, 100])]
        let pairs = report.metricsPairs
        #expect(pairs.map(\.row) == [0])
        #expect(abs(pairs[0].median - 0.99) < 1e-9 && pairs[0].faster == 0)
        #expect(report.deliveryPairs.isEmpty && report.cachePairs.isEmpty)
        #expect(report.table.contains("Metrics served against no metrics"))
        #expect(report.json.contains("rounds_x_metrics_off"))

        let plan = E2EPlan(
            models: [xgb], caches: [.off], repeats: [0.9], batches: [batch], rates: [], kcat: false, peer: false,
            deliveries: [.atLeastOnce, .exactlyOnce(intervalMs: 100)], metrics: [true, false])
        let subjects = plan.drains.compactMap { d -> String? in
            if case .streamscore(_, _, _, let delivery, let metrics) = d.subject { return "\(delivery)/\(metrics ? "on" : "off")" }
            return nil
        }
        #expect(subjects == ["alo/on", "alo/off", "eos/100ms/on", "eos/100ms/off"])
    }

    @Test("Rounds alternate the drains' order, so no configuration always follows another")
    func alternatingOrder() {
        #expect(E2EBench.order(round: 0, count: 3) == [0, 1, 2])
        #expect(E2EBench.order(round: 1, count: 3) == [2, 1, 0])
        #expect(E2EBench.order(round: 2, count: 3) == [0, 1, 2])
    }

    @Test("CPU per event by thread: kinds grouped from kernel names, µs per output, the rest as other")
    func threadTable() {
        #expect(ThreadKind.of("worker.3") == "workers" && ThreadKind.of("rdk:broker2") == "rdk:broker" && ThreadKind.of("NIO-ELT-0-#1") == "http")
        #expect(ThreadKind.of("batcher") == "batcher")
        var m = Self.measurement(1_000)
        m.meter.records = 1_000_000
        m.threadCPUSeconds = ["batcher": 6, "workers": 1.6, "rdk:broker": 3, "streamscore": 0.4]
        var report = E2EReport(events: 1_000_000, partitions: 4, ratePartitions: 4)
        report.rows = [E2EReport.Row(mode: "drain", subject: .passthrough(batch: .init(maxRows: 256, maxWaitMs: 2)), repeatRatio: 0, measurement: m)]
        let table = report.threadTable
        let lines = table.split(separator: "\n")
        #expect(lines.count == 3)
        let header = lines[1].split(separator: " ")
        #expect(header.contains("batcher") && header.contains("workers") && header.contains("rdk:broker") && !header.contains("streamscore"))
        let cells = lines[2].split(separator: " ")
        #expect(cells.contains("6.00") && cells.contains("1.60") && cells.contains("3.00") && cells.contains("0.40") && cells.contains("11.00"),
                "µs per event: \(lines[2])")
        #expect(report.json.contains("thread_cpu_us_per_event"))
        report.backlogLingerMs = 5
        #expect(report.table.hasPrefix("Drain: 1000000 preloaded events, 4 partitions, written with linger.ms 5"))
        #expect(report.json.contains("\"backlog_linger_ms\" : 5"))
    }

    @Test("With kcat, each StreamScore rate run has the kcat pipe beside it at the same rate, and the report divides their p99")
    func kcatBesideRateRuns() {
        let xgb = E2EPlan.Model(name: "xgboost", path: "x.json", onnxPath: "x.onnx")
        let batch = E2EPlan.Batch(maxRows: 256, maxWaitMs: 2)
        let plan = E2EPlan(models: [xgb], caches: [.off], repeats: [0.9], batches: [batch], rates: [0.5], kcat: true, peer: false)
        let kinds = plan.rateRuns.map { run -> String in
            if case .kcat? = run.subject { return "kcat@\(run.drain)" }
            return "\(plan.drains[run.drain].subject.label)@\(run.drain)"
        }
        let scored = plan.drains.firstIndex { if case .streamscore = $0.subject { true } else { false } }!
        #expect(kinds == ["passthrough@0", "streamscore@\(scored)", "kcat@\(scored)"])
        #expect(Set(plan.rateRuns.map(\.input)).count == 3, "each rate run has its own input")

        func rate(_ subject: E2EPlan.Subject, p99: UInt64, target: Double) -> E2EReport.Row {
            var m = Self.measurement(1_000)
            m.targetRate = target
            _ = m.meter.latency.record(p99 * 1000)
            return E2EReport.Row(mode: "rate", subject: subject, repeatRatio: 0.9, measurement: m)
        }
        var report = E2EReport(events: 1_001, partitions: 4, ratePartitions: 4)
        report.rows = [rate(.streamscore(model: xgb, cache: .off, batch: batch), p99: 60, target: 50_000), rate(.kcat, p99: 40, target: 50_000)]
        #expect(report.kcatBeside(report.rows[0])?.subject.label == "kcat")
        #expect(report.json.contains("\"p99_x_kcat\" : 1.5"))
        #expect(report.table.contains("p99 x kcat"))
    }
}
