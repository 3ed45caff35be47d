import KafkaBridge
import Logging

/// What the Kafka clients report besides records, for both the consumer and the producer:
/// librdkafka's log lines at the matching level (syslog levels 0–3 error, 4 warning, the
/// rest debug), and client errors (a fatal one fails the pipeline; the rest are logged,
/// librdkafka retries them itself).
struct KafkaClientEvents: Sendable {
    let control: PipelineControl
    let logger: Logger
    /// Exactly-once mode: the producer's transactional id, to name in a fatal error.
    var transactionalID: String?
    /// Counts a fencing (`streamscore_transactions_fenced_total`).
    var stats: PipelineStats?

    func log(_ entry: KafkaLogEntry) {
        logger.log(
            level: entry.level <= 3 ? .error : entry.level == 4 ? .warning : .debug,
            "librdkafka", metadata: ["facility": "\(entry.facility)", "message": "\(entry.message)"])
    }

    func error(_ error: KafkaError) {
        if error.isFatal, let transactionalID {
            if error.isFenced { stats?.transactionsFenced.add(1, ordering: .relaxed) }
            control.fail(.transactionFailed(call: "produce", transactionalID: transactionalID, error))
        } else if error.isFatal {
            control.fail(.kafka(error))
        } else {
            logger.warning("kafka client error", metadata: ["error": "\(error)"])
        }
    }
}
