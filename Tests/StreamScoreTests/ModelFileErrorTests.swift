import Foundation
import Inference
import Testing

/// Broken XGBoost and LightGBM files: an error naming the field, never a crash.
@Suite("Bad tree model files")
struct ModelFileErrorTests {
    static let directory = packageRoot.appendingPathComponent("Tests/Fixtures/Models")

    static func text(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    /// Loads `text` and returns the error's description (or records an issue if it loads).
    static func failure(_ text: String, format: ModelLoader.Format = .auto) -> String {
        do {
            _ = try ModelLoader.load(data: Data(text.utf8), format: format, name: "m")
            Issue.record("a broken file loaded")
            return ""
        } catch {
            return error.description
        }
    }

    /// XGBoost JSON with one edit to the first tree (or the learner).
    static func xgboost(_ edit: (inout [String: Any]) -> Void) throws -> String {
        var root = try JSONSerialization.jsonObject(with: Data(text("xgb-binary.json").utf8)) as! [String: Any]
        edit(&root)
        return String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
    }

    static func editFirstTree(_ root: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var learner = root["learner"] as! [String: Any]
        var booster = learner["gradient_booster"] as! [String: Any]
        var model = booster["model"] as! [String: Any]
        var trees = model["trees"] as! [[String: Any]]
        edit(&trees[0])
        model["trees"] = trees
        booster["model"] = model
        learner["gradient_booster"] = booster
        root["learner"] = learner
    }

    @Test("XGBoost: truncated JSON")
    func truncated() throws {
        let full = try Self.text("xgb-binary.json")
        #expect(Self.failure(String(full.prefix(full.count / 2))).contains("not valid JSON"))
    }

    @Test("XGBoost: unknown objective")
    func objective() throws {
        let doc = try Self.xgboost { root in
            var learner = root["learner"] as! [String: Any]
            learner["objective"] = ["name": "multi:softprob"]
            root["learner"] = learner
        }
        #expect(Self.failure(doc).contains("learner.objective.name"))
    }

    /// One edit to the first tree of an XGBoost file, and what its error must say.
    enum TreeEdit: String, CaseIterable, Sendable {
        case outside, cycle, shapes, categorical, feature

        func apply(_ tree: inout [String: Any]) {
            func edit<T>(_ key: String, _ change: (inout [T]) -> Void) {
                var values = tree[key] as! [T]
                change(&values)
                tree[key] = values
            }
            switch self {
            case .outside: edit("left_children") { (v: inout [Int]) in v[0] = 100_000 }  // points outside the tree
            case .cycle: edit("left_children") { (v: inout [Int]) in v[1] = 0 }  // back to the root
            case .shapes: edit("split_conditions") { (v: inout [Double]) in v.removeLast() }  // arrays of different lengths
            case .categorical: edit("split_type") { (v: inout [Int]) in v[0] = 1 }  // refused
            case .feature: edit("split_indices") { (v: inout [Int]) in v[0] = 99 }  // beyond the inputs
            }
        }

        /// Every part the message must contain.
        var expected: [String] {
            switch self {
            case .outside: ["trees[0]", "outside"]
            case .cycle: ["reached twice"]
            case .shapes: ["split_conditions"]
            case .categorical: ["categorical"]
            case .feature: ["feature 99"]
            }
        }
    }

    @Test("XGBoost: a tree pointing outside itself, a cycle, arrays of different lengths, a categorical split, a feature beyond the inputs", arguments: TreeEdit.allCases)
    func treeEdits(_ edit: TreeEdit) throws {
        let doc = try Self.xgboost { Self.editFirstTree(&$0, edit.apply) }
        let message = Self.failure(doc)
        #expect(edit.expected.allSatisfy(message.contains), "\(edit): \(message)")
    }

    /// Replaces the first value of the first `key=` line of a LightGBM text model.
    static func replacingFirstValue(of key: String, with value: String, in text: String) -> String {
        let line = text.components(separatedBy: "\n").first { $0.hasPrefix("\(key)=") }!
        let values = line.dropFirst(key.count + 1).split(separator: " ").map(String.init)
        return text.replacingOccurrences(of: line, with: "\(key)=" + ([value] + values.dropFirst()).joined(separator: " "))
    }

    @Test("LightGBM: truncated, NaN leaf, unknown objective, categorical split, child outside the tree", arguments: [
        ("truncated", "Tree"),
        ("nan leaf", "leaf_value"),
        ("objective", "objective"),
        ("categorical", "categorical"),
        ("outside", "outside"),
    ])
    func lightgbm(_ edit: String, _ expected: String) throws {
        let full = try Self.text("lgb-binary.txt")
        let text: String
        switch edit {
        case "truncated": text = String(full.prefix(300))  // the header, no tree
        case "nan leaf": text = Self.replacingFirstValue(of: "leaf_value", with: "nan", in: full)
        case "objective": text = full.replacingOccurrences(of: "objective=binary", with: "objective=lambdarank")
        case "categorical": text = Self.replacingFirstValue(of: "decision_type", with: "9", in: full)
        default: text = Self.replacingFirstValue(of: "left_child", with: "5000", in: full)
        }
        let message = Self.failure(text, format: .lightgbm)
        #expect(message.contains(expected), "\(edit): \(message)")
    }

    @Test("Native MLP and logistic: shapes that do not chain, unknown activation, misplaced softmax, class names", arguments: [
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[{"weights":[[1,2],[3,4]],"bias":[0,0],"activation":"relu"},{"weights":[[1,2,3]],"bias":[0],"activation":"logistic"}]}"#, "layers[1].weights"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[{"weights":[[1,2]],"bias":[0],"activation":"swish"}]}"#, "layers[0].activation"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[{"weights":[[1,2],[3]],"bias":[0,0],"activation":"relu"}]}"#, "layers[0].weights[1]"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[{"weights":[[1,2]],"bias":[0,0],"activation":"relu"}]}"#, "layers[0].bias"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[{"weights":[[1,2],[1,2]],"bias":[0,0],"activation":"logistic"}]}"#, "multi-class"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[]}"#, "layers"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[{"weights":[[1,2],[1,2]],"bias":[0,0],"activation":"softmax"},{"weights":[[1,2]],"bias":[0],"activation":"logistic"}]}"#, "'layers[0].activation': softmax is only for the output layer"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","layers":[{"weights":[[1,2]],"bias":[0],"activation":"softmax"}]}"#, "'layers[0]': a softmax output layer needs a unit per class"),
        (#"{"format_version":1,"kind":"mlp","name":"m","version":"1","classes":["a","b"],"layers":[{"weights":[[1,2],[1,2],[3,4]],"bias":[0,0,0],"activation":"softmax"}]}"#, "'classes': 2 names for a model with 3 classes"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[[1,2],[1]],"bias":[0,0]}"#, "weights[1]"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[[1,2],[1,2]],"bias":0}"#, "bias"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","weights":[[1,2]],"bias":[0]}"#, "at least 2 classes"),
        (#"{"format_version":1,"kind":"logistic","name":"m","version":"1","inputs":["a"],"weights":[[1,2],[3,4]],"bias":[0,0]}"#, "'inputs': 1 names for 2 inputs"),
    ])
    func mlp(_ json: String, _ field: String) {
        let message = Self.failure(json)
        #expect(message.contains(field), "\(message)")
    }
}
