/// What `streamscore model inspect` prints about a model.
public struct ModelSummary: Sendable {
    public var kind: String
    public var inputCount: Int
    public var inputNames: [String]?
    /// Kind-specific facts, in display order (trees, nodes, depth; layers; …).
    public var details: [(label: String, value: String)]
    /// Bytes held by the model's parameters.
    public var memoryBytes: Int
}

extension TreeEnsemble {
    public var summary: ModelSummary {
        let leaves = feature.lazy.filter { $0 < 0 }.count
        let bytes = feature.count * (4 + 4 + 4 + 4 + 4 + 1 + 1) + roots.count * 8
        var output: String
        switch self.output {
        case .raw: output = "raw sum"
        case .sigmoid(let scale): output = scale == 1 ? "sigmoid" : "sigmoid(\(scale) × margin)"
        }
        return ModelSummary(
            kind: "tree ensemble (\(origin))", inputCount: inputCount, inputNames: inputNames,
            details: [
                ("trees", "\(treeCount)"), ("nodes", "\(nodeCount) (\(leaves) leaves)"),
                ("max depth", "\(maxDepth)"), ("base margin", "\(baseMargin)"), ("output", output),
            ],
            memoryBytes: bytes)
    }
}

extension MultilayerPerceptron {
    public var summary: ModelSummary {
        let shape = ([inputCount] + layers.map(\.outputs)).map(String.init).joined(separator: " → ")
        let activations = layers.map(\.activation.rawValue).joined(separator: ", ")
        let parameters = layers.reduce(0) { $0 + $1.inputs * $1.outputs + $1.outputs }
        let bytes = layers.reduce(0) { $0 + ($1.inputs + 1) * $1.paddedOutputs * 4 }
        var details = [("layers", shape), ("activations", activations), ("parameters", "\(parameters)")]
        if outputCount > 1 {
            details.append(("classes", outputNames?.joined(separator: ", ") ?? "\(outputCount) (unnamed)"))
        }
        // A single softmax layer is a multinomial logistic regression.
        let multinomial = layers.count == 1 && outputCount > 1
        return ModelSummary(
            kind: multinomial ? "logistic regression (multinomial)" : "multilayer perceptron",
            inputCount: inputCount, inputNames: inputNames, details: details, memoryBytes: bytes)
    }
}

extension LogisticRegression {
    public var summary: ModelSummary {
        ModelSummary(
            kind: "logistic regression", inputCount: inputCount, inputNames: inputNames,
            details: [("bias", "\(bias)")], memoryBytes: (weights.count + 1) * 4)
    }
}
