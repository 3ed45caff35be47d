import Concurrency
import KafkaBridge

/// Committing, on the poll thread: completed offsets go to librdkafka as they advance
/// (`OffsetTracker.takeAdvanced` → `KafkaConsumer.store`; its auto-commit timer commits
/// them), and a revoke drains and commits explicitly. The shutdown sequence's final
/// commit is in `ShutdownSequence`.
extension PollLoop {
    /// Hands offsets that advanced since the last call to librdkafka (committed by the
    /// auto-commit timer, or by the next explicit commit).
    ///
    /// Reading a bounded range, the offsets go to the range's progress instead (a backfill
    /// commits to no group; its checkpoint records what is done), and the stop is requested
    /// once every partition of the range is acknowledged.
    func storeCompleted() {
        let advanced = tracker.takeAdvanced()
        // Exactly-once: the offsets were committed inside the transactions. (Storing them
        // too, for librdkafka's consumer_lag_stored, made the abort-and-rewind fault test
        // miss an injected abort now and then, cause not found: not done, and exactly-once
        // exports no lag in records.)
        if transactions != nil { return }
        guard let range else {
            if !advanced.isEmpty { consumer.store(advanced) }
            return
        }
        if !advanced.isEmpty { range.acknowledged(advanced) }
        range.settle { self.tracker.inFlight([TopicPartition(range.topic, $0)]) }
        if let error = range.save() {
            logger.error("cannot write the checkpoint", metadata: ["error": "\(error)"])
        }
        if range.isComplete, !control.isStopping { control.requestStop("range complete") }
    }

    /// Exactly-once, after an aborted transaction: every partition with records in flight
    /// goes back to its last committed offset (the tracker forgets their epochs, so the
    /// batcher drops their old records), then the batcher may send again.
    func rewindAfterAbort() {
        guard let transactions, transactions.rewindPending else { return }
        let targets = tracker.rewind(consumer.assignment())
        do {
            try consumer.seek(targets, timeout: .seconds(10))
        } catch {
            control.fail(.kafka(error))
            return
        }
        stats.transactionRewinds.add(1, ordering: .relaxed)
        logger.info("rewound to the last committed offsets after an aborted transaction", metadata: [
            "partitions": "\(targets.keys.sorted().map { "\($0)@\(targets[$0]!)" })",
        ])
        transactions.rewound()
    }

    /// Waits (bounded) for the revoked partitions' in-flight records, then commits what
    /// completed. Records still in flight at the deadline are left to the next owner (in
    /// exactly-once mode their outputs are dropped, or their transaction aborts).
    func drain(_ partitions: [TopicPartition]) {
        var deadline = ContinuousClock.now + configuration.rebalanceDrainTimeout
        if let stop = shutdownDeadline.withLock({ $0 }) { deadline = min(deadline, stop) }
        var seen = progress.current
        // Exactly-once: the batcher commits the open transaction at its next send boundary
        // (and can commit nothing once it has stopped).
        transactions?.requestCommit()
        while tracker.inFlight(partitions) > 0 && control.failure == nil && !(transactions?.isClosed ?? false) {
            storeCompleted()
            // Wakes on the next round of delivery reports (or a failure), not on a timer.
            guard let next = progress.wait(after: seen, until: deadline) else { break }
            seen = next
        }
        let left = tracker.inFlight(partitions)
        if left > 0 {
            logger.warning("revoked partitions still had records in flight", metadata: ["records": "\(left)"])
        }
        storeCompleted()
        guard transactions == nil else { return }
        do {
            try consumer.commit(timeout: deadline.timeLeft)
        } catch {
            logger.warning("commit on revoke failed", metadata: ["error": "\(error)"])
        }
    }
}
