/// A sum of regression trees (gradient-boosted): XGBoost and LightGBM models.
///
/// All trees live in flat parallel arrays (one entry per node), each tree's nodes
/// contiguous. Scoring walks eight rows through a tree together, one level per step and
/// one row per lane, so eight independent node-to-node dependency chains overlap instead
/// of one row waiting on each load and compare; `scoreScalar` is the one-row-at-a-time
/// reference.
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
    public private(set) var version: String
    public let inputNames: [String]?
    public let inputCount: Int
    public let baseMargin: Float
    public let output: Output
    /// Where the model came from ("xgboost binary:logistic", "lightgbm binary").
    public let origin: String

    let feature: [Int32]
    let threshold: [Float]
    let left: [Int32]
    let right: [Int32]
    let value: [Float]
    /// bit 0: default left; bits 1–2: `MissingRule`.
    let flags: [UInt8]
    let roots: [Int32]
    let depths: [Int32]

    /// Flattens checked trees (see `TreeCheck`) into the ensemble.
    public init(
        name: String, version: String, origin: String, inputNames: [String]?, inputCount: Int,
        trees: [[Node]], baseMargin: Float, output: Output
    ) {
        var feature: [Int32] = [], threshold: [Float] = [], left: [Int32] = [], right: [Int32] = []
        var value: [Float] = [], flags: [UInt8] = [], roots: [Int32] = [], depths: [Int32] = []
        for tree in trees {
            let base = Int32(feature.count)
            roots.append(base)
            depths.append(Int32(TreeCheck.depth(tree)))
            for node in tree {
                feature.append(node.feature)
                threshold.append(node.threshold)
                left.append(node.feature < 0 ? base : base + node.left)
                right.append(node.feature < 0 ? base : base + node.right)
                value.append(node.value)
                flags.append((node.defaultLeft ? 1 : 0) | node.missing.rawValue << 1)
            }
        }
        self.name = name
        self.version = version
        self.origin = origin
        self.inputNames = inputNames
        self.inputCount = inputCount
        self.baseMargin = baseMargin
        self.output = output
        (self.feature, self.threshold, self.left, self.right) = (feature, threshold, left, right)
        (self.value, self.flags, self.roots, self.depths) = (value, flags, roots, depths)
    }

    mutating func setVersion(_ version: String) { self.version = version }

    public var treeCount: Int { roots.count }
    public var nodeCount: Int { feature.count }
    public var maxDepth: Int { Int(depths.max() ?? 0) }

    public func score(rows: UnsafeBufferPointer<Float>, rowCount: Int, into scores: UnsafeMutableBufferPointer<Float>) {
        let width = inputCount
        precondition(rows.count >= rowCount * width && scores.count >= rowCount, "batch shape")
        guard rowCount > 0 else { return }
        feature.withUnsafeBufferPointer { feature in
        threshold.withUnsafeBufferPointer { threshold in
        left.withUnsafeBufferPointer { left in
        right.withUnsafeBufferPointer { right in
        value.withUnsafeBufferPointer { value in
        flags.withUnsafeBufferPointer { flags in
            let nodes = Nodes(
                feature: feature.baseAddress!, threshold: threshold.baseAddress!, left: left.baseAddress!,
                right: right.baseAddress!, value: value.baseAddress!, flags: flags.baseAddress!)
            var start = 0
            while start < rowCount {
                let n = min(8, rowCount - start)
                let sums = scoreBlock(rows.baseAddress! + start * width, width: width, count: n, nodes: nodes)
                for lane in 0..<n { scores[start + lane] = finish(sums[lane]) }
                start += n
            }
        }}}}}}
    }

    /// Raw pointers to the node arrays for one `score` call.
    struct Nodes {
        let feature: UnsafePointer<Int32>
        let threshold: UnsafePointer<Float>
        let left: UnsafePointer<Int32>
        let right: UnsafePointer<Int32>
        let value: UnsafePointer<Float>
        let flags: UnsafePointer<UInt8>
    }

    /// Sums the leaf values of up to eight rows over all trees, walking the rows together.
    @inline(__always)
    private func scoreBlock(_ x: UnsafePointer<Float>, width: Int, count: Int, nodes: Nodes) -> SIMD8<Float> {
        // Lanes past `count` walk row 0 again; their sums are dropped.
        var rowBase = SIMD8<Int32>()
        for lane in 0..<8 { rowBase[lane] = Int32(lane < count ? lane * width : 0) }
        var sums = SIMD8<Float>()
        for t in 0..<roots.count {
            var at = SIMD8<Int32>(repeating: roots[t])
            for _ in 0..<depths[t] {
                for lane in 0..<8 {
                    let node = Int(at[lane])
                    let f = nodes.feature[node]
                    if f < 0 { continue }
                    let v = x[Int(rowBase[lane]) + Int(f)]
                    at[lane] = Self.goesLeft(v, nodes.threshold[node], nodes.flags[node]) ? nodes.left[node] : nodes.right[node]
                }
            }
            for lane in 0..<8 { sums[lane] += nodes.value[Int(at[lane])] }
        }
        return sums
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
                    node = Int(Self.goesLeft(row[Int(feature[node])], threshold[node], flags[node]) ? left[node] : right[node])
                }
                sum += value[node]
            }
            return finish(sum)
        }
    }
}
