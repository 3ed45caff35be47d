/// Dot-product kernels over contiguous `Float`s.
///
/// `simd` keeps two independent `SIMD8<Float>` accumulators (scalar float reductions do not
/// vectorize on their own; STYLE.md, "SIMD") and finishes the tail scalar. `scalar` is the
/// plain reference the tests compare against.
public enum DotProduct {
    @inlinable
    public static func simd(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>()
        var acc1 = SIMD8<Float>()
        var i = 0
        let xr = UnsafeRawPointer(x)
        let wr = UnsafeRawPointer(w)
        let stride = MemoryLayout<Float>.stride
        while i &+ 16 <= n {
            acc0 = DenseKernel.fma(
                acc0, xr.loadUnaligned(fromByteOffset: i &* stride, as: SIMD8<Float>.self),
                wr.loadUnaligned(fromByteOffset: i &* stride, as: SIMD8<Float>.self))
            acc1 = DenseKernel.fma(
                acc1, xr.loadUnaligned(fromByteOffset: (i &+ 8) &* stride, as: SIMD8<Float>.self),
                wr.loadUnaligned(fromByteOffset: (i &+ 8) &* stride, as: SIMD8<Float>.self))
            i &+= 16
        }
        if i &+ 8 <= n {
            acc0 = DenseKernel.fma(
                acc0, xr.loadUnaligned(fromByteOffset: i &* stride, as: SIMD8<Float>.self),
                wr.loadUnaligned(fromByteOffset: i &* stride, as: SIMD8<Float>.self))
            i &+= 8
        }
        var sum = (acc0 + acc1).sum()
        while i < n {
            sum += x[i] * w[i]
            i &+= 1
        }
        return sum
    }

    /// Reference: one multiply-add at a time, in order.
    public static func scalar(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int) -> Float {
        var sum: Float = 0
        for i in 0..<n { sum += x[i] * w[i] }
        return sum
    }
}
