/// The in-process tier in front of Redis: the most recently used scores, each kept at most
/// `ttl`. A fixed-capacity LRU: a `FingerprintTable` from a key's fingerprint to its slot,
/// and the slots linked in use order. Slots are plain values in one array and keys live in
/// one byte arena, `inlineKeyBytes` a slot (a longer key keeps its own buffer), so a hit
/// or an insert allocates nothing once the cache is full and touches few cache lines.
///
/// A batch's keys are looked up and stored together (`lookup`, `store`): their index
/// entries are loaded first, all at once (`FingerprintTable.touch`), so the trips to memory
/// of a large tier overlap instead of following one another (`bench cache` measures it).
///
/// The slot keeps the key's bytes and a lookup compares them, so two keys with one
/// fingerprint never share a score: the later one simply takes the slot.
public struct LocalScoreCache {
    public let capacity: Int
    public let ttl: Duration
    /// Key bytes kept in the arena per slot; a longer key is kept in `longKeys`.
    public static let inlineKeyBytes = 64
    private static let emptyKey = [UInt8](repeating: 0, count: inlineKeyBytes)

    private struct Slot {
        var fingerprint: UInt64
        var expires: ContinuousClock.Instant
        var score: Float
        var keyLength: Int32
        var newer: Int32  // towards the most recent; -1 at the head
        var older: Int32  // towards the least recent; -1 at the tail
    }

    private var index: FingerprintTable
    private var slots: [Slot] = []
    /// Slot `i`'s key is `keyArena[i * inlineKeyBytes...]` (its first `keyLength` bytes), or
    /// `longKeys[i]` when longer.
    private var keyArena: [UInt8] = []
    private var longKeys: [Int32: [UInt8]] = [:]
    private var newest: Int32 = -1
    private var oldest: Int32 = -1
    /// What `FingerprintTable.touch` read (kept so the loads stay).
    private var touched: UInt64 = 0

    public init(capacity: Int, ttl: Duration) {
        precondition(capacity >= 0 && capacity < Int(Int32.max) / 2, "capacity")
        self.capacity = capacity
        self.ttl = ttl
        index = FingerprintTable(capacity: capacity)
        slots.reserveCapacity(capacity)
        keyArena.reserveCapacity(capacity * Self.inlineKeyBytes)
    }

    public var count: Int { index.count }

    /// Looks up every key: a fresh score goes into `found[i]` (and its key becomes the most
    /// recently used); the index of each key without one is appended to `missing`.
    /// Returns the number of hits.
    public mutating func lookup(_ keys: ScoreKeys, into found: inout [Float?], missing: inout [Int], now: ContinuousClock.Instant) -> Int {
        guard capacity > 0 else {
            missing.append(contentsOf: 0..<keys.count)
            return 0
        }
        touch(keys)
        var hits = 0
        keys.bytes.withUnsafeBytes { bytes in
            keys.fingerprints.withUnsafeBufferPointer { fingerprints in
                for i in 0..<keys.count {
                    if let score = get(UnsafeRawBufferPointer(rebasing: bytes[keys.ranges[i]]), fingerprint: fingerprints[i], now: now) {
                        found[i] = score
                        hits += 1
                    } else {
                        missing.append(i)
                    }
                }
            }
        }
        return hits
    }

    /// Stores `scores[i]` for key `i`; a nil or non-finite score is skipped.
    public mutating func store(_ keys: ScoreKeys, scores: [Float?], now: ContinuousClock.Instant) {
        guard capacity > 0 else { return }
        touch(keys)
        keys.bytes.withUnsafeBytes { bytes in
            for i in 0..<keys.count {
                guard let score = scores[i], score.isFinite else { continue }
                set(UnsafeRawBufferPointer(rebasing: bytes[keys.ranges[i]]), fingerprint: keys.fingerprints[i], score, now: now)
            }
        }
    }

    private mutating func touch(_ keys: ScoreKeys) {
        touched ^= keys.fingerprints.withUnsafeBufferPointer { index.touch($0) }
    }

    /// The score for `key` if present and fresh (and marks it most recently used).
    public mutating func get(_ key: UnsafeRawBufferPointer, fingerprint: UInt64, now: ContinuousClock.Instant) -> Float? {
        guard let i = index.find(fingerprint) else { return nil }
        let slot = Int(i)
        guard slots[slot].expires > now, keyEquals(i, key) else { return nil }
        moveToFront(i)
        return slots[slot].score
    }

    /// Stores `score` for `key`, evicting the least recently used entry when full.
    public mutating func set(_ key: UnsafeRawBufferPointer, fingerprint: UInt64, _ score: Float, now: ContinuousClock.Instant) {
        guard capacity > 0 else { return }
        let i: Int32
        if let existing = index.find(fingerprint) {
            i = existing
            unlink(i)
        } else if slots.count < capacity {
            i = Int32(slots.count)
            slots.append(Slot(fingerprint: fingerprint, expires: now, score: 0, keyLength: 0, newer: -1, older: -1))
            keyArena.append(contentsOf: Self.emptyKey)
            _ = index.findOrInsert(fingerprint, i)
        } else {
            i = oldest
            unlink(i)
            index.remove(slots[Int(i)].fingerprint)
            _ = index.findOrInsert(fingerprint, i)
        }
        let slot = Int(i)
        if slots[slot].keyLength > Self.inlineKeyBytes { longKeys[i] = nil }
        slots[slot] = Slot(fingerprint: fingerprint, expires: now + ttl, score: score, keyLength: Int32(key.count), newer: -1, older: -1)
        if key.count > Self.inlineKeyBytes {
            longKeys[i] = Array(key)
        } else if key.count > 0 {
            keyArena.withUnsafeMutableBytes { arena in
                (arena.baseAddress! + slot * Self.inlineKeyBytes).copyMemory(from: key.baseAddress!, byteCount: key.count)
            }
        }
        linkFront(i)
    }

    /// `get` for a key without its fingerprint (hashed here; tests and tools).
    public mutating func get(_ key: [UInt8], now: ContinuousClock.Instant = .now) -> Float? {
        key.withUnsafeBytes { get($0, fingerprint: KeyFingerprint.of($0), now: now) }
    }

    /// `set` for a key without its fingerprint (hashed here; tests and tools).
    public mutating func set(_ key: [UInt8], _ score: Float, now: ContinuousClock.Instant = .now) {
        key.withUnsafeBytes { set($0, fingerprint: KeyFingerprint.of($0), score, now: now) }
    }

    /// Whether slot `i` holds exactly `key`.
    private func keyEquals(_ i: Int32, _ key: UnsafeRawBufferPointer) -> Bool {
        let length = Int(slots[Int(i)].keyLength)
        guard length == key.count else { return false }
        if length > Self.inlineKeyBytes { return longKeys[i]!.withUnsafeBytes { bytesEqual($0, key) } }
        return keyArena.withUnsafeBytes { arena in
            bytesEqual(UnsafeRawBufferPointer(start: arena.baseAddress! + Int(i) * Self.inlineKeyBytes, count: length), key)
        }
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
