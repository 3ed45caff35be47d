import ArgumentParser
import Foundation
import Inference

/// `streamscore bench …`: benchmarks.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the model engine alone.",
        subcommands: [ModelBench.self]
    )

    struct ModelBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "Time one model call per batch size: µs per call and rows/s (median of repeated runs after warm-up).",
            discussion: """
                Rows are generated once (deterministic, standard-normal-like) and reused. Compare \
                engines side by side in one run (scripts/bench_peers.py); absolute times drift on \
                shared machines.

                Example:
                  streamscore bench model Tests/Fixtures/Models/xgb-binary.json --batch 1,64,4096 --json
                """
        )

        @Argument(help: "The model file.")
        var file: String

        @Option(help: ArgumentHelp("Batch sizes, comma-separated.", valueName: "n,n,..."))
        var batch = "1,8,64,512,4096"

        @Option(help: "Scoring threads (1: one call on one thread).")
        var threads = 1

        @Option(help: "auto, native, xgboost or lightgbm.")
        var format: ModelLoader.Format = .auto

        @Option(help: ArgumentHelp("Rows to score: raw little-endian float32, row-major (default: generated).", valueName: "rows.f32"))
        var input: String?

        @Flag(help: "Print a JSON array of {batch, threads, us_per_call, rows_per_s}.")
        var json = false

        func validate() throws {
            guard threads == 1 else { throw ValidationError("--threads: only 1 is supported so far (one call scores on one thread)") }
            guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--batch: positive integers, comma-separated") }
        }

        var sizes: [Int] { batch.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

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
            if !json { print("model \(model.identity) (\(model.summary.kind)), \(model.inputCount) inputs, 1 thread") }
            if !json { print("   batch   µs/call        rows/s") }
            for size in sizes {
                let r = bench.measure(batch: size)
                results.append(r)
                if !json { print(String(format: "%8d %9.3f %13.0f", r.batch, r.microsecondsPerCall, r.rowsPerSecond)) }
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
