import Pipeline

/// Writes a `HistogramSnapshot` in the Prometheus text format (`# HELP`, `# TYPE`, the
/// `_bucket` series with `le`, `_sum`, `_count`), after swift-prometheus' registry output.
enum HistogramText {
    static func append(_ h: HistogramSnapshot, into buffer: inout [UInt8]) {
        var text = ""
        if let help = MetricCatalog.entries[h.name]?.help { text += "# HELP \(h.name) \(help)\n" }
        text += "# TYPE \(h.name) histogram\n"
        for (bound, count) in zip(h.bounds, h.cumulativeCounts) {
            text += "\(h.name)_bucket{le=\"\(bound)\"} \(count)\n"
        }
        text += "\(h.name)_bucket{le=\"+Inf\"} \(h.count)\n"
        text += "\(h.name)_sum \(h.sum)\n"
        text += "\(h.name)_count \(h.count)\n"
        buffer.append(contentsOf: text.utf8)
    }
}
