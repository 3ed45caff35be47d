import Foundation
import RedisBridge
@testable import ScoreCache
import Testing

/// The score cache: its local tier, its breaker, and Redis (a real `redis-server`).
@Suite("Score cache", .serialized)
struct ScoreCacheTests {
    static func key(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test("The local tier keeps the most recently used, up to its capacity and TTL")
    func lru() {
        var cache = LocalScoreCache(capacity: 2, ttl: .seconds(10))
        let t0 = ContinuousClock.now
        cache.set(Self.key("a"), 1, now: t0)
        cache.set(Self.key("b"), 2, now: t0)
        #expect(cache.get(Self.key("a"), now: t0) == 1)  // a is now the most recent
        cache.set(Self.key("c"), 3, now: t0)  // evicts b
        #expect(cache.get(Self.key("b"), now: t0) == nil)
        #expect(cache.get(Self.key("a"), now: t0) == 1 && cache.get(Self.key("c"), now: t0) == 3)
        #expect(cache.get(Self.key("a"), now: t0 + .seconds(11)) == nil, "expired")
        #expect(cache.count == 2)
    }

    @Test("Two keys with one fingerprint never share a score: a lookup compares the bytes")
    func fingerprintCollision() {
        var cache = LocalScoreCache(capacity: 4, ttl: .seconds(10))
        let t0 = ContinuousClock.now
        let (a, b) = (Self.key("card-1"), Self.key("card-2"))
        a.withUnsafeBytes { cache.set($0, fingerprint: 42, 0.25, now: t0) }
        #expect(b.withUnsafeBytes { cache.get($0, fingerprint: 42, now: t0) } == nil, "same fingerprint, other key: a miss")
        #expect(a.withUnsafeBytes { cache.get($0, fingerprint: 42, now: t0) } == 0.25)
        b.withUnsafeBytes { cache.set($0, fingerprint: 42, 0.75, now: t0) }  // takes the slot
        #expect(a.withUnsafeBytes { cache.get($0, fingerprint: 42, now: t0) } == nil)
        #expect(b.withUnsafeBytes { cache.get($0, fingerprint: 42, now: t0) } == 0.75)
        #expect(cache.count == 1)
        // Fingerprints of real keys differ, also by length and in the last byte.
        let fingerprints = Set(["", "a", "a\0", "card-000001", "card-000002", "card-0000010"].map { KeyFingerprint.of(Self.key($0)) })
        #expect(fingerprints.count == 6)
    }

    @Test("An evicted slot is reused; the least recently used goes first, over many rounds")
    func lruChurn() {
        var cache = LocalScoreCache(capacity: 100, ttl: .seconds(10))
        let t0 = ContinuousClock.now
        for i in 0..<1_000 { cache.set(Self.key("k\(i)"), Float(i), now: t0) }
        #expect(cache.count == 100)
        #expect((0..<900).allSatisfy { cache.get(Self.key("k\($0)"), now: t0) == nil })
        #expect((900..<1_000).allSatisfy { cache.get(Self.key("k\($0)"), now: t0) == Float($0) })
    }

    @Test("Keys longer than a slot's inline bytes are kept whole and compared whole; a slot moves between long and short keys")
    func longKeys() {
        var cache = LocalScoreCache(capacity: 1, ttl: .seconds(10))
        let t0 = ContinuousClock.now
        let long = Self.key(String(repeating: "x", count: LocalScoreCache.inlineKeyBytes) + "-1")
        let sameStart = Self.key(String(repeating: "x", count: LocalScoreCache.inlineKeyBytes) + "-2")
        long.withUnsafeBytes { cache.set($0, fingerprint: 9, 0.5, now: t0) }
        #expect(long.withUnsafeBytes { cache.get($0, fingerprint: 9, now: t0) } == 0.5)
        #expect(sameStart.withUnsafeBytes { cache.get($0, fingerprint: 9, now: t0) } == nil, "differs after the inline bytes")
        cache.set(Self.key("short"), 0.25, now: t0)  // evicts the long key: its slot now holds a short one
        #expect(cache.get(long, now: t0) == nil && cache.get(Self.key("short"), now: t0) == 0.25)
        cache.set(sameStart, 0.75, now: t0)
        #expect(cache.get(sameStart, now: t0) == 0.75 && cache.get(Self.key("short"), now: t0) == nil)
        let empty = Self.key("")
        cache.set(empty, 1, now: t0)
        #expect(cache.get(empty, now: t0) == 1)
    }

    @Test("A batch lookup and store: hits filled in, misses listed in order, nil and non-finite scores not stored")
    func batchLookup() {
        var cache = LocalScoreCache(capacity: 8, ttl: .seconds(10))
        let t0 = ContinuousClock.now
        let keys = ScoreKeys((0..<5).map { Self.key("card-\($0)") })
        cache.store(keys, scores: [0.1, nil, 0.3, .nan, 0.5], now: t0)
        var found = [Float?](repeating: nil, count: 5)
        var missing: [Int] = []
        let hits = cache.lookup(keys, into: &found, missing: &missing, now: t0)
        #expect(hits == 3 && missing == [1, 3])
        #expect(found == [0.1, nil, 0.3, nil, 0.5])
        missing.removeAll()
        #expect(cache.lookup(keys, into: &found, missing: &missing, now: t0 + .seconds(11)) == 0 && missing == [0, 1, 2, 3, 4], "expired")
        var none = LocalScoreCache(capacity: 0, ttl: .seconds(10))
        none.store(keys, scores: [0.1, 0.2, 0.3, 0.4, 0.5], now: t0)
        missing.removeAll()
        #expect(none.lookup(keys, into: &found, missing: &missing, now: t0) == 0 && missing.count == 5 && none.count == 0)
    }

    @Test("The breaker opens after the threshold, probes after its open time, and closes on success")
    func breaker() {
        var b = CircuitBreaker(failureThreshold: 2, openDuration: .seconds(1))
        let t0 = ContinuousClock.now
        var allowed = b.allows(now: t0)
        var change = b.record(success: false, now: t0)
        #expect(allowed && change == nil)
        change = b.record(success: false, now: t0)
        #expect(change == .open)
        allowed = b.allows(now: t0 + .milliseconds(500))
        #expect(!allowed)
        allowed = b.allows(now: t0 + .seconds(1))
        #expect(allowed && b.state == .halfOpen)
        change = b.record(success: false, now: t0 + .seconds(1))
        #expect(change == .open, "a failed probe opens it again")
        allowed = b.allows(now: t0 + .seconds(2))
        change = b.record(success: true, now: t0 + .seconds(2))
        #expect(allowed && change == .closed)
    }

    /// The namespace these tests write under: keys `streamscore:m@1:s:{key}`.
    static let namespace = CacheNamespace(model: "m@1", hash: "s")

    @Test("Hits and misses are counted; one MGET per lookup, one pipelined SET per write; TTL expiry")
    func hitsAndMisses() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.url)
        var configuration = ScoreCacheConfiguration(redis: url)
        configuration.localCapacity = 0  // Redis only, to count its calls
        configuration.ttl = .milliseconds(300)
        let cache = ScoreLookup(configuration: configuration, namespace: Self.namespace)
        let writer = ScoreWriter(url: url, configuration: configuration, namespace: Self.namespace)
        #expect(cache.lookup([Self.key("k1"), Self.key("k2")]) == [nil, nil])
        writer.store([(Self.key("k1"), 0.25), (Self.key("k2"), 0.75)])
        #expect(cache.lookup([Self.key("k1"), Self.key("k2"), Self.key("k3")]) == [0.25, 0.75, nil])
        #expect(cache.counters.hits == 2 && cache.counters.misses == 3 && cache.counters.errors == 0)
        #expect(writer.counters.keysWritten == 2 && writer.counters.redisWrites == 1)
        #expect(try server.calls("mget") == 2 && server.calls("set") == 2)
        #expect(cache.roundTrips == 2 && writer.roundTrips == 1)
        #expect(eventually(timeout: .seconds(10)) { cache.lookup([Self.key("k1")]) == [nil] }, "expired after its TTL")
    }

    @Test("Lookups out at once are answered in order; one sent before a reconnect never reads a reply sent after it")
    func lookupsInFlight() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.url)
        var configuration = ScoreCacheConfiguration(redis: url)
        configuration.localCapacity = 0
        let cache = ScoreLookup(configuration: configuration, namespace: Self.namespace)
        ScoreWriter(url: url, configuration: configuration, namespace: Self.namespace).store([(Self.key("a"), 0.25), (Self.key("b"), 0.75)])
        let (a, b) = (ScoreKeys([Self.key("a")]), ScoreKeys([Self.key("b")]))
        var (first, second) = (ScoreLookup.Lookup(), ScoreLookup.Lookup())
        var (foundA, foundB): ([Float?], [Float?]) = ([], [])
        cache.beginLookup(a, into: &foundA, lookup: &first)
        cache.beginLookup(b, into: &foundB, lookup: &second)
        cache.finishLookup(a, into: &foundA, lookup: &first)
        cache.finishLookup(b, into: &foundB, lookup: &second)
        #expect(foundA == [0.25] && foundB == [0.75] && cache.counters.redisReads == 2)

        // `a` goes out; Redis restarts (empty); `b` is written again; the lookup's
        // connection fails on its next send and reconnects on the one after, which sends
        // `b`. Finishing `a` must not take `b`'s reply.
        cache.beginLookup(a, into: &foundA, lookup: &first)
        server.kill()
        try server.start()
        let writer = ScoreWriter(url: url, configuration: configuration, namespace: Self.namespace)
        #expect(eventually(timeout: .seconds(10)) {
            writer.store([(Self.key("a"), 0.5), (Self.key("b"), 0.125)])
            return writer.counters.keysWritten == 2
        })
        let generation = first.generation
        #expect(eventually(timeout: .seconds(10)) {
            // Each try fails on the dead connection or backs off, until one reconnects.
            var probe: [Float?] = []
            var lookup = ScoreLookup.Lookup()
            cache.beginLookup(b, into: &probe, lookup: &lookup)
            cache.finishLookup(b, into: &probe, lookup: &lookup)
            return lookup.generation > generation
        })
        cache.beginLookup(b, into: &foundB, lookup: &second)
        cache.finishLookup(a, into: &foundA, lookup: &first)
        cache.finishLookup(b, into: &foundB, lookup: &second)
        #expect(foundA == [nil], "its reply went with the old connection")
        #expect(foundB == [0.125])
    }

    @Test("A key the batch before scored while both lookups were out is a hit, not scored again")
    func keyScoredByTheBatchBefore() throws {
        let server = try RedisServer()
        let cache = ScoreLookup(configuration: ScoreCacheConfiguration(redis: try RedisURL(parsing: server.url)), namespace: Self.namespace)
        let keys = ScoreKeys([Self.key("card-1")])
        var (first, second) = (ScoreLookup.Lookup(), ScoreLookup.Lookup())
        var (foundFirst, foundSecond): ([Float?], [Float?]) = ([], [])
        cache.beginLookup(keys, into: &foundFirst, lookup: &first)
        cache.beginLookup(keys, into: &foundSecond, lookup: &second)  // the local tier has not got it yet
        cache.finishLookup(keys, into: &foundFirst, lookup: &first)
        #expect(foundFirst == [nil] && cache.counters.misses == 1)
        cache.storeLocally(keys, scores: [0.5])  // the first batch scored it
        cache.finishLookup(keys, into: &foundSecond, lookup: &second)
        #expect(foundSecond == [0.5], "Redis has not got it (its write waits for the output), the local tier has")
        #expect(cache.counters.hits == 1 && cache.counters.localHits == 1 && cache.counters.misses == 1)
    }

    @Test("A new model version or feature spec never reads an old entry")
    func namespaces() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.url)
        var configuration = ScoreCacheConfiguration(redis: url)
        configuration.localCapacity = 0
        func lookup(_ model: String, _ hash: String) -> ScoreLookup {
            ScoreLookup(configuration: configuration, namespace: CacheNamespace(model: model, hash: hash))
        }
        ScoreWriter(url: url, configuration: configuration, namespace: CacheNamespace(model: "fraud@1", hash: "abc")).store([(Self.key("k"), 0.5)])
        #expect(lookup("fraud@1", "abc").lookup([Self.key("k")]) == [0.5])
        #expect(lookup("fraud@2", "abc").lookup([Self.key("k")]) == [nil])
        #expect(lookup("fraud@1", "abd").lookup([Self.key("k")]) == [nil])
    }

    @Test("A wrong-typed or unreadable value is a miss and an error")
    func wrongTyped() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.url)
        var configuration = ScoreCacheConfiguration(redis: url)
        configuration.localCapacity = 0
        let cache = ScoreLookup(configuration: configuration, namespace: Self.namespace)
        let admin = RedisConnection(url: url)
        _ = try admin.command(["SET", "streamscore:m@1:s:text", "not a score"])
        _ = try admin.command(["LPUSH", "streamscore:m@1:s:list", "x"])
        #expect(cache.lookup([Self.key("text"), Self.key("list")]) == [nil, nil])
        // MGET answers nil for a key of another Redis type: a miss, but not one it can tell
        // from an absent key, so only the unreadable string counts as an error.
        #expect(cache.counters.misses == 2 && cache.counters.errors == 1)
    }

    @Test("Modes: read_only writes nothing, write_only reads nothing, bypass does neither")
    func modes() throws {
        let server = try RedisServer()
        let url = try RedisURL(parsing: server.url)
        for mode in ScoreCacheConfiguration.Mode.allCases {
            var configuration = ScoreCacheConfiguration(redis: url, mode: mode)
            configuration.localCapacity = 0
            configuration.prefix = mode.rawValue
            let cache = ScoreLookup(configuration: configuration, namespace: Self.namespace)
            ScoreWriter(url: url, configuration: configuration, namespace: Self.namespace).store([(Self.key("k"), 0.5)])
            let admin = RedisConnection(url: url)
            let written = try admin.command(["EXISTS", "\(mode.rawValue):m@1:s:k"]) == .integer(1)
            #expect(written == (mode == .readWrite || mode == .writeOnly), "\(mode) writes")
            _ = try admin.command(["SET", "\(mode.rawValue):m@1:s:r", "0.125"])
            let read = cache.lookup([Self.key("r")])[0] == 0.125
            #expect(read == (mode == .readWrite || mode == .readOnly), "\(mode) reads")
        }
    }

    @Test("Redis killed: lookups miss and the breaker opens, then skips Redis; Redis back: it closes and hits resume")
    func redisGoesAway() throws {
        let server = try RedisServer()
        let transitions = Transitions()
        let configuration = try Self.breakerConfiguration(server)
        let url = try RedisURL(parsing: server.url)
        let cache = ScoreLookup(configuration: configuration, namespace: Self.namespace, onTransition: transitions.add)
        ScoreWriter(url: url, configuration: configuration, namespace: Self.namespace).store([(Self.key("k"), 0.5)])
        #expect(cache.lookup([Self.key("k")]) == [0.5])
        server.kill()
        for _ in 0..<10 { #expect(cache.lookup([Self.key("k")]) == [nil]) }
        #expect(cache.breakerState == .open)
        // Two failures open it; while it is open the lookups do not go to Redis at all.
        #expect(cache.counters.errors >= 2 && cache.counters.bypassed > 0, "\(cache.counters)")
        try server.start()
        let writer = ScoreWriter(url: url, configuration: configuration, namespace: Self.namespace)
        let resumed = eventually(timeout: .seconds(10)) {
            writer.store([(Self.key("k"), 0.5)])
            return cache.lookup([Self.key("k")]) == [0.5]
        }
        #expect(resumed && cache.breakerState == .closed)
        #expect(transitions.states.first == .open && transitions.states.last == .closed, "\(transitions.states)")
    }

    @Test("A connection Redis drops is reopened at once: one break is one failure, with two lookups out; the breaker stays closed and the next lookup hits")
    func droppedConnection() throws {
        let server = try RedisServer()
        let transitions = Transitions()
        let configuration = try Self.breakerConfiguration(server)
        let cache = ScoreLookup(configuration: configuration, namespace: Self.namespace, onTransition: transitions.add)
        ScoreWriter(url: try RedisURL(parsing: server.url), configuration: configuration, namespace: Self.namespace).store([(Self.key("k"), 0.5)])
        let keys = ScoreKeys([Self.key("k")])
        var (first, second) = (ScoreLookup.Lookup(), ScoreLookup.Lookup())
        var (found1, found2): ([Float?], [Float?]) = ([], [])
        cache.beginLookup(keys, into: &found1, lookup: &first)
        cache.finishLookup(keys, into: &found1, lookup: &first)
        #expect(found1 == [0.5])
        // Redis drops the connection (as a restart, an idle timeout or a proxy would),
        // then two lookups go out on it: neither gets a reply.
        let admin = RedisConnection(url: try RedisURL(parsing: server.url))
        _ = try admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
        cache.beginLookup(keys, into: &found1, lookup: &first)
        cache.beginLookup(keys, into: &found2, lookup: &second)
        cache.finishLookup(keys, into: &found1, lookup: &first)
        cache.finishLookup(keys, into: &found2, lookup: &second)
        #expect(found1 == [nil] && found2 == [nil])
        #expect(cache.counters.errors == 2, "both lookups' keys are errors")
        #expect(cache.lookup([Self.key("k")]) == [0.5], "the next lookup reconnects at once and hits")
        #expect(transitions.states.isEmpty, "one break, one failure: the breaker (two failures) stays closed: \(transitions.states)")
        #expect(cache.breakerState == .closed)
    }

    @Test("Redis refusing commands is a failure: a full Redis (OOM) refuses writes, a forbidden MGET (NOPERM) fails lookups; each breaker opens with the reason and closes when Redis takes them again")
    func refusals() throws {
        let server = try RedisServer()
        let configuration = try Self.breakerConfiguration(server)
        let url = try RedisURL(parsing: server.url)
        let (writerReasons, readerReasons) = (Transitions(), Transitions())
        // As in the worker: the writer and the batcher's lookups each have a connection and
        // a breaker of their own.
        let writer = ScoreWriter(url: url, configuration: configuration, namespace: Self.namespace, onTransition: writerReasons.add)
        let reader = ScoreLookup(configuration: configuration, namespace: Self.namespace, onTransition: readerReasons.add)
        let admin = RedisConnection(url: url)
        writer.store([(Self.key("k"), 0.5)])
        #expect(writer.counters.keysWritten == 1 && writer.counters.writeErrors == 0)

        _ = try admin.command(["CONFIG", "SET", "maxmemory", "1"])  // every write now refused: OOM
        writer.store([(Self.key("a"), 0.25), (Self.key("b"), 0.75)])
        #expect(writer.counters.writeErrors == 2 && writer.breakerState == .closed)
        writer.store([(Self.key("c"), 0.125)])
        #expect(writer.counters.writeErrors == 3 && writer.breakerState == .open, "two refused writes in a row")
        #expect(writerReasons.list.count == 1 && writerReasons.list[0].state == .open)
        #expect(writerReasons.list[0].reason?.contains("OOM") == true, "\(writerReasons.list)")
        writer.store([(Self.key("d"), 0.5)])
        #expect(writer.counters.writesSkipped == 1 && writer.counters.redisWrites == 3, "not sent while open")
        #expect(reader.lookup([Self.key("k"), Self.key("a")]) == [0.5, nil], "a full Redis still answers reads")
        #expect(reader.counters.errors == 0 && reader.breakerState == .closed)

        _ = try admin.command(["ACL", "SETUSER", "default", "-mget"])  // lookups now refused: NOPERM
        #expect(reader.lookup([Self.key("k")]) == [nil] && reader.lookup([Self.key("k")]) == [nil])
        #expect(reader.counters.errors == 2 && reader.counters.misses == 1 && reader.breakerState == .open)
        #expect(readerReasons.list.last?.reason?.contains("NOPERM") == true, "\(readerReasons.list)")
        #expect(reader.lookup([Self.key("k")]) == [nil] && reader.counters.bypassed == 1, "skipped while open")

        _ = try admin.command(["ACL", "SETUSER", "default", "+mget"])
        _ = try admin.command(["CONFIG", "SET", "maxmemory", "0"])
        // Skipped while open; once the open time is up, the next call is a probe.
        let written = eventually(timeout: .seconds(10)) {
            writer.store([(Self.key("e"), 0.5)])
            return writer.breakerState == .closed
        }
        #expect(written && writer.counters.keysWritten == 2)
        #expect(eventually(timeout: .seconds(10)) { reader.lookup([Self.key("e")]) == [0.5] } && reader.breakerState == .closed)
        #expect(writerReasons.states == [.open, .halfOpen, .closed] && writerReasons.list[2].reason == nil)
        #expect(readerReasons.states == [.open, .halfOpen, .closed])
    }

    @Test("Without Redis the local tier alone serves")
    func localOnly() {
        let cache = ScoreLookup(configuration: .init(redis: nil), namespace: Self.namespace)
        #expect(cache.lookup([Self.key("k")]) == [nil])
        cache.storeLocally([(Self.key("k"), 0.5)])
        #expect(cache.lookup([Self.key("k")]) == [0.5])
        #expect(cache.counters.localHits == 1 && cache.roundTrips == 0)
    }

    /// Redis alone (no local tier), a breaker that opens after two failures for 300 ms.
    static func breakerConfiguration(_ server: RedisServer) throws -> ScoreCacheConfiguration {
        var configuration = ScoreCacheConfiguration(redis: try RedisURL(parsing: server.url))
        configuration.localCapacity = 0
        configuration.failureThreshold = 2
        configuration.openDuration = .milliseconds(300)
        return configuration
    }

    /// A breaker's transitions as `onTransition` reports them.
    final class Transitions: @unchecked Sendable {
        private let lock = NSLock()
        private var transitions: [(state: CircuitBreaker.State, reason: String?)] = []
        func add(_ s: CircuitBreaker.State, _ reason: String?) { lock.withLock { transitions.append((s, reason)) } }
        var list: [(state: CircuitBreaker.State, reason: String?)] { lock.withLock { transitions } }
        var states: [CircuitBreaker.State] { list.map(\.state) }
    }
}
