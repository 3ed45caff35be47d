/// The in-process tier in front of Redis: the most recently used scores, each kept at most
/// `ttl`. A fixed-capacity LRU: a dictionary from a key's fingerprint to its slot, and the
/// slots linked in use order (arrays, so a hit or an insert allocates nothing once the
/// cache is full: an evicted slot's key buffer is reused).
///
/// The slot keeps the key's bytes and a lookup compares them, so two keys with one
/// fingerprint never share a score: the later one simply takes the slot.
public struct LocalScoreCache {
    public let capacity: Int
    public let ttl: Duration

    private struct Slot {
        var fingerprint: UInt64
        var key: [UInt8]
        var score: Float
        var expires: ContinuousClock.Instant
        var newer: Int32  // towards the most recent; -1 at the head
        var older: Int32  // towards the least recent; -1 at the tail
    }

    private var index: [UInt64: Int32] = [:]
    private var slots: [Slot] = []
    private var newest: Int32 = -1
    private var oldest: Int32 = -1

    public init(capacity: Int, ttl: Duration) {
        precondition(capacity >= 0 && capacity < Int(Int32.max), "capacity")
        self.capacity = capacity
        self.ttl = ttl
        index.reserveCapacity(capacity)
        slots.reserveCapacity(capacity)
    }

    public var count: Int { index.count }

    /// The score for `key` if present and fresh (and marks it most recently used).
    public mutating func get(_ key: UnsafeRawBufferPointer, fingerprint: UInt64, now: ContinuousClock.Instant) -> Float? {
        guard let i = index[fingerprint] else { return nil }
        let slot = Int(i)
        guard slots[slot].expires > now, slots[slot].key.withUnsafeBytes({ bytesEqual($0, key) }) else { return nil }
        moveToFront(i)
        return slots[slot].score
    }

    /// Stores `score` for `key`, evicting the least recently used entry when full.
    public mutating func set(_ key: UnsafeRawBufferPointer, fingerprint: UInt64, _ score: Float, now: ContinuousClock.Instant) {
        guard capacity > 0 else { return }
        let i: Int32
        if let existing = index[fingerprint] {
            i = existing
            unlink(i)
        } else if slots.count < capacity {
            slots.append(Slot(fingerprint: fingerprint, key: [], score: 0, expires: now, newer: -1, older: -1))
            i = Int32(slots.count - 1)
            index[fingerprint] = i
        } else {
            i = oldest
            unlink(i)
            index[slots[Int(i)].fingerprint] = nil
            index[fingerprint] = i
        }
        let slot = Int(i)
        slots[slot].fingerprint = fingerprint
        slots[slot].key.removeAll(keepingCapacity: true)
        slots[slot].key.append(contentsOf: key)
        slots[slot].score = score
        slots[slot].expires = now + ttl
        linkFront(i)
    }

    public mutating func get(_ key: [UInt8], now: ContinuousClock.Instant = .now) -> Float? {
        key.withUnsafeBytes { get($0, fingerprint: KeyFingerprint.of($0), now: now) }
    }

    public mutating func set(_ key: [UInt8], _ score: Float, now: ContinuousClock.Instant = .now) {
        key.withUnsafeBytes { set($0, fingerprint: KeyFingerprint.of($0), score, now: now) }
    }

    private mutating func moveToFront(_ i: Int32) {
        guard newest != i else { return }
        unlink(i)
        linkFront(i)
    }

    private mutating func unlink(_ i: Int32) {
        let (newer, older) = (slots[Int(i)].newer, slots[Int(i)].older)
        if newer >= 0 { slots[Int(newer)].older = older } else if newest == i { newest = older }
        if older >= 0 { slots[Int(older)].newer = newer } else if oldest == i { oldest = newer }
        slots[Int(i)].newer = -1
        slots[Int(i)].older = -1
    }

    private mutating func linkFront(_ i: Int32) {
        slots[Int(i)].newer = -1
        slots[Int(i)].older = newest
        if newest >= 0 { slots[Int(newest)].newer = i }
        newest = i
        if oldest < 0 { oldest = i }
    }
}
