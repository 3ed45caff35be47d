/// Reads LightGBM's text model format (`Booster.save_model("m.txt")`).
///
/// Objectives: `binary` (sigmoid with the file's coefficient) and the raw-output regression
/// family (`regression`, `regression_l1`, `huber`, `fair`, `quantile`, `mape`). A numeric
/// split sends `x <= threshold` left; `missing_type` None reads NaN as 0, Zero sends zero
/// and NaN the default way, NaN sends NaN the default way. Categorical splits, linear
/// trees, random-forest averaging and multi-class models are refused with the field.
enum LightGBMLoader {
    static func load(_ text: String, name: String?, version: String) throws(ModelError) -> TreeEnsemble {
        var header: [String: String] = [:]
        var blocks: [[String: String]] = []
        var current: [String: String]?
        for rawLine in text.split(whereSeparator: \.isNewline) {  // "\r\n" is one Character: split on any newline
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line == "end of trees" { break }
            if line.hasPrefix("Tree=") {
                if let current { blocks.append(current) }
                current = ["Tree": String(line.dropFirst(5))]
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]), value = String(line[line.index(after: eq)...])
            if current != nil { current![key] = value } else { header[key] = value }
        }
        if let current { blocks.append(current) }

        guard let maxFeature = header["max_feature_idx"].flatMap(Int.init), maxFeature >= 0 else {
            throw .invalidField("max_feature_idx", reason: "missing or not a non-negative integer (is this a LightGBM model file?)")
        }
        let inputCount = maxFeature + 1
        if let classes = header["num_class"].flatMap(Int.init), classes > 1 {
            throw .invalidField("num_class", reason: "multi-class models are not supported yet")
        }
        if header["average_output"] != nil {
            throw .invalidField("average_output", reason: "random-forest (averaged) models are not supported")
        }
        let output = try objective(header["objective"])
        var names: [String]?
        if let line = header["feature_names"] {
            let list = line.split(separator: " ").map(String.init)
            guard list.count == inputCount else {
                throw .invalidField("feature_names", reason: "\(list.count) names for \(inputCount) features")
            }
            names = list
        }
        guard !blocks.isEmpty else { throw .invalidField("Tree", reason: "the model has no trees (is the file truncated?)") }
        var trees: [[TreeEnsemble.Node]] = []
        for block in blocks {
            let field = "Tree=\(block["Tree"] ?? "?")"
            let nodes = try tree(block, field: field)
            try TreeCheck.validate(nodes, inputCount: inputCount, field: field)
            trees.append(nodes)
        }
        return TreeEnsemble(
            name: name ?? "lightgbm", version: version, origin: "lightgbm \(header["objective"] ?? "")", inputNames: names,
            inputCount: inputCount, trees: trees, baseMargin: 0, output: output)
    }

    private static func objective(_ line: String?) throws(ModelError) -> TreeEnsemble.Output {
        guard let line, let kind = line.split(separator: " ").first.map(String.init) else {
            throw .missingField("objective")
        }
        let options = line.split(separator: " ").dropFirst()
        switch kind {
        case "binary":
            let scale = options.first { $0.hasPrefix("sigmoid:") }.flatMap { Float($0.dropFirst("sigmoid:".count)) } ?? 1
            guard scale.isFinite && scale > 0 else { throw .invalidField("objective", reason: "invalid sigmoid coefficient") }
            return .sigmoid(scale: scale)
        case "regression", "regression_l1", "huber", "fair", "quantile", "mape":
            if options.contains("sqrt") { throw .invalidField("objective", reason: "regression with sqrt is not supported") }
            return .raw
        default:
            throw .invalidField("objective", reason: "objective '\(kind)' is not supported (binary, regression)")
        }
    }

    private static func tree(_ block: [String: String], field: String) throws(ModelError) -> [TreeEnsemble.Node] {
        guard let leaves = block["num_leaves"].flatMap(Int.init), leaves >= 1 else {
            throw .invalidField("\(field).num_leaves", reason: "missing or not a positive integer")
        }
        if let cats = block["num_cat"].flatMap(Int.init), cats > 0 {
            throw .invalidField("\(field).num_cat", reason: "categorical splits are not supported")
        }
        if block["is_linear"] == "1" { throw .invalidField("\(field).is_linear", reason: "linear trees are not supported") }
        let leafValues = try doubles(block, "leaf_value", field: field, count: leaves)
        if leaves == 1 { return [.leaf(Float(leafValues[0]))] }
        let splits = leaves - 1
        let features = try integers(block, "split_feature", field: field, count: splits)
        let thresholds = try doubles(block, "threshold", field: field, count: splits)
        let decisions = try integers(block, "decision_type", field: field, count: splits)
        let lefts = try integers(block, "left_child", field: field, count: splits)
        let rights = try integers(block, "right_child", field: field, count: splits)
        // Internal nodes first, then leaves: child c >= 0 is internal node c, c < 0 is leaf ~c.
        func index(_ child: Int) -> Int32 { Int32(clamping: child >= 0 ? child : splits + ~child) }
        var nodes: [TreeEnsemble.Node] = []
        nodes.reserveCapacity(splits + leaves)
        for i in 0..<splits {
            let decision = decisions[i]
            if decision & 1 != 0 { throw .invalidField("\(field).decision_type", reason: "node \(i) is a categorical split (not supported)") }
            let missing: TreeEnsemble.MissingRule
            switch (decision >> 2) & 3 {
            case 0: missing = .nanIsZero
            case 1: missing = .zeroFollowsDefault
            default: missing = .nanFollowsDefault
            }
            nodes.append(.split(
                feature: Int32(clamping: features[i]), threshold: lessThan(atMost: thresholds[i]),
                left: index(lefts[i]), right: index(rights[i]), defaultLeft: decision & 2 != 0, missing: missing))
        }
        for value in leafValues { nodes.append(.leaf(Float(value))) }
        return nodes
    }

    /// The `Float` bound `b` with `x <= t ⇔ x < b` for every `Float` x (LightGBM compares
    /// in double precision; rows are `Float`).
    static func lessThan(atMost t: Double) -> Float {
        var f = Float(t)
        if Double(f) > t { f = f.nextDown }
        return f.nextUp
    }

    private static func values(_ block: [String: String], _ key: String, field: String, count: Int) throws(ModelError) -> [Substring] {
        guard let line = block[key] else { throw .missingField("\(field).\(key)") }
        let parts = line.split(separator: " ")
        guard parts.count == count else { throw .invalidField("\(field).\(key)", reason: "\(parts.count) values, expected \(count)") }
        return parts
    }

    private static func doubles(_ block: [String: String], _ key: String, field: String, count: Int) throws(ModelError) -> [Double] {
        var out: [Double] = []
        for (i, part) in try values(block, key, field: field, count: count).enumerated() {
            guard let v = Double(part), v.isFinite || key == "threshold" && !v.isNaN else {
                throw .invalidField("\(field).\(key)", reason: "value \(i) '\(part)' is not a finite number")
            }
            out.append(v)
        }
        return out
    }

    private static func integers(_ block: [String: String], _ key: String, field: String, count: Int) throws(ModelError) -> [Int] {
        var out: [Int] = []
        for (i, part) in try values(block, key, field: field, count: count).enumerated() {
            guard let v = Int(part) else { throw .invalidField("\(field).\(key)", reason: "value \(i) '\(part)' is not an integer") }
            out.append(v)
        }
        return out
    }
}
