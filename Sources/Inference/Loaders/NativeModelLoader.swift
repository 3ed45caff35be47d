/// StreamScore's native JSON model format, `format_version` 1:
///
/// ```json
/// {"format_version": 1, "kind": "logistic", "name": "fraud", "version": "3",
///  "inputs": ["amount", "distance_km"], "weights": [0.003, 0.002], "bias": -8.0}
///
/// {"format_version": 1, "kind": "mlp", "name": "fraud", "version": "4", "inputs": [...],
///  "layers": [{"weights": [[w for each input] for each unit], "bias": [b for each unit],
///              "activation": "relu" | "tanh" | "logistic" | "identity"}, ...]}
/// ```
/// `inputs` is optional. An MLP's layers must chain (a layer's units = the next layer's
/// inputs), and the last layer has one unit (its activation gives the score, `logistic`
/// for a probability).
enum NativeModelLoader {
    static func load(_ root: [String: Any]) throws(ModelError) -> any Model {
        let fields = JSONFields(root)
        let formatVersion = try fields.integer("format_version")
        guard formatVersion == 1 else {
            throw .invalidField("format_version", reason: "unsupported version \(formatVersion); this build reads 1")
        }
        let kind = try fields.string("kind")
        let name = try fields.string("name")
        let version = try fields.string("version")
        let inputs = try fields.optionalStrings("inputs")
        switch kind {
        case "logistic":
            let weights = try fields.floats("weights")
            guard !weights.isEmpty else { throw .invalidField("weights", reason: "empty") }
            if let inputs, inputs.count != weights.count {
                throw .invalidField("inputs", reason: "\(inputs.count) names for \(weights.count) weights")
            }
            return LogisticRegression(name: name, version: version, inputNames: inputs, weights: weights, bias: try fields.float("bias"))
        case "mlp":
            var layers: [DenseLayer] = []
            for layer in try fields.objects("layers") {
                let rows = try layer.array("weights")
                guard !rows.isEmpty else { throw .invalidField(layer.name("weights"), reason: "a layer needs at least one unit") }
                var matrix: [[Float]] = []
                for (i, row) in rows.enumerated() {
                    guard let values = row as? [Any] else { throw .invalidField("\(layer.name("weights"))[\(i)]", reason: "expected an array of numbers") }
                    matrix.append(try JSONFields.floats(values, field: "\(layer.name("weights"))[\(i)]"))
                }
                let width = matrix[0].count
                guard width > 0 else { throw .invalidField("\(layer.name("weights"))[0]", reason: "a unit needs at least one weight") }
                if let bad = matrix.firstIndex(where: { $0.count != width }) {
                    throw .invalidField("\(layer.name("weights"))[\(bad)]", reason: "\(matrix[bad].count) weights; unit 0 has \(width)")
                }
                let bias = try layer.floats("bias")
                guard bias.count == matrix.count else {
                    throw .invalidField(layer.name("bias"), reason: "\(bias.count) values for \(matrix.count) units")
                }
                let name = try layer.string("activation")
                guard let activation = Activation(rawValue: name) else {
                    throw .invalidField(layer.name("activation"), reason: "unknown activation '\(name)' (relu, tanh, logistic, identity)")
                }
                if let previous = layers.last, previous.outputs != width {
                    throw .invalidField(layer.name("weights"), reason: "units take \(width) inputs but the previous layer has \(previous.outputs) units")
                }
                layers.append(DenseLayer(weights: matrix, bias: bias, activation: activation))
            }
            guard let last = layers.last else { throw .invalidField("layers", reason: "an MLP needs at least one layer") }
            guard last.outputs == 1 else {
                throw .invalidField("layers[\(layers.count - 1)]", reason: "the last layer has \(last.outputs) units; one score per row needs 1 (multi-class is not supported yet)")
            }
            if let inputs, inputs.count != layers[0].inputs {
                throw .invalidField("inputs", reason: "\(inputs.count) names for \(layers[0].inputs) inputs")
            }
            return MultilayerPerceptron(name: name, version: version, inputNames: inputs, layers: layers)
        default:
            throw .invalidField("kind", reason: "unknown model kind '\(kind)' (logistic, mlp)")
        }
    }
}
