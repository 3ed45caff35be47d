import Features
import Foundation
import Inference
import KafkaBridge
import Pipeline
import RedisBridge
import Synchronization
import Testing
import Workload
@testable import ScoreCache

/// The score cache inside the worker: a real `redis-server`, the mock cluster.
@Suite("Score cache in the pipeline", .serialized)
struct PipelineCacheTests {
    /// The key the start-up probe (`CacheProbe`) writes, with the default prefix.
    static let probeKey = "streamscore:probe"

    /// Waits until the start-up probe has made its one `MGET` and one `SET`.
    static func awaitProbe(_ server: RedisServer) throws {
        let admin = RedisConnection(url: try RedisURL(parsing: server.url))
        #expect(eventually(timeout: .seconds(10)) { (try? admin.command(["EXISTS", probeKey])) == .integer(1) }, "the probe ran")
    }

    static func cacheConfiguration(_ url: String?) throws -> ScoreCacheConfiguration {
        var c = ScoreCacheConfiguration(redis: try url.map { try RedisURL(parsing: $0) })
        c.localCapacity = 0  // Redis alone, so its traffic is what the test counts
        c.timeout = .milliseconds(50)
        c.failureThreshold = 2
        c.openDuration = .milliseconds(300)
        return c
    }

    @Test("90% repeated keys: each input one output, cached ones flagged and equal, repeats in a batch scored once, one MGET and at most one write per batch")
    func repeatedKeys() throws {
        let server = try RedisServer()
        let setup = try PipelineTests.Setup(partitions: 2)
        // 5 ms per model call: the drain lasts long enough for the first scores to reach
        // Redis (after their acknowledgement) before later batches look them up.
        let model = InstrumentedModel(try ModelLoader.load(path: PipelineTests.modelPath), delay: 0.005)
        let written = try EventWriter(bootstrap: setup.bootstrap)
            .write(4_000, to: setup.input, generator: TransactionGenerator(seed: 3, keys: 1_000, repeatRatio: 0.9))
        let pipeline = try setup.pipeline(model: model) { c in
            c.cache = try? Self.cacheConfiguration(server.url)
            c.features.keyFields = ["card_id", "merchant", "amount"]
        }
        try pipeline.start()
        guard case .stopped? = PipelineTests().drain(pipeline, count: 4_000) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        let outputs = try setup.reader.readAll(setup.output, partitions: 2)
        #expect(outputs.count == 4_000)
        // In order, although each batch is held while the next one's MGET is out.
        for partition in 0..<Int32(2) {
            var last: [Int32: Int64] = [:]
            for record in outputs where record.partition == partition {
                let source = try #require(record.source)
                #expect(source.offset > last[source.partition, default: -1], "out of order in output partition \(partition)")
                last[source.partition] = source.offset
            }
        }
        var byKey: [String: Float] = [:]
        var cachedCount = 0
        let decoder = EventDecoder(numericFields: PipelineTests.fields)
        var rowsByID: [String: [Float]] = [:]
        for w in written {
            let r = try decoder.decode(w.event.value).get()
            rowsByID[r.id!] = r.row
        }
        for output in outputs {
            let json = output.json
            let cached = try #require(json["cached"] as? Bool)
            #expect(output.text(Header.cached) == (cached ? "true" : "false"))
            let score = try #require((json["score"] as? NSNumber)?.floatValue)
            let id = try #require(json["id"] as? String)
            #expect(abs(score - model.inner.score([rowsByID[id]!])[0]) <= 1e-6, "repeats are the same transaction: same score")
            if cached { cachedCount += 1 }
            let key = "\(json["key"] as? String ?? "")"
            byKey[key] = score
        }
        let stats = pipeline.stats
        let scored = model.rows.load(ordering: .relaxed)
        // Repeats are served without the model: from the cache, or by the row of the same
        // batch that has their key (how many of each depends on how the batches fall).
        #expect(cachedCount > 1_000, "repeats come from the cache: \(cachedCount)")
        #expect(4_000 - scored >= 3_000, "most repeats are not scored again: \(scored) scored")
        // Every distinct key is scored at least once; a cached row is not scored; and a key
        // repeated within one batch is scored once for all its rows.
        let distinct = Set(written.map { w -> String in
            let json = (try? JSONSerialization.jsonObject(with: Data(w.event.value))) as? [String: Any] ?? [:]
            return "\(json["card_id"] ?? "")|\(json["merchant"] ?? "")|\(json["amount"] ?? "")"
        }).count
        #expect(scored >= distinct && scored <= 4_000 - cachedCount, "scored \(scored), distinct \(distinct), cached \(cachedCount)")
        #expect(scored < 4_000 - cachedCount, "some repeats fell in the same batch and were scored once")
        #expect(stats.cache.hits.load(ordering: .relaxed) + stats.cache.misses.load(ordering: .relaxed) <= 4_000)
        let reads = stats.cache.redisReads.load(ordering: .relaxed), writes = stats.cache.redisWrites.load(ordering: .relaxed)
        try Self.awaitProbe(server)  // its one MGET and one SET are not the pipeline's
        #expect(try server.calls("mget") - 1 == reads)
        #expect(reads <= stats.batches.load(ordering: .relaxed), "at most one read per batch")
        #expect(writes <= stats.batches.load(ordering: .relaxed) + 1, "at most one write per batch")
        #expect(try server.calls("set") - 1 >= 1)
        #expect(try server.calls("set") - 1 == stats.cache.writesOK.load(ordering: .relaxed), "every SET counted as written")
        #expect(stats.cache.writeErrors.load(ordering: .relaxed) == 0 && stats.cache.writesSkipped.load(ordering: .relaxed) == 0)
    }

