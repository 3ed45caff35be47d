/// Groups a process's threads by what they do, from their kernel names: the worker's own
/// (`batcher`, `kafka.poll`, `kafka.delivery`, `worker.N` as `workers`, …), librdkafka's
/// (`rdk:main`, `rdk:broker1`… as `rdk:broker`), the HTTP server's (`NIO-ELT-…` as `http`),
/// and the main thread under the program's name.
enum ThreadKind {
    static func of(_ name: String) -> String {
        if name.hasPrefix("worker.") { return "workers" }
        if name.hasPrefix("rdk:broker") { return "rdk:broker" }
        if name.hasPrefix("NIO-") { return "http" }
        return name
    }

    /// The order kinds are shown in: the worker's pipeline first, then librdkafka's, then the rest.
    static let preferredOrder = ["kafka.poll", "workers", "batcher", "kafka.delivery", "cache.writer", "rdk:main", "rdk:broker", "http"]

    static func sorted(_ kinds: some Sequence<String>) -> [String] {
        Set(kinds).sorted { a, b in
            let (i, j) = (preferredOrder.firstIndex(of: a) ?? Int.max, preferredOrder.firstIndex(of: b) ?? Int.max)
            return i != j ? i < j : a < b
        }
    }
}
