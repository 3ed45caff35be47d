import KafkaBridge

/// Producing a batch: each item's output (`ScoredRecord`) or dead letter (`DeadLetter`)
/// built and handed to librdkafka in fetch order. Its delivery report comes back on the
/// delivery thread (`DeliveryStage`).
extension Batcher {
    /// Builds and hands over each item's output, in order.
    mutating func send(_ items: [Item], scores: [Float], cached: [Bool]) {
        let topics = configuration.topics
        var current: [Bool]?
        if transactions != nil {
            // Exactly-once: nothing of an aborted range is sent (fetched before its rewind,
            // or of an epoch the rewind or a revoke forgot), and a transaction is open.
            guard !transactions!.discarding else { return }
            current = transactions!.current(items.map(\.token))
            guard transactions!.beginIfNeeded() else { return }
        }
        let classes = classLabels
        // Two clock reads per record: building it (encode), handing it over (produce).
        var encodeNanos: Int64 = 0, produceNanos: Int64 = 0
        var mark = PipelineStats.nowNanos()
        for (index, item) in items.enumerated() {
            if let current, !current[index] { continue }
            var outgoing: OutgoingRecord
            switch item.outcome {
            case .row(let r, let id):
                let outputs = model.outputCount
                let rowScores = scores[(r * outputs)..<((r + 1) * outputs)]
                if let bad = rowScores.first(where: { !$0.isFinite }) {
                    stats.recordDeadLetter("non_finite")
                    outgoing = deadLetters.make(
                        input: item.record, reason: "non_finite", field: "score",
                        message: "model produced a non-finite score (\(bad))")
                } else if outputs == 1 {
                    let score = rowScores[rowScores.startIndex]
                    if score >= configuration.decisionThreshold { stats.flagged.add(1, ordering: .relaxed) }
                    scoreCounts.add(score)
                    outgoing = output.make(
                        input: item.record, id: id, score: score, threshold: configuration.decisionThreshold,
                        cached: cached[r], topic: topics.output)
                } else {
                    outgoing = output.make(
                        input: item.record, id: id, probabilities: rowScores, classes: classes,
                        cached: false, topic: topics.output)
                }
            case .deadLetter where item.record.isTombstone:
                stats.recordDeadLetter("tombstone")
                outgoing = deadLetters.tombstone(input: item.record)
            case .deadLetter(let error):
                stats.recordDeadLetter(error.reason)
                outgoing = deadLetters.make(input: item.record, error: error)
            case .passthrough:
                outgoing = output.passthrough(item.record, topic: topics.output)
            }
            if outgoing.topic == topics.output, outgoing.value.count + 2 * (outgoing.key?.count ?? 0) + 1024 > deadLetters.limit,
               outgoing.wireSize > deadLetters.limit {
                // A key or an input that large makes an output the producer would refuse.
                stats.recordDeadLetter("too_large")
                outgoing = deadLetters.make(
                    input: item.record, reason: "too_large", field: nil,
                    message: "the output would be \(outgoing.wireSize) bytes, over the producer's message.max.bytes (\(deadLetters.messageMaxBytes))")
            }
            if outgoing.topic == topics.deadLetter, outgoing.headers.contains(where: { $0.name == Header.deadLetterTruncated }) {
                stats.deadLettersTruncated.add(1, ordering: .relaxed)
            }
            let built = PipelineStats.nowNanos()
            encodeNanos += built - mark
            do {
                try producer.send(outgoing, token: item.token)
                transactions?.sent(item.record.topicPartition, token: item.token, as: outgoing.topic == topics.deadLetter ? .deadLetter : .output)
            } catch where outgoing.topic == topics.deadLetter && error.isRecordRefused {
                refusedDeadLetter(item.token, error)
                transactions?.sent(item.record.topicPartition, token: item.token, as: .dropped)
            } catch where transactions != nil && !error.isFatal {
                // In a transaction a refused send leaves it unable to commit: abort, rewind.
                transactions!.abort(because: "sending to \(outgoing.topic) failed: \(error)")
                break
            } catch {
                control.fail(.deliveryFailed(topic: outgoing.topic, error))
                break
            }
            mark = PipelineStats.nowNanos()
            produceNanos += mark - built
        }
        stats.addTime(.encode, nanos: encodeNanos)
        stats.addTime(.produce, nanos: produceNanos)
        stats.mergeScores(&scoreCounts)
    }
}
