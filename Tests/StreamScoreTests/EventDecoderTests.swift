import Features
import Testing

@Suite("Event decoder")
struct EventDecoderTests {
    let decoder = EventDecoder(numericFields: ["amount", "n"], idField: "id", maxEventBytes: 200, maxDepth: 4)

    func decode(_ text: String) -> Result<(id: String?, row: [Float]), FeatureError> {
        decoder.decode(Array(text.utf8))
    }

    @Test("Reads the listed fields in order, whatever their position; ignores the rest")
    func fields() throws {
        let r = try decode(#"{"x":{"y":[1,2,{"z":null}]},"n":-2.5e1,"id":"a","amount":12.5,"t":true}"#).get()
        #expect(r.id == "a")
        #expect(r.row == [12.5, -25])
    }

    @Test("A numeric id is copied as text; escapes in ids and keys are resolved")
    func escapes() throws {
        #expect(try decode(#"{"id":42,"amount":1,"n":2}"#).get().id == "42")
        let r = try decode(#"{"id":"a\"b\u00e9\ud83d\ude00","am\u006fun\u0074":3,"n":4}"#).get()
        #expect(r.id == "a\"bé😀")
        #expect(r.row == [3, 4])
    }

    @Test("Member names that share their length and first bytes, or a prefix, are told apart; long names match whole")
    func similarNames() throws {
        let long = String(repeating: "k", count: 300)
        let decoder = EventDecoder(
            numericFields: ["amount_eur", "amount_usd", "amt", "am", long, long + "x"], idField: "id", maxEventBytes: 2_000, maxDepth: 4)
        let text = #"{"amount_usd":2,"amount_usx":9,"amount_eur":1,"amt":3,"am":4,"amtx":8,"a":7,"#
            + #""\#(long)":5,"\#(long)x":6,"\#(String(repeating: "k", count: 299))y":9,"id":"i"}"#
        #expect(try decoder.decode(Array(text.utf8)).get().row == [1, 2, 3, 4, 5, 6])
        let escaped = #"{"amount_\u0075sd":2,"amount_eur":1,"a\u006dt":3,"am":4,"\#(long)":5,"\#(long)x":6,"id":"i"}"#
        #expect(try decoder.decode(Array(escaped.utf8)).get().row == [1, 2, 3, 4, 5, 6])
    }

    @Test("Duplicate keys: the last one wins")
    func duplicates() throws {
        #expect(try decode(#"{"id":"a","amount":1,"n":2,"amount":7}"#).get().row == [7, 2])
    }

    @Test("Malformed input becomes a typed reason", arguments: [
        ("not json", "malformed_json"),
        (#"{"id":"a","amount":1,"n":2"#, "malformed_json"),
        (#"{"id":"a","amount":01,"n":2}"#, "malformed_json"),
        (#"{"id":"a","amount":1.,"n":2}"#, "malformed_json"),
        (#"{"id":"a","amount":1,"n":2} x"#, "malformed_json"),
        (#"{"id":"a\x","amount":1,"n":2}"#, "malformed_json"),
        (#"{"id":"a","amount":1,"n":2,"d":[[[[[1]]]]]}"#, "malformed_json"),
        (#"[1,2]"#, "malformed_json"),
        (#"{"id":"a","amount":tru,"n":2}"#, "malformed_json"),
        (#"{"id":"a","n":2}"#, "missing_field"),
        (#"{"amount":1,"n":2}"#, "missing_field"),
        (#"{"id":"a","amount":"1","n":2}"#, "wrong_type"),
        (#"{"id":"a","amount":null,"n":2}"#, "missing_field"),
        (#"{"id":[1],"amount":1,"n":2}"#, "wrong_type"),
        (#"{"id":"a","amount":1e999,"n":2}"#, "non_finite"),
        (#"{"id":"a","amount":1,"n":2,"pad":"\#(String(repeating: "x", count: 200))"}"#, "too_large"),
    ])
    func reasons(_ input: String, _ reason: String) {
        guard case .failure(let error) = decode(input) else {
            Issue.record("accepted: \(input)")
            return
        }
        #expect(error.reason == reason, "\(input): \(error)")
    }

    @Test("Invalid UTF-8 and raw control characters are rejected")
    func bytes() {
        for bad: [UInt8] in [
            Array(#"{"id":""#.utf8) + [0xC3, 0x28] + Array(#"","amount":1,"n":2}"#.utf8),
            Array(#"{"id":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"","amount":1,"n":2}"#.utf8),
            Array(#"{"id":"a"#.utf8) + [0x00] + Array(#"","amount":1,"n":2}"#.utf8),
        ] {
            guard case .failure(let error) = decoder.decode(bad) else {
                Issue.record("accepted invalid bytes")
                continue
            }
            #expect(error.reason == "malformed_json")
        }
    }

    @Test("The missing field is named")
    func names() {
        guard case .failure(let error) = decode(#"{"id":"a","amount":1}"#) else {
            Issue.record("accepted")
            return
        }
        #expect(error.field == "n")
        #expect(error == .missingField("n"))
    }
}
