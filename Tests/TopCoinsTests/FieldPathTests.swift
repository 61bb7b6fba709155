import Testing

@testable import TopCoins

@Suite("FieldPath")
struct FieldPathTests {
    typealias Step = FieldPath.Step

    @Test(arguments: [
        ("id", [Step.key("id")]),
        ("quote.USD.price", [.key("quote"), .key("USD"), .key("price")]),
        ("Data.LIST", [.key("Data"), .key("LIST")]),
        ("ASSET_ALTERNATIVE_IDS[NAME=CMC].ID", [.key("ASSET_ALTERNATIVE_IDS"), .match(key: "NAME", value: "CMC"), .key("ID")]),
        ("data[0].id", [.key("data"), .index(0), .key("id")]),
        ("a[1][2]", [.key("a"), .index(1), .index(2)]),
        ("a[12][K=V].b", [.key("a"), .index(12), .match(key: "K", value: "V"), .key("b")]),
        ("[0]", [.index(0)]),
        ("[3].x", [.index(3), .key("x")]),
        ("a[K=]", [.key("a"), .match(key: "K", value: "")]),
        ("a[K=x=y]", [.key("a"), .match(key: "K", value: "x=y")]),
        ("X-CMC_PRO key", [.key("X-CMC_PRO key")]),
        ("símbolo.币", [.key("símbolo"), .key("币")]),
    ])
    func parsesValidPaths(text: String, steps: [Step]) throws {
        let path = try FieldPath(parsing: text)
        #expect(path.steps == steps)
        #expect(path.description == text)
    }

    /// (path, 0-based character offset of the problem, a word of the reason)
    @Test(arguments: [
        ("", 0, "empty path"),
        ("a..b", 2, "empty key"),
        (".a", 0, "empty key"),
        ("a.", 2, "ends with '.'"),
        ("a[0].", 5, "ends with '.'"),
        ("a[", 2, "unclosed"),
        ("a[0", 2, "unclosed"),
        ("a[x]", 2, "array index"),
        ("a[]", 2, "array index"),
        ("a[-1]", 2, "array index"),
        ("a[1.5]", 2, "array index"),
        ("a[99999999999999999999999]", 2, "array index"),
        ("a[=CMC]", 2, "KEY=VALUE"),
        ("a[0]b", 4, "after ']'"),
        ("a]b", 1, "unexpected ']'"),
        ("]", 0, "unexpected ']'"),
    ])
    func rejectsMalformedPathsWithTheirOffset(text: String, offset: Int, reason: String) {
        let error = #expect(throws: FieldPath.SyntaxError.self) { try FieldPath(parsing: text) }
        #expect(error?.offset == offset)
        #expect(error?.reason.contains(reason) == true, "reason was \(error?.reason ?? "nil")")
        #expect(error?.description.hasSuffix("at character \(offset + 1)") == true)
    }

    static let document = try! JSONParser.parse(
        #"""
        {"data":[{"id":1,"quote":{"USD":{"price":61923.40938478237}}},{"id":2,"quote":{"USD":{"price":null}}}],
         "ids":[{"NAME":"CG","ID":"bitcoin"},{"NAME":"CMC","ID":"1"},{"NAME":"CMC","ID":"999"}],
         "numeric":[{"K":5805,"V":"number"},{"K":"5805","V":"string"}],
         "flags":[{"on":false,"v":"f"},{"on":true,"v":"t"}],
         "nested":[[10,11],[20,21]]}
        """#)

    @Test(arguments: [
        ("data[0].quote.USD.price", JSONValue.number("61923.40938478237")),
        ("data[1].quote.USD.price", .null),
        ("data[1].id", .number("2")),
        ("ids[NAME=CMC].ID", .string("1")),  // the first match wins
        ("ids[NAME=CG].ID", .string("bitcoin")),
        ("numeric[K=5805].V", .string("number")),  // a number matches by its literal text
        ("flags[on=true].v", .string("t")),
        ("flags[on=false].v", .string("f")),
        ("nested[1][0]", .number("20")),
        ("ids", .array([
            .object(JSONObject([("NAME", .string("CG")), ("ID", .string("bitcoin"))])),
            .object(JSONObject([("NAME", .string("CMC")), ("ID", .string("1"))])),
            .object(JSONObject([("NAME", .string("CMC")), ("ID", .string("999"))])),
        ])),
    ])
    func resolvesPresentValues(text: String, expected: JSONValue) throws {
        #expect(try FieldPath(parsing: text).resolve(in: Self.document) == expected)
    }

    @Test(arguments: [
        "missing", "data[2].id", "data[0].missing", "data.id", "data[0][0]", "ids[NAME=ISIN].ID", "ids[name=CMC].ID",
        "data[0].id.more", "data[0].quote.USD.price.x", "[0]", "nested[0][5]", "data[K=V]", "flags[on=TRUE].v",
    ])
    func resolvesAbsentValuesToNil(text: String) throws {
        #expect(try FieldPath(parsing: text).resolve(in: Self.document) == nil)
    }

    @Test func resolvesTheCryptoCompareAlternativeIDShapes() throws {
        let path = try FieldPath(parsing: "ASSET_ALTERNATIVE_IDS[NAME=CMC].ID")
        let later = try JSONParser.parse(#"{"ASSET_ALTERNATIVE_IDS":[{"NAME":"ISIN","ID":"X"},{"NAME":"CG","ID":"tether"},{"NAME":"CMC","ID":"825"}]}"#)
        #expect(path.resolve(in: later) == .string("825"))
        let number = try JSONParser.parse(#"{"ASSET_ALTERNATIVE_IDS":[{"NAME":"CMC","ID":5805}]}"#)
        #expect(path.resolve(in: number) == .number("5805"))
        #expect(path.resolve(in: try JSONParser.parse(#"{"ASSET_ALTERNATIVE_IDS":null}"#)) == .none)
        #expect(path.resolve(in: try JSONParser.parse(#"{"ASSET_ALTERNATIVE_IDS":[]}"#)) == .none)
        #expect(path.resolve(in: try JSONParser.parse(#"{"ASSET_ALTERNATIVE_IDS":[{"NAME":"CG","ID":"x"}]}"#)) == .none)
        #expect(path.resolve(in: try JSONParser.parse(#"{}"#)) == .none)
    }

    @Test func indexingTheRootArray() throws {
        #expect(try FieldPath(parsing: "[1]").resolve(in: .array([.number("1"), .number("2")])) == .number("2"))
    }

    /// Random strings over the path language's characters: a path or a `SyntaxError` with an
    /// offset inside the text, never a crash; and a parsed path resolves without crashing.
    @Test(arguments: [5, 6, 7] as [UInt64])
    func randomTextsNeverCrash(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let alphabet: [Character] = ["a", "b", "K", ".", ".", "[", "[", "]", "]", "=", "0", "1", "9", "-", " ", "é", "\u{301}", "😀"]
        var parsed = 0
        for _ in 0..<2000 {
            let text = random.string(from: alphabet, length: Int.random(in: 0...14, using: &random))
            do {
                let path = try FieldPath(parsing: text)
                parsed += 1
                #expect(!path.steps.isEmpty, "\(text)")
                #expect(path.description == text)
                _ = path.resolve(in: Self.document)
                // A parsed path has no empty key.
                for case .key(let key) in path.steps { #expect(!key.isEmpty, "\(text)") }
            } catch {
                #expect(error.offset >= 0 && error.offset <= text.count, "\(text): offset \(error.offset)")
            }
        }
        #expect(parsed > 20)
    }
}
