import Features

/// Score-cache keys that are not event fields: hashes of the feature row, and of the
/// feature spec (part of every key's namespace, so a new spec never reads old entries).
enum CacheKey {
    /// FNV-1a (64-bit) over bytes, as 16 hex digits.
    static func appendHash(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        for shift in stride(from: 60, through: 0, by: -4) {
            let digit = UInt8((h >> UInt64(shift)) & 0xF)
            out.append(digit < 10 ? 0x30 + digit : 0x57 + digit)
        }
    }

    /// The row's float bits, hashed.
    static func appendRowHash(_ row: UnsafeBufferPointer<Float>, to out: inout [UInt8]) {
        appendHash(UnsafeRawBufferPointer(row), to: &out)
    }

    /// The feature spec's part of every Redis key: a hash of what decides a row and what a
    /// key means (the event format, the inputs with all their transforms, the key fields),
    /// so a worker whose spec differs in any of them never reads another's scores, and one
    /// that differs only in limits (event size, depth) or its id field shares them. Two
    /// specs that key on different fields must not share: `card_id` "42" is not `account`
    /// "42". Reflection describes every property of an input, so one added to `Input` is
    /// covered without a change here; a field added to `FeatureSpec` itself must be weighed
    /// here.
    static func specHash(_ spec: FeatureSpec) -> String {
        hash(describing: (format: spec.format, inputs: spec.inputs, keyFields: spec.keyFields))
    }

    /// A stable text hash of a value's full description.
    static func hash(describing value: Any) -> String {
        var out: [UInt8] = []
        Array(String(reflecting: value).utf8).withUnsafeBytes { appendHash($0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }
}
