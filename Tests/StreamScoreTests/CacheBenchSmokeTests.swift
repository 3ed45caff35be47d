import Foundation
import Testing
@testable import ScoreCache

/// `streamscore bench cache` on a few thousand events: every event is accounted for as an
/// in-batch repeat, a hit or a miss, and repeats feed the cache. Timings are printed,
/// never asserted.
@Suite("Score cache benchmark (smoke)")
struct CacheBenchSmokeTests {
    @Test("Every event is an in-batch repeat, a hit or a miss; more repeats, fewer misses")
    func smoke() throws {
        let events = 3_000
        let bench = try WorkerProcess([
            "bench", "cache", "Models/bench/fraud-mlp.json", "--events", String(events), "--repeats", "0,0.9", "--runs", "1", "--json",
        ])
        let status = bench.waitForExit(timeout: .seconds(300))
        try #require(status == 0, "bench cache exited \(String(describing: status)): \(bench.stderr)")
        print(bench.stdout)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [[String: Any]], "not a JSON array: \(bench.stdout)")
        try #require(report.count == 2, "one row per repeat ratio")
        for row in report {
            let counted = ["batch_duplicates", "hits", "misses"].map { row[$0] as? Int ?? -1 }
            #expect(counted.reduce(0, +) == events, "\(row)")
            for field in ["decode_ns", "decode_with_key_ns", "model_ns", "cached_ns"] {
                #expect((row[field] as? Double ?? 0) > 0, "\(field) in \(row)")
            }
        }
        let (none, most) = (report[0], report[1])
        #expect(none["misses"] as? Int == events, "no repeats: every key is new")
        #expect((most["misses"] as? Int ?? events) < events / 4, "90% repeats: most events served by the cache")
    }
}
