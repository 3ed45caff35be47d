import Logging
import Synchronization

/// Logging bootstrap: swift-log to stderr at the configured level. Once per process.
enum LogSetup {
    private static let done = Atomic<Bool>(false)

    static func bootstrap(level: Logger.Level) -> Logger {
        if !done.exchange(true, ordering: .relaxed) {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "streamscore")
        logger.logLevel = level
        return logger
    }
}
