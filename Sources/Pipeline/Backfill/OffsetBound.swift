import Foundation
import Features

/// One end of a backfill's range, as `--from` and `--to` take it, in the syntax kcat and
/// rpk users know:
///
/// - `beginning`, `end` (the end offsets snapshotted when the backfill starts);
/// - an offset for every partition (`1200`), or per partition (`0:1200,3:900`; a partition
///   not listed takes `beginning` in `--from` and `end` in `--to`);
/// - a time: RFC 3339 with any offset (`2026-11-28T00:00:00Z`), epoch milliseconds
///   (`@1732752000000`), or a duration back from now (`-2h`, `-30m`, `-7d`, `-90s`).
///
/// A time resolves to the earliest offset whose record timestamp is at or after it
/// (`rd_kafka_offsets_for_times`); a partition with no record that late has an empty range.
public enum OffsetBound: Sendable, Equatable, CustomStringConvertible {
    case beginning
    case end
    case offset(Int64)
    case offsets([Int32: Int64])
    /// Milliseconds since the epoch.
    case time(Int64)
    /// A duration back from the moment the range is resolved.
    case ago(Duration)

    /// Why a bound could not be read: the argument and the reason.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var argument: String
        public var reason: String
        public var description: String { "\(argument): \(reason)" }
    }

    /// Parses `text` given for `argument` (`--from`, `--to`).
    public init(parsing text: String, argument: String) throws(ParseError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        func fail(_ reason: String) -> ParseError { ParseError(argument: argument, reason: "'\(text)': \(reason)") }
        switch t.lowercased() {
        case "beginning", "start", "earliest": self = .beginning; return
        case "end", "latest": self = .end; return
        default: break
        }
        if let offset = Int64(t) {
            guard offset >= 0 else { throw fail("an offset is 0 or more (a duration back from now is written -2h, -30m, -7d)") }
            self = .offset(offset)
            return
        }
        if t.hasPrefix("@") {
            guard let ms = Int64(t.dropFirst()), ms >= 0 else { throw fail("after @ comes a time in milliseconds since the epoch, e.g. @1732752000000") }
            self = .time(ms)
            return
        }
        if t.hasPrefix("-") {
            guard let duration = Self.duration(t.dropFirst()) else {
                throw fail("a duration back from now is a number and a unit: -90s, -30m, -2h, -7d")
            }
            self = .ago(duration)
            return
        }
        if t.contains(":") && !t.contains("T") && !t.contains("t") && !t.contains(" ") {
            var offsets: [Int32: Int64] = [:]
            for item in t.split(separator: ",") {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, let p = Int32(parts[0].trimmingCharacters(in: .whitespaces)), p >= 0,
                      let o = Int64(parts[1].trimmingCharacters(in: .whitespaces)), o >= 0
                else { throw fail("per-partition offsets are partition:offset pairs, e.g. 0:1200,3:900") }
                guard offsets.updateValue(o, forKey: p) == nil else { throw fail("partition \(p) is given twice") }
            }
            self = .offsets(offsets)
            return
        }
        if let seconds = Timestamp.rfc3339(t) {
            self = .time(Int64((seconds * 1000).rounded(.down)))
            return
        }
        throw fail("not a bound: beginning, end, an offset (1200), offsets per partition (0:1200,3:900), a time (2026-11-28T00:00:00Z, @1732752000000) or a duration back from now (-2h)")
    }

    /// `90s`, `30m`, `2h`, `7d` (a positive whole or decimal number).
    private static func duration(_ text: Substring) -> Duration? {
        guard let unit = text.last, let value = Double(text.dropLast()), value > 0, value.isFinite else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = value
        case "m": seconds = value * 60
        case "h": seconds = value * 3600
        case "d": seconds = value * 86_400
        default: return nil
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    public var description: String {
        switch self {
        case .beginning: "beginning"
        case .end: "end"
        case .offset(let o): "\(o)"
        case .offsets(let m): m.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        case .time(let ms): "@\(ms)"
        case .ago(let d): "-\(d)"
        }
    }
}
