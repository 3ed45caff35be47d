/// A sum of regression trees (gradient-boosted): XGBoost and LightGBM models.
///
/// All trees live in flat parallel arrays (one entry per node), each tree's nodes
/// contiguous and breadth-first. Scoring walks up to eight rows through a tree together,
/// one level per step and one row per lane, branch-free, so eight independent
/// node-to-node dependency chains overlap instead of one row waiting on each load and
/// compare; `scoreScalar` is the one-row-at-a-time reference that follows branches.
public struct TreeEnsemble: Model {
    /// How a node treats a missing (NaN) or zero input.
    public enum MissingRule: UInt8, Sendable {
        /// NaN follows the node's default direction (XGBoost; LightGBM `missing_type=NaN`).
        case nanFollowsDefault = 0
        /// NaN is read as 0 and compared (LightGBM `missing_type=None`).
        case nanIsZero = 1
        /// NaN and (near-)zero follow the default direction (LightGBM `missing_type=Zero`).
        case zeroFollowsDefault = 2
    }

    /// What the summed leaf values (plus `baseMargin`) become.
    public enum Output: Sendable, Equatable {
        case raw
        /// `1 / (1 + exp(-scale · margin))`.
        case sigmoid(scale: Float)
    }

    /// One node of a tree, as loaders build it (children are indices within the tree).
    public struct Node: Sendable {
        public var feature: Int32
        /// Goes left when `x < threshold` (loaders convert `<=` splits).
        public var threshold: Float
        public var left: Int32
        public var right: Int32
        public var value: Float
        public var defaultLeft: Bool
        public var missing: MissingRule

        public static func leaf(_ value: Float) -> Node {
            Node(feature: -1, threshold: 0, left: -1, right: -1, value: value, defaultLeft: false, missing: .nanFollowsDefault)
        }

        public static func split(feature: Int32, threshold: Float, left: Int32, right: Int32, defaultLeft: Bool, missing: MissingRule) -> Node {
            Node(feature: feature, threshold: threshold, left: left, right: right, value: 0, defaultLeft: defaultLeft, missing: missing)
        }
    }

    public let name: String
    public let version: String
    public var contentHash: String?
    public let inputNames: [String]?
    public let inputCount: Int
    public let baseMargin: Float
    public let output: Output
    /// Where the model came from ("xgboost binary:logistic", "lightgbm binary").
    public let origin: String

    // Flat node arrays, one entry per node. Each tree's nodes are laid out breadth-first
    // with the two children of a split adjacent (`child` is the left one, right = left + 1),
    // so a step is `node = child[node] + (goesLeft ? 0 : 1)`. A leaf points at itself with
    // an infinite threshold and NaN going left, so extra steps past a leaf stay on it and
    // the walk needs no leaf test: every tree is walked exactly `depths[t]` steps.

    /// Split feature (leaves: -1).
    let feature: [Int32]
    /// Split feature, with 0 for leaves (safe to load).
    let loadFeature: [Int32]
    let threshold: [Float]
    let child: [Int32]
    /// Where NaN goes under `nanFollowsDefault` and `nanIsZero` (leaves: left, i.e. stay).
    let nanLeft: [UInt8]
    let value: [Float]
    /// bit 0: default left; bits 1–2: `MissingRule` (for the general path and the reference).
    let flags: [UInt8]
    let roots: [Int32]
    let depths: [Int32]
    /// The deepest of each consecutive group of `lanes` trees (for `walkOneRow`).
    let groupDepths: [Int32]
    /// Some node treats zero as missing: use the general decision.
    let usesZeroRule: Bool
    /// The nodes packed for the vector walk (`TreeEnsemble+Vector`); empty when this build
    /// has none, the model does not fit the packing, or it uses the zero rule.
    let vectorNodes: [Int64]
    /// Tree indexes by increasing depth (stable), the vector walk's grouping.
    let depthOrder: [Int32]

