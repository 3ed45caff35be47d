internal import Crdkafka
import Foundation

/// Swift state that librdkafka's C callbacks reach through the client's opaque pointer.
///
/// `@unchecked Sendable` invariant: every property is a `let` set before `rd_kafka_new`,
/// and each closure is itself `@Sendable`; librdkafka calls them from its own threads.
final class RDKafkaCallbacks: @unchecked Sendable {
    let onDelivery: (@Sendable (DeliveryReport) -> Void)?
    let onRebalance: (@Sendable (RebalanceEvent) -> Void)?
    let onError: @Sendable (KafkaError) -> Void
    let onLog: @Sendable (KafkaLogEntry) -> Void
    /// librdkafka's statistics JSON, every `statistics.interval.ms`, on the thread that
    /// polls (keep it short: copy, do not parse).
    let onStatistics: (@Sendable (String) -> Void)?

    init(
        onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil,
        onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil,
        onError: @escaping @Sendable (KafkaError) -> Void,
        onLog: @escaping @Sendable (KafkaLogEntry) -> Void,
        onStatistics: (@Sendable (String) -> Void)? = nil
    ) {
        self.onDelivery = onDelivery
        self.onRebalance = onRebalance
        self.onError = onError
        self.onLog = onLog
        self.onStatistics = onStatistics
    }
}

/// Owns one `rd_kafka_t` (producer or consumer) and the callbacks it calls.
///
/// `@unchecked Sendable` invariant: librdkafka's client API is thread-safe except where a
/// caller documents otherwise (consumer poll: one thread); the pointer is set in `init`
/// and destroyed only in `deinit`, and the callbacks object outlives the handle because
/// it is released after `rd_kafka_destroy` returns.
final class RDKafkaHandle: @unchecked Sendable {
    enum Kind { case producer, consumer }

    private let pointer: OpaquePointer
    private let callbacks: Unmanaged<RDKafkaCallbacks>
    let kind: Kind

    /// Creates the client.
    ///
    /// - Throws: `KafkaError` naming the property librdkafka rejected, or `rd_kafka_new`'s `errstr`.
    init(kind: Kind, config: KafkaConfig, callbacks: RDKafkaCallbacks) throws(KafkaError) {
        let conf = try RDKafkaConfig(config)
        let unmanaged = Unmanaged.passRetained(callbacks)
        rd_kafka_conf_set_opaque(conf.pointer, unmanaged.toOpaque())
        rd_kafka_conf_set_log_cb(conf.pointer, rdkafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf.pointer, rdkafkaErrorCallback)
        if callbacks.onDelivery != nil {
            rd_kafka_conf_set_dr_msg_cb(conf.pointer, rdkafkaDeliveryCallback)
        }
        if callbacks.onRebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf.pointer, rdkafkaRebalanceCallback)
        }
        if callbacks.onStatistics != nil {
            rd_kafka_conf_set_stats_cb(conf.pointer, rdkafkaStatisticsCallback)
        }
        var errstr = [CChar](repeating: 0, count: 512)
        let type = kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER
        guard let rk = rd_kafka_new(type, conf.pointer, &errstr, errstr.count) else {
            unmanaged.release()
            throw KafkaError(code: 0, message: String(cString: errstr.withUnsafeBufferPointer { $0.baseAddress! }))
        }
        _ = conf.release()  // rd_kafka_new owns it now
        self.pointer = rk
        self.callbacks = unmanaged
        self.kind = kind
    }

    /// Lends the raw client pointer for the duration of `body`.
    func withPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try body(pointer)
    }

    /// Passes an error found outside a callback (e.g. in a consumed message) to `onError`.
    func reportError(_ error: KafkaError) {
        callbacks.takeUnretainedValue().onError(error)
    }

    /// Set (once, by the closing thread) when a consumer's close did not finish by its
    /// deadline. Such a handle is abandoned, not destroyed: librdkafka 2.0.2's destroy then
    /// waits for the group coordinator without bound (its main thread spins; seen with
    /// every broker down), which would hold up the process's exit past the shutdown
    /// timeout. The worker exits right after; the group drops the member after its session
    /// timeout.
    nonisolated(unsafe) var abandonOnDeinit = false

    deinit {
        guard !abandonOnDeinit else { return }  // leaks the handle and its callbacks, on purpose
        rd_kafka_destroy(pointer)
        callbacks.release()
    }
}

