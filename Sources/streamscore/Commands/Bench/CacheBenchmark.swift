import Concurrency
import Features
import Inference
import Logging
import ScoreCache
import Workload

/// Times the steps the score cache changes, on one thread, without a broker: what the
/// decode workers spend making keys, and the batcher's scoring step with the in-process
/// tier against the model alone, batch by batch.
///
/// Events are the generator's, at a given repeated-key ratio, decoded in batches of
/// `batchRows` as a decode worker does (`EventDecoder`, then `RowKeys` with a cache):
/// without key fields, as a worker without a cache decodes, and with them. A timed run is one pass over every batch with a
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
    public var cache = ScoreCacheConfiguration()

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
        let values = (0..<events).map { i in generator.next(timestamp: 1_700_000_000_000 + Int64(i)).value }
        let chunks = stride(from: 0, to: values.count, by: batchRows).map { Array(values[$0..<min($0 + batchRows, values.count)]) }
        let batches = try chunks.map { chunk in
            let decoded = Self.decode(chunk, decoder: decoder, keys: true)
            guard decoded.rowCount == chunk.count else {
                throw BenchmarkError.rows("the benchmark's events do not all decode into \(model.inputCount)-input rows with this feature spec")
            }
            return decoded
        }
        var scores = [Float](repeating: 0, count: batchRows * model.outputCount)
        var cached = [Bool](repeating: false, count: batchRows)
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let namespace = CacheNamespace(model: model.identity, hash: "bench")
        var stats = CacheStats()
        func freshScoring() -> CachedScoring<Batch> {
            stats = CacheStats()
            return CachedScoring(configuration: cache, namespace: namespace, writeback: nil, stats: stats, logger: logger)
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
                _ = Self.decode(c, decoder: keylessDecoder, keys: false)
                let t1 = clock.now
                _ = Self.decode(c, decoder: decoder, keys: true)
                let t2 = clock.now
                total[0] += t1 - t0
                total[1] += t2 - t1
            }
            scoring = freshScoring()  // each pass starts empty, as a drain does
            for b in batches {
                let t0 = clock.now
                b.rows.withUnsafeBufferPointer { input in
                    scores.withUnsafeMutableBufferPointer { model.score(rows: input, rowCount: b.rowCount, into: $0) }
                }
                let t1 = clock.now
                for r in 0..<b.rowCount { scoring.gather(row: r, of: b.keys, token: UInt64(r)) }
                _ = scoring.score(b, model: model, scores: &scores, cached: &cached)
                let t2 = clock.now
                total[2] += t1 - t0
                total[3] += t2 - t1
            }
            // Run 0 warms up.
            if run > 0 { fastest = zip(fastest, total).map { min($0, $1.inSeconds * 1e9 / Double(events)) } }
        }
        let counted = stats
        return Result(
            repeatRatio: repeatRatio,
            decodeNanos: fastest[0], decodeWithKeyNanos: fastest[1], modelNanos: fastest[2], cachedNanos: fastest[3],
            batchDuplicates: counted.batchDuplicates.load(ordering: .relaxed),
            hits: counted.hits.load(ordering: .relaxed), misses: counted.misses.load(ordering: .relaxed))
    }

    /// A decoded batch: its rows and, with a cache, their keys.
    struct Batch: CacheableBatch {
        var rows: [Float]
        var rowCount: Int
        var keys: RowKeys
    }

    enum BenchmarkError: Error, CustomStringConvertible {
        case rows(String)
        var description: String { switch self { case .rows(let message): message } }
    }

    /// Decodes `values` as a decode worker does: each into a row, and with `keys` the row's
    /// cache key (the key fields' text, or without them a hash of the row).
    static func decode(_ values: [[UInt8]], decoder: EventDecoder, keys makeKeys: Bool) -> Batch {
        let width = decoder.inputCount
        var rows = [Float](repeating: 0, count: values.count * width)
        var scratch = EventDecoder.Scratch(for: decoder)
        var keys = RowKeys()
        let hashRow = decoder.spec.keyFields.isEmpty
        var rowCount = 0
        rows.withUnsafeMutableBufferPointer { buffer in
            for value in values {
                let row = UnsafeMutableBufferPointer(rebasing: buffer[(rowCount * width)..<((rowCount + 1) * width)])
                guard case .success = value.withUnsafeBytes({ decoder.decode($0, into: row, scratch: &scratch) }) else { continue }
                if makeKeys { keys.append(row: UnsafeBufferPointer(row), fields: scratch.key, hashRow: hashRow) }
                rowCount += 1
            }
        }
        return Batch(rows: rows, rowCount: rowCount, keys: keys)
    }
}
