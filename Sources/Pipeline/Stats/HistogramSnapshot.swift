/// A Prometheus histogram's state, for the two the hot path feeds once per record (the
/// event age, the scores): recorded without swift-metrics (a lock and a bucket scan per
/// record cost the drain rate measurably), read at scrape time, written out by the
/// executable beside swift-prometheus' registry.
public struct HistogramSnapshot: Sendable, Equatable {
    /// The family's name (`MetricCatalog` has its help text and bounds).
    public var name: String
    /// Upper bounds, ascending (the `le` labels; +Inf is implied).
    public var bounds: [Double]
    /// Observations at or below each bound (cumulative, as Prometheus counts them).
    public var cumulativeCounts: [UInt64]
    public var count: UInt64
    public var sum: Double
}

/// Scores by bucket, counted by one thread (the batcher, into a batch-local copy) and
/// merged into the shared total once per batch.
struct ScoreCounts: Sendable {
    static let bounds = MetricCatalog.entries[MetricCatalog.score]!.buckets!
    /// The bounds as the scores are (a score of 0.05 as a `Float` is at or below `le="0.05"`).
    private static let floatBounds = bounds.map { Float($0) }

    /// Observations per bucket, not cumulative; the last is +Inf.
    private(set) var counts = [UInt64](repeating: 0, count: ScoreCounts.bounds.count + 1)
    private(set) var sum: Double = 0

    var isEmpty: Bool { counts.allSatisfy { $0 == 0 } }

    mutating func add(_ score: Float) {
        var i = 0
        while i < Self.floatBounds.count && score > Self.floatBounds[i] { i += 1 }
        counts[i] += 1
        sum += Double(score)
    }

    mutating func merge(_ other: ScoreCounts) {
        for i in counts.indices { counts[i] += other.counts[i] }
        sum += other.sum
    }

    mutating func removeAll() {
        for i in counts.indices { counts[i] = 0 }
        sum = 0
    }

    var snapshot: HistogramSnapshot {
        var cumulative: [UInt64] = []
        var running: UInt64 = 0
        for c in counts.dropLast() {
            running += c
            cumulative.append(running)
        }
        return HistogramSnapshot(
            name: MetricCatalog.score, bounds: Self.bounds, cumulativeCounts: cumulative, count: running + counts.last!, sum: sum)
    }
}
