import Foundation
import Pipeline

/// `streamscore compare`'s report, as text for people and JSON for scripts.
enum CompareReport {
    static func text(_ r: ScoreComparison.Report, left: String, right: String) -> [String] {
        var lines = ["compare \(left) (left, \(r.left) records) with \(right) (right, \(r.right) records), tolerance \(r.tolerance):"]
        func row(_ name: String, _ value: String) { lines.append("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + value) }
        row("matched", "\(r.matched)")
        row("identical", "\(r.identical)")
        row("changed", "\(r.changed)")
        row("flips", "\(r.flips) (pass→flag \(r.passToFlag), flag→pass \(r.flagToPass)\(r.otherFlips > 0 ? ", other labels \(r.otherFlips)" : ""))")
        row("only left", "\(r.onlyLeft)" + sample(r.onlyLeftSample, r.onlyLeft))
        row("only right", "\(r.onlyRight)" + sample(r.onlyRightSample, r.onlyRight))
        row("repeated", "left \(r.duplicates[.left] ?? 0), right \(r.duplicates[.right] ?? 0) (copies that disagree: left \(r.conflicting[.left] ?? 0), right \(r.conflicting[.right] ?? 0))")
        if (r.unreadable[.left] ?? 0) + (r.unreadable[.right] ?? 0) > 0 {
            row("not scores", "left \(r.unreadable[.left] ?? 0), right \(r.unreadable[.right] ?? 0) (no source headers or no numeric score)")
        }
        if let largest = r.largest {
            row("largest |Δ|", "\(abs(largest.delta)) at \(largest.source) (left \(largest.left.score), right \(largest.right.score))")
        }
        if r.matched > 0 {
            lines.append("  Δscore = right − left, by |Δ|:          lower    higher")
            for bucket in r.histogram where bucket.count > 0 {
                let name = bucket.upTo == 0 ? "= 0" : bucket.upTo.isInfinite ? "> 1" : "≤ \(format(bucket.upTo))"
                lines.append("    |Δ| " + name.padding(toLength: 28, withPad: " ", startingAt: 0)
                    + pad("\(bucket.lower)", 9) + pad("\(bucket.higher)", 10))
            }
        }
        if !r.changes.isEmpty {
            lines.append("  largest changes (source: left → right):")
            for pair in r.changes {
                lines.append("    \(pair.source): \(pair.left.score) \(pair.left.label) → \(pair.right.score) \(pair.right.label) (Δ \(pair.delta))")
            }
        }
        lines.append(r.isIdentical ? "identical: every matched score within \(r.tolerance), nothing missing" : "different")
        return lines
    }

    static func json(_ r: ScoreComparison.Report, left: String, right: String) -> String {
        func pair(_ p: ScoreComparison.Pair) -> [String: Any] {
            [
                "source": ["topic": p.source.topic, "partition": p.source.partition, "offset": p.source.offset],
                "left": ["score": p.left.score, "decision": p.left.label],
                "right": ["score": p.right.score, "decision": p.right.label], "delta": p.delta,
            ]
        }
        func sources(_ list: [ScoreComparison.Source]) -> [[String: Any]] {
            list.map { ["topic": $0.topic, "partition": $0.partition, "offset": $0.offset] }
        }
        var object: [String: Any] = [
            "left": ["topic": left, "records": r.left, "repeated": r.duplicates[.left] ?? 0, "conflicting": r.conflicting[.left] ?? 0, "unreadable": r.unreadable[.left] ?? 0],
            "right": ["topic": right, "records": r.right, "repeated": r.duplicates[.right] ?? 0, "conflicting": r.conflicting[.right] ?? 0, "unreadable": r.unreadable[.right] ?? 0],
            "tolerance": r.tolerance, "matched": r.matched, "identical": r.identical, "changed": r.changed,
            "flips": ["pass_to_flag": r.passToFlag, "flag_to_pass": r.flagToPass, "other": r.otherFlips, "total": r.flips],
            "only_left": r.onlyLeft, "only_right": r.onlyRight,
            "only_left_sample": sources(r.onlyLeftSample), "only_right_sample": sources(r.onlyRightSample),
            "histogram": r.histogram.map { ["abs_delta_up_to": $0.upTo.isInfinite ? "inf" : "\($0.upTo)", "lower": $0.lower, "higher": $0.higher] as [String: Any] },
            "changes": r.changes.map(pair), "identical_all": r.isIdentical,
        ]
        if let largest = r.largest { object["largest"] = pair(largest) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private static func sample(_ list: [ScoreComparison.Source], _ count: Int) -> String {
        guard !list.isEmpty else { return "" }
        return " (" + list.prefix(3).map(\.description).joined(separator: ", ") + (count > 3 ? ", …" : "") + ")"
    }

    private static func format(_ x: Double) -> String { x >= 1 ? "1" : String(format: "%.0e", x) }

    private static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
