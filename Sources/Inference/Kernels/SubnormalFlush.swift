import CSIMD

/// Subnormal floats, kept out of scoring: x86 takes a microcode assist (~100 cycles) for
/// every subnormal operand or result, so a trained network whose weights underflowed
/// (measured: a scikit-learn MLP) scores ~17× slower than the same network with them at
/// zero. Weights are flushed when a model is built, and a score call runs with the CPU's
/// flush modes on (DAZ and FTZ), restoring the thread's mode after it: the thread that
/// called keeps IEEE behaviour for everything else it does.
enum SubnormalFlush {
    /// `value`, or zero (with its sign) when it is subnormal.
    @inlinable
    static func flushed(_ value: Float) -> Float {
        value.isSubnormal ? (value.sign == .minus ? -0.0 : 0.0) : value
    }

    /// Runs `body` with subnormal inputs read as zero and subnormal results flushed to zero.
    @inline(__always)
    static func withFlushModes<R>(_ body: () -> R) -> R {
        let saved = streamscore_flush_denormals_begin()
        defer { streamscore_flush_denormals_end(saved) }
        return body()
    }
}