    @Test("A score whose output the broker refuses never reaches Redis: only acknowledged outputs' scores are written")
    func refusedOutputsAreNotCached() throws {
        let server = try RedisServer()
        let setup = try PipelineTests.Setup(partitions: 2)
        let written = try EventWriter(bootstrap: setup.bootstrap)
            .write(2_000, to: setup.input, generator: TransactionGenerator(seed: 8, keys: 100_000))
        var spec: FeatureSpec?
        let pipeline = try setup.pipeline(model: try ModelLoader.load(path: PipelineTests.modelPath)) { c in
            c.cache = try? Self.cacheConfiguration(server.url)
            c.features.keyFields = ["card_id", "merchant", "amount"]
            c.batchMaxRows = 100
            c.producerProperties["linger.ms"] = "0"
            spec = c.features
        }
        // TOPIC_AUTHORIZATION_FAILED (29) for the first produce requests: not retriable,
        // so those outputs fail and the worker stops.
        setup.cluster.failNextRequests(apiKey: 0, count: 3, code: 29)
        try pipeline.start()
        guard case .failed? = pipeline.waitForOutcome(until: .now + .seconds(60)) else {
            Issue.record("expected the refused delivery to stop the worker")
            return
        }
        // Each event's cache key, as the worker builds it.
        let decoder = try EventDecoder(spec: try #require(spec))
        var scratch = EventDecoder.Scratch(for: decoder)
        var row = [Float](repeating: 0, count: decoder.inputCount)
        var keyOf: [String: String] = [:]
        for w in written {
            let id = w.event.value.withUnsafeBytes { raw in
                try? row.withUnsafeMutableBufferPointer { decoder.decode(raw, into: $0, scratch: &scratch) }.get()?.text(in: raw)
            }
            if let id, let key = scratch.key { keyOf[id] = String(decoding: key, as: UTF8.self) }
        }
        let outputs = try setup.reader.readAll(setup.output, partitions: 2)
        let delivered = Set(outputs.compactMap { ($0.json["id"] as? String).flatMap { keyOf[$0] } })
        let connection = RedisConnection(url: try RedisURL(parsing: server.url))
        guard case .array(let names) = try connection.command(["KEYS", "*"]) else {
            Issue.record("KEYS did not answer an array")
            return
        }
        let stored = names.compactMap { reply -> String? in
            guard case .string(let bytes) = reply else { return nil }
            let name = String(decoding: bytes, as: UTF8.self)
            return name == Self.probeKey ? nil : name.split(separator: ":").last.map(String.init)
        }
        #expect(pipeline.stats.deliveryFailures.load(ordering: .relaxed) > 0)
        #expect(outputs.count < 2_000 && keyOf.count == 2_000)
        let strays = Set(stored).subtracting(delivered)
        #expect(strays.count == 0, "\(strays.count) of \(stored.count) cached scores have no acknowledged output")
    }

    /// A running pipeline with the score cache on Redis alone, fed live events (200 keys)
    /// in rounds by the test, in batches of 32 on one partition.
    final class LiveStream {
        let setup: PipelineTests.Setup
        let pipeline: ScoringPipeline
        private let writer: EventWriter
        private var generator: TransactionGenerator
        var stats: PipelineStats { pipeline.stats }

        init(redis url: String, seed: UInt64, repeatRatio: Double) throws {
            setup = try PipelineTests.Setup(partitions: 1)
            let model = InstrumentedModel(try ModelLoader.load(path: PipelineTests.modelPath), delay: 0.002)
            writer = EventWriter(bootstrap: setup.bootstrap)
            pipeline = try setup.pipeline(model: model) { c in
                c.cache = try? PipelineCacheTests.cacheConfiguration(url)
                c.features.keyFields = ["card_id", "merchant", "amount"]
                c.batchMaxRows = 32
            }
            generator = TransactionGenerator(seed: seed, keys: 200, repeatRatio: repeatRatio)
            try pipeline.start()
        }

        var acknowledged: Int { stats.outputsAcknowledged.load(ordering: .relaxed) }

        /// Sends `n` events; whether every event sent so far is acknowledged within a minute.
        func send(_ n: Int) throws -> Bool {
            let target = acknowledged + n
            let events = (0..<n).map { _ in generator.next(timestamp: Int64(Date().timeIntervalSince1970 * 1000)) }
            _ = try writer.write(events, to: setup.input)
            return eventually(timeout: .seconds(60)) { acknowledged >= target }
        }

        /// Stops the pipeline and reads its output topic (nil: it did not stop cleanly).
        func stop() throws -> [KafkaRecord]? {
            pipeline.requestStop()
            guard case .stopped? = pipeline.waitForOutcome(until: .now + .seconds(60)) else { return nil }
            return try setup.reader.readAll(setup.output, partitions: 1)
        }
    }

    @Test("Redis full (OOM at maxmemory): nothing lost, writes counted as errors and their breaker opens, lookups go on; room again: writes resume")
    func redisFull() throws {
        let server = try RedisServer()
        let admin = RedisConnection(url: try RedisURL(parsing: server.url))
        _ = try admin.command(["CONFIG", "SET", "maxmemory", "1"])  // noeviction: every SET is refused
        let stream = try LiveStream(redis: server.url, seed: 5, repeatRatio: 0.5)
        let stats = stream.stats
        #expect(try stream.send(1_000))
        #expect(eventually(timeout: .seconds(10)) { stats.cache.writeBreakerState.load(ordering: .relaxed) == 1 }, "the writes' breaker opens")
        #expect(stats.cache.writeErrors.load(ordering: .relaxed) > 0 && stats.cache.writesOK.load(ordering: .relaxed) == 0)
        #expect(try server.calls("set") == 0, "Redis executed no SET")
        #expect(stats.cache.breakerState.load(ordering: .relaxed) == 0 && stats.cache.errors.load(ordering: .relaxed) == 0, "lookups are not failures")
        #expect(stats.cache.redisReads.load(ordering: .relaxed) > 0)

        _ = try admin.command(["CONFIG", "SET", "maxmemory", "0"])
        // Writes are skipped until the breaker's open time is up, then probed: send until
        // one has gone through.
        var sent = 1_000
        let resumed = try eventually(timeout: .seconds(20)) {
            guard try stream.send(200) else { return false }
            sent += 200
            return stats.cache.writesOK.load(ordering: .relaxed) > 0
        }
        #expect(resumed, "writes resume")
        #expect(stats.cache.writeBreakerState.load(ordering: .relaxed) == 0)
        let outputs = try #require(try stream.stop(), "pipeline did not stop cleanly")
        #expect(outputs.count == sent, "no record lost")
        #expect(try server.calls("set") == stats.cache.writesOK.load(ordering: .relaxed))
    }

    @Test("Redis killed mid-stream: nothing lost, the breaker opens, scoring goes on; Redis back: hits resume")
    func redisGoesAway() throws {
        let server = try RedisServer()
        let stream = try LiveStream(redis: server.url, seed: 4, repeatRatio: 0.9)
        let stats = stream.stats
        #expect(try stream.send(1_000))
        #expect(stats.cache.hits.load(ordering: .relaxed) > 0)

        server.kill()
        #expect(try stream.send(1_000), "scoring goes on without Redis")
        #expect(stats.cache.breakerState.load(ordering: .relaxed) != 0 || stats.cache.bypassed.load(ordering: .relaxed) > 0)
        #expect(stats.cache.errors.load(ordering: .relaxed) > 0)

        try server.start()
        // Lookups skip Redis until the breaker's open time is up, then probe it: send until
        // Redis is read again.
        let readsBefore = stats.cache.redisReads.load(ordering: .relaxed)
        var sent = 2_000
        let readAgain = try eventually(timeout: .seconds(20)) {
            guard try stream.send(200) else { return false }
            sent += 200
            return stats.cache.redisReads.load(ordering: .relaxed) > readsBefore && stats.cache.breakerState.load(ordering: .relaxed) == 0
        }
        #expect(readAgain, "Redis is read again and the breaker closed")
        let outputs = try #require(try stream.stop(), "pipeline did not stop cleanly")
        #expect(outputs.count == sent, "no record lost")
        #expect(Set(outputs.map { $0.source!.offset }).count == sent)
    }

    @Test("At start-up the log says whether Redis answers, which Redis it is, and whether it suits a cache (a full noeviction Redis refuses writes); a Redis that does not answer is named with the reason")
    func startupProbe() throws {
        let server = try RedisServer()
        let admin = RedisConnection(url: try RedisURL(parsing: server.url))
        _ = try admin.command(["CONFIG", "SET", "maxmemory", "64mb"])
        let setup = try PipelineTests.Setup(partitions: 1)
        let model = try ModelLoader.load(path: PipelineTests.modelPath)
        func startupLog(redis: String) throws -> CapturedLogs {
            let logs = CapturedLogs()
            let pipeline = try setup.pipeline(model: model, logger: logs.logger()) { c in c.cache = try? Self.cacheConfiguration(redis) }
            try pipeline.start()
            // The probe's last word: "answers" (after its warnings), or "does not answer".
            _ = eventually(timeout: .seconds(10)) {
                (logs.first("score cache: Redis answers") ?? logs.first("score cache: Redis does not answer")) != nil
                    && logs.first("pipeline started") != nil
            }
            pipeline.requestStop()
            _ = pipeline.waitForOutcome(until: .now + .seconds(30))
            return logs
        }

        let live = try startupLog(redis: server.url)
        let answers = try #require(live.first("score cache: Redis answers"))
        #expect(answers.level == .info && answers.metadata["lookups"] == "ok" && answers.metadata["writes"] == "ok")
        #expect(answers.metadata["version"]?.first?.isNumber == true, "\(answers.metadata)")
        #expect(answers.metadata["maxmemory"] == "\(64 << 20)" && answers.metadata["maxmemory_policy"] == "noeviction")
        let advice = try #require(live.first("score cache: Redis has maxmemory"), "a full noeviction Redis refuses writes: the log says so")
        #expect(advice.level == .warning && advice.message.contains("allkeys-lru"))

        _ = try admin.command(["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"])
        let suited = try startupLog(redis: server.url)
        #expect(suited.first("score cache: Redis answers") != nil)
        #expect(suited.first("score cache: Redis has maxmemory") == nil, "no advice for a Redis that evicts")

        #expect(suited.first("score cache: Redis refuses") == nil)

        // Pointed at a replica: lookups work, writes are refused (READONLY).
        let deadPort = try RedisServer.freePort()
        _ = try admin.command(["REPLICAOF", "127.0.0.1", "\(deadPort)"])
        let replica = try startupLog(redis: server.url)
        _ = try admin.command(["REPLICAOF", "NO", "ONE"])
        let refusesWrites = try #require(replica.first("score cache: Redis refuses writes (SET)"))
        #expect(refusesWrites.level == .warning && refusesWrites.metadata["reason"]?.hasPrefix("READONLY") == true, "\(refusesWrites.metadata)")
        #expect(replica.first("score cache: Redis answers")?.metadata["writes"] == "refused")
        #expect(replica.first("score cache: Redis refuses lookups") == nil, "a replica serves lookups")

        // No password where one is needed: both refused (NOAUTH).
        let guarded = try RedisServer(password: "s3cret")
        let noPassword = try startupLog(redis: "redis://127.0.0.1:\(guarded.port)")
        #expect(noPassword.first("score cache: Redis refuses lookups (MGET)")?.metadata["reason"]?.hasPrefix("NOAUTH") == true)
        #expect(noPassword.first("score cache: Redis refuses writes (SET)")?.metadata["reason"]?.hasPrefix("NOAUTH") == true)
        #expect(noPassword.first("score cache: Redis answers")?.metadata["version"]?.hasPrefix("unknown (INFO refused: NOAUTH") == true)

        let dead = try startupLog(redis: "redis://:s3cret@127.0.0.1:\(deadPort)")
        let silent = try #require(dead.first("score cache: Redis does not answer"))
        #expect(silent.level == .warning)
        #expect(silent.metadata["reason"]?.contains("127.0.0.1:\(deadPort): Connection refused") == true, "\(silent.metadata)")
        #expect(silent.metadata["redis"] == "redis://:***@127.0.0.1:\(deadPort)/0", "the password is hidden")
    }

    @Test("Without key fields the key is the feature row's: an event delivered again is served from the cache with the same score, and each distinct row is scored once")
    func rowKeys() throws {
        let setup = try PipelineTests.Setup(partitions: 1)
        let model = InstrumentedModel(try ModelLoader.load(path: PipelineTests.modelPath))
        var generator = TransactionGenerator(seed: 11, keys: 100_000)
        let events = (0..<600).map { _ in generator.next(timestamp: 1_700_000_000_000) }
        _ = try EventWriter(bootstrap: setup.bootstrap).write(events + events, to: setup.input)  // each delivered twice
        let pipeline = try setup.pipeline(model: model) { c in
            var cache = ScoreCacheConfiguration(redis: nil)
            cache.localCapacity = 10_000
            c.cache = cache
            c.features.keyFields = []
        }
        try pipeline.start()
        guard case .stopped? = PipelineTests().drain(pipeline, count: 1_200) else {
            Issue.record("pipeline did not stop cleanly")
            return
        }
        let outputs = try setup.reader.readAll(setup.output, partitions: 1)
        #expect(outputs.count == 1_200)
        let decoder = EventDecoder(numericFields: PipelineTests.fields)
        let distinctRows = Set(try events.map { try decoder.decode($0.value).get().row }).count
        #expect(model.rows.load(ordering: .relaxed) == distinctRows, "each distinct row scored once")
        var first: [String: Float] = [:]
        var cachedAgain = 0
        for output in outputs.sorted(by: { $0.offset < $1.offset }) {
            let json = output.json
            let id = try #require(json["id"] as? String)
            let score = try #require((json["score"] as? NSNumber)?.floatValue)
            guard let earlier = first[id] else {
                first[id] = score
                continue
            }
            #expect(score == earlier, "the same event, the same score")
            if json["cached"] as? Bool == true { cachedAgain += 1 }
        }
        #expect(cachedAgain == 600, "every second delivery came from the cache")
    }
}

