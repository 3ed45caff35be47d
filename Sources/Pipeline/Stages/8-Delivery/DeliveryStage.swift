import Concurrency
import Foundation
import KafkaBridge
import Logging

/// The delivery stage, on the `streamscore.kafka.delivery` thread: each delivery report
/// completes its record in the `OffsetTracker` (acknowledged; the poll thread then stores
/// the advanced offset), and each round of reports is announced on `progress`, which a
/// revoke's drain and the cache writer wait on.
///
/// A refused output fails the pipeline (its offset is never stored, a restart scores it
/// again). A dead letter refused for its content (`KafkaError.isRecordRefused`: too large
/// for the topic's limit, against its policy) is logged, counted in
/// `streamscore_dead_letters_dropped_total{reason}`, and its offset completes: sending it
/// again could never succeed, and one record must not halt the stage. A dead letter that
/// failed for a transport fault or a timeout fails the pipeline like an output.
struct DeliveryStage: Sendable {
    let tracker: OffsetTracker
    let stats: PipelineStats
    let control: PipelineControl
    let deadLetterTopic: String
    let progress: EventCount
    let logger: Logger
    /// Exactly-once mode: a record completes when its transaction commits (the batcher
    /// completes it), not at its delivery report; a failed report makes the transaction
    /// abort at its commit, so it fails nothing here.
    var exactlyOnce = false

    /// One delivery report.
    func delivered(_ report: DeliveryReport) {
        if exactlyOnce {
            if let error = report.error, !error.isPurged {
                stats.deliveryFailures.add(1, ordering: .relaxed)
                logger.warning("delivery failed inside a transaction: it will abort and the input is read again", metadata: [
                    "topic": "\(report.topic)", "error": "\(error)",
                ])
            }
            return
        }
        if let error = report.error {
            guard report.topic == deadLetterTopic, error.isRecordRefused else {
                stats.deliveryFailures.add(1, ordering: .relaxed)
                control.fail(.deliveryFailed(topic: report.topic, error))
                return
            }
            droppedDeadLetter(token: report.token, error)
            return
        }
        guard let completion = tracker.complete(report.token) else { return }
        stats.markAcknowledged()
        if report.topic == deadLetterTopic {
            stats.deadLettersAcknowledged.add(1, ordering: .relaxed)
        } else {
            stats.outputsAcknowledged.add(1, ordering: .relaxed)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        stats.recordLatency(milliseconds: now - completion.recordTimestamp)
    }

    /// A round of reports was served (one `rd_kafka_poll` that served any): wakes whoever
    /// waits for acknowledgements.
    func roundServed() {
        progress.announce()
    }

    /// Counts and logs a dead letter the broker or the producer refused for its content,
    /// and completes its record. Also called by the batcher, for a refusal at `send`.
    func droppedDeadLetter(token: UInt64, _ error: KafkaError) {
        stats.recordDroppedDeadLetter(error.name.lowercased())
        let completion = tracker.complete(token)
        logger.error("dead letter refused for its content and dropped; its offset completes", metadata: [
            "error": "\(error)",
            "source": "\(completion.map { "\($0.partition)" } ?? "?")",
            "token": "\(token)",
        ])
    }
}
