import Foundation

/// A backfill's checkpoint file (JSON): what was asked (topic, bounds as given, partitions,
/// output topic, model and the hash of its file and feature spec), the range as resolved
/// when the run began, and per partition the acknowledged watermark.
///
/// `--resume` continues the run it describes: the same run id, the same resolved range
/// (the `end` snapshot of the first start, not a new one), from the watermarks. It is
/// written atomically (a temporary file renamed over it), so a crash leaves the previous
/// version, never half a file.
public struct BackfillCheckpoint: Codable, Equatable, Sendable {
    public static let currentVersion = 1

    /// What the user asked for; a resume must ask for the same.
    public struct Request: Codable, Equatable, Sendable {
        public var topic: String
        public var from: String
        public var to: String
        /// As given to `--partitions` (nil: all).
        public var partitions: String?
        public var outputTopic: String
        /// `name@version`.
        public var model: String
        /// The model file's bytes and the feature spec (`CacheNamespace.hash`).
        public var modelHash: String

        public init(topic: String, from: String, to: String, partitions: String?, outputTopic: String, model: String, modelHash: String) {
            self.topic = topic
            self.from = from
            self.to = to
            self.partitions = partitions
            self.outputTopic = outputTopic
            self.model = model
            self.modelHash = modelHash
        }

        /// The first difference from `other`, said for the user (nil: the same request).
        public func mismatch(_ other: Request) -> String? {
            let fields: [(String, String?, String?)] = [
                ("--topic", topic, other.topic), ("--from", from, other.from), ("--to", to, other.to),
                ("--partitions", partitions ?? "all", other.partitions ?? "all"),
                ("--output-topic", outputTopic, other.outputTopic),
                ("the model (--model / model.path)", model, other.model),
                ("the model file or feature spec (hash)", modelHash, other.modelHash),
            ]
            for (name, mine, theirs) in fields where mine != theirs {
                return "it is for \(name) '\(mine ?? "")', this run asks for '\(theirs ?? "")'"
            }
            return nil
        }
    }

    public var version: Int
    /// The run id, in every output's `streamscore.backfill.run` header.
    public var run: String
    public var request: Request
    public var partitions: [RangeProgress.Partition]
    public var complete: Bool
    /// RFC 3339, UTC.
    public var updated: String

    public init(run: String, request: Request, partitions: [RangeProgress.Partition]) {
        self.version = Self.currentVersion
        self.run = run
        self.request = request
        self.partitions = partitions
        self.complete = partitions.allSatisfy(\.isComplete)
        self.updated = Self.now()
    }

    /// Why a checkpoint file cannot be used.
    public struct FileError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads and checks a checkpoint file.
    public static func load(path: String) throws(FileError) -> BackfillCheckpoint {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FileError(path: path, reason: "cannot be read (\((error as NSError).localizedDescription))")
        }
        let checkpoint: BackfillCheckpoint
        do {
            checkpoint = try JSONDecoder().decode(BackfillCheckpoint.self, from: data)
        } catch {
            throw FileError(path: path, reason: "not a backfill checkpoint (\(error))")
        }
        guard checkpoint.version == currentVersion else {
            throw FileError(path: path, reason: "checkpoint version \(checkpoint.version); this streamscore reads version \(currentVersion)")
        }
        for p in checkpoint.partitions where p.from > p.to || p.watermark < p.from || p.watermark > p.to {
            throw FileError(path: path, reason: "partition \(p.partition): watermark \(p.watermark) outside its range \(p.from)..<\(p.to)")
        }
        return checkpoint
    }

    /// Writes the file atomically, with the watermarks given.
    public func written(to path: String, partitions: [RangeProgress.Partition]) throws {
        var copy = self
        copy.partitions = partitions
        copy.complete = partitions.allSatisfy(\.isComplete)
        copy.updated = Self.now()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(copy)
        let temporary = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            throw FileError(path: path, reason: "cannot replace it: \(String(cString: strerror(errno)))")
        }
    }

    private static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