/// A log line from librdkafka (syslog levels: 3 error, 4 warning, 6 info, 7 debug).
public struct KafkaLogEntry: Sendable {
    public var level: Int32
    public var facility: String
    public var message: String
}

/// A change of the consumer's assignment, delivered on the poll thread.
public enum RebalanceEvent: Sendable {
    /// Partitions just added to the assignment (already assigned when the handler runs).
    case assigned([TopicPartition])
    /// Partitions about to leave the assignment; they are unassigned after the handler
    /// returns. `lost` means another member may already own them: do not commit.
    case revoked([TopicPartition], lost: Bool)
}

private func callbacks(_ opaque: UnsafeMutableRawPointer?) -> RDKafkaCallbacks? {
    guard let opaque else { return nil }
    return Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
}

private func rdkafkaLogCallback(
    _ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ message: UnsafePointer<CChar>?
) {
    guard let rk, let context = callbacks(rd_kafka_opaque(rk)) else { return }
    context.onLog(KafkaLogEntry(
        level: level,
        facility: facility.map { String(cString: $0) } ?? "",
        message: message.map { String(cString: $0) } ?? ""
    ))
}

private func rdkafkaErrorCallback(
    _ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let context = callbacks(opaque) else { return }
    let text = reason.map { String(cString: $0) } ?? ""
    if err == RD_KAFKA_RESP_ERR__FATAL.rawValue, let rk {
        // The error callback only says "fatal"; the cause comes from rd_kafka_fatal_error.
        var errstr = [CChar](repeating: 0, count: 512)
        let cause = rd_kafka_fatal_error(rk, &errstr, errstr.count)
        context.onError(KafkaError(
            code: cause.rawValue, message: String(cString: errstr.withUnsafeBufferPointer { $0.baseAddress! }), isFatal: true))
    } else {
        let code = rd_kafka_resp_err_t(rawValue: err)
        context.onError(KafkaError(
            code: err, message: text,
            isRetriable: code != RD_KAFKA_RESP_ERR__AUTHENTICATION))
    }
}

private func rdkafkaDeliveryCallback(
    _ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let message, let context = callbacks(opaque), let onDelivery = context.onDelivery else { return }
    let m = message.pointee
    let err = m.err
    onDelivery(DeliveryReport(
        token: UInt64(UInt(bitPattern: m._private)),
        topic: m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
        partition: m.partition,
        offset: err == RD_KAFKA_RESP_ERR_NO_ERROR ? m.offset : -1,
        error: err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err)
    ))
}

private func rdkafkaStatisticsCallback(
    _ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int, _ opaque: UnsafeMutableRawPointer?
) -> Int32 {
    guard let json, let context = callbacks(opaque), let onStatistics = context.onStatistics else { return 0 }
    let text = UnsafeRawBufferPointer(start: json, count: length).withMemoryRebound(to: UInt8.self) { String(decoding: $0, as: UTF8.self) }
    onStatistics(text)
    return 0  // librdkafka frees the JSON
}

func rdkafkaRebalanceCallback(
    _ rk: OpaquePointer?, _ err: rd_kafka_resp_err_t,
    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let rk, let context = callbacks(opaque), let onRebalance = context.onRebalance else { return }
    let list = RDKafkaTopicPartitionList.read(partitions)
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) {
                context.onError(KafkaError(consuming: error))
            }
        } else {
            rd_kafka_assign(rk, partitions)
        }
        onRebalance(.assigned(list.map(\.0)))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        onRebalance(.revoked(list.map(\.0), lost: rd_kafka_assignment_lost(rk) != 0))
        if cooperative {
            if let error = rd_kafka_incremental_unassign(rk, partitions) {
                context.onError(KafkaError(consuming: error))
            }
        } else {
            rd_kafka_assign(rk, nil)
        }
    default:
        context.onError(KafkaError(err, context: "rebalance"))
        onRebalance(.revoked(list.map(\.0), lost: true))
        rd_kafka_assign(rk, nil)
    }
}
