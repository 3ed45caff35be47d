import Logging


/// What a score cache breaker's transitions say in the log: each transition once, an
/// opening as a warning with the last failure's reason.
struct BreakerLog: Sendable {
    let logger: Logger
    let opened: Logger.Message
    let probing: Logger.Message
    let closed: Logger.Message

    func log(_ state: CircuitBreaker.State, reason: String?) {
        switch state {
        case .open: logger.warning(opened, metadata: ["breaker": "open", "reason": "\(reason ?? "unknown")"])
        case .halfOpen: logger.info(probing, metadata: ["breaker": "half_open"])
        case .closed: logger.notice(closed, metadata: ["breaker": "closed"])
        }
    }
}
