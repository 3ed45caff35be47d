import Features
import KafkaBridge
import ScoreCache

/// A run of fetched records that one worker decodes at a time, with the tracker tokens
/// their outputs will carry.
struct FetchedChunk: Sendable {
    var sequence: UInt64
    var records: [KafkaRecord]
    var tokens: [UInt64]
}

/// A chunk after decoding: one outcome per record, rows packed contiguously.
struct DecodedChunk: Sendable {
    enum Outcome: Sendable {
        /// Row `row` of `rows`, with where the event's id is in its value.
        case row(Int, id: EventID?)
        case deadLetter(FeatureError)
        /// Sent on as it came (`PipelineConfiguration.passthrough`).
        case passthrough
    }

    var sequence: UInt64
    var records: [KafkaRecord]
    var tokens: [UInt64]
    var outcomes: [Outcome]
    /// `rowCount × inputCount` floats, row-major.
    var rows: [Float]
    /// Each row's score-cache key, when the pipeline has a cache.
    var keys = RowKeys()
    /// When decoding finished (`PipelineStats.nowNanos`), for the queue-wait time.
    var decodedAt: Int64 = 0
}
