/// StreamScore's native JSON model format, `format_version` 1:
///
/// ```json
/// {"format_version": 1, "kind": "logistic", "name": "fraud", "version": "3",
///  "inputs": ["amount", "distance_km"], "weights": [0.003, 0.002], "bias": -8.0}
///
/// {"format_version": 1, "kind": "logistic", "name": "risk", "version": "1",
///  "classes": ["low", "medium", "high"],
///  "weights": [[w for each input] for each class], "bias": [b for each class]}
///
/// {"format_version": 1, "kind": "mlp", "name": "fraud", "version": "4", "inputs": [...],
///  "layers": [{"weights": [[w for each input] for each unit], "bias": [b for each unit],
///              "activation": "relu" | "tanh" | "logistic" | "identity" | "softmax"}, ...]}
/// ```
/// `inputs` and `classes` are optional. A binary or regression model has one output: a
/// logistic regression with a flat `weights` list, or an MLP whose last layer has one unit
/// (`logistic` for a probability). A multi-class model has one output per class: a
/// logistic regression with one row of weights per class (multinomial: softmax over the
/// classes), or an MLP whose last layer is `softmax` with one unit per class. `classes`
/// names them in output order (a binary model may give its two classes; the score is the
/// probability of the second). An MLP's layers must chain (a layer's units = the next
/// layer's inputs), and only the last layer may be `softmax`.
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
        let classes = try fields.optionalStrings("classes")
        switch kind {
        case "logistic":
            return try logistic(fields, name: name, version: version, inputs: inputs, classes: classes)
        case "mlp":
            return try mlp(fields, name: name, version: version, inputs: inputs, classes: classes)
        default:
            throw .invalidField("kind", reason: "unknown model kind '\(kind)' (logistic, mlp)")
        }
    }

    private static func check(_ inputs: [String]?, count: Int) throws(ModelError) {
        if let inputs, inputs.count != count {
            throw .invalidField("inputs", reason: "\(inputs.count) names for \(count) inputs")
        }
    }

    /// `classes` names each output of a multi-class model, or both classes of a binary one.
    private static func check(_ classes: [String]?, outputs: Int) throws(ModelError) {
        let expected = outputs == 1 ? 2 : outputs
        if let classes, classes.count != expected {
            throw .invalidField("classes", reason: "\(classes.count) names for a model with \(expected) classes")
        }
    }

    /// Binary (flat `weights`, number `bias`) or multinomial (a weight row and a bias per class).
    private static func logistic(
        _ fields: JSONFields, name: String, version: String, inputs: [String]?, classes: [String]?
    ) throws(ModelError) -> any Model {
        let raw = try fields.array("weights")
        guard !raw.isEmpty else { throw .invalidField("weights", reason: "empty") }
        guard raw.first is [Any] else {
            let weights = try fields.floats("weights")
            try check(inputs, count: weights.count)
            try check(classes, outputs: 1)
            return LogisticRegression(name: name, version: version, inputNames: inputs, weights: weights, bias: try fields.float("bias"))
        }
        let layer = try denseLayer(fields, activation: .softmax)
        guard layer.outputs >= 2 else {
            throw .invalidField("weights", reason: "one row of weights per class needs at least 2 classes; a binary model has a flat list")
        }
        try check(inputs, count: layer.inputs)
        try check(classes, outputs: layer.outputs)
        return MultilayerPerceptron(name: name, version: version, inputNames: inputs, outputNames: classes, layers: [layer])
    }

    private static func mlp(
        _ fields: JSONFields, name: String, version: String, inputs: [String]?, classes: [String]?
    ) throws(ModelError) -> any Model {
        var layers: [DenseLayer] = []
        let specs = try fields.objects("layers")
        for (index, spec) in specs.enumerated() {
            let activationName = try spec.string("activation")
            guard let activation = Activation(rawValue: activationName) else {
                let known = Activation.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidField(spec.name("activation"), reason: "unknown activation '\(activationName)' (\(known))")
            }
            if activation == .softmax && index != specs.count - 1 {
                throw .invalidField(spec.name("activation"), reason: "softmax is only for the output layer")
            }
            let layer = try denseLayer(spec, activation: activation)
            if let previous = layers.last, previous.outputs != layer.inputs {
                throw .invalidField(spec.name("weights"), reason: "units take \(layer.inputs) inputs but the previous layer has \(previous.outputs) units")
            }
            layers.append(layer)
        }
        guard let last = layers.last else { throw .invalidField("layers", reason: "an MLP needs at least one layer") }
        let lastName = "layers[\(layers.count - 1)]"
        if last.activation == .softmax {
            guard last.outputs >= 2 else { throw .invalidField(lastName, reason: "a softmax output layer needs a unit per class (at least 2)") }
        } else if last.outputs != 1 {
            throw .invalidField(lastName, reason: "the last layer has \(last.outputs) units; a binary or regression model has 1, a multi-class one ends in softmax")
        }
        try check(inputs, count: layers[0].inputs)
        try check(classes, outputs: last.outputs)
        return MultilayerPerceptron(
            name: name, version: version, inputNames: inputs, outputNames: last.outputs > 1 ? classes : nil, layers: layers)
    }

    /// A layer from `weights` (one row of inputs per unit, all the same width) and `bias`
    /// (one per unit).
    private static func denseLayer(_ spec: JSONFields, activation: Activation) throws(ModelError) -> DenseLayer {
        let field = spec.name("weights")
        let rows = try spec.array("weights")
        guard !rows.isEmpty else { throw .invalidField(field, reason: "a layer needs at least one unit") }
        var matrix: [[Float]] = []
        for (i, row) in rows.enumerated() {
            guard let values = row as? [Any] else { throw .invalidField("\(field)[\(i)]", reason: "expected an array of numbers") }
            matrix.append(try JSONFields.floats(values, field: "\(field)[\(i)]"))
        }
        let width = matrix[0].count
        guard width > 0 else { throw .invalidField("\(field)[0]", reason: "a unit needs at least one weight") }
        if let bad = matrix.firstIndex(where: { $0.count != width }) {
            throw .invalidField("\(field)[\(bad)]", reason: "\(matrix[bad].count) weights; unit 0 has \(width)")
        }
        let bias = try spec.floats("bias")
        guard bias.count == matrix.count else {
            throw .invalidField(spec.name("bias"), reason: "\(bias.count) values for \(matrix.count) units")
        }
        return DenseLayer(weights: matrix, bias: bias, activation: activation)
    }
}
