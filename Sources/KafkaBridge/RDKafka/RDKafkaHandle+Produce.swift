internal import Crdkafka

extension RDKafkaHandle {
    /// Queues one record (`rd_kafka_produceva`, payload copied), to `topic` by handle when
    /// there is one (else by name); `token` comes back in its delivery report. Nil when
    /// queued, else why not (a full queue included).
    func produce(_ record: OutgoingRecord, topic rkt: RDKafkaTopic?, token: UInt64) -> KafkaError? {
        // Headers go in as one application-owned list (VTYPE_HEADERS), not one VTYPE_HEADER
        // per header: with the latter, librdkafka 2.0.2 frees the headers twice when the
        // partitioner refuses a record (unknown or unauthorized topic) and crashes
        // (librdkafka issue #4627). With a list, a failed call leaves it to us to free.
        let headers = record.headers.isEmpty ? nil : RDKafkaHeaders(record.headers)
        let error: KafkaError? = record.topic.withCString { topic in
            record.value.withUnsafeBytes { value in
                (record.key ?? []).withUnsafeBytes { key in
                    // At most 8 arguments, on the stack (no allocation per record).
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { vus in
                        var count = 0
                        func add(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t) -> Void) {
                            var v = rd_kafka_vu_t()
                            v.vtype = type
                            set(&v)
                            vus[count] = v
                            count += 1
                        }
                        if let rkt {
                            add(RD_KAFKA_VTYPE_RKT) { $0.u.rkt = rkt.pointer }
                        } else {
                            add(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
                        }
                        if let partition = record.partition { add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
                        add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                        if !record.isTombstone {
                            add(RD_KAFKA_VTYPE_VALUE) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                                $0.u.mem.size = value.count
                            }
                        }
                        if record.key != nil {
                            add(RD_KAFKA_VTYPE_KEY) {
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                                $0.u.mem.size = key.count
                            }
                        }
                        if let timestamp = record.timestamp { add(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp } }
                        add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(token)) }
                        if let headers { add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers.pointer } }
                        return withPointer { rk -> KafkaError? in
                            guard let error = rd_kafka_produceva(rk, vus.baseAddress, count) else { return nil }
                            return KafkaError(consuming: error)
                        }
                    }
                }
            }
        }
        if error == nil { headers?.handOver() }
        return error
    }
}

extension RDKafkaHandle {
    /// Serves queued callbacks (delivery reports, errors, logs) with `rd_kafka_poll`,
    /// blocking up to `timeoutMs` for the first. Returns how many events it served.
    func serveCallbacks(timeoutMs: Int32) -> Int {
        withPointer { Int(rd_kafka_poll($0, timeoutMs)) }
    }

    /// Wakes a `serveCallbacks` blocked on another thread. `rd_kafka_yield` cannot: in
    /// 2.0.2 it sets a flag of the calling thread only. Yielding the main queue wakes the
    /// queue's waiter, or makes its next wait return at once.
    func wakeCallbackServer() {
        withPointer { rk in
            guard let main = rd_kafka_queue_get_main(rk) else { return }
            rd_kafka_queue_yield(main)
            rd_kafka_queue_destroy(main)
        }
    }
}
