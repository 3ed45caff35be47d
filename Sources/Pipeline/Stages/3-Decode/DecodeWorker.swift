import Features
import KafkaBridge
import ScoreCache

/// One preprocessing worker (`streamscore.worker.N`): takes fetched chunks, turns each
/// record into a feature row or a dead-letter reason, and hands the chunk back decoded.
///
/// Workers run in parallel and finish out of order; the intake queue restores fetch order.
struct DecodeWorker: Sendable {
    let decoder: EventDecoder
    let intake: IntakeQueue
    /// Make each row's score-cache key: from the decoder's key fields, or (without them) a
    /// hash of the row.
    let cacheKeys: Bool
    /// Hand every record on undecoded.
    let passthrough: Bool
    let stats: PipelineStats

    /// Runs until the intake queue is closed and empty.
    func run() {
        while let chunk = intake.takeForDecoding() {
            let start = PipelineStats.nowNanos()
            var decoded = decode(chunk)
            stats.addTime(.decode, since: start)
            decoded.decodedAt = PipelineStats.nowNanos()
            intake.finishDecoding(decoded)
        }
    }

    func decode(_ chunk: FetchedChunk) -> DecodedChunk {
        if passthrough {
            return DecodedChunk(
                sequence: chunk.sequence, records: chunk.records, tokens: chunk.tokens,
                outcomes: Array(repeating: .passthrough, count: chunk.records.count), rows: [])
        }
        let width = decoder.inputCount
        var rows = [Float](repeating: 0, count: chunk.records.count * width)
        var outcomes: [DecodedChunk.Outcome] = []
        outcomes.reserveCapacity(chunk.records.count)
        var rowCount = 0
        var scratch = EventDecoder.Scratch(for: decoder)
        var keys = RowKeys()
        let rowHashKeys = decoder.spec.keyFields.isEmpty
        rows.withUnsafeMutableBufferPointer { buffer in
            for record in chunk.records {
                let row = UnsafeMutableBufferPointer(rebasing: buffer[(rowCount * width)..<((rowCount + 1) * width)])
                let result = record.value.withUnsafeBytes { decoder.decode($0, into: row, scratch: &scratch) }
                switch result {
                case .success(let id):
                    outcomes.append(.row(rowCount, id: id))
                    // Keys and their fingerprints are made here, on the parallel workers,
                    // not on the batcher.
                    if cacheKeys { keys.append(row: UnsafeBufferPointer(row), fields: scratch.key, hashRow: rowHashKeys) }
                    rowCount += 1
                case .failure(let error):
                    outcomes.append(.deadLetter(error))
                }
            }
        }
        rows.removeLast((chunk.records.count - rowCount) * width)
        return DecodedChunk(
            sequence: chunk.sequence, records: chunk.records, tokens: chunk.tokens, outcomes: outcomes, rows: rows,
            keys: keys)
    }
}
