import Features
import Inference


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

    /// The row's float bits as a 128-bit hash, in 32 hex digits. Two rows that share a key
    /// share a score, so one 64-bit hash would not do: over 10⁸ distinct rows two would
    /// collide with odds near 1 in 3,700; with 128 bits, about 1 in 10²³.
    ///
    /// Made on the decode workers for every row, so it reads words, not bytes: two lanes
    /// over the same 8-byte words, of two kinds, so that rows colliding in one are not
    /// likely to in the other: xxHash64's round (add, rotate, multiply) and wyhash's (the
    /// 128-bit product's halves folded). Each is finished with `KeyFingerprint.avalanche`
    /// (murmur3's `fmix64`). The lanes' multiplications do not wait on each other. (An
    /// earlier lane, xor then multiply, put 6 collisions into 120,000 rows of small
    /// integers; `CacheKeyTests.rowKeyHalves` is that test.)
    static func appendRowHash(_ row: UnsafeBufferPointer<Float>, to out: inout [UInt8]) {
        let (high, low) = rowHash(UnsafeRawBufferPointer(row))
        appendHex(high, to: &out)
        appendHex(low, to: &out)
    }

    static func rowHash(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        var a: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(bytes.count)
        var b: UInt64 = 0x1319_8A2E_0370_7344 ^ (UInt64(bytes.count) << 32)
        func mix(_ word: UInt64) {
            a = a &+ word &* 0xC2B2_AE3D_27D4_EB4F
            a = (a << 31 | a >> 33) &* 0x9E37_79B1_85EB_CA87
            let product = (b ^ word).multipliedFullWidth(by: 0xA076_1D64_78BD_642F)
            b = product.high ^ product.low
        }
        var i = 0
        while i + 8 <= bytes.count {
            mix(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < bytes.count {
            var tail: UInt64 = 0x80  // a marker past the last byte: a tail of zeros still counts
            for k in (i..<bytes.count).reversed() { tail = tail << 8 | UInt64(bytes[k]) }
            mix(tail)
        }
        return (KeyFingerprint.avalanche(a), KeyFingerprint.avalanche(b))
    }

    /// The word's 16 hex digits, most significant first, appended in one go.
    private static func appendHex(_ h: UInt64, to out: inout [UInt8]) {
        var text: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &text) { digits in
            for k in 0..<16 {
                let nibble = UInt8(truncatingIfNeeded: h >> UInt64(60 - 4 * k)) & 0xF
                digits[k] = nibble &+ (nibble < 10 ? 0x30 : 0x57)
            }
            out.append(contentsOf: digits)
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
