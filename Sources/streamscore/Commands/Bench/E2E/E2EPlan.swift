import Foundation

/// What one `bench e2e` run measures: the configurations, in the order they run, and the
/// topics they need (created up front on the broker).
struct E2EPlan {
    struct Model: Sendable {
        var name: String
        /// The file StreamScore loads, and the same model as ONNX for the Python peer.
        var path: String
        var onnxPath: String
    }

    struct Batch: Sendable, CustomStringConvertible {
        var maxRows: Int
        var maxWaitMs: Int
        var description: String { "\(maxRows)/\(maxWaitMs)ms" }
    }

    enum Cache: String, Sendable {
        case off, local, redis
    }

    /// `delivery.mode`, and the transaction interval of exactly-once.
    enum Delivery: Sendable, Equatable, CustomStringConvertible {
        case atLeastOnce
        case exactlyOnce(intervalMs: Int)

        var description: String {
            switch self {
            case .atLeastOnce: "alo"
            case .exactlyOnce(let ms): "eos/\(ms)ms"
            }
        }
    }

    /// Who drains the input.
    enum Subject: Sendable {
        /// `metrics`: the worker serves `/metrics` (and so records its histograms and reads
        /// librdkafka's statistics); off, it does neither (the cost of metrics, side by side).
        case streamscore(model: Model, cache: Cache, batch: Batch, delivery: Delivery = .atLeastOnce, metrics: Bool = true)
        /// StreamScore with `pipeline.mode: passthrough`: the same bytes out, no decode, no model.
        case passthrough(batch: Batch)
        /// `kcat -C … | kcat -P …`: the client's and broker's own ceiling.
        case kcat
        /// scripts/peer_worker.py: Python, confluent-kafka, ONNX Runtime.
        case peer(model: Model, batch: Batch)

        var label: String {
            switch self {
            case .streamscore: "streamscore"
            case .passthrough: "passthrough"
            case .kcat: "kcat"
            case .peer: "peer"
            }
        }
    }

    /// One drain of a preloaded input (once per round, each into its own output topic),
    /// then (for StreamScore's configurations) rate runs.
    struct Drain: Sendable {
        var subject: Subject
        var repeatRatio: Double
        var input: String
        var outputs: [String]
    }

    struct RateRun: Sendable {
        /// Index into `drains` of the configuration whose drain rate sets this run's rate.
        var drain: Int
        var fraction: Double
        var input: String
        var output: String
        /// Who runs at that rate, when not the drain's own subject: the kcat pipe beside a
        /// StreamScore configuration, at the same rate.
        var subject: Subject? = nil
    }

    var drains: [Drain] = []
    var rateRuns: [RateRun] = []
    let deadLetter = "bench.dlq"

    /// Every drain runs `rounds` times.
    let rounds: Int

    init(
        models: [Model], caches: [Cache], repeats: [Double], batches: [Batch], rates: [Double], kcat: Bool, peer: Bool, rounds: Int = 1,
        deliveries: [Delivery] = [.atLeastOnce], metrics: [Bool] = [true]
    ) {
        self.rounds = rounds
        var outputCount = 0
        func output() -> String {
            outputCount += 1
            return "bench.out.\(outputCount)"
        }
        func outputs() -> [String] { (0..<rounds).map { _ in output() } }
        // Ceilings and peers drain the first input; they do not care about repeats.
        let baseInput = Self.input(repeats[0])
        for batch in batches {
            drains.append(Drain(subject: .passthrough(batch: batch), repeatRatio: repeats[0], input: baseInput, outputs: outputs()))
        }
        if kcat { drains.append(Drain(subject: .kcat, repeatRatio: repeats[0], input: baseInput, outputs: outputs())) }
        for model in models {
            for batch in batches {
                if peer { drains.append(Drain(subject: .peer(model: model, batch: batch), repeatRatio: repeats[0], input: baseInput, outputs: outputs())) }
                for repeatRatio in repeats {
                    for cache in caches {
                        for delivery in deliveries {
                            for served in metrics {
                                drains.append(Drain(
                                    subject: .streamscore(model: model, cache: cache, batch: batch, delivery: delivery, metrics: served),
                                    repeatRatio: repeatRatio, input: Self.input(repeatRatio), outputs: outputs()))
                            }
                        }
                    }
                }
            }
        }
        var rateTopics = 0
        // Rate runs for StreamScore, and for passthrough: the latency floor of the broker
        // and client alone; with kcat, the kcat pipe at each StreamScore rate too.
        for (i, drain) in drains.enumerated() {
            switch drain.subject {
            case .streamscore, .passthrough: break
            case .kcat, .peer: continue
            }
            for fraction in rates {
                rateTopics += 1
                rateRuns.append(RateRun(drain: i, fraction: fraction, input: "bench.rate.\(rateTopics)", output: output()))
                if kcat, case .streamscore = drain.subject {
                    rateTopics += 1
                    rateRuns.append(RateRun(drain: i, fraction: fraction, input: "bench.rate.\(rateTopics)", output: output(), subject: .kcat))
                }
            }
        }
    }

    /// The preloaded input topic for a repeat ratio.
    static func input(_ repeatRatio: Double) -> String { "bench.in.r\(Int((repeatRatio * 100).rounded()))" }

    var preloadedInputs: [(topic: String, repeatRatio: Double)] {
        var seen = Set<String>()
        return drains.compactMap { seen.insert($0.input).inserted ? ($0.input, $0.repeatRatio) : nil }
    }

    /// Every topic, and how many partitions (nil: the backlog's count).
    func topics(ratePartitions: Int) -> [(name: String, partitions: Int?)] {
        (preloadedInputs.map(\.topic) + drains.flatMap(\.outputs) + [deadLetter]).map { ($0, nil) }
            + rateRuns.flatMap { [($0.input, ratePartitions), ($0.output, ratePartitions)] }
    }
}
