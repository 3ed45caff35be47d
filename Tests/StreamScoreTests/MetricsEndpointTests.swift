import Foundation
import Pipeline
import Testing
@testable import streamscore
import Workload

/// The worker's `/metrics` and `/health`, scraped from the real binary while it runs with
/// Redis, then with Redis gone.
@Suite("Metrics endpoint", .serialized)
struct MetricsEndpointTests {
    /// Every family has `# HELP` and `# TYPE`, and Prometheus' own linter has nothing to say.
    func checkExposition(_ text: String) throws {
        let lines = text.split(separator: "\n")
        let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(typed == helped, "families without help: \(typed.subtracting(helped))")
        let lint = try runTool("promtool", ["check", "metrics"], input: text)
        #expect(lint.status == 0 && lint.output.isEmpty, "promtool check metrics: \(lint.output)")
    }

    @Test("/metrics counts cache hits, misses, errors, Redis round trips and their time, the breaker state and stage times; /health answers")
    func scrape() throws {
        let (input, output, dlq, group) = (uniqueName("in"), uniqueName("out"), uniqueName("dlq"), uniqueName("group"))
        let broker = try BrokerProcess(partitions: 2, topics: [input, output, dlq])
        let redis = try RedisServer()
        let reader = TopicReader(bootstrap: broker.bootstrap)
        let writer = EventWriter(bootstrap: broker.bootstrap)
        _ = try writer.write(1_000, to: input, generator: TransactionGenerator(seed: 5, keys: 500, repeatRatio: 0.9))
        let port = try RedisServer.freePort()
        let config = try writeWorkerConfig(
            input: input, output: output, deadLetter: dlq, group: group,
            extra: "cache:\n  timeout_ms: 50\n  breaker_open_ms: 60000\n  local_capacity: 0", statisticsMs: 1000)
        let worker = try WorkerProcess(["run", "--config", config, "--bootstrap", broker.bootstrap, "--redis", redis.url, "--metrics", "127.0.0.1:\(port)"])
        defer { worker.terminate() }
        try #require(eventually { (try? reader.count(output, partitions: 2)) ?? 0 >= 1_000 }, "no outputs: \(worker.stderr)")
        // Scores reach Redis after their outputs are acknowledged, a few milliseconds on.
        // Once some have, the same 1,000 events again must find them there.
        let writes = #"streamscore_redis_round_trips_total{kind="write"}"#
        try #require(eventually { (try? httpGet(port: port, path: "/metrics")).flatMap { prometheusValue($0.body, writes) } ?? 0 > 0 })
        _ = try writer.write(1_000, to: input, generator: TransactionGenerator(seed: 5, keys: 500, repeatRatio: 0.9))
        try #require(eventually { (try? reader.count(output, partitions: 2)) ?? 0 >= 2_000 }, "no outputs: \(worker.stderr)")

        // outputs_total counts acknowledged outputs: the delivery reports can trail the
        // records a reader already sees by a few milliseconds.
        try #require(eventually { (try? httpGet(port: port, path: "/metrics")).flatMap { prometheusValue($0.body, "streamscore_outputs_total") } == 2_000 },
                     "outputs seen by a reader but not acknowledged to the worker")
        let health = try httpGet(port: port, path: "/health")
        #expect(health.status == 200 && health.body == "ok\n")
        let metrics = try httpGet(port: port, path: "/metrics")
        #expect(metrics.status == 200)
        var text = metrics.body
        #expect(prometheusValue(text, "streamscore_events_consumed_total") == 2_000)
        #expect(prometheusValue(text, "streamscore_outputs_total") == 2_000)
        let hits = try #require(prometheusValue(text, #"streamscore_cache_requests_total{result="hit"}"#))
        let misses = try #require(prometheusValue(text, #"streamscore_cache_requests_total{result="miss"}"#))
        let duplicates = try #require(prometheusValue(text, "streamscore_cache_batch_duplicates_total"))
        #expect(hits > 0 && misses > 0 && duplicates > 0)
        #expect(prometheusValue(text, "streamscore_cache_local_hits_total") == 0, "local_capacity 0: every hit came from Redis")
        #expect(hits + misses + duplicates == 2_000, "every event has a key: one request per distinct key in a batch, the rest duplicates")
        let reads = try #require(prometheusValue(text, #"streamscore_redis_round_trips_total{kind="read"}"#))
        #expect(reads == prometheusValue(text, "streamscore_batches_total"), "one MGET per batch")
        #expect(prometheusValue(text, "streamscore_redis_round_trip_seconds_count").map { $0 >= reads } == true)
        #expect(prometheusValue(text, "streamscore_cache_breaker_state") == 0)
        #expect(prometheusValue(text, "streamscore_cache_write_breaker_state") == 0)
        #expect(prometheusValue(text, #"streamscore_cache_writes_total{result="ok"}"#).map { $0 > 0 } == true)
        #expect((prometheusValue(text, #"streamscore_cache_writes_total{result="error"}"#) ?? 0) == 0)
        for stage in Stage.allCases {
            #expect(prometheusValue(text, #"streamscore_stage_seconds_total{stage="\#(stage.rawValue)"}"#) != nil, "stage \(stage)")
        }
        #expect(prometheusValue(text, #"streamscore_stage_seconds_total{stage="inference"}"#).map { $0 > 0 } == true)
        #expect(prometheusValue(text, #"streamscore_stage_duration_seconds_count{stage="inference"}"#).map { $0 > 0 } == true)
        #expect(prometheusValue(text, "streamscore_event_age_seconds_count") == 2_000, "one age per acknowledged output")
        #expect(prometheusValue(text, "streamscore_batch_rows_count") == prometheusValue(text, "streamscore_batches_total"))
        #expect(prometheusValue(text, "streamscore_batch_rows_sum") == prometheusValue(text, "streamscore_batch_rows_total"))
        #expect(prometheusValue(text, "streamscore_consumer_assigned_partitions") == 2)
        #expect(text.contains(#"streamscore_build_info{version=""#) && text.contains(#"librdkafka="2.0.2""#))
        #expect(text.contains(#"streamscore_model_info{name="fraud-xgb""#))
        #expect(prometheusValue(text, "process_resident_memory_bytes").map { $0 > 1_000_000 } == true)
        // Caught up: no partition is behind, once librdkafka's statistics (every second
        // here) have seen the last acknowledgement.
        try #require(eventually(timeout: .seconds(15)) {
            let body = (try? httpGet(port: port, path: "/metrics").body) ?? ""
            return (0..<2).allSatisfy { prometheusValue(body, #"streamscore_consumer_lag{topic="\#(input)",partition="\#($0)"}"#) == 0 }
                && prometheusValue(body, "streamscore_consumer_lag_assigned") == 0
        }, "lag not 0 after catching up")
        #expect(prometheusValue(text, #"streamscore_consumer_lag_seconds{topic="\#(input)",partition="0"}"#) == 0)
        try checkExposition(text)

