import Foundation
import KafkaBridge
import Testing
import Workload

/// `streamscore backfill --dry-run` as a user runs it: the resolved ranges on stdout, bad
/// arguments refused with exit 2 naming the argument.
@Suite("Backfill command")
struct BackfillCommandTests {
    @Test("--dry-run prints each partition's range and the total; bad bounds, partitions and output topics exit 2 naming the argument")
    func dryRun() throws {
        let (cluster, topic, ends) = try BackfillRangeTests.history(partitions: 3, events: 300, seed: 9)
        func backfill(_ arguments: [String]) throws -> (status: Int32?, stdout: String, stderr: String) {
            let worker = try WorkerProcess(["backfill", "--bootstrap", cluster.bootstrapServers, "--topic", topic] + arguments)
            let status = worker.waitForExit(timeout: .seconds(30))
            return (status, worker.stdout, worker.stderr)
        }
        let json = try backfill(["--from", "5", "--to", "end", "--output-topic", "scores.bf", "--dry-run", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let parts = try #require(object["partitions"] as? [[String: Any]])
        #expect(parts.count == 3)
        for part in parts {
            let p = Int32(part["partition"] as! Int)
            let end = Int(ends[p] ?? 0)
            #expect(part["from"] as? Int == min(5, end) && part["to"] as? Int == end)
        }
        #expect(object["records"] as? Int == parts.reduce(0) { $0 + ($1["records"] as! Int) })

        let table = try backfill(["--from", "beginning", "--to", "end", "--output-topic", "scores.bf", "--dry-run"])
        #expect(table.status == 0 && table.stdout.contains("300 records in 3 partitions"), "\(table.stdout)\(table.stderr)")

        for (arguments, named) in [
            (["--from", "tomorrow", "--to", "end"], "--from"),
            (["--from", "20", "--to", "10"], "--to"),
            (["--from", "0", "--to", "end", "--partitions", "7"], "--partitions"),
            (["--from", "-1h", "--to", "end"], "--from"),  // the mock cluster cannot look up times
        ] {
            let result = try backfill(arguments + ["--output-topic", "scores.bf", "--dry-run"])
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("streamscore: \(named)"), "\(arguments): \(result.stderr)")
        }
        let live = try backfill(["--from", "0", "--to", "end", "--output-topic", "scores", "--dry-run"])
        #expect(live.status == 2 && live.stderr.contains("--output-topic"), "the live output topic is refused: \(live.stderr)")
        let transactional = try WorkerProcess(
            ["backfill", "--bootstrap", cluster.bootstrapServers, "--topic", topic, "--from", "0", "--to", "end", "--output-topic", "scores.bf", "--dry-run"],
            environment: ["STREAMSCORE_DELIVERY_MODE": "exactly_once"])
        #expect(transactional.waitForExit(timeout: .seconds(30)) == 2)
        #expect(transactional.stderr.contains("delivery.mode") && transactional.stderr.contains("not available for a backfill"), "\(transactional.stderr)")
    }
}
