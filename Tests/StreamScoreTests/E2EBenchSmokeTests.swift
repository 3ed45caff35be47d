import Foundation
import Testing

/// `streamscore bench e2e` end to end on a few thousand events, every mode: the report must
/// be complete and consistent. Timings are printed, never asserted.
@Suite("End-to-end benchmark (smoke)", .serialized)
struct E2EBenchSmokeTests {
    @Test("Drain and rate runs of StreamScore (cache off and on), passthrough, kcat and the Python peer account for every input")
    func smoke() throws {
        let events = 3_000
        let bench = try WorkerProcess([
            "bench", "e2e", "--events", String(events), "--models", "logistic", "--cache", "off,redis", "--repeats", "0.9",
            "--rates", "0.5", "--rate-seconds", "1", "--stall-seconds", "30", "--json",
        ])
        let status = bench.waitForExit(timeout: .seconds(600))
        try #require(status == 0, "bench e2e exited \(String(describing: status)): \(bench.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [[String: Any]], "not a JSON array: \(bench.stdout)")
        print(bench.stdout)

        func rows(_ mode: String, _ subject: String) -> [[String: Any]] {
            report.filter { $0["mode"] as? String == mode && $0["subject"] as? String == subject }
        }
        #expect(rows("drain", "passthrough").count == 1)
        #expect(rows("drain", "kcat").count == 1)
        #expect(rows("drain", "peer").count == 1)
        #expect(rows("drain", "streamscore").count == 2, "cache off and on")
        #expect(rows("rate", "streamscore").count == 2, "one rate run per StreamScore configuration")
        #expect(rows("rate", "passthrough").count == 1, "the latency floor: passthrough at a fixed rate too")
        #expect(rows("rate", "kcat").count == 2, "the kcat pipe at each StreamScore configuration's rate")

        for row in report {
            let what = "\(row["mode"]!) \(row["subject"]!) cache=\(row["cache"]!)"
            for field in ["mode", "model", "events", "events_per_s", "passthrough_events_per_s", "kcat_events_per_s", "peer_events_per_s",
                          "p50_ms", "p99_ms", "p999_ms", "max_ms", "rss_mb"] {
                #expect(row[field] != nil, "\(what): no \(field)")
            }
            let expected = try #require(row["events"] as? Int)
            #expect(row["complete"] as? Bool == true, "\(what)")
            if row["subject"] as? String == "kcat" && row["mode"] as? String == "rate" {
                // The pipe holds its latest lines back: it is sent 16 more than are counted.
                #expect((row["outputs"] as? Int ?? 0) >= expected, "\(what): every counted input")
            } else {
                #expect(row["outputs"] as? Int == expected, "\(what): one output per input")
            }
            if row["subject"] as? String != "kcat" {
                // (a kcat drain of a few thousand records can end before its first sample)
                #expect(row["thread_cpu_us_per_event"] is [String: Double], "\(what): CPU per event by thread")
            }
            #expect((row["events_per_s"] as? Double ?? 0) > 0, "\(what)")
            if row["subject"] as? String != "kcat" {
                // kcat copies values only; everything else says which input each output is for.
                #expect(row["distinct_inputs"] as? Int == expected, "\(what): every input accounted for")
                #expect(row["duplicates"] as? Int == 0, "\(what): none twice")
                #expect(row["latency_count"] as? Int == expected, "\(what): one latency per output")
            }
            if row["mode"] as? String == "drain" && row["subject"] as? String != "kcat" {
                #expect((row["rss_mb"] as? Double ?? 0) > 0, "\(what)")
            }
        }
        for row in rows("drain", "streamscore") + rows("rate", "streamscore") {
            for field in ["passthrough_events_per_s", "kcat_events_per_s", "peer_events_per_s"] {
                #expect((row[field] as? Double ?? 0) > 0, "streamscore rows carry the ceilings and the peer of the same run: \(field)")
            }
            #expect((row["stage_seconds"] as? [String: Double])?.count == 9, "the worker's stage times (commit among them, 0 at-least-once)")
            let threads = row["thread_cpu_us_per_event"] as? [String: Double] ?? [:]
            #expect(threads["batcher"] != nil && threads["kafka.poll"] != nil && threads["rdk:broker"] != nil, "the worker's threads by name: \(threads.keys)")
        }
        for row in rows("rate", "streamscore") {
            #expect((row["p99_x_kcat"] as? Double ?? 0) > 0, "p99 beside the kcat pipe's at the same rate")
        }
        // With 90% repeats the cache serves: at most one MGET per batch (none when the
        // in-process tier has every key), at most one write.
        let cached = try #require(rows("drain", "streamscore").first { $0["cache"] as? String == "redis" })
        let counters = try #require(cached["cache_counters"] as? [String: Double], "cache counters from the worker's metrics")
        #expect((counters["hit"] ?? 0) > 0)
        #expect((counters["redis_reads"] ?? 0) > 0 && (counters["redis_reads"] ?? 0) <= (counters["batches"] ?? 0), "at most one Redis read per batch")
        #expect((counters["redis_writes"] ?? 0) <= (counters["batches"] ?? 0), "at most one Redis write per batch")
    }
}
