// Decodes the reference transactions into the demo feature rows with simdjson (Debian's
// libsimdjson-dev), timed like `streamscore bench features`: one thread, a warm-up pass,
// then the median of 7 runs of at least 200 ms of whole passes over the events.
// Built and run by scripts/bench_json.sh beside the Swift decoder, on the same events.
//
//   simdjson_harness EVENTS.jsonl dom|ondemand
//   simdjson_harness EVENTS.jsonl probe      (each line: parsed, or simdjson's error)
//
// dom: the whole document parsed and validated into a tape, then the fields read (what
// StreamScore's decoder guarantees: a malformed event anywhere is rejected).
// ondemand: stage 1 (structure and UTF-8) over the whole event, then only the needed
// fields parsed; the rest of the document is not validated.
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

static const char *countries[] = {"DE", "FR", "NL", "ES", "IT"};

// The default feature spec (Configs/streamscore.yaml), by hand.
static void fill(double amount, double distance, double recent, double age, std::string_view country,
                 std::string_view channel, double timestamp, float *row) {
    row[0] = float(std::log1p(amount));
    row[1] = float(std::log1p(distance));
    row[2] = float(recent);
    row[3] = float(std::log1p(age));
    bool known = false;
    for (int k = 0; k < 5; k++) {
        row[4 + k] = country == countries[k] ? 1.0f : 0.0f;
        known |= country == countries[k];
    }
    row[9] = known ? 0.0f : 1.0f;
    row[10] = channel == "pos" ? 1.0f : 0.0f;
    row[11] = channel == "ecom" ? 1.0f : 0.0f;
    long long seconds = (long long)std::floor(timestamp / 1000);
    row[12] = float((seconds % 86400) / 3600);
}

static double number(simdjson::dom::element e) {
    if (e.is_double()) return double(e);
    if (e.is_int64()) return double(int64_t(e));
    return double(uint64_t(e));
}

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s EVENTS.jsonl dom|ondemand\n", argv[0]);
        return 2;
    }
    bool dom = std::string(argv[2]) == "dom";
    std::ifstream in(argv[1]);
    std::vector<simdjson::padded_string> events;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) events.emplace_back(line);
    simdjson::dom::parser domParser;
    if (std::string(argv[2]) == "probe") {
        for (auto &e : events) {
            auto result = domParser.parse(e);
            std::printf("%-60.60s %s\n", std::string(e).c_str(), result.error() ? simdjson::error_message(result.error()) : "parsed");
        }
        return 0;
    }
    simdjson::ondemand::parser parser;
    float row[13];
    double checksum = 0;
    long failures = 0;
    auto decode = [&](const simdjson::padded_string &event) {
        if (dom) {
            simdjson::dom::element doc;
            if (domParser.parse(event).get(doc)) { failures++; return; }
            simdjson::dom::object o;
            if (doc.get_object().get(o)) { failures++; return; }
            std::string_view country, channel;
            if (o["country"].get_string().get(country) || o["channel"].get_string().get(channel)) { failures++; return; }
            fill(number(o["amount"]), number(o["distance_km"]), number(o["txn_last_hour"]), number(o["card_age_days"]),
                 country, channel, number(o["timestamp"]), row);
        } else {
            simdjson::ondemand::document doc;
            if (parser.iterate(event).get(doc)) { failures++; return; }
            // Fields in any order: find_field_unordered, as the events' order is not fixed.
            double amount, distance, recent, age, timestamp;
            std::string_view country, channel;
            if (doc.find_field_unordered("amount").get_double().get(amount) ||
                doc.find_field_unordered("distance_km").get_double().get(distance) ||
                doc.find_field_unordered("txn_last_hour").get_double().get(recent) ||
                doc.find_field_unordered("card_age_days").get_double().get(age) ||
                doc.find_field_unordered("country").get_string().get(country) ||
                doc.find_field_unordered("channel").get_string().get(channel) ||
                doc.find_field_unordered("timestamp").get_double().get(timestamp)) { failures++; return; }
            fill(amount, distance, recent, age, country, channel, timestamp, row);
        }
        for (float v : row) checksum += v;
    };
    for (auto &e : events) decode(e);
    double first = checksum;
    std::vector<double> rates;
    for (int run = 0; run < 7; run++) {
        auto start = std::chrono::steady_clock::now();
        long done = 0;
        double elapsed;
        do {
            for (auto &e : events) decode(e);
            done += long(events.size());
            elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        } while (elapsed < 0.2);
        rates.push_back(done / elapsed);
    }
    std::sort(rates.begin(), rates.end());
    std::printf("{\"decoder\":\"simdjson %s\",\"events_per_s\":%.0f,\"checksum\":%.3f,\"failed_events\":%ld}\n",
                dom ? "dom" : "ondemand", rates[3], first, failures);
    return 0;
}
