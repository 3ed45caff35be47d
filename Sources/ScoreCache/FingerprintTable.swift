/// A hash table from a key's fingerprint (`KeyFingerprint`, already well mixed) to a
/// non-negative index: open addressing with linear probing, one 16-byte bucket per entry,
/// deletion by backward shift (no tombstones). At least twice as many buckets as entries
/// (it doubles when it would pass that), so a probe rarely leaves its first cache line.
///
/// Swift's `Dictionary` hashes every `UInt64` key again with SipHash and keeps keys and
/// values apart; this table is what the local tier and the batch deduplication look up
/// once per key, and `bench cache` measures the difference. Fingerprints may collide:
/// callers compare the keys' bytes behind the index.
public struct FingerprintTable: Sendable {
    private struct Bucket {
        var fingerprint: UInt64
        /// -1: empty.
        var value: Int32
    }

    private var buckets: [Bucket]
    private var mask: Int
    /// Entries the table takes before it grows (half its buckets).
    public private(set) var capacity: Int
    public private(set) var count = 0

    /// A table sized for `capacity` entries.
    public init(capacity: Int) {
        precondition(capacity >= 0 && capacity < Int(Int32.max) / 2, "capacity")
        var size = 8
        while size < capacity * 2 { size *= 2 }
        self.capacity = size / 2
        self.mask = size - 1
        self.buckets = [Bucket](repeating: Bucket(fingerprint: 0, value: -1), count: size)
    }

    /// Twice the buckets, every entry placed again.
    private mutating func grow() {
        var bigger = FingerprintTable(capacity: capacity * 2)
        for bucket in buckets where bucket.value >= 0 { _ = bigger.findOrInsert(bucket.fingerprint, bucket.value) }
        self = bigger
    }

    private func home(_ fingerprint: UInt64) -> Int { Int(truncatingIfNeeded: fingerprint) & mask }

    /// The index stored for `fingerprint`, if any.
    public func find(_ fingerprint: UInt64) -> Int32? {
        buckets.withUnsafeBufferPointer { b in
            var i = home(fingerprint)
            while b[i].value >= 0 {
                if b[i].fingerprint == fingerprint { return b[i].value }
                i = (i + 1) & mask
            }
            return nil
        }
    }

    /// Loads the first bucket of each fingerprint, so that the lookups that follow find them
    /// in the CPU cache: these loads do not depend on one another, so the CPU overlaps their
    /// trips to memory, where one lookup after another would wait for each in turn.
    /// Returns a value only so the loads are not optimised away.
    public func touch(_ fingerprints: UnsafeBufferPointer<UInt64>) -> UInt64 {
        buckets.withUnsafeBufferPointer { b in
            var sink: UInt64 = 0
            for f in fingerprints { sink ^= b[home(f)].fingerprint }
            return sink
        }
    }

    /// Stores `value` for `fingerprint` unless it has one; returns the one it had.
    public mutating func findOrInsert(_ fingerprint: UInt64, _ value: Int32) -> Int32? {
        precondition(value >= 0, "indexes are non-negative")
        if count == capacity, find(fingerprint) == nil { grow() }
        let mask = self.mask
        let start = home(fingerprint)
        let (existing, inserted): (Int32?, Bool) = buckets.withUnsafeMutableBufferPointer { b in
            var i = start
            while b[i].value >= 0 {
                if b[i].fingerprint == fingerprint { return (b[i].value, false) }
                i = (i + 1) & mask
            }
            b[i] = Bucket(fingerprint: fingerprint, value: value)
            return (nil, true)
        }
        if inserted { count += 1 }
        return existing
    }

    /// Stores `value` for `fingerprint`, replacing any it had.
    public mutating func set(_ fingerprint: UInt64, _ value: Int32) {
        if findOrInsert(fingerprint, value) != nil { update(fingerprint, value) }
    }

    private mutating func update(_ fingerprint: UInt64, _ value: Int32) {
        let mask = self.mask
        var i = home(fingerprint)
        buckets.withUnsafeMutableBufferPointer { b in
            while b[i].fingerprint != fingerprint || b[i].value < 0 { i = (i + 1) & mask }
            b[i].value = value
        }
    }

    /// Removes `fingerprint`'s entry, if any, moving back the entries probed past it.
    public mutating func remove(_ fingerprint: UInt64) {
        let mask = self.mask
        var i = home(fingerprint)
        let removed: Bool = buckets.withUnsafeMutableBufferPointer { b in
            while b[i].value >= 0 {
                if b[i].fingerprint == fingerprint { break }
                i = (i + 1) & mask
            }
            guard b[i].value >= 0 else { return false }
            var j = i
            while true {
                j = (j + 1) & mask
                guard b[j].value >= 0 else { break }
                let k = Int(truncatingIfNeeded: b[j].fingerprint) & mask
                // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
                let stays = i <= j ? (i < k && k <= j) : (i < k || k <= j)
                if !stays {
                    b[i] = b[j]
                    i = j
                }
            }
            b[i].value = -1
            return true
        }
        if removed { count -= 1 }
    }

    /// Empties the table, keeping its buckets.
    public mutating func removeAll() {
        guard count > 0 else { return }
        buckets.withUnsafeMutableBufferPointer { b in
            for i in b.indices { b[i].value = -1 }
        }
        count = 0
    }
}
