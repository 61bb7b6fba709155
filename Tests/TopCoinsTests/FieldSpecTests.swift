import Testing

@testable import TopCoins

@Suite("FieldSpec")
struct FieldSpecTests {
    typealias Kind = FieldSpec.Kind

    // MARK: integer

    @Test(arguments: [
        (JSONValue.number("42"), "42"),
        (.number("-7"), "-7"),
        (.number("0"), "0"),
        (.string("42"), "42"),  // CryptoCompare sends the CMC id as a string
        (.string("5805"), "5805"),
        (.string("-3"), "-3"),
        (.number("1e3"), "1000"),  // integer-valued
        (.number("21000000.0"), "21000000"),
        (.number("9223372036854775807"), "9223372036854775807"),
    ])
    func integerAcceptsIntegralNumbersAndStrings(input: JSONValue, published: String) {
        #expect(Kind.integer.coerce(input) == .number(published))
    }

    @Test(arguments: [
        JSONValue.string("1.5"), .number("1.5"), .string("abc"), .bool(true), .bool(false), .string(""), .string(" 1"),
        .string("1 "), .string("0x10"), .string("+1"), .number("99999999999999999999"), .number("1.23e-7"),
        .array([.number("1")]), .object(JSONObject([("id", .number("1"))])), .null,
    ])
    func integerRejects(input: JSONValue) {
        #expect(Kind.integer.coerce(input) == nil)
    }

    // MARK: decimal

    @Test(arguments: [
        (JSONValue.number("61923.40938478237"), "61923.40938478237"),
        (.number("1.23e-7"), "0.000000123"),
        (.number("4.5e-9"), "0.0000000045"),
        (.number("1e+21"), "1000000000000000000000"),
        (.number("-2.5"), "-2.5"),
        (.number("-1.5e-3"), "-0.0015"),
        (.number("21000000.0"), "21000000.0"),  // trailing zeros kept
        (.number("100"), "100"),
        (.string("0.5"), "0.5"),  // Bitso sends every number as a string
        (.string("2.803e-05"), "0.00002803"),
        (.string("-0.000001"), "-0.000001"),
    ])
    func decimalKeepsExactDigitsInPlainNotation(input: JSONValue, published: String) {
        #expect(Kind.decimal.coerce(input) == .number(published))
    }

    @Test(arguments: [
        JSONValue.string("1.2.3"), .string(""), .string("0x10"), .string("abc"), .string("NaN"), .string("1,5"), .string("$1.00"),
        .string(" 1.5"), .bool(true), .null, .array([]), .object(JSONObject()),
    ])
    func decimalRejects(input: JSONValue) {
        #expect(Kind.decimal.coerce(input) == nil)
    }

    // MARK: string

    @Test(arguments: ["BTC", "", "币安币", "Foo, Inc \"Token\"", "123"])
    func stringAcceptsStrings(text: String) {
        #expect(Kind.string.coerce(.string(text)) == .string(text))
    }

    @Test(arguments: [JSONValue.number("1"), .bool(true), .null, .array([.string("a")]), .object(JSONObject())])
    func stringRejectsOtherKinds(input: JSONValue) {
        #expect(Kind.string.coerce(input) == nil)
    }

    // MARK: boolean

    @Test(arguments: [
        (JSONValue.bool(true), true), (.bool(false), false), (.string("true"), true), (.string("false"), false),
    ])
    func booleanAcceptsBooleansAndTheirStrings(input: JSONValue, flag: Bool) {
        #expect(Kind.boolean.coerce(input) == .bool(flag))
    }

    @Test(arguments: [
        JSONValue.string("TRUE"), .string("True"), .string("1"), .string("yes"), .string(""), .number("1"), .number("0"), .null,
    ])
    func booleanRejects(input: JSONValue) {
        #expect(Kind.boolean.coerce(input) == nil)
    }

    // MARK: timestamp

    @Test(arguments: [
        (JSONValue.string("2024-05-14T06:10:00Z"), "2024-05-14T06:10:00.000Z"),
        (.string("2024-05-14T08:10:00+02:00"), "2024-05-14T06:10:00.000Z"),
        (.string("2024-05-14T01:10:00-0500"), "2024-05-14T06:10:00.000Z"),
        (.string("2024-05-14T06:10:00.123456Z"), "2024-05-14T06:10:00.123Z"),
        (.string("2023-03-09T20:58:23+00:00"), "2023-03-09T20:58:23.000Z"),
        (.string("2024-05-14"), "2024-05-14T00:00:00.000Z"),
        (.number("1715667000"), "2024-05-14T06:10:00.000Z"),
        (.number("1715667000.5"), "2024-05-14T06:10:00.500Z"),
        (.string("1715667000"), "2024-05-14T06:10:00.000Z"),
        (.number("0"), "1970-01-01T00:00:00.000Z"),
    ])
    func timestampAcceptsISO8601AndUnixSeconds(input: JSONValue, published: String) {
        #expect(Kind.timestamp.coerce(input) == .string(published))
    }

    @Test(arguments: [
        JSONValue.string("yesterday"), .string("2024-13-01T00:00:00Z"), .string(""), .number("-5"), .bool(true),
        .number("1715667000000"),  // milliseconds, not seconds
        .array([]),
    ])
    func timestampRejects(input: JSONValue) {
        #expect(Kind.timestamp.coerce(input) == nil)
    }

    @Test func kindNamesAreTheConfigTypeNames() {
        #expect(Kind.allCases.map(\.rawValue) == ["integer", "string", "decimal", "boolean", "timestamp", "timestamp_ms"])
    }

    // MARK: extract: present, missing, null, nullable

    func spec(_ path: String, _ kind: Kind, nullable: Bool = false) throws -> FieldSpec {
        FieldSpec(name: "f", path: try FieldPath(parsing: path), kind: kind, nullable: nullable)
    }

    static let record = try! JSONParser.parse(
        #"{"id":1,"symbol":"BTC","quote":{"USD":{"price":61923.40938478237,"none":null}},"bad":"abc"}"#)

    @Test func extractsAPresentValue() throws {
        #expect(try spec("quote.USD.price", .decimal).extract(from: Self.record).get() == .number("61923.40938478237"))
        #expect(try spec("id", .integer, nullable: true).extract(from: Self.record).get() == .number("1"))
    }

    @Test(arguments: ["missing", "quote.USD.none", "quote.EUR.price", "symbol.deeper"])
    func requiredMissingOrNullIsMissing(path: String) throws {
        let result = try spec(path, .decimal).extract(from: Self.record)
        #expect(throws: FieldSpec.ProblemError.self) { try result.get() }
        if case .failure(let failure) = result { #expect(failure.problem == .missing) }
    }

    @Test(arguments: ["missing", "quote.USD.none", "quote.EUR.price"])
    func nullableMissingOrNullIsPublishedAsNull(path: String) throws {
        #expect(try spec(path, .decimal, nullable: true).extract(from: Self.record).get() == .null)
    }

    @Test(arguments: [false, true])
    func presentButMistypedIsInvalidEvenWhenNullable(nullable: Bool) throws {
        let result = try spec("bad", .integer, nullable: nullable).extract(from: Self.record)
        guard case .failure(let failure) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(failure.problem == .invalid)
        #expect(FieldSpec.Problem.invalid.rawValue == "invalid")
        #expect(FieldSpec.Problem.missing.rawValue == "missing")
    }
}
