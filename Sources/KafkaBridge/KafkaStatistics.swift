internal import Crdkafka
import Foundation

/// What the worker reads from librdkafka's statistics JSON (`statistics.interval.ms`): the
/// consumer's lag per partition. Parsed where it is read (a scrape), never on the thread
/// that polls.
public struct KafkaStatistics: Sendable, Equatable {
    /// One partition as librdkafka last saw it.
    public struct Partition: Sendable, Equatable {
        /// Records between the end of the partition (the high watermark, or the last stable
        /// offset under `read_committed`) and the stored offset (the next offset to commit):
        /// nil until an offset is stored (librdkafka's `consumer_lag_stored`, -1).
        public var lagStored: Int64?
        /// The same against the last committed offset (`consumer_lag`), nil when unknown.
        public var lagCommitted: Int64?

        /// The lag to report: against the stored offset where there is one, else the
        /// committed one.
        public var lag: Int64? { lagStored ?? lagCommitted }

        public init(lagStored: Int64?, lagCommitted: Int64?) {
            (self.lagStored, self.lagCommitted) = (lagStored, lagCommitted)
        }
    }

    /// Every partition librdkafka lists (also those it knows of but no longer fetches:
    /// filter by the assignment; its internal "unassigned" partition -1 is left out).
    public var partitions: [TopicPartition: Partition]

    /// Parses one statistics document; nil when it is not librdkafka's JSON.
    public static func parse(_ json: String) -> KafkaStatistics? {
        guard let data = json.data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var partitions: [TopicPartition: Partition] = [:]
        for (topic, value) in root["topics"] as? [String: Any] ?? [:] {
            for (_, entry) in (value as? [String: Any])?["partitions"] as? [String: Any] ?? [:] {
                guard let p = entry as? [String: Any], let partition = (p["partition"] as? NSNumber)?.int32Value,
                      partition >= 0 else { continue }
                func offset(_ key: String) -> Int64? {
                    guard let n = (p[key] as? NSNumber)?.int64Value, n >= 0 else { return nil }
                    return n
                }
                partitions[TopicPartition(topic, partition)] = Partition(
                    lagStored: offset("consumer_lag_stored"), lagCommitted: offset("consumer_lag"))
            }
        }
        return KafkaStatistics(partitions: partitions)
    }
}

/// The client libraries' versions, for `streamscore_build_info`.
public enum KafkaLibrary {
    /// librdkafka's version at run time (`rd_kafka_version_str`), e.g. "2.0.2".
    public static var version: String { String(cString: rd_kafka_version_str()) }
}
