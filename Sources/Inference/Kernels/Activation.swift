import RealModule

/// Activations of dense layers: element-wise, except `softmax`, which normalises one row's
/// units into probabilities (an output layer's, for multi-class models).
public enum Activation: String, Sendable, CaseIterable {
    case relu, tanh, logistic, identity, softmax

    /// Applies the activation in place to `count` values: one row's units.
    @inlinable
    func apply(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
        switch self {
        case .identity:
            return
        case .relu:
            for i in 0..<count { values[i] = max(0, values[i]) }
        case .tanh:
            for i in 0..<count { values[i] = Float.tanh(values[i]) }
        case .logistic:
            VectorMath.sigmoid(values, count)
        case .softmax:
            Self.softmax(values, count)
        }
    }

    /// e^(x_i − max) / Σ e^(x_j − max): subtracting the row's maximum keeps every exponent
    /// ≤ 0, so no unit overflows.
    @inlinable
    static func softmax(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
        guard count > 0 else { return }
        var top = values[0]
        for i in 1..<count { top = max(top, values[i]) }
        var sum: Float = 0
        for i in 0..<count {
            values[i] = Float.exp(values[i] - top)
            sum += values[i]
        }
        let scale = 1 / sum
        for i in 0..<count { values[i] *= scale }
    }

    /// σ(x) = 1 / (1 + e^-x).
    @inlinable
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + Float.exp(-x))
    }
}