        // Redis gone: errors count, the breaker opens (after breaker_failures failed batches,
        // so events go on arriving until it has), scoring goes on, and batches skip Redis.
        redis.kill()
        var sent = 2_000
        func send(seed: UInt64) throws {
            _ = try writer.write(500, to: input, generator: TransactionGenerator(seed: seed, keys: 500, repeatRatio: 0.9))
            sent += 500
            try #require(eventually { (try? reader.count(output, partitions: 2)) ?? 0 >= sent }, "scoring stopped without Redis: \(worker.stderr)")
            text = try httpGet(port: port, path: "/metrics").body
        }
        for seed: UInt64 in 6..<16 where prometheusValue(text, "streamscore_cache_breaker_state") != 1 { try send(seed: seed) }
        #expect(prometheusValue(text, "streamscore_cache_breaker_state") == 1)
        #expect(prometheusValue(text, #"streamscore_cache_requests_total{result="error"}"#).map { $0 > 0 } == true)
        try send(seed: 16)
        #expect(prometheusValue(text, "streamscore_outputs_total") == Double(sent))
        #expect(prometheusValue(text, #"streamscore_cache_requests_total{result="bypass"}"#).map { $0 > 0 } == true)
        #expect(worker.stderr.contains("score cache: Redis failing; scoring without it"), "the opening is logged: \(worker.stderr)")

        worker.signal(SIGTERM)
        #expect(worker.waitForExit(timeout: .seconds(30)) == 0, "\(worker.stderr)")
    }
}
