import Features
import Inference
import KafkaBridge
import Logging
import RedisBridge

/// Times the steps the score cache changes, on one thread, without a broker: what the
/// decode workers spend making keys, and the batcher's scoring step with the in-process
/// tier against the model alone, batch by batch.
///
/// Events are the generator's, at a given repeated-key ratio, decoded in batches of
/// `batchRows` as the pipeline would (`DecodeWorker`). A timed run is one pass over every
/// batch with a fresh cache, so hits come only from keys seen earlier in the pass, as in a
/// drain. Each figure is the fastest of `runs` runs, the steps taking turns.
public struct CacheBenchmark {
    public struct Result: Sendable {
        public var repeatRatio: Double
        /// Decoding, per event: without keys, and with keys and their fingerprints.
        public var decodeNanos: Double
        public var decodeWithKeyNanos: Double
        /// The batcher's scoring step, per event: the model alone, and the cache step with the
        /// model scoring only the misses.
        public var modelNanos: Double
        public var cachedNanos: Double
        /// Of all events: in-batch repeats, hits (earlier batches) and misses (scored).
        public var batchDuplicates: Int
        public var hits: Int
        public var misses: Int

        /// What the cache costs (negative: saves) per event, keys included.
        public var netNanos: Double { (decodeWithKeyNanos - decodeNanos) + (cachedNanos - modelNanos) }
    }

    public let model: any Model
    public let spec: FeatureSpec
    public var events = 100_000
    public var batchRows = 256
    public var runs = 7
    public var cache = ScoreCache.Configuration()

    public init(model: any Model, spec: FeatureSpec) {
        self.model = model
        self.spec = spec
    }

    public func measure(repeatRatio: Double) throws -> Result {
        let decoder = try EventDecoder(spec: spec)
        var generator = TransactionGenerator(seed: 7, repeatRatio: repeatRatio, fraudRatio: 0.01)
        let records = (0..<events).map { i in
            let e = generator.next(timestamp: 1_700_000_000_000 + Int64(i))
            return KafkaRecord(topic: "bench", partition: 0, offset: Int64(i), timestamp: -1, key: e.key, value: e.value)
        }
        let chunks = stride(from: 0, to: records.count, by: batchRows).map { start in
            let slice = Array(records[start..<min(start + batchRows, records.count)])
            return FetchedChunk(sequence: UInt64(start), records: slice, tokens: (0..<slice.count).map { UInt64(start + $0) })
        }
        let intake = IntakeQueue(capacity: 1)
        let stats = PipelineStats()
        let plain = DecodeWorker(decoder: decoder, intake: intake, cacheKeys: false, passthrough: false, stats: stats)
        let keyed = DecodeWorker(decoder: decoder, intake: intake, cacheKeys: true, passthrough: false, stats: stats)

        let batches = chunks.map { keyed.decode($0) }
        guard batches.allSatisfy({ $0.rows.count == $0.records.count * model.inputCount }) else {
            throw PipelineError.modelMismatch("the benchmark's events do not all decode into \(model.inputCount)-input rows with this feature spec")
        }
        var scores = [Float](repeating: 0, count: batchRows * model.outputCount)
        var cached = [Bool](repeating: false, count: batchRows)
        var scoring: CachedScoring!
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        // The four steps take turns, run after run, so that they see the same machine.
        let steps: [(before: () -> Void, body: () -> Void)] = [
            ({}, { for c in chunks { _ = plain.decode(c) } }),
            ({}, { for c in chunks { _ = keyed.decode(c) } }),
            ({}, {
                for b in batches {
                    b.rows.withUnsafeBufferPointer { input in
                        scores.withUnsafeMutableBufferPointer { model.score(rows: input, rowCount: b.records.count, into: $0) }
                    }
                }
            }),
            ({
                scoring = CachedScoring(
                    configuration: cache, model: model.identity, featureSpec: "bench", writeback: nil, stats: PipelineStats(), logger: logger)
            }, {
                for b in batches {
                    scoring.score(
                        model: model, rows: b.rows, rowCount: b.records.count, keyRanges: b.keyRanges, keys: b.keys,
                        fingerprints: b.keyFingerprints, tokens: b.tokens, scores: &scores, cached: &cached)
                }
            }),
        ]
        let fastest = Self.fastest(runs, steps).map { $0 / Double(events) }
        let counted = scoring.stats
        return Result(
            repeatRatio: repeatRatio,
            decodeNanos: fastest[0], decodeWithKeyNanos: fastest[1], modelNanos: fastest[2], cachedNanos: fastest[3],
            batchDuplicates: counted.cacheBatchDuplicates.load(ordering: .relaxed),
            hits: counted.cacheHits.load(ordering: .relaxed), misses: counted.cacheMisses.load(ordering: .relaxed))
    }

    /// Each step's fastest run of `runs` (after one warm-up run each), in nanoseconds; the
    /// steps run in turn, and `before` runs untimed ahead of each body. The fastest run is the
    /// one the machine disturbed least (these are CPU-bound loops; interference only adds).
    static func fastest(_ runs: Int, _ steps: [(before: () -> Void, body: () -> Void)]) -> [Double] {
        let clock = ContinuousClock()
        var best = [Double](repeating: .infinity, count: steps.count)
        for run in 0...max(1, runs) {
            for (i, step) in steps.enumerated() {
                step.before()
                let t = clock.measure(step.body).inSeconds * 1e9
                if run > 0 { best[i] = min(best[i], t) }
            }
        }
        return best
    }
}
