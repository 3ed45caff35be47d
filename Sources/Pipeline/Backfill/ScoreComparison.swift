import Foundation
import KafkaBridge

/// Two score topics side by side (`streamscore compare`): their records matched by the
/// source event they score (`streamscore.source.topic/partition/offset`), each pair's
/// score difference and decision compared.
///
/// Feed it every record of both sides (`add`), then read `report`. A side may hold an event
/// twice (an at-least-once replay): the copies must agree (else they count as
/// `conflicting`), and the last one is compared.
public struct ScoreComparison: Sendable {
    public enum Side: String, Sendable { case left, right }

    /// The source event a score record is for.
    public struct Source: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var topic: String
        public var partition: Int32
        public var offset: Int64

        public init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }

        public var description: String { "\(topic)[\(partition)]@\(offset)" }
        public static func < (a: Source, b: Source) -> Bool {
            (a.topic, a.partition, a.offset) < (b.topic, b.partition, b.offset)
        }
    }

    /// What a score record says: its score and its decision (`pass`/`flag`, or the class
    /// of a multi-class model).
    public struct Score: Sendable, Equatable {
        public var score: Double
        public var label: String

        public init(score: Double, label: String) {
            self.score = score
            self.label = label
        }
    }

    /// A matched pair.
    public struct Pair: Sendable, Equatable {
        public var source: Source
        public var left: Score
        public var right: Score
        /// right − left.
        public var delta: Double { right.score - left.score }
    }

    /// |Δscore| by decade: `[0, 0]`, `(0, 1e-9]`, `(1e-9, 1e-8]` … `(0.1, 1]`, `> 1`; how many
    /// pairs scored lower on the right and how many higher.
    public struct Bucket: Sendable, Equatable {
        /// The bucket's upper bound of |Δ| (0: exactly equal; .infinity: above 1).
        public var upTo: Double
        public var lower: Int
        public var higher: Int
        public var count: Int { lower + higher }
    }

    public struct Report: Sendable {
        public var tolerance: Double
        public var left: Int
        public var right: Int
        /// Records that failed to parse as scores (no source headers, or a value without a
        /// numeric `score`), per side: not part of any match.
        public var unreadable: [Side: Int]
        /// Extra copies of an event on one side, per side (an at-least-once replay).
        public var duplicates: [Side: Int]
        /// Events whose copies on one side disagree (beyond the tolerance, or in decision).
        public var conflicting: [Side: Int]
        public var matched: Int
        /// Matched pairs within the tolerance and with the same decision.
        public var identical: Int
        public var changed: Int
        /// Decision changes of a binary model: pass on the left, flag on the right, and back.
        public var passToFlag: Int
        public var flagToPass: Int
        /// Other label changes (a multi-class model's class).
        public var otherFlips: Int
        public var onlyLeft: Int
        public var onlyRight: Int
        /// The first few events found on one side only.
        public var onlyLeftSample: [Source]
        public var onlyRightSample: [Source]
        /// The pair with the largest |Δscore| (nil: nothing matched).
        public var largest: Pair?
        public var histogram: [Bucket]
        /// Up to `limit` changed pairs, the largest |Δscore| first.
        public var changes: [Pair]

        public var flips: Int { passToFlag + flagToPass + otherFlips }
        /// Every matched pair within the tolerance, nothing missing on either side, no copies
        /// that disagree.
        public var isIdentical: Bool {
            changed == 0 && onlyLeft == 0 && onlyRight == 0
                && conflicting.values.allSatisfy { $0 == 0 } && unreadable.values.allSatisfy { $0 == 0 }
        }
    }

    public let tolerance: Double
    public let limit: Int
    /// Compare only the source offsets both sides cover: per source partition, from the
    /// larger of the two sides' lowest offsets to the smaller of their highest.
    public let overlapOnly: Bool
    private var sides: [Side: [Source: Score]] = [.left: [:], .right: [:]]
    private var counts: [Side: Int] = [.left: 0, .right: 0]
    private var unreadable: [Side: Int] = [.left: 0, .right: 0]
    private var duplicates: [Side: Int] = [.left: 0, .right: 0]
    private var conflicting: [Side: Int] = [.left: 0, .right: 0]

    public init(tolerance: Double = 1e-6, limit: Int = 0, overlapOnly: Bool = false) {
        self.tolerance = tolerance
        self.limit = limit
        self.overlapOnly = overlapOnly
    }

    /// Adds a record of one side's score topic.
    public mutating func add(_ record: KafkaRecord, to side: Side) {
        guard let (source, score) = Self.parse(record) else {
            unreadable[side, default: 0] += 1
            return
        }
        add(source, score, to: side)
    }

    public mutating func add(_ source: Source, _ score: Score, to side: Side) {
        counts[side, default: 0] += 1
        if let earlier = sides[side]![source] {
            duplicates[side, default: 0] += 1
            if !agree(earlier, score) { conflicting[side, default: 0] += 1 }
        }
        sides[side]![source] = score
    }

    private func agree(_ a: Score, _ b: Score) -> Bool {
        a.label == b.label && abs(a.score - b.score) <= tolerance
    }

    /// A score record's source and score; nil for anything else.
    public static func parse(_ record: KafkaRecord) -> (Source, Score)? {
        var topic: String?, partition: Int32?, offset: Int64?
        for header in record.headers {
            switch header.name {
            case Header.sourceTopic: topic = header.text
            case Header.sourcePartition: partition = Int32(header.text)
            case Header.sourceOffset: offset = Int64(header.text)
            default: break
            }
        }
        guard let topic, let partition, let offset,
              let object = try? JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any],
              let score = (object["score"] as? NSNumber)?.doubleValue
        else { return nil }
        let label = object["decision"] as? String ?? object["class"] as? String ?? ""
        return (Source(topic: topic, partition: partition, offset: offset), Score(score: score, label: label))
    }

    /// Per source partition, the offsets both sides cover.
    private func overlap() -> [TopicPartition: ClosedRange<Int64>] {
        func spans(_ side: Side) -> [TopicPartition: ClosedRange<Int64>] {
            var result: [TopicPartition: ClosedRange<Int64>] = [:]
            for source in sides[side]!.keys {
                let tp = TopicPartition(source.topic, source.partition)
                if let r = result[tp] {
                    result[tp] = min(r.lowerBound, source.offset)...max(r.upperBound, source.offset)
                } else {
                    result[tp] = source.offset...source.offset
                }
            }
            return result
        }
        let (l, r) = (spans(.left), spans(.right))
        var result: [TopicPartition: ClosedRange<Int64>] = [:]
        for (tp, a) in l {
            guard let b = r[tp] else { continue }
            let low = max(a.lowerBound, b.lowerBound), high = min(a.upperBound, b.upperBound)
            if low <= high { result[tp] = low...high }
        }
        return result
    }

    public var report: Report {
        let window = overlapOnly ? overlap() : nil
        func counted(_ source: Source) -> Bool {
            guard let window else { return true }
            return window[TopicPartition(source.topic, source.partition)]?.contains(source.offset) ?? false
        }
        var report = Report(
            tolerance: tolerance, left: counts[.left]!, right: counts[.right]!, unreadable: unreadable,
            duplicates: duplicates, conflicting: conflicting, matched: 0, identical: 0, changed: 0,
            passToFlag: 0, flagToPass: 0, otherFlips: 0, onlyLeft: 0, onlyRight: 0, onlyLeftSample: [],
            onlyRightSample: [], largest: nil, histogram: Self.emptyHistogram(), changes: [])
        let (left, right) = (sides[.left]!, sides[.right]!)
        var changes: [Pair] = []
        for (source, l) in left where counted(source) {
            guard let r = right[source] else {
                report.onlyLeft += 1
                report.onlyLeftSample.append(source)
                continue
            }
            report.matched += 1
            let pair = Pair(source: source, left: l, right: r)
            let size = abs(pair.delta)
            report.histogram[Self.bucket(of: size)].add(pair.delta)
            if report.largest.map({ size > abs($0.delta) || (size == abs($0.delta) && source < $0.source) }) ?? true {
                report.largest = pair
            }
            if l.label != r.label {
                switch (l.label, r.label) {
                case ("pass", "flag"): report.passToFlag += 1
                case ("flag", "pass"): report.flagToPass += 1
                default: report.otherFlips += 1
                }
            }
            if size <= tolerance && l.label == r.label {
                report.identical += 1
            } else {
                report.changed += 1
                if limit > 0 { changes.append(pair) }
            }
        }
        for source in right.keys where left[source] == nil && counted(source) {
            report.onlyRight += 1
            report.onlyRightSample.append(source)
        }
        report.onlyLeftSample = Array(report.onlyLeftSample.sorted().prefix(10))
        report.onlyRightSample = Array(report.onlyRightSample.sorted().prefix(10))
        report.changes = Array(changes.sorted { abs($0.delta) != abs($1.delta) ? abs($0.delta) > abs($1.delta) : $0.source < $1.source }.prefix(limit))
        return report
    }

    /// Upper bounds: 0, 1e-9 … 1, infinity.
    static let bounds: [Double] = [0] + (-9...0).map { pow(10, Double($0)) } + [.infinity]

    static func emptyHistogram() -> [Bucket] { bounds.map { Bucket(upTo: $0, lower: 0, higher: 0) } }

    static func bucket(of size: Double) -> Int {
        bounds.firstIndex { size <= $0 } ?? bounds.count - 1
    }
}

extension ScoreComparison.Bucket {
    mutating func add(_ delta: Double) {
        if delta < 0 { lower += 1 } else { higher += 1 }
    }
}