    /// Flattens checked trees (see `TreeCheck`) into the ensemble.
    public init(
        name: String, version: String, origin: String, inputNames: [String]?, inputCount: Int,
        trees: [[Node]], baseMargin: Float, output: Output
    ) {
        var feature: [Int32] = [], loadFeature: [Int32] = [], threshold: [Float] = [], child: [Int32] = []
        var nanLeft: [UInt8] = [], value: [Float] = [], flags: [UInt8] = [], roots: [Int32] = [], depths: [Int32] = []
        var zeroRule = false
        for tree in trees {
            let base = Int32(feature.count)
            roots.append(base)
            depths.append(Int32(TreeCheck.depth(tree)))
            // Breadth-first order; `position[i]` is old node i's new index within the tree.
            var order = [0]
            var position = [Int32](repeating: -1, count: tree.count)
            position[0] = 0
            var i = 0
            while i < order.count {
                let node = tree[order[i]]
                if node.feature >= 0 {
                    for next in [Int(node.left), Int(node.right)] {
                        position[next] = Int32(order.count)
                        order.append(next)
                    }
                }
                i += 1
            }
            for (index, old) in order.enumerated() {
                let node = tree[old]
                let me = base + Int32(index)
                if node.feature < 0 {
                    feature.append(-1); loadFeature.append(0); threshold.append(.infinity); child.append(me)
                    nanLeft.append(1); value.append(node.value); flags.append(1)
                } else {
                    feature.append(node.feature); loadFeature.append(node.feature); threshold.append(node.threshold)
                    child.append(base + position[Int(node.left)])
                    let goesLeftOnNaN = node.missing == .nanIsZero ? 0 < node.threshold : node.defaultLeft
                    nanLeft.append(goesLeftOnNaN ? 1 : 0)
                    value.append(0)
                    flags.append((node.defaultLeft ? 1 : 0) | node.missing.rawValue << 1)
                    if node.missing == .zeroFollowsDefault { zeroRule = true }
                }
            }
        }
        self.name = name
        self.version = version
        self.origin = origin
        self.inputNames = inputNames
        self.inputCount = inputCount
        self.baseMargin = baseMargin
        self.output = output
        (self.feature, self.loadFeature, self.threshold, self.child) = (feature, loadFeature, threshold, child)
        (self.nanLeft, self.value, self.flags, self.roots, self.depths) = (nanLeft, value, flags, roots, depths)
        self.usesZeroRule = zeroRule
        self.depthOrder = depths.indices.sorted { (depths[$0], $0) < (depths[$1], $1) }.map(Int32.init)
        self.vectorNodes = zeroRule
            ? [] : Self.vectorNodes(feature: feature, child: child, nanLeft: nanLeft, threshold: threshold, inputCount: inputCount)
        self.groupDepths = stride(from: 0, to: depths.count, by: Self.lanes).map {
            depths[$0..<min($0 + Self.lanes, depths.count)].max()!
        }
    }

    public var treeCount: Int { roots.count }
    public var nodeCount: Int { feature.count }
    public var maxDepth: Int { Int(depths.max() ?? 0) }

