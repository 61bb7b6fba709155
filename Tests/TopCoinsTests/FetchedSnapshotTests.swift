import Testing

@testable import TopCoins

@Suite("FetchedSnapshot")
struct FetchedSnapshotTests {
    static let fetchedAt = Timestamp(milliseconds: 1_718_366_400_123)

    static let records: [JSONObject] = [
        JSONObject([
            ("cmc_id", .number("1")), ("symbol", .string("BTC")), ("name", .string("Bitcoin")),
            ("price_usd", .number("61923.40938478237")), ("source_rank", .number("1")),
        ]),
        JSONObject([
            ("cmc_id", .number("32008")), ("symbol", .string("DUST")), ("name", .string("Foo, Inc \"Token\"")),
            ("price_usd", .number("0.000000123")), ("source_rank", .number("3")),
        ]),
        JSONObject([
            ("cmc_id", .number("30577")), ("symbol", .string("币安币")), ("name", .string("back\\slash\nnewline")),
            ("price_usd", .null), ("source_rank", .number("4")),
        ]),
    ]

    static let snapshot = FetchedSnapshot(
        source: "coinmarketcap", fetchedAt: fetchedAt, records: records, skipped: ["missing:symbol": 1, "invalid:cmc_id": 2])

    static func entry(_ fields: [(String, RedisArgument)], id: String = "1718366400123-0") -> StreamEntry {
        StreamEntry(id: id, fields: fields.map { (name: $0.0, value: $0.1.bytes) })
    }

    static func textEntry(_ fields: [(String, String)], id: String = "1-0") -> StreamEntry {
        StreamEntry(id: id, fields: fields.map { (name: $0.0, value: Array($0.1.utf8)) })
    }

    func text(_ fields: [(String, RedisArgument)], _ name: String) -> String? {
        fields.first { $0.0 == name }.map { String(decoding: $0.1.bytes, as: UTF8.self) }
    }

    @Test func streamFieldsFollowTheMessageContract() {
        let fields = Self.snapshot.streamFields
        #expect(fields.map(\.0) == ["source", "fetched_at", "count", "records", "skipped"])
        #expect(text(fields, "source") == "coinmarketcap")
        #expect(text(fields, "fetched_at") == "1718366400123")  // unix milliseconds
        #expect(text(fields, "count") == "3")
        #expect(text(fields, "skipped") == #"{"invalid:cmc_id":2,"missing:symbol":1}"#)  // sorted by reason
    }

    @Test func recordsAreCompactJSONWithExactDigits() throws {
        let records = try #require(text(Self.snapshot.streamFields, "records"))
        let expected =
            #"[{"cmc_id":1,"symbol":"BTC","name":"Bitcoin","price_usd":61923.40938478237,"source_rank":1},"#
            + #"{"cmc_id":32008,"symbol":"DUST","name":"Foo, Inc \"Token\"","price_usd":0.000000123,"source_rank":3},"#
            + #"{"cmc_id":30577,"symbol":"币安币","name":"back\\slash\nnewline","price_usd":null,"source_rank":4}]"#
        #expect(records == expected)
        #expect(records.contains("61923.40938478237"))
        #expect(!records.contains("e-"))
    }

    @Test func roundTripsThroughAStreamEntry() throws {
        let entry = Self.entry(Self.snapshot.streamFields)
        let decoded = try FetchedSnapshot(entry: entry)
        #expect(decoded == Self.snapshot)
        #expect(decoded.records[0]["price_usd"] == .number("61923.40938478237"))
        #expect(decoded.records[1]["price_usd"] == .number("0.000000123"))
        #expect(decoded.records[2]["symbol"] == .string("币安币"))
        #expect(decoded.skippedCount == 3)
    }

    @Test func emptySnapshotRoundTrips() throws {
        let empty = FetchedSnapshot(source: "cryptocompare", fetchedAt: Timestamp.earliestPlausible, records: [], skipped: [:])
        let fields = empty.streamFields
        #expect(text(fields, "records") == "[]")
        #expect(text(fields, "skipped") == "{}")
        #expect(text(fields, "count") == "0")
        #expect(try FetchedSnapshot(entry: Self.entry(fields)) == empty)
    }

