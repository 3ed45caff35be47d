#if STREAMSCORE_AVX2 && arch(x86_64)
import CSIMD
#endif

/// The vector walk: eight rows per vector (one row per lane) through four trees at a time,
/// every step a few AVX2 gathers instead of eight chains of scalar loads.
///
/// Each node is one 64-bit word (`vectorNodes`): the threshold's bits in the high half; in
/// the low half the split feature (high 16 bits), NaN-goes-left (bit 15) and the offset
/// from the node to its left child (low 15 bits; leaves: 0, so they loop to themselves).
/// A step for eight rows is two four-lane 64-bit gathers for the nodes, one eight-lane
/// gather for the input values, a compare and an add. The four trees' steps are
/// independent, so their gathers overlap; the four are of similar depth (trees are walked
/// in order of depth), so few steps are wasted on trees already at a leaf. Leaves are
/// summed in tree order, as on the other paths, so scores are bit-identical to theirs.
///
/// Built only for CPUs with AVX2 (`STREAMSCORE_AVX2`, the Makefile's release build); other
/// builds walk with `walk` alone.
extension TreeEnsemble {
    /// The nodes packed for the vector walk; empty when this build has no vector walk or the
    /// model does not fit the packing (65,536 inputs or more, a child 32,768 or more nodes
    /// after its parent, 2³¹ nodes or more).
    static func vectorNodes(feature: [Int32], child: [Int32], nanLeft: [UInt8], threshold: [Float], inputCount: Int) -> [Int64] {
        #if STREAMSCORE_AVX2 && arch(x86_64)
        guard inputCount <= 0xFFFF, feature.count < Int(Int32.max) else { return [] }
        var words = [Int64](repeating: 0, count: feature.count)
        for node in 0..<feature.count {
            let offset = Int(child[node]) - node
            guard (0...0x7FFF).contains(offset) else { return [] }
            let low = UInt32(max(0, feature[node])) << 16 | UInt32(nanLeft[node]) << 15 | UInt32(offset)
            words[node] = Int64(bitPattern: UInt64(threshold[node].bitPattern) << 32 | UInt64(low))
        }
        return words
        #else
        return []
        #endif
    }

    #if STREAMSCORE_AVX2 && arch(x86_64)
    /// Adds every tree's leaf value to the sums of the eight rows at `x` (a full block).
    /// `leaves` is scratch for `trees × 8` floats (the caller takes it once per call).
    @inline(__always)
    func walkVector(
        _ x: UnsafePointer<Float>, width: Int, nodes: UnsafePointer<Int64>, value: UnsafePointer<Float>,
        leaves: UnsafeMutableRawPointer, sums: UnsafeMutablePointer<Float>
    ) {
        let base = UnsafeRawPointer(nodes).assumingMemoryBound(to: CLongLong.self)
        let rowStart = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &* Int32(width)
        @inline(__always) func gather(_ base: UnsafePointer<Float>, _ index: SIMD8<Int32>) -> SIMD8<Float> {
            streamscore_gather_f32(base, unsafeBitCast(index, to: SIMD4<Int64>.self))
        }
        /// The next node of eight rows at `node`.
        @inline(__always) func step(_ node: SIMD8<Int32>) -> SIMD8<Int32> {
            var packed = SIMD8<Int32>(), threshold = SIMD8<Float>()
            withUnsafeMutableBytes(of: &packed) { p in
                withUnsafeMutableBytes(of: &threshold) { t in
                    streamscore_gather_nodes(
                        base, unsafeBitCast(node, to: SIMD4<Int64>.self),
                        p.baseAddress!.assumingMemoryBound(to: CInt.self), t.baseAddress!.assumingMemoryBound(to: Float.self))
                }
            }
            let v = gather(x, rowStart &+ (packed &>> 16))
            let less = unsafeBitCast(v .< threshold, to: SIMD8<Int32>.self)  // -1 where x < threshold
            let nan = unsafeBitCast(v .!= v, to: SIMD8<Int32>.self)
            let nanLeft = (packed &<< 16) &>> 31  // bit 15 as -1 or 0
            // Left child = node + offset, right = left + 1; `left` is -1 when going left.
            return node &+ (packed & 0x7FFF) &+ 1 &+ (less | (nan & nanLeft))
        }
        // Trees are walked in groups of similar depth (`depthOrder`), each group as deep as
        // its deepest tree; their leaves are kept per tree and summed in tree order after,
        // as every other path sums them.
        let trees = roots.count
        @inline(__always) func keep(_ tree: Int32, _ node: SIMD8<Int32>) {
            leaves.storeBytes(of: gather(value, node), toByteOffset: Int(tree) &* 32, as: SIMD8<Float>.self)
        }
        var g = 0
        while g &+ 4 <= trees {
            let (ta, tb, tc, td) = (depthOrder[g], depthOrder[g &+ 1], depthOrder[g &+ 2], depthOrder[g &+ 3])
            var a = SIMD8(repeating: roots[Int(ta)]), b = SIMD8(repeating: roots[Int(tb)])
            var c = SIMD8(repeating: roots[Int(tc)]), d = SIMD8(repeating: roots[Int(td)])
            for _ in 0..<depths[Int(td)] {  // sorted: the group's last tree is its deepest
                a = step(a); b = step(b); c = step(c); d = step(d)
            }
            keep(ta, a); keep(tb, b); keep(tc, c); keep(td, d)
            g &+= 4
        }
        while g < trees {
            let tree = depthOrder[g]
            var a = SIMD8(repeating: roots[Int(tree)])
            for _ in 0..<depths[Int(tree)] { a = step(a) }
            keep(tree, a)
            g &+= 1
        }
        var sum = UnsafeRawPointer(sums).loadUnaligned(as: SIMD8<Float>.self)
        for t in 0..<trees { sum += leaves.load(fromByteOffset: t &* 32, as: SIMD8<Float>.self) }
        UnsafeMutableRawPointer(sums).storeBytes(of: sum, as: SIMD8<Float>.self)
    }
    #endif
}
