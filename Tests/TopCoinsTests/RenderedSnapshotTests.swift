import NIOCore
import Testing

@testable import TopCoins

struct RenderedSnapshotTests {
    static let snapshot = MergedSnapshot(
        timestamp: Timestamp(milliseconds: 1_715_667_000_123),
        prices: .init(name: "coinmarketcap", fetchedAt: Timestamp(milliseconds: 1_715_667_000_000), entryID: "1-0"),
        ranks: .init(name: "cryptocompare", fetchedAt: Timestamp(milliseconds: 1_715_667_000_123), entryID: "2-0"),
        rows: [
            .init(rank: 1, cmcId: 1, symbol: "BTC", name: "Bitcoin", price: DecimalNumber("61923.40")!, sourceRank: 2),
            .init(rank: 2, cmcId: 19230, symbol: "FOO,\"X\"", name: "Foo, Inc \"Token\"", price: DecimalNumber("1.23e-7")!, sourceRank: 5),
            .init(rank: 3, cmcId: 30577, symbol: "币安币", name: "Ωmega\nline", price: DecimalNumber("1e+21")!, sourceRank: 6),
        ],
        leftOut: ["no_cmc_id": 2])

    static func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

    @Test func csvHasTheExactHeaderQuotingAndPlainDecimals() {
        let csv = Self.text(RenderedSnapshot(Self.snapshot).csv(limit: 10))
        #expect(csv == "Rank,Symbol,Price USD\r\n1,BTC,61923.40\r\n2,\"FOO,\"\"X\"\"\",0.000000123\r\n3,币安币,1000000000000000000000\r\n")
    }

    @Test func csvLimitCutsRowsAndZeroRowsLeavesTheHeader() {
        let rendered = RenderedSnapshot(Self.snapshot)
        #expect(Self.text(rendered.csv(limit: 1)) == "Rank,Symbol,Price USD\r\n1,BTC,61923.40\r\n")
        #expect(Self.text(rendered.csv(limit: 0)) == "Rank,Symbol,Price USD\r\n")
    }

    @Test func jsonIsValidAndCarriesTheEnvelope() throws {
        let rendered = RenderedSnapshot(Self.snapshot)
        let document = try JSONParser.parse(Array(Self.text(rendered.json(limit: 2)).utf8))
        #expect(document["timestamp"] == .string("2024-05-14T06:10:00.123Z"))
        #expect(document["count"] == .number("2"))
        #expect(document["total"] == .number("3"))
        #expect(document["sources"]?["prices"]?["fetched_at"] == .string("2024-05-14T06:10:00.000Z"))
        #expect(document["sources"]?["ranks"]?["source"] == .string("cryptocompare"))
        #expect(document["left_out"]?["no_cmc_id"] == .number("2"))
        guard case .array(let data)? = document["data"] else { Issue.record("no data array"); return }
        #expect(data.count == 2)
        #expect(data[1]["symbol"] == .string("FOO,\"X\""))
        #expect(data[1]["name"] == .string("Foo, Inc \"Token\""))
        #expect(data[1]["price_usd"] == .number("0.000000123"))
        #expect(data[1]["rank"] == .number("2"))
        #expect(data[1]["cmc_id"] == .number("19230"))
        #expect(data[1]["source_rank"] == .number("5"))
    }

    @Test func jsonNeverWritesAnExponentAndKeepsNonASCII() {
        let json = Self.text(RenderedSnapshot(Self.snapshot).json(limit: 3))
        #expect(json.contains("\"price_usd\":1000000000000000000000,"))
        #expect(json.contains("\"symbol\":\"币安币\""))
        #expect(json.contains("\"name\":\"Ωmega\\nline\""))
        #expect(!json.contains("e-7") && !json.contains("e+21"))
    }

    @Test func aLimitBeyondTheSnapshotReturnsEveryRow() throws {
        let document = try JSONParser.parse(Array(Self.text(RenderedSnapshot(Self.snapshot).json(limit: 5000)).utf8))
        #expect(document["count"] == .number("3"))
    }
}
