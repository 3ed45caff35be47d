internal import Crdkafka

/// An error reported by librdkafka, or by the bridge while driving it.
///
/// `code` is librdkafka's `rd_kafka_resp_err_t` value (negative codes are client-side,
/// positive ones come from the broker); `message` is librdkafka's own text
/// (`errstr` or `rd_kafka_err2str`), quoted unchanged so users can search for it.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// librdkafka's error code (`rd_kafka_resp_err_t`), or 0 for bridge-level configuration errors.
    public let code: Int32
    /// The library's message.
    public let message: String
    /// Whether retrying the same operation may succeed.
    public let isRetriable: Bool
    /// Whether the client instance is unusable and must be torn down.
    public let isFatal: Bool
    /// A transactional call's error that leaves the transaction unusable but the producer
    /// sound: abort the transaction and go on (`rd_kafka_error_txn_requires_abort`).
    public let requiresAbort: Bool
    /// The librdkafka configuration property at fault, for configuration errors.
    public let property: String?

    public init(
        code: Int32, message: String, isRetriable: Bool = false, isFatal: Bool = false,
        requiresAbort: Bool = false, property: String? = nil
    ) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.requiresAbort = requiresAbort
        self.property = property
    }

    /// The symbolic name of the code, as librdkafka spells it (`_QUEUE_FULL`, `UNKNOWN_TOPIC_OR_PART`).
    public var name: String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code)))
    }

    public var description: String {
        "KafkaError(\(name)): \(message)"
    }

    /// Creates an error from a response code with librdkafka's text for it.
    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(
            code: err.rawValue,
            message: context.map { "\($0): \(text)" } ?? text,
            isRetriable: KafkaError.retriableCodes.contains(err.rawValue)
        )
    }

    /// Creates an error from an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            message: String(cString: rd_kafka_error_string(error)),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            requiresAbort: rd_kafka_error_txn_requires_abort(error) != 0
        )
    }

    /// Whether the broker (or the client's own size check) refused this *record* for its
    /// content: too large, invalid, against the topic's policy. Sending it again cannot
    /// succeed, unlike a transport fault or a timeout, and other records are unaffected.
    public var isRecordRefused: Bool {
        Self.recordRefusedCodes.contains(code)
    }

    private static let recordRefusedCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_MSG.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE.rawValue,
        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_RECORD.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP.rawValue,
        RD_KAFKA_RESP_ERR_POLICY_VIOLATION.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS.rawValue,
    ]

    /// Whether a delivery report's error only says the record was purged from the queue
    /// (by an aborted transaction or a purge): the record was never delivered, by design.
    public var isPurged: Bool {
        code == RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue || code == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT.rawValue
    }

    /// Whether a newer producer with the same `transactional.id` took over this one's.
    public var isFenced: Bool {
        code == RD_KAFKA_RESP_ERR__FENCED.rawValue || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED.rawValue
            || code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH.rawValue
    }

    static let noError = RD_KAFKA_RESP_ERR_NO_ERROR.rawValue
    static let queueFull = RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue

    private static let retriableCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue,
        RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue,
        RD_KAFKA_RESP_ERR__TRANSPORT.rawValue,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS.rawValue,
    ]
}
