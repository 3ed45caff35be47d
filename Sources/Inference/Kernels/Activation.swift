import RealModule

/// Element-wise activations of dense layers.
public enum Activation: String, Sendable, CaseIterable {
    case relu, tanh, logistic, identity

    /// Applies the activation to `count` values in place.
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
        }
    }

    /// σ(x) = 1 / (1 + e^-x).
    @inlinable
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + Float.exp(-x))
    }
}