    @Test func aMessageWithoutSkippedIsReadWithNoSkips() throws {
        let entry = Self.textEntry([("source", "s"), ("fetched_at", "1718366400005"), ("count", "1"), ("records", #"[{"a":1}]"#)])
        let decoded = try FetchedSnapshot(entry: entry)
        #expect(decoded.skipped.isEmpty)
        #expect(decoded.records == [JSONObject([("a", .number("1"))])])
        #expect(decoded.fetchedAt == Timestamp(milliseconds: 1_718_366_400_005))
    }

    @Test func fieldOrderInTheEntryDoesNotMatter() throws {
        let reversed = Self.entry(Array(Self.snapshot.streamFields.reversed()))
        #expect(try FetchedSnapshot(entry: reversed) == Self.snapshot)
    }

    static let implausible = "is not unix milliseconds from 2009-01-03 to 9999-12-31"

    @Test(arguments: [
        ([("fetched_at", "1718366400000"), ("records", "[]")], "no source"),
        ([("source", "s"), ("records", "[]")], "no fetched_at"),
        ([("source", "s"), ("fetched_at", "soon"), ("records", "[]")], "fetched_at soon \(implausible)"),
        ([("source", "s"), ("fetched_at", "1.5"), ("records", "[]")], "fetched_at 1.5 \(implausible)"),
        // Times at the edges of Int64 and of the plausible range: the merger died on the first.
        ([("source", "s"), ("fetched_at", "-9223372036854775808"), ("records", "[]")], "fetched_at -9223372036854775808 \(implausible)"),
        ([("source", "s"), ("fetched_at", "9223372036854775807"), ("records", "[]")], "fetched_at 9223372036854775807 \(implausible)"),
        ([("source", "s"), ("fetched_at", "9223372036854775808"), ("records", "[]")], "fetched_at 9223372036854775808 \(implausible)"),
        ([("source", "s"), ("fetched_at", "1230940799999"), ("records", "[]")], "fetched_at 1230940799999 \(implausible)"),
        ([("source", "s"), ("fetched_at", "253402300800000"), ("records", "[]")], "fetched_at 253402300800000 \(implausible)"),
        ([("source", "s"), ("fetched_at", "1718366400000")], "no records"),
        ([("source", "s"), ("fetched_at", "1718366400000"), ("records", "{}")], "records is not a JSON array"),
        ([("source", "s"), ("fetched_at", "1718366400000"), ("records", "[{\"a\":1},")], "records is not a JSON array"),
        ([("source", "s"), ("fetched_at", "1718366400000"), ("records", "")], "records is not a JSON array"),
        ([("source", "s"), ("fetched_at", "1718366400000"), ("records", "[{\"a\":1},2]")], "a record is not an object"),
        ([("source", "s"), ("fetched_at", "1718366400000"), ("records", "[null]")], "a record is not an object"),
    ] as [([(String, String)], String)])
    func rejectsInvalidEntries(fields: [(String, String)], reason: String) {
        let entry = Self.textEntry(fields, id: "7-1")
        let error = #expect(throws: FetchedSnapshot.InvalidMessage.self) { try FetchedSnapshot(entry: entry) }
        #expect(error?.reason == reason)
        #expect(error?.entryID == "7-1")
        #expect(error?.description == "stream entry 7-1: \(reason)")
    }

    @Test func xaddArgumentsCarryTheFieldsInOrder() {
        let arguments = RedisClient.xaddArguments("topcoins:prices", maxLength: 1440, fields: Self.snapshot.streamFields)
        let texts = arguments.map { String(decoding: $0.bytes, as: UTF8.self) }
        #expect(Array(texts.prefix(6)) == ["XADD", "topcoins:prices", "MAXLEN", "~", "1440", "*"])
        #expect(texts.count == 6 + 2 * 5)
        #expect(texts[6] == "source" && texts[7] == "coinmarketcap")
        #expect(texts[8] == "fetched_at" && texts[9] == "1718366400123")
        #expect(texts[12] == "records")
    }

    @Test func recordsWrittenByTheMapperRoundTrip() throws {
        let fields = [
            FieldSpec(name: "cmc_id", path: try FieldPath(parsing: "id"), kind: .integer),
            FieldSpec(name: "price_usd", path: try FieldPath(parsing: "p"), kind: .decimal, nullable: true),
        ]
        guard case .array(let upstream) = try JSONParser.parse(#"[{"id":1,"p":4.5e-9},{"id":"x"},{"id":"2","p":1e+21}]"#) else {
            Issue.record("not an array")
            return
        }
        let output = RecordMapper(fields: fields).map(upstream)
        let snapshot = FetchedSnapshot(source: "t", fetchedAt: Self.fetchedAt, records: output.records, skipped: output.skipped)
        #expect(text(snapshot.streamFields, "records") == #"[{"cmc_id":1,"price_usd":0.0000000045,"source_rank":1},{"cmc_id":2,"price_usd":1000000000000000000000,"source_rank":3}]"#)
        #expect(try FetchedSnapshot(entry: Self.entry(snapshot.streamFields)) == snapshot)
    }
}
