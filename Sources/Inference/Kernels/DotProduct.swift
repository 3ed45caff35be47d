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

    /// Four rows (`stride` floats apart) against one weight vector: four independent FMA
    /// chains per step instead of one, so the adds' latency overlaps. Logistic regression
    /// scores four rows per call of this.
    @inlinable
    public static func simd4(_ x: UnsafePointer<Float>, stride: Int, _ w: UnsafePointer<Float>, _ n: Int) -> SIMD4<Float> {
        let x0 = UnsafeRawPointer(x), x1 = UnsafeRawPointer(x + stride)
        let x2 = UnsafeRawPointer(x + 2 &* stride), x3 = UnsafeRawPointer(x + 3 &* stride)
        let wr = UnsafeRawPointer(w)
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var i = 0
        let size = MemoryLayout<Float>.stride
        while i &+ 8 <= n {
            let offset = i &* size
            let wv = wr.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            a0 = DenseKernel.fma(a0, x0.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), wv)
            a1 = DenseKernel.fma(a1, x1.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), wv)
            a2 = DenseKernel.fma(a2, x2.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), wv)
            a3 = DenseKernel.fma(a3, x3.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self), wv)
            i &+= 8
        }
        var sums = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
        while i < n {
            let wi = w[i]
            sums += SIMD4(x[i], x[stride &+ i], x[2 &* stride &+ i], x[3 &* stride &+ i]) * wi
            i &+= 1
        }
        return sums
    }

    /// Reference: one multiply-add at a time, in order.
    public static func scalar(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int) -> Float {
        var sum: Float = 0
        for i in 0..<n { sum += x[i] * w[i] }
        return sum
    }
}
