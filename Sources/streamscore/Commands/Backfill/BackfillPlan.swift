import Foundation
import KafkaBridge
import Pipeline

/// What a backfill run will do: its run id, the resolved range with the watermark each
/// partition starts from, and its checkpoint file — a new run (the range resolved now), or
/// the run a checkpoint describes (`--resume`: its range as first resolved, its run id).
struct BackfillPlan {
    var checkpoint: BackfillCheckpoint
    var path: String
    var resumed: Bool

    /// Why a plan cannot be made: a bad argument (exit 2) or a range that can no longer be
    /// scored whole (exit 1).
    struct Refusal: Error, CustomStringConvertible {
        var description: String
        var exitCode: Int32 = 2
    }

    /// The default checkpoint path: in the working directory, named from the request (the
    /// input and output topics and a hash of the bounds), so that `--resume` with the same
    /// arguments finds it.
    static func defaultPath(for request: BackfillCheckpoint.Request) -> String {
        let identity = [request.topic, request.from, request.to, request.partitions ?? "all", request.outputTopic].joined(separator: "\u{1F}")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a name, not a security property
        for byte in identity.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let safe = { (s: String) in String(s.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }) }
        return "streamscore-backfill.\(safe(request.topic)).\(safe(request.outputTopic)).\(String(hash, radix: 16).suffix(8)).json"
    }

    /// A new run of `range`. Refuses to start over a checkpoint of an unfinished run.
    static func start(
        request: BackfillCheckpoint.Request, range: BackfillRange, path: String
    ) throws(Refusal) -> BackfillPlan {
        if FileManager.default.fileExists(atPath: path) {
            if let existing = try? BackfillCheckpoint.load(path: path), existing.complete {
                // A finished run's checkpoint: a new run of it starts over.
            } else {
                throw Refusal(description: "--checkpoint: \(path) holds an unfinished backfill; continue it with --resume, or remove the file to start over")
            }
        }
        let partitions = range.partitions.map {
            RangeProgress.Partition(partition: $0.partition, from: $0.from, to: $0.to, watermark: $0.from)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withYear, .withMonth, .withDay, .withTime, .withTimeZone]
        let stamp = formatter.string(from: Date()).filter { $0.isNumber || $0 == "T" }.prefix(15)
        let run = "\(stamp)-\(UUID().uuidString.prefix(8).lowercased())"
        return BackfillPlan(checkpoint: BackfillCheckpoint(run: run, request: request, partitions: partitions), path: path, resumed: false)
    }

    /// The run the checkpoint at `path` describes, if it asked for the same thing.
    static func resume(request: BackfillCheckpoint.Request, path: String) throws(Refusal) -> BackfillPlan {
        guard FileManager.default.fileExists(atPath: path) else {
            throw Refusal(description: "--resume: no checkpoint at \(path) (name it with --checkpoint, or start without --resume)")
        }
        let checkpoint: BackfillCheckpoint
        do {
            checkpoint = try BackfillCheckpoint.load(path: path)
        } catch {
            throw Refusal(description: "--checkpoint: \(error)")
        }
        if let mismatch = checkpoint.request.mismatch(request) {
            throw Refusal(description: "--resume: the checkpoint \(path) does not match this backfill: \(mismatch)")
        }
        return BackfillPlan(checkpoint: checkpoint, path: path, resumed: true)
    }

    /// Records of the range not yet done that retention deleted meanwhile: they can never
    /// be scored, so the run is refused rather than silently short.
    func checkRetention(cluster: KafkaConsumer) throws(Refusal) {
        for p in checkpoint.partitions where !p.isComplete {
            let tp = TopicPartition(checkpoint.request.topic, p.partition)
            guard let low = try? cluster.watermarks(tp, timeout: .seconds(10)).low else { continue }
            if low > p.watermark {
                throw Refusal(
                    description: "partition \(p.partition): offsets \(p.watermark)..<\(min(low, p.to)) of the range were deleted by retention before they were scored",
                    exitCode: 1)
            }
        }
    }

    /// The progress the pipeline reports to, checkpointing to `path`.
    func progress() -> RangeProgress {
        let (checkpoint, path) = (self.checkpoint, self.path)
        return RangeProgress(topic: checkpoint.request.topic, partitions: checkpoint.partitions) { partitions in
            try checkpoint.written(to: path, partitions: partitions)
        }
    }
}
