import Testing

@testable import TopCoins

@Suite("RecordMapper")
struct RecordMapperTests {
    static let fields: [FieldSpec] = [
        FieldSpec(name: "cmc_id", path: try! FieldPath(parsing: "id"), kind: .integer),
        FieldSpec(name: "symbol", path: try! FieldPath(parsing: "symbol"), kind: .string),
        FieldSpec(name: "price_usd", path: try! FieldPath(parsing: "quote.USD.price"), kind: .decimal, nullable: true),
    ]

    static func records(_ text: String) -> [JSONValue] {
        guard case .array(let elements) = try! JSONParser.parse(text) else { fatalError("not an array: \(text)") }
        return elements
    }

    func sourceRanks(_ output: RecordMapper.Output) -> [JSONValue?] {
        output.records.map { $0[FetchedSnapshot.sourceRankField] }
    }

    @Test func mapsRecordsInOrderWithFieldsInConfigOrderAndSourceRankLast() throws {
        let output = RecordMapper(fields: Self.fields).map(
            Self.records(#"[{"symbol":"BTC","id":1,"quote":{"USD":{"price":61923.40938478237}},"extra":true},{"id":"1027","symbol":"ETH","quote":{"USD":{"price":1.23e-7}}}]"#))
        #expect(output.skipped.isEmpty)
        #expect(output.records.count == 2)
        let first = try #require(output.records.first)
        #expect(first.keys == ["cmc_id", "symbol", "price_usd", "source_rank"])
        #expect(first.values == [.number("1"), .string("BTC"), .number("61923.40938478237"), .number("1")])
        #expect(output.records[1].values == [.number("1027"), .string("ETH"), .number("0.000000123"), .number("2")])
    }

    @Test func sourceRankCountsSkippedRecordsSoPositionsNeverShift() {
        let input = Self.records(
            #"""
            [{"id":1,"symbol":"BTC","quote":{"USD":{"price":1}}},
             {"id":2,"quote":{"USD":{"price":2}}},
             {"id":"abc","symbol":"BAD","quote":{"USD":{"price":3}}},
             {"id":4,"symbol":"NUL","quote":{"USD":{"price":null}}},
             {"id":5,"symbol":"FIV","quote":{"USD":{"price":"not a number"}}},
             {"id":6,"symbol":"SIX"},
             {"id":7,"symbol":null,"quote":{"USD":{"price":7}}},
             {"id":8,"symbol":"EIG","quote":{"USD":{"price":8}}}]
            """#)
        let output = RecordMapper(fields: Self.fields).map(input)
        #expect(output.records.map { $0["symbol"] } == [.string("BTC"), .string("NUL"), .string("SIX"), .string("EIG")])
        #expect(sourceRanks(output) == [.number("1"), .number("4"), .number("6"), .number("8")])
        #expect(output.records.map { $0["price_usd"] } == [.number("1"), .null, .null, .number("8")])
        #expect(output.skipped == ["missing:symbol": 2, "invalid:cmc_id": 1, "invalid:price_usd": 1])
        #expect(output.records.count + output.skipped.values.reduce(0, +) == input.count)
    }

    @Test func countsOnlyTheFirstProblemOfARecord() {
        // Both cmc_id (invalid) and symbol (missing) are wrong: the first field in config order counts.
        let output = RecordMapper(fields: Self.fields).map(Self.records(#"[{"id":true}]"#))
        #expect(output.records.isEmpty)
        #expect(output.skipped == ["invalid:cmc_id": 1])
    }

    @Test func nonObjectRecordsAreSkippedAsMissingTheFirstField() {
        let output = RecordMapper(fields: Self.fields).map(Self.records(#"[1,"x",null,[],{"id":9,"symbol":"OK"}]"#))
        #expect(output.skipped == ["missing:cmc_id": 4])
        #expect(sourceRanks(output) == [.number("5")])
    }

    @Test func emptyInputGivesEmptyOutput() {
        #expect(RecordMapper(fields: Self.fields).map([]) == RecordMapper.Output())
    }

    @Test func nullableCMCIDLikeTheRankConfig() throws {
        let fields = [
            FieldSpec(name: "cmc_id", path: try FieldPath(parsing: "ASSET_ALTERNATIVE_IDS[NAME=CMC].ID"), kind: .integer, nullable: true),
            FieldSpec(name: "symbol", path: try FieldPath(parsing: "SYMBOL"), kind: .string),
        ]
        let output = RecordMapper(fields: fields).map(
            Self.records(
                #"""
                [{"SYMBOL":"USDT","ASSET_ALTERNATIVE_IDS":[{"NAME":"CG","ID":"tether"},{"NAME":"CMC","ID":"825"}]},
                 {"SYMBOL":"NOID","ASSET_ALTERNATIVE_IDS":null},
                 {"SYMBOL":"EMPTY","ASSET_ALTERNATIVE_IDS":[]},
                 {"SYMBOL":"AVAX","ASSET_ALTERNATIVE_IDS":[{"NAME":"CMC","ID":5805}]},
                 {"SYMBOL":"WEIRD","ASSET_ALTERNATIVE_IDS":[{"NAME":"CMC","ID":"x1"}]}]
                """#))
        #expect(output.records.map { $0["cmc_id"] } == [.number("825"), .null, .null, .number("5805")])
        #expect(sourceRanks(output) == [.number("1"), .number("2"), .number("3"), .number("4")])
        #expect(output.skipped == ["invalid:cmc_id": 1])
    }
}
