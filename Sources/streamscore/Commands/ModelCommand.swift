import ArgumentParser
import Foundation
import Inference

/// `streamscore model inspect|verify`.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Load a model file, print its summary, or check it against reference outputs.",
        subcommands: [Inspect.self, Verify.self]
    )

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model's kind, inputs, shape and memory.",
            discussion: """
                Reads native JSON (logistic, mlp), XGBoost JSON and LightGBM text models; the format \
                is detected from the content unless --format says it.

                Example:
                  streamscore model inspect Tests/Fixtures/Models/xgb-binary.json
                """
        )

        @Argument(help: "The model file.")
        var file: String

        @Option(help: "auto, native, xgboost or lightgbm.")
        var format: ModelLoader.Format = .auto

        func run() throws {
            let model = try ModelCommand.load(file, format)
            let s = model.summary
            print("model        \(model.identity)")
            print("kind         \(s.kind)")
            print("inputs       \(s.inputCount)" + (s.inputNames.map { ": " + $0.joined(separator: ", ") } ?? " (unnamed)"))
            print("outputs      \(model.outputCount == 1 ? "1 score per row" : "\(model.outputCount) class probabilities per row")")
            for (label, value) in s.details { print(label.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + value) }
            print("memory       \(ByteCountFormatter.string(fromByteCount: Int64(s.memoryBytes), countStyle: .memory))")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score rows from a CSV file and compare with expected scores; exit 1 if any row is over the tolerance.",
            discussion: """
                X.csv: one row per line, comma-separated, an optional header line of feature names \
                (checked against the model's names when both exist); an empty field or 'nan' is a \
                missing value. Y.csv: one expected score per line (binary models: the positive-class \
                probability; multi-class models: one probability per class, comma-separated, in the \
                model's class order), optional header (class names, checked like the inputs).

                Example:
                  streamscore model verify Tests/Fixtures/Models/lgb-binary.txt \\
                    --input Tests/Fixtures/Models/trees.X.csv --expected Tests/Fixtures/Models/lgb-binary.expected.csv
                """
        )

        @Argument(help: "The model file.")
        var file: String

        @Option(help: ArgumentHelp("Input rows (CSV).", valueName: "X.csv"))
        var input: String

        @Option(help: ArgumentHelp("Expected scores (CSV), one per input row.", valueName: "Y.csv"))
        var expected: String

        @Option(help: "Largest accepted absolute difference.")
        var tolerance: Float = 1e-5

        @Option(help: "auto, native, xgboost or lightgbm.")
        var format: ModelLoader.Format = .auto

        func run() throws {
            let model = try ModelCommand.load(file, format)
            let x = try ModelCommand.table(input)
            let y = try ModelCommand.table(expected)
            let result: ModelVerification
            do {
                result = try ModelVerification(model: model, input: x, expected: y, tolerance: tolerance)
            } catch {
                throw ValidationError("\(input): \(error)")
            }
            print("rows       \(result.rows)")
            print("max |diff| \(result.maxDifference)")
            print("tolerance  \(tolerance)")
            if result.overTolerance.isEmpty {
                print("ok: every row within tolerance")
                return
            }
            print("over tolerance: \(result.overTolerance.count) scores")
            for (row, output, got, want) in result.overTolerance.prefix(20) {
                let column = model.outputCount > 1 ? " class \(model.outputNames?[output] ?? String(output))" : ""
                print("  row \(row + 1)\(column): got \(got), expected \(want), diff \(abs(got - want))")
            }
            throw ExitCode(1)
        }
    }

    static func load(_ file: String, _ format: ModelLoader.Format) throws -> any Model {
        do {
            return try ModelLoader.load(path: file, format: format)
        } catch {
            Terminal.err("streamscore: \(file): \(error)")
            throw ExitCode(2)
        }
    }

    static func table(_ file: String) throws -> FeatureTable {
        do {
            return try FeatureTable(csv: String(contentsOfFile: file, encoding: .utf8))
        } catch let error as FeatureTable.ParseError {
            Terminal.err("streamscore: \(file): \(error)")
            throw ExitCode(2)
        } catch {
            Terminal.err("streamscore: cannot read \(file): \(error.localizedDescription)")
            throw ExitCode(2)
        }
    }
}

extension ModelLoader.Format: ExpressibleByArgument {}
