import Testing

@testable import TopCoins

@Suite("JSONParser")
struct JSONParserTests {
    // MARK: Value kinds

    @Test func parsesEveryValueKind() throws {
        let value = try JSONParser.parse(#"{"n":null,"t":true,"f":false,"i":42,"s":"text","a":[1,"x",null],"o":{"k":"v"}}"#)
        guard case .object(let object) = value else {
            Issue.record("expected an object, got \(value)")
            return
        }
        #expect(object.keys == ["n", "t", "f", "i", "s", "a", "o"])
        #expect(value["n"] == .null)
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["i"] == .number("42"))
        #expect(value["s"] == .string("text"))
        #expect(value["a"] == .array([.number("1"), .string("x"), .null]))
        #expect(value["o"] == .object(JSONObject([("k", .string("v"))])))
        #expect(value["missing"] == nil)
    }

    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("\"\"", .string("")),
        ("[]", .array([])),
        ("{}", .object(JSONObject())),
        ("  \t\r\n 7 \n", .number("7")),
        ("[ 1 , [ ] , { } ]", .array([.number("1"), .array([]), .object(JSONObject())])),
    ])
    func parsesScalarsAndEmptyContainersAtTopLevel(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test func keepsObjectMemberOrderAsWritten() throws {
        let value = try JSONParser.parse(#"{"z":1,"a":2,"m":3}"#)
        guard case .object(let object) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(object.keys == ["z", "a", "m"])
        #expect(object.values == [.number("1"), .number("2"), .number("3")])
        #expect(object.count == 3)
    }

    @Test func subscriptOnNonObjectIsNil() throws {
        #expect(try JSONParser.parse("[1]")["0"] == nil)
        #expect(try JSONParser.parse("\"a\"")["a"] == nil)
    }

    @Test(arguments: [
        (JSONValue.null, "null"), (.bool(true), "boolean"), (.number("1"), "number"),
        (.string(""), "string"), (.array([]), "array"), (.object(JSONObject()), "object"),
    ])
    func kindNames(value: JSONValue, name: String) {
        #expect(value.kindName == name)
    }

    // MARK: Numbers

    @Test(arguments: [
        "61923.40938478237", "1.23e-7", "-0", "1E+21", "1e+21", "0", "-12.5", "4.5e-9", "2.803e-05", "21000000.0",
        "123456789012345678901234567890", "0.1E-2", "1e0",
    ])
    func keepsNumberLiteralsVerbatim(literal: String) throws {
        #expect(try JSONParser.parse(literal) == .number(literal))
        #expect(try JSONParser.parse("[\(literal)]") == .array([.number(literal)]))
        #expect(try JSONParser.parse("{\"p\":\(literal)}")["p"] == .number(literal))
    }

    // MARK: Strings

    @Test func decodesSimpleEscapes() throws {
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
    }

    @Test(arguments: [
        (#""\u00e9""#, "é"),
        (#""\u00E9""#, "é"),
        (#""caf\u00e9!""#, "café!"),
        (#""\u0041""#, "A"),
        (#""\u0000""#, "\u{0}"),
        (#""\ud83d\ude00""#, "😀"),
        (#""x\uD83D\uDE00y""#, "x😀y"),
        (#""\u4e2d\u6587""#, "中文"),
        (#""\uffff""#, "\u{FFFF}"),
    ])
    func decodesUnicodeEscapes(text: String, expected: String) throws {
        #expect(try JSONParser.parse(text) == .string(expected))
    }

    @Test func keepsRawNonASCIIText() throws {
        #expect(try JSONParser.parse(#""币安币""#) == .string("币安币"))
        #expect(try JSONParser.parse(#"{"symbol":"ÆTERNA","name":"Omega Ωmega"}"#)["name"] == .string("Omega Ωmega"))
        // Raw UTF-8 after an escape goes through the slow path.
        #expect(try JSONParser.parse(#""\n币😀é""#) == .string("\n币😀é"))
    }

    @Test func parsesFromBytesTheSameAsFromText() throws {
        let text = #"{"a":[1.5,"é",true]}"#
        #expect(try JSONParser.parse(Array(text.utf8)) == JSONParser.parse(text))
    }

    // MARK: Rejections

    /// (input, byte offset where parsing stopped, a word of the reason)
    @Test(arguments: [
        ("[1,]", 3, "unexpected character"),
        (#"{"a":1,}"#, 7, "string key"),
        ("01", 1, "after the document"),
        ("[01]", 2, "expected ','"),
        ("1.", 2, "invalid number"),
        ("1.e5", 2, "invalid number"),
        (".5", 0, "unexpected character"),
        ("-", 1, "invalid number"),
        ("-a", 1, "invalid number"),
        ("1e", 2, "invalid number"),
        ("1e+", 3, "invalid number"),
        ("+1", 0, "unexpected character"),
        (#""abc"#, 4, "unterminated"),
        (#""ab\"#, 4, "end of data"),
        (#""a\q""#, 4, "invalid escape"),
        (#""\u12G4""#, 5, "\\u escape"),
        (#""\u12""#, 3, "end of data"),
        (#""\ud800""#, 7, "unpaired surrogate"),
        (#""\ud800x""#, 7, "unpaired surrogate"),
        (#""\udc00""#, 7, "unpaired surrogate"),
        (#""\ud800\u0041""#, 13, "unpaired surrogate"),
        ("{} x", 3, "after the document"),
        ("[1] ]", 4, "after the document"),
        ("nul", 0, "end of data"),
        ("nulx", 0, "invalid literal"),
        ("True", 0, "unexpected character"),
        ("", 0, "end of data"),
        ("   ", 3, "end of data"),
        ("[1 2]", 3, "expected ','"),
        (#"{"a" 1}"#, 5, "expected ':'"),
        ("{1:2}", 1, "string key"),
        ("[", 1, "end of data"),
        (#"{"a":1"#, 6, "end of data"),
        ("NaN", 0, "unexpected character"),
    ])
    func rejectsWithOffset(text: String, offset: Int, reason: String) {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
        #expect(error?.offset == offset)
        #expect(error?.reason.contains(reason) == true, "reason was \(error?.reason ?? "nil")")
        #expect(error?.description.hasPrefix("invalid JSON at byte \(offset):") == true)
    }

    @Test(arguments: [0x00, 0x01, 0x0A, 0x0D, 0x09, 0x1F] as [UInt8])
    func rejectsRawControlCharacterInString(control: UInt8) {
        let bytes: [UInt8] = [0x22, 0x61, control, 0x62, 0x22]
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
        #expect(error?.offset == 2)
        #expect(error?.reason == "control character in string")
        // The same after an escape (the slow path).
        let escaped: [UInt8] = [0x22, 0x5C, 0x6E, control, 0x22]
        let second = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(escaped) }
        #expect(second?.offset == 3)
    }

    @Test func acceptsDeleteCharacterInString() throws {
        // RFC 8259 only forbids U+0000...U+001F unescaped.
        #expect(try JSONParser.parse([0x22, 0x7F, 0x22]) == .string("\u{7F}"))
    }

    @Test(arguments: [
        [0x22, 0xFF, 0x22],  // never valid in UTF-8
        [0x22, 0xC3, 0x22],  // truncated two-byte sequence
        [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-8-encoded surrogate
        [0x22, 0x5C, 0x6E, 0xE4, 0xB8, 0x22],  // truncated, after an escape
    ] as [[UInt8]])
    func rejectsInvalidUTF8InStrings(bytes: [UInt8]) {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
        // The offset is where the string's content starts.
        #expect(error?.offset == 1)
        #expect(error?.reason.contains("UTF-8") == true)
    }

    @Test func rejectsNonASCIIBytesOutsideStrings() {
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x5B, 0xC3, 0xA9, 0x5D]) }
        #expect(error?.offset == 1)
    }

    @Test func acceptsNestingUpToTheLimit() throws {
        let depth = JSONParser.maxDepth
        #expect(depth == 512)
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try JSONParser.parse(text)
        var levels = 0
        while case .array(let elements) = value {
            levels += 1
            guard let first = elements.first else { break }
            value = first
        }
        #expect(levels == depth)
    }

    @Test func rejectsNestingDeeperThanTheLimit() {
        let depth = JSONParser.maxDepth + 1
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
        #expect(error?.reason == "nesting too deep")
        #expect(error?.offset == JSONParser.maxDepth)

        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(objects) }
    }

    @Test func hostileDeepNestingFailsInsteadOfCrashing() {
        let text = String(repeating: "[", count: 200_000)
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
        #expect(error?.reason == "nesting too deep")
    }

    @Test func parsesTheShippedErrorBodies() throws {
        let bytes = try #require(ConfigFile.readFile(PackagePaths.file("Config/demo/upstream/errors/cryptocompare-minapi-rate-limit.json")))
        let value = try JSONParser.parse(bytes)
        #expect(value["Type"] == .number("99"))
        #expect(value["RateLimit"]?["calls_made"]?["minute"] == .number("301"))
        let truncated = try #require(ConfigFile.readFile(PackagePaths.file("Config/demo/upstream/errors/malformed.json")))
        let error = #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(truncated) }
        // It is cut off mid-document, so parsing stops at (or just before) the end.
        #expect(error.map { $0.offset > truncated.count - 20 && $0.offset <= truncated.count } == true)
    }

    // MARK: Property-style

    /// Bytes that make up JSON, so random arrays reach deep into the parser.
    static let jsonAlphabet: [UInt8] = Array(#"{}[]:,"\ u0123456789abcdefABEF.-+eEtrufalsn"#.utf8) + [0x0A, 0x09, 0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xED, 0xA0, 0xF0, 0x9F, 0x98, 0x80, 0xFF]

    static let seedDocument = #"{"status":{"error_code":0,"notice":null},"data":[{"id":1,"symbol":"BTC","name":"Bitcoin \"₿\"","quote":{"USD":{"price":61923.40938478237,"tiny":1.23e-7,"big":1E+21}},"tags":["a","\u00e9","\ud83d\ude00",true,false,-0]}]}"#

    /// Either a value comes back or a `JSONSyntaxError` with an offset inside the input, never a
    /// crash; and whatever parses survives a write-and-parse round trip unchanged.
    static func checkParserContract(_ bytes: [UInt8], seed: UInt64, iteration: Int) {
        do {
            let value = try JSONParser.parse(bytes)
            let written = JSONWriter.encode(value)
            let reparsed = try? JSONParser.parse(written)
            #expect(reparsed == value, "round trip failed for seed \(seed) iteration \(iteration): \(bytes)")
        } catch {
            #expect(error.offset >= 0 && error.offset <= bytes.count, "offset \(error.offset) outside 0...\(bytes.count) for \(bytes)")
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomBytesNeverCrash(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for iteration in 0..<1500 {
            let length = Int.random(in: 0...48, using: &random)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                bytes.append(Bool.random(using: &random) ? random.pick(Self.jsonAlphabet) : UInt8.random(in: 0...255, using: &random))
            }
            Self.checkParserContract(bytes, seed: seed, iteration: iteration)
        }
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func mutationsOfAValidDocumentNeverCrash(seed: UInt64) throws {
        let original = Array(Self.seedDocument.utf8)
        _ = try JSONParser.parse(original)
        var random = SplitMix64(seed: seed)
        var parsedCount = 0
        for iteration in 0..<1500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0..<max(bytes.count, 1), using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0 where !bytes.isEmpty: bytes[position] = random.pick(Self.jsonAlphabet)
                case 1 where !bytes.isEmpty: bytes.remove(at: position)
                case 2: bytes.insert(random.pick(Self.jsonAlphabet), at: min(position, bytes.count))
                default: bytes = Array(bytes.prefix(position))  // truncation
                }
            }
            if (try? JSONParser.parse(bytes)) != nil { parsedCount += 1 }
            Self.checkParserContract(bytes, seed: seed, iteration: iteration)
        }
        // Some mutations (inside a string, a digit for a digit) keep the document valid; if none
        // did, the mutations would not be exercising the success path at all.
        #expect(parsedCount > 0)
    }
}

@Suite("JSONWriter")
struct JSONWriterTests {
    func text(_ value: JSONValue) -> String { String(decoding: JSONWriter.encode(value), as: UTF8.self) }

    @Test func writesCompactJSONInMemberOrder() {
        let value = JSONValue.object(
            JSONObject([
                ("z", .array([.number("1"), .bool(true), .bool(false), .null])),
                ("a", .string("x")),
                ("o", .object(JSONObject())),
                ("e", .array([])),
            ]))
        #expect(text(value) == #"{"z":[1,true,false,null],"a":"x","o":{},"e":[]}"#)
    }

    @Test func writesNumbersFromTheirLiteralText() {
        #expect(text(.array([.number("61923.40938478237"), .number("1.23e-7"), .number("-0"), .number("1E+21")])) == "[61923.40938478237,1.23e-7,-0,1E+21]")
    }

    @Test(arguments: [
        ("say \"hi\"", #""say \"hi\"""#),
        ("back\\slash", #""back\\slash""#),
        ("a/b", #""a/b""#),
        ("line\nfeed\rreturn\ttab", #""line\nfeed\rreturn\ttab""#),
        ("\u{0}\u{1}\u{8}\u{C}\u{1F}", #""\u0000\u0001\u0008\u000c\u001f""#),
        ("\u{7F}", "\"\u{7F}\""),
        ("币安币 ÆTERNA Ω 😀 é", "\"币安币 ÆTERNA Ω 😀 é\""),
        ("", #""""#),
    ])
    func escapesOnlyWhatRFC8259Requires(input: String, expected: String) {
        #expect(text(.string(input)) == expected)
        var bytes: [UInt8] = []
        JSONWriter.appendString(input, to: &bytes)
        #expect(bytes == Array(expected.utf8))
    }

    @Test func keepsNonASCIIAsRawUTF8() {
        let bytes = JSONWriter.encode(.string("é"))
        #expect(bytes == [0x22, 0xC3, 0xA9, 0x22])
    }

    @Test func escapesObjectKeysToo() {
        #expect(text(.object(JSONObject([("a\"b\n", .null)]))) == #"{"a\"b\n":null}"#)
    }

    @Test func writerMethodsAppend() {
        var writer = JSONWriter(reservingCapacity: 16)
        writer.raw("[")
        writer.string("a")
        writer.raw(UInt8(ascii: ","))
        writer.value(.number("2"))
        writer.raw("]")
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"["a",2]"#)
    }

    @Test(arguments: [
        JSONValue.string("quote \" backslash \\ slash / controls \u{0}\u{1}\u{1F}\n\r\t\u{8}\u{C} non-ASCII é币😀"),
        .object(JSONObject([("k\"ey", .array([.number("1.23e-7"), .null, .bool(false)])), ("é", .object(JSONObject([("", .string(""))])))])),
        .array([.number("-0"), .number("61923.40938478237"), .string("\u{7F}")]),
    ])
    func roundTripsThroughTheParser(value: JSONValue) throws {
        #expect(try JSONParser.parse(JSONWriter.encode(value)) == value)
    }

    @Test func roundTripsRandomStrings() throws {
        var random = SplitMix64(seed: 42)
        let alphabet: [Character] = ["a", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "币", "😀", " ", "u", "0"]
        for _ in 0..<500 {
            let string = random.string(from: alphabet, length: Int.random(in: 0...20, using: &random))
            #expect(try JSONParser.parse(JSONWriter.encode(.string(string))) == .string(string))
        }
    }
}
