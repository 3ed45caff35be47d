import Foundation
import Logging

/// A logger whose messages a test can read back.
final class CapturedLogs: @unchecked Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var captured: [Entry] = []

    var entries: [Entry] { lock.withLock { captured } }

    func logger(level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: "test") { _ in Handler(logs: self) }
        logger.logLevel = level
        return logger
    }

    /// The first entry whose message starts with `prefix`, if one was logged.
    func first(_ prefix: String) -> Entry? { entries.first { $0.message.hasPrefix(prefix) } }

    fileprivate func add(_ entry: Entry) { lock.withLock { captured.append(entry) } }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            logs.add(Entry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}
