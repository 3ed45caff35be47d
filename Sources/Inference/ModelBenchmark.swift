/// Times `Model.score` per batch size: warm-up, then the median of repeated runs.
///
/// Rows are generated once (standard-normal values, deterministic) into a pool that calls
/// walk through batch by batch, so every engine measured side by side sees the same rows
/// and no two successive calls see the same batch. With `threads` > 1 each call splits its
/// batch across that many threads (`ParallelModel`, slices of at least 64 rows).
public struct ModelBenchmark {
    public struct Result: Sendable {
        public var batch: Int
        public var threads: Int
        public var microsecondsPerCall: Double
        public var rowsPerSecond: Double
    }

    public let model: any Model
    /// Each timed run lasts at least this long (calls are repeated within it).
    public var minimumRunTime: Duration = .milliseconds(20)
    /// Timed runs per batch size; the median is reported.
    public var runs = 9

    /// Rows to draw batches from (row-major, `inputCount` per row); nil: generated.
    public var pool: [Float]?

    public init(model: any Model, pool: [Float]? = nil) {
        self.model = model
        self.pool = pool
    }

    /// Deterministic standard-normal-ish rows (sum of uniforms), `count × inputCount`.
    public static func rows(count: Int, inputs: Int, seed: UInt64 = 42) -> [Float] {
        var state = seed
        func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24)
        }
        return (0..<(count * inputs)).map { _ in next() + next() + next() + next() - 2 }
    }

    /// Rows in the pool each call takes its batch from: successive calls score different
    /// rows, so branch predictors cannot learn one batch's paths (which flatters small
    /// batches of tree models several times over).
    public static let poolRows = 1 << 16

    public func measure(batch: Int, threads: Int = 1) -> Result {
        let model: any Model = threads > 1 ? ParallelModel(self.model, threads: threads) : self.model
        let width = model.inputCount
        var input = self.pool ?? Self.rows(count: max(batch, Self.poolRows), inputs: width)
        while input.count < batch * width { input += input }  // a small pool, repeated
        let windows = max(1, input.count / width / batch)
        var output = [Float](repeating: 0, count: batch * model.outputCount)
        let clock = ContinuousClock()
        return input.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { scores in
                // Warm-up, and size the inner loop so one run lasts `minimumRunTime`.
                func call(_ i: Int) {
                    let window = UnsafeBufferPointer(rebasing: rows[((i % windows) * batch * width)...])
                    model.score(rows: window, rowCount: batch, into: scores)
                }
                var calls = 1
                while true {
                    let elapsed = clock.measure { for i in 0..<calls { call(i) } }
                    if elapsed >= minimumRunTime { break }
                    calls *= 2
                }
                var perCall: [Double] = []
                for _ in 0..<runs {
                    let elapsed = clock.measure { for i in 0..<calls { call(i) } }
                    perCall.append(Self.seconds(elapsed) / Double(calls))
                }
                perCall.sort()
                let median = perCall[perCall.count / 2]
                return Result(batch: batch, threads: threads, microsecondsPerCall: median * 1e6, rowsPerSecond: Double(batch) / median)
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
