import ArgumentParser
import Foundation
import Inference

/// `streamscore bench …`: benchmarks.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the model engine alone, event decoding, the score cache's steps, and end to end (topic to topic).",
        subcommands: [ModelBench.self, FeatureBench.self, CacheBench.self, E2EBench.self]
    )

    struct ModelBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "Time one model call per batch size: µs per call and rows/s (median of repeated runs after warm-up).",
            discussion: """
                Rows are generated once (deterministic, standard-normal-like) and reused. Compare \
                engines side by side in one run (scripts/bench_peers.py); absolute times drift on \
                shared machines. With --threads N each call splits its batch into N slices of at \
                least 64 rows, scored at once on N threads (smaller batches stay on one thread).

                Examples:
                  streamscore bench model Tests/Fixtures/Models/xgb-binary.json --batch 1,64,4096 --json
                  streamscore bench model Models/fraud-xgb.json --batch 4096 --threads 1,2
                """
        )

        @Argument(help: "The model file.")
        var file: String

        @Option(help: ArgumentHelp("Batch sizes, comma-separated.", valueName: "n,n,..."))
        var batch = "1,8,64,512,4096"

        @Option(help: ArgumentHelp("Scoring threads per call, comma-separated: each batch size is timed with each.", valueName: "n,n,..."))
        var threads = "1"

        @Option(help: "auto, native, xgboost or lightgbm.")
        var format: ModelLoader.Format = .auto

        @Option(help: ArgumentHelp("Rows to score: raw little-endian float32, row-major (default: generated).", valueName: "rows.f32"))
        var input: String?

        @Flag(help: "Print a JSON array of {batch, threads, us_per_call, rows_per_s}.")
        var json = false

        func validate() throws {
            guard Self.counts(batch)?.isEmpty == false else { throw ValidationError("--batch: positive integers, comma-separated") }
            guard Self.counts(threads)?.isEmpty == false else { throw ValidationError("--threads: positive integers, comma-separated") }
        }

        /// Positive integers from a comma-separated list; nil if any item is not one.
        static func counts(_ list: String) -> [Int]? {
            let items = list.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard items.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
            return items.map { $0! }
        }

        func run() throws {
            let model = try ModelCommand.load(file, format)
            var pool: [Float]?
            if let input {
                guard let data = FileManager.default.contents(atPath: input), data.count % 4 == 0 else {
                    throw ValidationError("--input: cannot read \(input) as float32 values")
                }
                let values = data.withUnsafeBytes { raw in
                    (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                }
                guard !values.isEmpty, values.count % model.inputCount == 0 else {
                    throw ValidationError("--input: \(values.count) values is not a whole number of \(model.inputCount)-input rows")
                }
                pool = values
            }
            let bench = ModelBenchmark(model: model, pool: pool)
            var results: [ModelBenchmark.Result] = []
            if !json { print("model \(model.identity) (\(model.summary.kind)), \(model.inputCount) inputs") }
            if !json { print("   batch threads   µs/call        rows/s") }
            for size in Self.counts(batch)! {
                for threadCount in Self.counts(threads)! {
                    let r = bench.measure(batch: size, threads: threadCount)
                    results.append(r)
                    if !json { print(String(format: "%8d %7d %9.3f %13.0f", r.batch, r.threads, r.microsecondsPerCall, r.rowsPerSecond)) }
                }
            }
            if json {
                let objects = results.map { r in
                    "{\"batch\":\(r.batch),\"threads\":\(r.threads),\"us_per_call\":\(r.microsecondsPerCall),\"rows_per_s\":\(r.rowsPerSecond)}"
                }
                print("[" + objects.joined(separator: ",") + "]")
            }
        }
    }
}
