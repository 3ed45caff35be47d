import Foundation
import KafkaBridge
import Pipeline
import Synchronization
import Testing
import Workload

/// `streamscore backfill` and `compare` as users run them, on librdkafka's mock cluster,
/// every source offset counted through the output and dead-letter headers.
@Suite("Backfill runs", .serialized)
struct BackfillRunTests {
    @Test("A full range is scored once, dead letters included, each with the run id; a producer writing meanwhile does not extend it")
    func fullRangeOnce() throws {
        let output = uniqueName("scores.bf")
        let bed = try BackfillBed(events: 3000, seed: 31, outputs: [output])
        // A live producer keeps writing to the input while the backfill runs.
        let stop = Atomic<Bool>(false)
        let (bootstrap, input) = (bed.cluster.bootstrapServers, bed.input)
        let live = Thread {
            let writer = EventWriter(bootstrap: bootstrap)
            var generator = TransactionGenerator(seed: 77)
            while !stop.load(ordering: .relaxed) {
                let events = (0..<50).map { _ in generator.next(timestamp: Int64(Date().timeIntervalSince1970 * 1000)) }
                _ = try? writer.write(events, to: input)
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        live.start()
        defer { stop.store(true, ordering: .relaxed) }
        Thread.sleep(forTimeInterval: 0.3)
        let path = bed.checkpointPath("full")
        let result = try bed.run(["--from", "beginning", "--to", "end", "--output-topic", output, "--checkpoint", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("complete,"), "the summary: \(result.stdout)")
        Thread.sleep(forTimeInterval: 0.3)  // the producer writes on after the backfill ended
        stop.store(true, ordering: .relaxed)

        let checkpoint = try bed.checkpoint(path)
        #expect(checkpoint.complete)
        var ranges: [Int32: Range<Int64>] = [:]
        for p in checkpoint.partitions {
            #expect(p.from == 0 && p.to >= bed.ends[p.partition]!, "the snapshot holds at least the history")
            ranges[p.partition] = p.from..<p.to
        }
        let counts = try bed.sources(output, run: checkpoint.run)
        #expect(Set(counts.keys) == BackfillBed.offsets(ranges), "exactly the range: \(counts.count) sources for \(ranges)")
        #expect(counts.values.allSatisfy { $0 == 1 }, "each once")
        let endsNow = try bed.reader.endOffsets(bed.input, partitions: bed.partitions)
        #expect(endsNow.contains { $0.value > ranges[$0.key]!.upperBound }, "the input grew past the snapshot: \(endsNow) vs \(ranges)")
        let deadLetters = try bed.records(bed.deadLetter)
        #expect(!deadLetters.isEmpty && deadLetters.allSatisfy { $0.text(Header.backfillRun) == checkpoint.run })
        #expect(result.stdout.contains("\(deadLetters.count) dead letters"), "\(result.stdout)")

        // The same command again: the run is complete, nothing to do.
        let again = try bed.run(["--from", "beginning", "--to", "end", "--output-topic", output, "--checkpoint", path, "--resume"])
        #expect(again.status == 0 && again.stdout.contains("already complete"), "\(again.stdout)\(again.stderr)")
    }

    @Test("Two runs of a range give identical values and headers (but the run id) whatever the batching and workers; order per input partition is kept; compare agrees")
    func reproducible() throws {
        let (a, b) = (uniqueName("scores.a"), uniqueName("scores.b"))
        let bed = try BackfillBed(events: 3000, seed: 32, outputs: [a, b])
        let first = try bed.run(["--from", "beginning", "--to", "end", "--output-topic", a, "--checkpoint", bed.checkpointPath("a")])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try bed.run(
            ["--from", "beginning", "--to", "end", "--output-topic", b, "--checkpoint", bed.checkpointPath("b")],
            environment: ["STREAMSCORE_PIPELINE_WORKERS": "1", "STREAMSCORE_BATCH_MAX_ROWS": "7", "STREAMSCORE_PIPELINE_CHUNK_RECORDS": "3"])
        #expect(second.status == 0, "\(second.stderr)")

        func bySource(_ topic: String) throws -> [String: (value: [UInt8], headers: [KafkaHeader])] {
            var result: [String: (value: [UInt8], headers: [KafkaHeader])] = [:]
            var lastOffset: [String: Int64] = [:]  // per (output partition, source partition)
            for record in try bed.records(topic) {
                let source = try #require(record.source)
                let lane = "\(record.partition)/\(source.partition)"
                #expect(source.offset > lastOffset[lane, default: -1], "order within input partition \(source.partition) kept")
                lastOffset[lane] = source.offset
                result["\(source.partition)/\(source.offset)"] = (record.value, record.headers.filter { $0.name != Header.backfillRun })
            }
            return result
        }
        let (left, right) = (try bySource(a), try bySource(b))
        #expect(left.count > 2500 && left.count == right.count)
        var differing = 0
        for (source, l) in left {
            guard let r = right[source], r.value == l.value, r.headers == l.headers else { differing += 1; continue }
        }
        #expect(differing == 0, "\(differing) outputs differ between the two runs")

        let same = try bed.compare(a, b)
        #expect(same.status == 0 && same.stdout.contains("identical: every matched score"), "\(same.stdout)\(same.stderr)")
        let itself = try bed.compare(a, a)
        #expect(itself.status == 0, "a topic against itself: \(itself.stdout)")
    }

    @Test("Compare: a challenger model's run against the champion's reports the changed count and flips; a partial run is missing events unless --overlap")
    func compareModels() throws {
        let (champion, challenger, partial) = (uniqueName("scores.champion"), uniqueName("scores.challenger"), uniqueName("scores.partial"))
        let bed = try BackfillBed(events: 6000, seed: 33, outputs: [champion, challenger, partial])
        // The challenger: another model with another threshold. (The generator's events are
        // easy to tell apart: both models score them near 0 or near 1 and agree on every
        // decision at 0.5. The challenger scores the planted frauds 0.951 or 0.960: at 0.955
        // it lets some pass.)
        for (topic, extra, environment) in [
            (champion, [String](), [String: String]()),
            (challenger, ["--model", "Models/fraud-xgb-challenger.json"], ["STREAMSCORE_MODEL_THRESHOLD": "0.955"]),
            (partial, ["--to", "400"], [:]),
        ] {
            var arguments = ["--from", "beginning", "--output-topic", topic, "--checkpoint", bed.checkpointPath(topic)] + extra
            if !extra.contains("--to") { arguments += ["--to", "end"] }
            let result = try bed.run(arguments, environment: environment)
            #expect(result.status == 0, "\(topic): \(result.stderr)")
        }
        // What the report must say, worked out here from the two topics.
        func scores(_ topic: String) throws -> [String: (score: Double, decision: String)] {
            var result: [String: (score: Double, decision: String)] = [:]
            for record in try bed.records(topic) {
                let source = try #require(record.source)
                let json = record.json
                result["\(source.partition)/\(source.offset)"] = ((json["score"] as! NSNumber).doubleValue, json["decision"] as! String)
            }
            return result
        }
        let (l, r) = (try scores(champion), try scores(challenger))
        var changed = 0, passToFlag = 0, flagToPass = 0
        for (source, left) in l {
            let right = try #require(r[source])
            if abs(right.score - left.score) > 1e-6 || right.decision != left.decision { changed += 1 }
            if left.decision == "pass" && right.decision == "flag" { passToFlag += 1 }
            if left.decision == "flag" && right.decision == "pass" { flagToPass += 1 }
        }
        #expect(changed > 0 && flagToPass > 0, "the challenger should differ: \(changed) changed, \(passToFlag)+\(flagToPass) flips")

        let result = try bed.compare(champion, challenger, ["--json", "--limit", "5"])
        #expect(result.status == 1, "different models: \(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        let flips = try #require(report["flips"] as? [String: Int])
        #expect(report["matched"] as? Int == l.count && report["changed"] as? Int == changed)
        #expect(report["identical"] as? Int == l.count - changed)
        #expect(flips["pass_to_flag"] == passToFlag && flips["flag_to_pass"] == flagToPass)
        #expect(report["only_left"] as? Int == 0 && report["only_right"] as? Int == 0)
        #expect((report["changes"] as? [Any])?.count == min(5, changed))
        let text = try bed.compare(champion, challenger, ["--limit", "2"])
        #expect(text.stdout.contains("changed       \(changed)") && text.stdout.contains("largest changes"), "\(text.stdout)")

        let missing = try bed.compare(champion, partial)
        let partialCount = try scores(partial).count
        #expect(partialCount > 0 && missing.status == 1 && missing.stdout.contains("only left     \(l.count - partialCount)"), "\(missing.stdout)")
        let overlap = try bed.compare(champion, partial, ["--overlap"])
        #expect(overlap.status == 0, "within the partial run's span: \(overlap.stdout)")
    }

    @Test("SIGKILL at five random moments, each followed by --resume: no offset of the range is left unscored, watermarks never move back")
    func killAndResume() throws {
        let output = uniqueName("scores.resumed")
        let bed = try BackfillBed(partitions: 4, events: 16_000, seed: 34, outputs: [output])
        let path = bed.checkpointPath("killed")
        let arguments = ["--from", "beginning", "--to", "end", "--output-topic", output, "--checkpoint", path, "--max-rate", "4000"]
        var done: Int64 = 0
        var kills = 0
        for attempt in 0..<5 {
            let process = try bed.start(arguments + (attempt == 0 ? [] : ["--resume"]))
            // A random moment inside the run, placed by progress rather than by wall time (a
            // fast machine would finish before the fifth kill): once the checkpoint passes
            // 10–20 %, 25–35 %, … 70–80 % of the range. The first kill can land before any
            // checkpoint was written (the fraction is of records done, and start-up counts).
            let target = Int64(Double(bed.total) * (0.1 + 0.15 * Double(attempt) + Double.random(in: 0...0.1)))
            _ = eventually(timeout: .seconds(30)) {
                ((try? bed.checkpoint(path))?.partitions.reduce(0) { $0 + $1.done } ?? 0) >= target
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0...0.2))
            process.signal(SIGKILL)
            _ = process.waitForExit(timeout: .seconds(10))
            kills += 1
            let checkpoint = try bed.checkpoint(path)
            let now = checkpoint.partitions.reduce(0) { $0 + $1.done }
            #expect(now >= done, "the checkpoint moved back: \(now) < \(done)")
            done = now
            if checkpoint.complete { break }
        }
        #expect(kills == 5, "the run finished before the fifth kill")
        let last = try bed.run(arguments + ["--resume"])
        #expect(last.status == 0, "\(last.stderr)")
        let checkpoint = try bed.checkpoint(path)
        #expect(checkpoint.complete)
        let range = Dictionary(uniqueKeysWithValues: checkpoint.partitions.map { ($0.partition, $0.from..<$0.to) })
        #expect(range == bed.ends.mapValues { 0..<$0 }, "the range as first resolved")
        let counts = try bed.sources(output, run: checkpoint.run)
        let missing = BackfillBed.offsets(range).subtracting(counts.keys)
        #expect(missing.isEmpty, "\(missing.count) offsets never scored, e.g. \(missing.sorted().prefix(5))")
        #expect(Set(counts.keys).isSubset(of: BackfillBed.offsets(range)), "nothing outside the range")
        let repeats = counts.values.reduce(0) { $0 + $1 - 1 }
        Swift.print("backfill kill and resume: \(counts.count) offsets, \(repeats) scored again after 5 kills")
    }

    @Test("Bad checkpoints and mismatched resumes exit 2 naming the argument; an unfinished checkpoint is not overwritten by a new run")
    func badCheckpoints() throws {
        let output = uniqueName("scores.cp")
        let bed = try BackfillBed(events: 300, seed: 35, outputs: [output])
        let path = bed.checkpointPath("bad")
        let base = ["--from", "beginning", "--to", "end", "--output-topic", output, "--checkpoint", path]
        try "{ not a checkpoint".write(toFile: path, atomically: true, encoding: .utf8)
        var result = try bed.run(base + ["--resume"])
        #expect(result.status == 2 && result.stderr.contains("streamscore: --checkpoint: \(path): not a backfill checkpoint"), "\(result.stderr)")
        result = try bed.run(base)
        #expect(result.status == 2 && result.stderr.contains("--checkpoint") && result.stderr.contains("--resume"), "not overwritten: \(result.stderr)")
        try FileManager.default.removeItem(atPath: path)
        result = try bed.run(base + ["--resume"])
        #expect(result.status == 2 && result.stderr.contains("--resume: no checkpoint"), "\(result.stderr)")

        // An unfinished checkpoint of this range: resumed with other bounds or another model.
        let request = BackfillCheckpoint.Request(topic: bed.input, from: "beginning", to: "end", partitions: nil, outputTopic: output, model: "x", modelHash: "y")
        let partitions = bed.ends.map { RangeProgress.Partition(partition: $0.key, from: 0, to: $0.value, watermark: 0) }
        try BackfillCheckpoint(run: "r", request: request, partitions: partitions).written(to: path, partitions: partitions)
        result = try bed.run(["--from", "beginning", "--to", "100", "--output-topic", output, "--checkpoint", path, "--resume"])
        #expect(result.status == 2 && result.stderr.contains("does not match") && result.stderr.contains("--to 'end'"), "\(result.stderr)")
        result = try bed.run(base + ["--resume"])
        #expect(result.status == 2 && result.stderr.contains("the model"), "\(result.stderr)")
    }
}
