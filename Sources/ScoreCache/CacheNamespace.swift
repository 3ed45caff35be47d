import Features
import Inference

/// What a cached score belongs to: the model's `name@version` and a hash of everything
/// else that decides a score (`CacheKey.namespaceHash`: the model file's bytes, the event
/// format, the inputs and their transforms, the key fields). Every Redis key starts
/// `{prefix}:{model}:{hash}:`, so a new model, model file or feature spec never reads an
/// old entry. The batcher's lookups and the writer's writes use one namespace.
public struct CacheNamespace: Sendable, Equatable {
    /// `name@version`.
    public var model: String
    /// A stable text hash (any text in tests).
    public var hash: String

    public init(model: String, hash: String) {
        self.model = model
        self.hash = hash
    }

    /// The namespace of `model` scoring events decoded by `spec`.
    public init(model: any Model, spec: FeatureSpec) {
        self.init(model: model.identity, hash: CacheKey.namespaceHash(spec: spec, model: model))
    }

    /// `{prefix}:{model}:{hash}:`, the start of every Redis key.
    func keyPrefix(_ prefix: String) -> [UInt8] {
        Array("\(prefix):\(model):\(hash):".utf8)
    }
}
