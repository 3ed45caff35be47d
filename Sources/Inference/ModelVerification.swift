/// Compares a model's scores with expected scores (`streamscore model verify`).
public struct ModelVerification: Sendable {
    public var rows: Int
    public var maxDifference: Float
    /// Rows whose difference exceeds the tolerance: (row, got, expected).
    public var overTolerance: [(row: Int, got: Float, expected: Float)]

    public enum Problem: Error, CustomStringConvertible {
        case shape(String)
        case names(String)

        public var description: String {
            switch self {
            case .shape(let why), .names(let why): why
            }
        }
    }

    /// Scores `input` and compares with `expected` (one score per row, column 0).
    /// - Throws: `Problem` when the shapes or the input names do not match the model.
    public init(model: any Model, input: FeatureTable, expected: FeatureTable, tolerance: Float) throws(Problem) {
        guard input.columnCount == model.inputCount else {
            throw .shape("the input has \(input.columnCount) columns; the model takes \(model.inputCount) inputs")
        }
        guard expected.rowCount == input.rowCount else {
            throw .shape("\(input.rowCount) input rows but \(expected.rowCount) expected scores")
        }
        guard expected.columnCount == 1 else {
            throw .shape("the expected file has \(expected.columnCount) columns; it needs one score per line")
        }
        if let names = input.names, let modelNames = model.inputNames, names != modelNames {
            let i = zip(names, modelNames).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
            throw .names("input column \(i + 1) is '\(names[i])' but the model's input \(i + 1) is '\(modelNames[i])'")
        }
        var scores = [Float](repeating: 0, count: input.rowCount)
        input.values.withUnsafeBufferPointer { rows in
            scores.withUnsafeMutableBufferPointer { model.score(rows: rows, rowCount: input.rowCount, into: $0) }
        }
        rows = input.rowCount
        maxDifference = 0
        overTolerance = []
        for (i, (got, want)) in zip(scores, expected.values).enumerated() {
            let difference = got.isNaN || want.isNaN ? (got.isNaN && want.isNaN ? 0 : .infinity) : abs(got - want)
            maxDifference = max(maxDifference, difference)
            if difference > tolerance { overTolerance.append((i, got, want)) }
        }
    }
}
