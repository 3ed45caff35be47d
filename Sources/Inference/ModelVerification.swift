/// Compares a model's scores with expected scores (`streamscore model verify`).
public struct ModelVerification: Sendable {
    public var rows: Int
    public var maxDifference: Float
    /// Scores whose difference exceeds the tolerance: (row, output, got, expected); the
    /// output is the class index of a multi-class model, 0 otherwise.
    public var overTolerance: [(row: Int, output: Int, got: Float, expected: Float)]

    public enum Problem: Error, CustomStringConvertible {
        case shape(String)
        case names(String)

        public var description: String {
            switch self {
            case .shape(let why), .names(let why): why
            }
        }
    }

    /// Scores `input` and compares with `expected`: one line per row, with `outputCount`
    /// columns (one score, or one probability per class in the model's class order).
    /// - Throws: `Problem` when the shapes or the input names do not match the model.
    public init(model: any Model, input: FeatureTable, expected: FeatureTable, tolerance: Float) throws(Problem) {
        guard input.columnCount == model.inputCount else {
            throw .shape("the input has \(input.columnCount) columns; the model takes \(model.inputCount) inputs")
        }
        guard expected.rowCount == input.rowCount else {
            throw .shape("\(input.rowCount) input rows but \(expected.rowCount) expected scores")
        }
        let outputs = model.outputCount
        guard expected.columnCount == outputs else {
            throw .shape(outputs == 1
                ? "the expected file has \(expected.columnCount) columns; it needs one score per line"
                : "the expected file has \(expected.columnCount) columns; the model has \(outputs) classes")
        }
        try Self.check(input.names, against: model.inputNames, what: "input column", modelWhat: "the model's input")
        if outputs > 1 {
            try Self.check(expected.names, against: model.outputNames, what: "expected column", modelWhat: "the model's class")
        }
        var scores = [Float](repeating: 0, count: input.rowCount * outputs)
        input.values.withUnsafeBufferPointer { rows in
            scores.withUnsafeMutableBufferPointer { model.score(rows: rows, rowCount: input.rowCount, into: $0) }
        }
        rows = input.rowCount
        maxDifference = 0
        overTolerance = []
        for (i, (got, want)) in zip(scores, expected.values).enumerated() {
            let difference = got.isNaN || want.isNaN ? (got.isNaN && want.isNaN ? 0 : .infinity) : abs(got - want)
            maxDifference = max(maxDifference, difference)
            if difference > tolerance { overTolerance.append((i / outputs, i % outputs, got, want)) }
        }
    }

    /// A header's names against the model's, when both exist.
    private static func check(_ names: [String]?, against modelNames: [String]?, what: String, modelWhat: String) throws(Problem) {
        guard let names, let modelNames, names != modelNames else { return }
        guard names.count == modelNames.count else {
            throw .names("\(names.count) \(what)s named; the model has \(modelNames.count)")
        }
        let i = zip(names, modelNames).enumerated().first { $0.element.0 != $0.element.1 }!.offset
        throw .names("\(what) \(i + 1) is '\(names[i])' but \(modelWhat) \(i + 1) is '\(modelNames[i])'")
    }
}
