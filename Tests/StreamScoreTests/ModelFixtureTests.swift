import Foundation
import Inference
import Testing

/// Our engine against the libraries' own predictions, on files they wrote themselves
/// (`scripts/make_model_fixtures.py`).
@Suite("Models written by XGBoost, LightGBM and scikit-learn")
struct ModelFixtureTests {
    static let directory = packageRoot.appendingPathComponent("Tests/Fixtures/Models")

    static let cases: [(model: String, input: String)] = [
        ("xgb-binary.json", "trees.X.csv"),
        ("xgb-regression.json", "trees.X.csv"),
        ("xgb-reglogistic.json", "trees.X.csv"),
        ("lgb-binary.txt", "trees.X.csv"),
        ("lgb-regression.txt", "trees.X.csv"),
        ("lgb-zero-missing.txt", "trees.X.csv"),
        ("sk-logistic.json", "sk-logistic.X.csv"),
        ("sk-mlp-relu.json", "dense.X.csv"),
        ("sk-mlp-tanh.json", "dense.X.csv"),
        ("sk-mlp-logistic.json", "dense.X.csv"),
        ("sk-logistic-multi.json", "dense.X.csv"),
        ("sk-mlp-softmax.json", "dense.X.csv"),
    ]

    static func table(_ file: String) throws -> FeatureTable {
        try FeatureTable(csv: String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8))
    }

    @Test("Every row within 1e-5 of the library's own prediction", arguments: cases.indices)
    func matchesLibrary(_ index: Int) throws {
        let (file, input) = Self.cases[index]
        let model = try ModelLoader.load(path: Self.directory.appendingPathComponent(file).path)
        let x = try Self.table(input)
        let stem = String(file.prefix { $0 != "." })
        let table = try Self.table("\(stem).expected.csv")
        let expected = table.values
        #expect(x.rowCount == 257 && table.rowCount == 257)
        #expect(model.inputCount == x.columnCount)
        #expect(model.inputNames == x.names)
        #expect(model.outputCount == table.columnCount)
        if model.outputCount > 1 {
            #expect(model.outputNames == table.names, "class labels in the library's order")
        }
        let scores = model.score((0..<x.rowCount).map(x.row))
        var worst: (Int, Float) = (0, 0)
        for (i, (got, want)) in zip(scores, expected).enumerated() where abs(got - want) > worst.1 {
            worst = (i, abs(got - want))
        }
        #expect(worst.1 <= 1e-5, "\(file): row \(worst.0) differs by \(worst.1)")
        if input == "trees.X.csv" {
            #expect(x.values.contains { $0.isNaN }, "tree inputs must exercise missing values")
        }
    }

    @Test("Batch kernels equal their scalar references on odd shapes", arguments: cases.indices)
    func kernelsMatchReference(_ index: Int) throws {
        let (file, input) = Self.cases[index]
        let model = try ModelLoader.load(path: Self.directory.appendingPathComponent(file).path)
        let x = try Self.table(input)
        for count in [0, 1, 3, 7, 8, 9, 63, 64, 65, 257] {
            let rows = (0..<count).map { x.row($0 % x.rowCount) }
            let batch = model.score(rows)
            let reference: [Float]
            switch model {
            case let trees as TreeEnsemble: reference = trees.scoreScalar(rows)
            case let mlp as MultilayerPerceptron: reference = mlp.scoreScalar(rows)
            case let linear as LogisticRegression: reference = linear.scoreScalar(rows)
            default: Issue.record("no reference for \(type(of: model))"); return
            }
            #expect(batch.count == count * model.outputCount)
            for (a, b) in zip(batch, reference) { #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "\(file) at \(count) rows") }
        }
    }

    @Test("A row scores the same, bit for bit, whatever batch it is in (reproducible backfills)", arguments: cases.indices)
    func positionIndependent(_ index: Int) throws {
        let (file, input) = Self.cases[index]
        let model = try ModelLoader.load(path: Self.directory.appendingPathComponent(file).path)
        let x = try Self.table(input)
        let rows = (0..<x.rowCount).map(x.row)
        let alone = rows.flatMap { model.score([$0]) }
        for size in [2, 3, 5, 8, 13, 64, 100, 257] {
            var start = 0, batched: [Float] = []
            while start < rows.count {
                batched += model.score(Array(rows[start..<min(start + size, rows.count)]))
                start += size
            }
            #expect(batched.map(\.bitPattern) == alone.map(\.bitPattern), "\(file) in batches of \(size)")
        }
    }

    @Test("Files saved with Windows line endings read the same (LightGBM model, CSV)")
    func windowsLineEndings() throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent("lgb-binary.txt"), encoding: .utf8)
        let unix = try ModelLoader.load(data: Data(text.utf8), format: .lightgbm)
        let windows = try ModelLoader.load(data: Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8), format: .lightgbm)
        let x = try Self.table("trees.X.csv")
        let rows = (0..<x.rowCount).map(x.row)
        #expect(unix.score(rows) == windows.score(rows))
        #expect(windows.inputNames == unix.inputNames)
        let csv = try String(contentsOf: Self.directory.appendingPathComponent("trees.X.csv"), encoding: .utf8)
        let crlf = try FeatureTable(csv: csv.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(crlf.rowCount == x.rowCount && crlf.names == x.names)
        #expect(zip(crlf.values, x.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
    }

    @Test("Tree files report their shape; XGBoost and LightGBM names are read")
    func shapes() throws {
        let xgb = try #require(try ModelLoader.load(path: Self.directory.appendingPathComponent("xgb-binary.json").path) as? TreeEnsemble)
        #expect(xgb.treeCount == 30)
        #expect(xgb.maxDepth <= 5 && xgb.maxDepth >= 3)
        #expect(xgb.name == "xgb-binary")
        #expect(xgb.version.count == 8)
        let lgb = try #require(try ModelLoader.load(path: Self.directory.appendingPathComponent("lgb-binary.txt").path) as? TreeEnsemble)
        #expect(lgb.treeCount == 30)
        #expect(lgb.inputNames == (0..<8).map { "x\($0)" })
    }
}