    public func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let width = inputCount
        precondition(rows.count >= rowCount * width && scores.count >= rowCount, "batch shape")
        guard rowCount > 0 else { return }
        loadFeature.withUnsafeBufferPointer { feature in
        threshold.withUnsafeBufferPointer { threshold in
        child.withUnsafeBufferPointer { child in
        nanLeft.withUnsafeBufferPointer { nanLeft in
        value.withUnsafeBufferPointer { value in
        flags.withUnsafeBufferPointer { flags in
        vectorNodes.withUnsafeBufferPointer { vectorNodes in
            let nodes = Nodes(
                feature: feature.baseAddress!, threshold: threshold.baseAddress!, child: child.baseAddress!,
                nanLeft: nanLeft.baseAddress!, value: value.baseAddress!, flags: flags.baseAddress!)
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.lanes) { at in
                #if STREAMSCORE_AVX2 && arch(x86_64)
                let leaves = vectorNodes.isEmpty || rowCount < Self.lanes
                    ? nil : UnsafeMutableRawPointer(ThreadScratch.floats(roots.count * Self.lanes))
                #endif
                var start = 0
                while start < rowCount {
                    let n = min(Self.lanes, rowCount - start)
                    let block = rows.baseAddress! + start * width
                    for lane in 0..<n { scores[start + lane] = 0 }
                    let sums = UnsafeMutablePointer(scores.baseAddress! + start)
                    #if STREAMSCORE_AVX2 && arch(x86_64)
                    if n == Self.lanes, let leaves {
                        walkVector(
                            block, width: width, nodes: vectorNodes.baseAddress!, value: value.baseAddress!, leaves: leaves,
                            sums: sums)
                        start += n
                        continue
                    }
                    #endif
                    if usesZeroRule {
                        walkGeneral(block, width: width, lanes: n, nodes: nodes, at: at.baseAddress!, sums: sums)
                    } else if n < Self.rowsForRowLanes {
                        for r in 0..<n { sums[r] = walkOneRow(block + r * width, nodes: nodes, at: at.baseAddress!) }
                    } else {
                        walk(block, width: width, lanes: n, nodes: nodes, at: at.baseAddress!, sums: sums)
                    }
                    start += n
                }
            }
            finish(scores, rowCount)
        }}}}}}}
    }

    /// Rows walked together through each tree.
    static let lanes = 8
    /// Below this many rows in a block, each row walks eight trees at once instead (a lone
    /// row has no other rows to overlap with, but its trees are independent too).
    static let rowsForRowLanes = 3

    /// Raw pointers to the node arrays for one `score` call.
    struct Nodes {
        let feature: UnsafePointer<Int32>
        let threshold: UnsafePointer<Float>
        let child: UnsafePointer<Int32>
        let nanLeft: UnsafePointer<UInt8>
        let value: UnsafePointer<Float>
        let flags: UnsafePointer<UInt8>
    }

    /// Adds each tree's leaf value to `sums` for `lanes` rows, stepping all rows one level
    /// at a time: the rows' steps are independent, so their loads and compares overlap.
    @inline(__always)
    private func walk(
        _ x: UnsafePointer<Float>, width: Int, lanes: Int, nodes: Nodes,
        at: UnsafeMutablePointer<Int32>, sums: UnsafeMutablePointer<Float>
    ) {
        walkTrees(x, width: width, lanes: lanes, nodes: nodes, at: at, sums: sums) { v, node in
            Self.step(v, node, nodes)
        }
    }

    /// One branch-free step of the fast walk: the compares become flags, not jumps (tree
    /// paths are data-dependent, so a branch here mispredicts about half the time).
    @inline(__always)
    private static func step(_ v: Float, _ node: Int, _ nodes: Nodes) -> Int32 {
        let less: UInt8 = v < nodes.threshold[node] ? 1 : 0
        let nanLeft: UInt8 = v.isNaN ? nodes.nanLeft[node] : 0
        return nodes.child[node] &+ 1 &- Int32(less | nanLeft)
    }

    /// One row through eight trees at a time (lanes are trees), with `walk`'s step;
    /// each group of eight steps as deep as its deepest tree. Returns the summed leaves.
    @inline(__always)
    private func walkOneRow(_ x: UnsafePointer<Float>, nodes: Nodes, at: UnsafeMutablePointer<Int32>) -> Float {
        var sum: Float = 0
        var t = 0
        while t < roots.count {
            let lanes = min(Self.lanes, roots.count - t)
            for lane in 0..<lanes { at[lane] = roots[t + lane] }
            for _ in 0..<groupDepths[t / Self.lanes] {
                for lane in 0..<lanes {
                    let node = Int(at[lane])
                    at[lane] = Self.step(x[Int(nodes.feature[node])], node, nodes)
                }
            }
            for lane in 0..<lanes { sum += nodes.value[Int(at[lane])] }
            t += lanes
        }
        return sum
    }

    /// As `walk`, with every node's full missing-value rule (models that treat zero as missing).
    private func walkGeneral(
        _ x: UnsafePointer<Float>, width: Int, lanes: Int, nodes: Nodes,
        at: UnsafeMutablePointer<Int32>, sums: UnsafeMutablePointer<Float>
    ) {
        walkTrees(x, width: width, lanes: lanes, nodes: nodes, at: at, sums: sums) { v, node in
            nodes.child[node] &+ (Self.goesLeft(v, nodes.threshold[node], nodes.flags[node]) ? 0 : 1)
        }
    }

    /// The walk itself; `step(value, node)` returns the next node.
    @inline(__always)
    private func walkTrees(
        _ x: UnsafePointer<Float>, width: Int, lanes: Int, nodes: Nodes,
        at: UnsafeMutablePointer<Int32>, sums: UnsafeMutablePointer<Float>,
        step: (Float, Int) -> Int32
    ) {
        for t in 0..<roots.count {
            let root = roots[t]
            for lane in 0..<lanes { at[lane] = root }
            for _ in 0..<depths[t] {
                for lane in 0..<lanes {
                    let node = Int(at[lane])
                    at[lane] = step(x[lane &* width &+ Int(nodes.feature[node])], node)
                }
            }
            for lane in 0..<lanes { sums[lane] += nodes.value[Int(at[lane])] }
        }
    }

    @inline(__always)
    static func goesLeft(_ v: Float, _ threshold: Float, _ flags: UInt8) -> Bool {
        let defaultLeft = flags & 1 != 0
        switch flags >> 1 {
        case 0:  // nanFollowsDefault
            return v.isNaN ? defaultLeft : v < threshold
        case 1:  // nanIsZero
            return (v.isNaN ? 0 : v) < threshold
        default:  // zeroFollowsDefault (LightGBM's kZeroThreshold is 1e-35)
            return v.isNaN || abs(v) <= 1e-35 ? defaultLeft : v < threshold
        }
    }

    /// Turns summed leaf values into scores in place (vectorised sigmoid).
    private func finish(_ scores: UnsafeMutableBufferPointer<Float>, _ count: Int) {
        let base = scores.baseAddress!
        switch output {
        case .raw:
            for i in 0..<count { base[i] += baseMargin }
        case .sigmoid(let scale):
            for i in 0..<count { base[i] = scale * (base[i] + baseMargin) }
            VectorMath.sigmoid(base, count)
        }
    }

    @inline(__always)
    private func finish(_ sum: Float) -> Float {
        let margin = sum + baseMargin
        switch output {
        case .raw: return margin
        case .sigmoid(let scale): return Activation.sigmoid(scale * margin)
        }
    }

    /// Reference: each row through each tree on its own, following branches until a leaf.
    public func scoreScalar(_ rows: [[Float]]) -> [Float] {
        rows.map { row in
            var sum: Float = 0
            for root in roots {
                var node = Int(root)
                while feature[node] >= 0 {
                    node = Int(child[node]) + (Self.goesLeft(row[Int(feature[node])], threshold[node], flags[node]) ? 0 : 1)
                }
                sum += value[node]
            }
            return finish(sum)
        }
    }
}
