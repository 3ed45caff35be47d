/// Vectorised `exp` and logistic sigmoid over `SIMD8<Float>`.
///
/// `exp` uses the Cephes `expf` method: x = n·ln2 + r with |r| ≤ ln2/2, e^r from a
/// degree-6 polynomial, 2^n put straight into the exponent bits (in two factors, so the
/// result under- and overflows gradually like `expf`). Relative error stays within a few
/// ULP over the normal range.
/// Tests compare with `Float.exp` lane by lane.
@usableFromInline
enum VectorMath {
    @inlinable
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // Past ±104/89 the result is 0 or +∞ anyway; the clamp keeps n in Int32 range.
        let clamped = pointwiseMin(pointwiseMax(x, SIMD8(repeating: -104)), SIMD8(repeating: 89))
        // Round to nearest with the 1.5·2^23 trick: adding it leaves n in the low mantissa
        // bits (plain vector adds, where `rounded` and Int conversion go lane by lane).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375  // ln 2, high part (exact in float)
        r = r - n * -2.121_944_4e-4  // ln 2, low part
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 0.166_666_66
        p = p * r + 0.5
        p = p * (r * r) + r + 1
        // 2^n as two factors 2^a · 2^b (a = n/2, b = n - a), each a normal float for any
        // clamped n, so the products round into denormals, 0 or +∞ exactly as expf does.
        let whole = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let a = whole &>> 1
        let b = whole &- a
        let scaleA = unsafeBitCast((a &+ 127) &<< 23, to: SIMD8<Float>.self)
        let scaleB = unsafeBitCast((b &+ 127) &<< 23, to: SIMD8<Float>.self)
        return p * scaleA * scaleB
    }

    /// σ(x) = 1 / (1 + e^-x), eight lanes at a time.
    @inlinable
    static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / (1 + exp(-x))
    }

    /// Applies σ to `count` values in place, eight at a time. The tail goes through the same
    /// vector code in a padded vector, so a value's result never depends on its position
    /// (a row scores the same whatever batch it is in).
    @inlinable
    static func sigmoid(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i &+ 8 <= count {
            let raw = UnsafeMutableRawPointer(values + i)
            raw.storeBytes(of: sigmoid(raw.loadUnaligned(as: SIMD8<Float>.self)), as: SIMD8<Float>.self)
            i &+= 8
        }
        guard i < count else { return }
        var tail = SIMD8<Float>()
        for lane in 0..<(count &- i) { tail[lane] = values[i &+ lane] }
        tail = sigmoid(tail)
        for lane in 0..<(count &- i) { values[i &+ lane] = tail[lane] }
    }
}
