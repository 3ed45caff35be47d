/// The model call of a batch without a cache step; with one, `CachedScoring` calls the
/// model for the misses alone.
extension Batcher {
    /// Scores a batch with the model alone (no cache step).
    mutating func score(_ batch: Batch) {
        let model = self.model
        let start = PipelineStats.nowNanos()
        batch.rows.withUnsafeBufferPointer { input in
            scores.withUnsafeMutableBufferPointer { output in
                model.score(rows: input, rowCount: batch.rowCount, into: output)
            }
        }
        stats.addTime(.inference, since: start)
    }
}
