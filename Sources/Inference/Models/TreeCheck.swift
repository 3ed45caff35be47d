/// Structural checks for trees read from files: every child inside the tree, every node
/// reachable from the root exactly once, features inside the input row.
enum TreeCheck {
    /// - Throws: `ModelError.invalidField` naming `field` (e.g. `trees[3]`) and the problem.
    static func validate(_ tree: [TreeEnsemble.Node], inputCount: Int, field: String) throws(ModelError) {
        guard !tree.isEmpty else { throw .invalidField(field, reason: "tree has no nodes") }
        var seen = [Bool](repeating: false, count: tree.count)
        var stack = [0]
        seen[0] = true
        while let i = stack.popLast() {
            let node = tree[i]
            guard node.feature >= 0 else {
                guard node.value.isFinite else { throw .invalidField(field, reason: "node \(i): leaf value is not finite") }
                continue
            }
            guard Int(node.feature) < inputCount else {
                throw .invalidField(field, reason: "node \(i) splits on feature \(node.feature) but the model has \(inputCount) inputs")
            }
            guard !node.threshold.isNaN else { throw .invalidField(field, reason: "node \(i): threshold is NaN") }
            for child in [node.left, node.right] {
                guard child >= 0, Int(child) < tree.count else {
                    throw .invalidField(field, reason: "node \(i) points to node \(child), outside the tree's \(tree.count) nodes")
                }
                guard !seen[Int(child)] else {
                    throw .invalidField(field, reason: "node \(child) is reached twice (the tree has a cycle or shared node)")
                }
                seen[Int(child)] = true
                stack.append(Int(child))
            }
        }
    }

    /// Number of splits on the longest root-to-leaf path of a validated tree.
    static func depth(_ tree: [TreeEnsemble.Node]) -> Int {
        var deepest = 0
        var stack = [(0, 0)]
        while let (i, d) = stack.popLast() {
            let node = tree[i]
            if node.feature < 0 {
                deepest = max(deepest, d)
            } else {
                stack.append((Int(node.left), d + 1))
                stack.append((Int(node.right), d + 1))
            }
        }
        return deepest
    }
}
