import Features
import Foundation

/// What users would write with Foundation instead of StreamScore's decoder, for the
/// reference transaction schema and the demo spec only: the comparison in
/// `streamscore bench features`. Each fills the same 13 inputs as the default spec.
enum FeatureBaselines {
    static let countries = ["DE", "FR", "NL", "ES", "IT"]

    /// The demo row from already-extracted values (the default spec, by hand).
    static func fill(
        amount: Double, distance: Double, recent: Double, age: Double, country: String, channel: String, timestamp: Double,
        into row: UnsafeMutableBufferPointer<Float>
    ) {
        row[0] = Float(log1p(amount))
        row[1] = Float(log1p(distance))
        row[2] = Float(recent)
        row[3] = Float(log1p(age))
        for (k, c) in countries.enumerated() { row[4 + k] = country == c ? 1 : 0 }
        row[9] = countries.contains(country) ? 0 : 1
        row[10] = channel == "pos" ? 1 : 0
        row[11] = channel == "ecom" ? 1 : 0
        let seconds = (timestamp / 1000).rounded(.down)
        row[12] = Float((Int64(seconds) % 86_400) / 3_600)
    }

    /// `JSONSerialization` into a dictionary, then lookups and casts.
    static func serialization(_ bytes: [UInt8], into row: UnsafeMutableBufferPointer<Float>) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let amount = (object["amount"] as? NSNumber)?.doubleValue,
              let distance = (object["distance_km"] as? NSNumber)?.doubleValue,
              let recent = (object["txn_last_hour"] as? NSNumber)?.doubleValue,
              let age = (object["card_age_days"] as? NSNumber)?.doubleValue,
              let country = object["country"] as? String, let channel = object["channel"] as? String,
              let timestamp = (object["timestamp"] as? NSNumber)?.doubleValue, object["id"] != nil
        else { return false }
        fill(amount: amount, distance: distance, recent: recent, age: age, country: country, channel: channel, timestamp: timestamp, into: row)
        return true
    }

    /// The Codable struct a Swift team would write.
    struct Transaction: Decodable {
        var id: String
        var amount: Double
        var distance_km: Double
        var txn_last_hour: Double
        var card_age_days: Double
        var country: String
        var channel: String
        var timestamp: Double
    }

    static func codable(_ bytes: [UInt8], decoder: JSONDecoder, into row: UnsafeMutableBufferPointer<Float>) -> Bool {
        guard let t = try? decoder.decode(Transaction.self, from: Data(bytes)) else { return false }
        fill(
            amount: t.amount, distance: t.distance_km, recent: t.txn_last_hour, age: t.card_age_days, country: t.country,
            channel: t.channel, timestamp: t.timestamp, into: row)
        return true
    }
}
