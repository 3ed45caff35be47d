/// The score-cache keys of a run of rows, packed: each row's key as a range of one byte
/// buffer (nil: the row has none and is always scored) and its 64-bit fingerprint
/// (`KeyFingerprint`; 0 without a key).
///
/// The decode workers make them, in parallel, so the batcher hashes nothing: by default a
/// 128-bit hash of the row (`CacheKey.appendRowHash`: two rows that share a key share a
/// score, so a score is reused only for an identical row), or with key fields the raw JSON
/// text of those fields.
public struct RowKeys: Sendable {
    public private(set) var ranges: [Range<Int>?] = []
    public private(set) var bytes: [UInt8] = []
    public private(set) var fingerprints: [UInt64] = []

    public init() {}

    public var count: Int { ranges.count }

    /// Appends the next row's key: its hash (`row`), or the key fields' text (`fields`;
    /// nil when the event lacks them: no key).
    public mutating func append(row: UnsafeBufferPointer<Float>, fields: [UInt8]?, hashRow: Bool) {
        let start = bytes.count
        if hashRow {
            CacheKey.appendRowHash(row, to: &bytes)
        } else if let fields {
            bytes += fields
        } else {
            ranges.append(nil)
            fingerprints.append(0)
            return
        }
        ranges.append(start..<bytes.count)
        fingerprints.append(bytes.withUnsafeBytes { KeyFingerprint.of(UnsafeRawBufferPointer(rebasing: $0[start...])) })
    }
}
