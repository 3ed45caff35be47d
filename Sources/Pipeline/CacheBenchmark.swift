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
/// `batchRows` as the pipeline would (`DecodeWorker`): without key fields, as a worker
/// without a cache decodes, and with them. A timed run is one pass over every batch with a
/// fresh cache, so hits come only from keys seen earlier in the pass, as in a drain. The
/// two sides of each comparison alternate chunk by chunk; each figure is a step's fastest
/// run of `runs` (these are CPU-bound loops: interference only adds time).
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
    public var runs = 9
    public var cache = ScoreCache.Configuration()

    public init(model: any Model, spec: FeatureSpec) {
        self.model = model
        self.spec = spec
    }

    public func measure(repeatRatio: Double) throws -> Result {
        // Without a cache the worker's spec has no key fields, so its decoder makes no key.
        var keyless = spec
        keyless.keyFields = []
        let (decoder, keylessDecoder) = (try EventDecoder(spec: spec), try EventDecoder(spec: keyless))
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
        let plain = DecodeWorker(decoder: keylessDecoder, intake: intake, cacheKeys: false, passthrough: false, stats: stats)
        let keyed = DecodeWorker(decoder: decoder, intake: intake, cacheKeys: true, passthrough: false, stats: stats)

        let batches = chunks.map { keyed.decode($0) }
        guard batches.allSatisfy({ $0.rows.count == $0.records.count * model.inputCount }) else {
            throw PipelineError.modelMismatch("the benchmark's events do not all decode into \(model.inputCount)-input rows with this feature spec")
        }
        var scores = [Float](repeating: 0, count: batchRows * model.outputCount)
        var cached = [Bool](repeating: false, count: batchRows)
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        func freshScoring() -> CachedScoring {
            CachedScoring(configuration: cache, model: model.identity, featureSpec: "bench", writeback: nil, stats: PipelineStats(), logger: logger)
        }
        var scoring = freshScoring()
        // The two sides of each comparison take turns chunk by chunk, batch by batch, so
        // they see the same machine; a run's total per step, the fastest of the runs.
        let clock = ContinuousClock()
        var fastest = [Double](repeating: .infinity, count: 4)
        for run in 0...runs {
            var total = [Duration](repeating: .zero, count: 4)
            for c in chunks {
                let t0 = clock.now
                _ = plain.decode(c)
                let t1 = clock.now
                _ = keyed.decode(c)
                let t2 = clock.now
                total[0] += t1 - t0
                total[1] += t2 - t1
            }
            scoring = freshScoring()  // each pass starts empty, as a drain does
            for b in batches {
                let t0 = clock.now
                b.rows.withUnsafeBufferPointer { input in
                    scores.withUnsafeMutableBufferPointer { model.score(rows: input, rowCount: b.records.count, into: $0) }
                }
                let t1 = clock.now
                for r in 0..<b.records.count { scoring.gather(row: r, of: b, token: b.tokens[r]) }
                scoring.score(model: model, rows: b.rows, rowCount: b.records.count, scores: &scores, cached: &cached)
                let t2 = clock.now
                total[2] += t1 - t0
                total[3] += t2 - t1
            }
            // Run 0 warms up.
            if run > 0 { fastest = zip(fastest, total).map { min($0, $1.inSeconds * 1e9 / Double(events)) } }
        }
        let counted = scoring.stats
        return Result(
            repeatRatio: repeatRatio,
            decodeNanos: fastest[0], decodeWithKeyNanos: fastest[1], modelNanos: fastest[2], cachedNanos: fastest[3],
            batchDuplicates: counted.cacheBatchDuplicates.load(ordering: .relaxed),
            hits: counted.cacheHits.load(ordering: .relaxed), misses: counted.cacheMisses.load(ordering: .relaxed))
    }
}
