import Foundation

/// Reads XGBoost's JSON model format (`Booster.save_model("m.json")`), gbtree booster.
///
/// Objectives: `binary:logistic`, `binary:logitraw`, `reg:logistic`, `reg:squarederror`.
/// A split sends `x < split_condition` left and a missing value the `default_left` way.
/// Categorical splits, multi-class and multi-target models are refused with the field that
/// says so.
enum XGBoostLoader {
    static func load(_ root: [String: Any], name: String?, version: String) throws(ModelError) -> TreeEnsemble {
        let learner = try JSONFields(root).object("learner")
        let params = try learner.object("learner_model_param")
        let inputCount = try params.integer("num_feature")
        guard inputCount > 0 else { throw .invalidField(params.name("num_feature"), reason: "must be positive") }
        if params.has("num_class"), try params.integer("num_class") > 1 {
            throw .invalidField(params.name("num_class"), reason: "multi-class models are not supported yet")
        }
        if params.has("num_target"), try params.integer("num_target") > 1 {
            throw .invalidField(params.name("num_target"), reason: "multi-target models are not supported")
        }
        let baseScore = try baseScore(params)
        let objective = try learner.object("objective").string("name")
        let output: TreeEnsemble.Output
        var baseMargin: Float
        switch objective {
        case "binary:logistic", "reg:logistic":
            guard baseScore > 0 && baseScore < 1 else {
                throw .invalidField(params.name("base_score"), reason: "must be a probability strictly between 0 and 1 for \(objective)")
            }
            output = .sigmoid(scale: 1)
            baseMargin = Float(Foundation.log(baseScore / (1 - baseScore)))
        case "binary:logitraw", "reg:squarederror":
            output = .raw
            baseMargin = Float(baseScore)
        default:
            throw .invalidField(learner.name("objective.name"), reason: "objective '\(objective)' is not supported (binary:logistic, binary:logitraw, reg:logistic, reg:squarederror)")
        }
        let booster = try learner.object("gradient_booster")
        let boosterName = try booster.string("name")
        guard boosterName == "gbtree" else {
            throw .invalidField(booster.name("name"), reason: "booster '\(boosterName)' is not supported (gbtree)")
        }
        let model = try booster.object("model")
        var trees: [[TreeEnsemble.Node]] = []
        for tree in try model.objects("trees") {
            let nodes = try self.tree(tree)
            try TreeCheck.validate(nodes, inputCount: inputCount, field: tree.path)
            trees.append(nodes)
        }
        guard !trees.isEmpty else { throw .invalidField(model.name("trees"), reason: "the model has no trees") }
        var names = try learner.optionalStrings("feature_names")
        if names?.isEmpty == true { names = nil }
        if let names, names.count != inputCount {
            throw .invalidField(learner.name("feature_names"), reason: "\(names.count) names for \(inputCount) features")
        }
        if baseMargin.isNaN { baseMargin = 0 }
        return TreeEnsemble(
            name: name ?? "xgboost", version: version, origin: "xgboost \(objective)", inputNames: names,
            inputCount: inputCount, trees: trees, baseMargin: baseMargin, output: output)
    }

    /// `base_score`: a number, a numeric string, or (XGBoost ≥ 3) a string like "[5E-1]".
    private static func baseScore(_ params: JSONFields) throws(ModelError) -> Double {
        let raw = try params.value("base_score")
        if let n = raw as? NSNumber { return n.doubleValue }
        if let s = raw as? String {
            let trimmed = s.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
            if let v = Double(trimmed), v.isFinite { return v }
        }
        throw .invalidField(params.name("base_score"), reason: "expected a number")
    }

    private static func tree(_ tree: JSONFields) throws(ModelError) -> [TreeEnsemble.Node] {
        let left = try tree.integers("left_children")
        let right = try tree.integers("right_children")
        let feature = try tree.integers("split_indices")
        let condition = try tree.floats("split_conditions")
        let defaultLeft = try tree.integers("default_left")
        let n = left.count
        for (key, count) in [
            ("right_children", right.count), ("split_indices", feature.count),
            ("split_conditions", condition.count), ("default_left", defaultLeft.count),
        ] where count != n {
            throw .invalidField(tree.name(key), reason: "\(count) entries for \(n) nodes")
        }
        if tree.has("split_type"), try tree.integers("split_type").contains(where: { $0 != 0 }) {
            throw .invalidField(tree.name("split_type"), reason: "categorical splits are not supported")
        }
        return (0..<n).map { i in
            left[i] == -1
                ? .leaf(condition[i])
                : .split(
                    feature: Int32(clamping: feature[i]), threshold: condition[i], left: Int32(clamping: left[i]),
                    right: Int32(clamping: right[i]), defaultLeft: defaultLeft[i] != 0, missing: .nanFollowsDefault)
        }
    }
}
