import Features
import Inference
import RedisBridge

/// Score-cache keys that are not event fields: hashes of the feature row, and of the
/// model and feature spec (part of every key's namespace, so a new model file or spec
/// never reads old entries).
enum CacheKey {
    /// FNV-1a (64-bit) over bytes, as 16 hex digits.
    static func appendHash(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        appendHex(h, to: &out)
    }

    /// The row's float bits, hashed twice (FNV-1a, then `KeyFingerprint`'s multiply and
    /// shift): 128 bits as 32 hex digits. Two rows that share a key share a score, so one
    /// 64-bit hash would not do: over 10⁸ distinct rows two would collide with odds near
    /// 1 in 3,700; with 128 bits, about 1 in 10²³.
    static func appendRowHash(_ row: UnsafeBufferPointer<Float>, to out: inout [UInt8]) {
        let bytes = UnsafeRawBufferPointer(row)
        appendHash(bytes, to: &out)
        appendHex(KeyFingerprint.of(bytes), to: &out)
    }

    private static func appendHex(_ h: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 60, through: 0, by: -4) {
            let digit = UInt8((h >> UInt64(shift)) & 0xF)
            out.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }

    /// The hash in every Redis key, after `name@version`: of what decides a score and what
    /// a key means. The model's content (`Model.contentHash`: a native file's version is
    /// whatever its writer put there, so a model retrained under the same version must
    /// still not read the old one's scores), the event format, the inputs with all their
    /// transforms, and the key fields (`card_id` "42" is not `account` "42"). Limits (event
    /// size, depth) and the id field change no score and do not split the cache.
    /// Reflection describes every property of an input, so one added to `Input` is covered
    /// without a change here; a field added to `FeatureSpec` itself must be weighed here.
    static func namespaceHash(spec: FeatureSpec, model: any Model) -> String {
        hash(describing: (model: model.contentHash, format: spec.format, inputs: spec.inputs, keyFields: spec.keyFields))
    }

    /// A stable text hash of a value's full description.
    static func hash(describing value: Any) -> String {
        var out: [UInt8] = []
        Array(String(reflecting: value).utf8).withUnsafeBytes { appendHash($0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }
}
