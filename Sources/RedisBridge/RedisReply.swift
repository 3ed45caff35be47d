internal import Chiredis

/// A Redis reply as a Swift value (hiredis replies are converted in one place: `init(_:)`).
public enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case integer(Int)
    case null
    case status(String)
    case error(String)
    case array([RedisReply])

    /// Copies a hiredis reply (which the caller still frees).
    init(_ reply: UnsafePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            self = .string(Array(UnsafeRawBufferPointer(start: r.str, count: r.len)))
        case REDIS_REPLY_INTEGER:
            self = .integer(Int(r.integer))
        case REDIS_REPLY_NIL:
            self = .null
        case REDIS_REPLY_STATUS:
            self = .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            self = .error(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_ARRAY:
            self = .array((0..<r.elements).map { RedisReply(UnsafePointer(r.element[$0]!)) })
        default:
            self = .error("unknown reply type \(r.type)")
        }
    }
}
