import Testing

@testable import TopCoins

struct JSONKeyFilterTests {
    static let listing = #"""
        {"status":{"error_code":0},"data":[
          {"id":1,"name":"Bitcoin","tags":["a","b",{"x":[1,2,{"y":"\u00e9\"}"}]}],"quote":{"USD":{"price":61923.4,"volume":1e9},"EUR":{"price":1}}},
          {"id":2,"name":"Two","ids":[{"NAME":"CG","ID":"two"},{"NAME":"CMC","ID":"2","EXTRA":[null,true]}]}
        ]}
        """#

    static func filter(_ paths: [String]) throws -> JSONKeyFilter {
        try paths.reduce(JSONKeyFilter.keys([:])) { filter, path in filter.keeping(try FieldPath(parsing: path).steps) }
    }

    @Test func onlyMembersOnTheKeptPathsAreBuilt() throws {
        let filter = try Self.filter(["data.id", "data.quote.USD.price", "data.ids[NAME=CMC].ID"])
        let document = try JSONParser.parse(Array(Self.listing.utf8), keeping: filter)
        guard case .array(let records)? = document["data"] else { Issue.record("no data"); return }
        #expect(records.count == 2)
        #expect(records[0] == .object(JSONObject([("id", .number("1")), ("quote", .object(JSONObject([("USD", .object(JSONObject([("price", .number("61923.4"))])))])))])))
        #expect(records[1]["ids"] == .array([
            .object(JSONObject([("NAME", .string("CG")), ("ID", .string("two"))])),
            .object(JSONObject([("NAME", .string("CMC")), ("ID", .string("2"))])),
        ]))
        #expect(document["status"] == nil)
        // The same paths resolve to the same values as in a full parse.
        let full = try JSONParser.parse(Array(Self.listing.utf8))
        for path in ["data[0].id", "data[0].quote.USD.price", "data[1].ids[NAME=CMC].ID"] {
            let fieldPath = try FieldPath(parsing: path)
            #expect(fieldPath.resolve(in: document) == fieldPath.resolve(in: full), "\(path)")
        }
    }

    @Test func skippedMembersAreStillCheckedForSyntax() throws {
        let filter = try Self.filter(["data.id"])
        for broken in [
            #"{"data":[{"id":1,"tags":[1,2}]}"#, #"{"data":[{"id":1,"tags":"open}]}"#, #"{"data":[{"id":1,"x":01}]}"#,
            #"{"data":[{"id":1,"x":"\q"}]}"#, #"{"data":[{"id":1,"x":{"a" 1}}]}"#, #"{"data":[{"id":1,"x":tru}]}"#,
        ] {
            #expect(throws: JSONSyntaxError.self, "\(broken)") { try JSONParser.parse(Array(broken.utf8), keeping: filter) }
        }
    }

    /// Found by the json fuzz target (`Fuzz/corpus/json/crash-skipped-unicode-escape.json`): a
    /// skipped string took `\u` with fewer than four hex digits, which a full parse refuses.
    @Test func aSkippedUnicodeEscapeNeedsFourHexDigits() throws {
        let filter = try Self.filter(["data.id"])
        for broken in [#"{"":"\u"}"#, #"{"data":[{"id":1,"x":"\u12"}]}"#, #"{"data":[{"id":1,"x":"\u00zz"}],"y":1}"#] {
            #expect(throws: JSONSyntaxError.self, "\(broken)") { try JSONParser.parse(Array(broken.utf8), keeping: filter) }
            #expect(throws: JSONSyntaxError.self, "\(broken)") { try JSONParser.parse(Array(broken.utf8)) }
        }
        #expect(try JSONParser.parse(Array(#"{"x":"\u00E9\ud83d\ude00","data":[]}"#.utf8), keeping: filter) == .object(JSONObject([("data", .array([]))])))
    }

    @Test func everythingKeepsTheWholeDocument() throws {
        #expect(try JSONParser.parse(Array(Self.listing.utf8), keeping: .everything) == JSONParser.parse(Array(Self.listing.utf8)))
        // A path that ends on an object keeps all of it.
        let document = try JSONParser.parse(Array(Self.listing.utf8), keeping: try Self.filter(["data.quote"]))
        #expect(document["data"].flatMap { try? FieldPath(parsing: "[0].quote.EUR.price").resolve(in: $0) } == .number("1"))
    }

    @Test func theShippedConfigsKeepTheirFieldsAndTheErrorEnvelopes() throws {
        let config = try ConfigFile.load(PackagePaths.file("Config/price-fetcher.json"), environment: ["CMC_API_KEY": "k"]) { (object) throws(ConfigError) in
            try FetcherConfig(reading: object)
        }
        let body = Array(#"{"status":{"error_code":1008,"error_message":"slow down"},"data":[]}"#.utf8)
        guard case .failure(let failure) = UpstreamFailure.classify(status: 200, retryAfterHeader: nil, body: body, now: .now, keeping: config.responseFilter) else {
            Issue.record("an error body under HTTP 200 was taken for data")
            return
        }
        #expect(failure.reason == "rate_limited")
    }
}
