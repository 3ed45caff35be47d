/// The in-process tier in front of Redis: the most recently used scores, each kept at most
/// `ttl`. A fixed-capacity LRU: a dictionary from key to slot, and the slots linked in use
/// order (arrays, so a hit or an insert allocates nothing once the cache is full).
public struct LocalScoreCache {
    public let capacity: Int
    public let ttl: Duration

    private struct Slot {
        var key: [UInt8]
        var score: Float
        var expires: ContinuousClock.Instant
        var newer: Int  // towards the most recent; -1 at the head
        var older: Int  // towards the least recent; -1 at the tail
    }

    private var index: [[UInt8]: Int] = [:]
    private var slots: [Slot] = []
    private var newest = -1
    private var oldest = -1

    public init(capacity: Int, ttl: Duration) {
        precondition(capacity >= 0, "capacity")
        self.capacity = capacity
        self.ttl = ttl
        index.reserveCapacity(capacity)
        slots.reserveCapacity(capacity)
    }

    public var count: Int { index.count }

    /// The score for `key` if present and fresh (and marks it most recently used).
    public mutating func get(_ key: [UInt8], now: ContinuousClock.Instant = .now) -> Float? {
        guard let i = index[key] else { return nil }
        guard slots[i].expires > now else { return nil }
        moveToFront(i)
        return slots[i].score
    }

    /// Stores `score` for `key`, evicting the least recently used entry when full.
    public mutating func set(_ key: [UInt8], _ score: Float, now: ContinuousClock.Instant = .now) {
        guard capacity > 0 else { return }
        if let i = index[key] {
            slots[i].score = score
            slots[i].expires = now + ttl
            moveToFront(i)
            return
        }
        let i: Int
        if slots.count < capacity {
            slots.append(Slot(key: key, score: score, expires: now + ttl, newer: -1, older: -1))
            i = slots.count - 1
        } else {
            i = oldest
            unlink(i)
            index[slots[i].key] = nil
            slots[i] = Slot(key: key, score: score, expires: now + ttl, newer: -1, older: -1)
        }
        index[key] = i
        linkFront(i)
    }

    private mutating func moveToFront(_ i: Int) {
        guard newest != i else { return }
        unlink(i)
        linkFront(i)
    }

    private mutating func unlink(_ i: Int) {
        let (newer, older) = (slots[i].newer, slots[i].older)
        if newer >= 0 { slots[newer].older = older } else { newest = older }
        if older >= 0 { slots[older].newer = newer } else { oldest = newer }
    }

    private mutating func linkFront(_ i: Int) {
        slots[i].newer = -1
        slots[i].older = newest
        if newest >= 0 { slots[newest].newer = i }
        newest = i
        if oldest < 0 { oldest = i }
    }
}
