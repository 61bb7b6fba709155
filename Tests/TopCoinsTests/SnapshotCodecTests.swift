import Testing

@testable import TopCoins

struct SnapshotCodecTests {
    static func snapshot(rows: [(Int64, String, String, String, Int)]) -> MergedSnapshot {
        MergedSnapshot(
            timestamp: Timestamp(milliseconds: 1_715_667_000_123),
            prices: .init(name: "coinmarketcap", fetchedAt: Timestamp(milliseconds: 1_715_667_000_000), entryID: "1715667000001-0"),
            ranks: .init(name: "cryptocompare", fetchedAt: Timestamp(milliseconds: 1_715_667_000_123), entryID: "1715667000124-3"),
            rows: rows.enumerated().map { index, row in
                .init(rank: index + 1, cmcId: row.0, symbol: row.1, name: row.2, price: DecimalNumber(row.3)!, sourceRank: row.4)
            },
            leftOut: ["no_cmc_id": 3, "null_price": 1])
    }

    @Test func roundTripKeepsEveryDigitAndText() throws {
        let original = Self.snapshot(rows: [
            (1, "BTC", "Bitcoin", "61923.40938478237", 2),
            (825, "USDT", "Tether USDt", "0.9998", 3),
            (32008, "DUST", "Dust", "0.000000123", 7),
            (8085, "stETH", "Lido Staked ETH", "2905.10", 9),
            (30577, "币安币", "Foo, Inc \"Token\"", "12", 10),
            (99, "HUGE", "Huge", "123456789012345678901234567890.5", 400),
        ])
        var registry = AssetRegistry()
        let (indexes, added) = registry.indexes(for: original.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        let bytes = SnapshotCodec.encode(original, assetIndexes: indexes)

        // A reader rebuilds the registry from the appended entries, as the API does from Redis.
        var reader = AssetRegistry()
        try reader.append(encoded: added)
        #expect(try SnapshotCodec.decode(bytes, registry: reader) == original)
    }

    @Test func aRowIsAboutFourteenBytesForFullPrecisionPrices() {
        let rows = (0..<2000).map { index in (Int64(index * 13 + 1), "S\(index)", "Name \(index)", "1234.\(String(1_000_000_000_000 + index))", index + 1) }
        let original = Self.snapshot(rows: rows)
        var registry = AssetRegistry()
        let (indexes, _) = registry.indexes(for: original.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        let bytes = SnapshotCodec.encode(original, assetIndexes: indexes)
        #expect(bytes.count < 2000 * 16)
    }

    @Test func anAssetTheRegistryLacksIsReportedNotGuessed() {
        let original = Self.snapshot(rows: [(1, "BTC", "Bitcoin", "1", 1)])
        let bytes = SnapshotCodec.encode(original, assetIndexes: [5])
        #expect(throws: SnapshotCodec.DecodeError.unknownAsset(index: 5)) { try SnapshotCodec.decode(bytes, registry: AssetRegistry()) }
    }

    @Test func truncatedOrForeignDataIsCorrupt() throws {
        let original = Self.snapshot(rows: [(1, "BTC", "Bitcoin", "61923.4", 1), (2, "LTC", "Litecoin", "80.1", 2)])
        var registry = AssetRegistry()
        let (indexes, _) = registry.indexes(for: original.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        let bytes = SnapshotCodec.encode(original, assetIndexes: indexes)
        for length in [0, 3, 5, bytes.count / 2, bytes.count - 1] {
            #expect(throws: SnapshotCodec.DecodeError.self) { try SnapshotCodec.decode(Array(bytes.prefix(length)), registry: registry) }
        }
        #expect(throws: SnapshotCodec.DecodeError.self) { try SnapshotCodec.decode(Array("{\"json\":true}".utf8), registry: registry) }
    }

    /// Found by the snapshot fuzz target (`Fuzz/corpus/snapshot/crash-source-rank-overflow.bin`
    /// holds these bytes): source-rank deltas summing past `Int.max` trapped the decoder.
    @Test func sourceRanksBeyondTheIntegerRangeAreCorrupt() throws {
        var registry = AssetRegistry()
        _ = registry.indexes(for: [.init(cmcId: 1, symbol: "BTC", name: "Bitcoin")])
        var writer = ByteWriter()
        writer.bytes += Array("TCS1".utf8)
        writer.signed(1_718_366_400_000)
        for _ in 0..<2 {
            writer.string("")
            writer.signed(1_718_366_400_000)
            writer.string("")
        }
        writer.varint(0)  // no left-out counts
        writer.varint(2)  // two rows of asset 0 priced 0, with source-rank deltas Int64.max and 1
        for delta in [Int64.max, 1] {
            writer.varint(0)
            writer.signed(delta)
            writer.byte(0)
            writer.signed(0)
        }
        #expect(throws: SnapshotCodec.DecodeError.corrupt("invalid source_rank in row 2")) {
            try SnapshotCodec.decode(writer.bytes, registry: registry)
        }
        #expect(try SnapshotCodec.decode(writer.bytes, registry: registry, rowLimit: 1).snapshot.rows.first?.sourceRank == Int(Int64.max))
    }

    @Test func theRegistryStoresEachAssetOnceAndKeepsRenamesApart() {
        var registry = AssetRegistry()
        let btc = AssetRegistry.Asset(cmcId: 1, symbol: "BTC", name: "Bitcoin")
        let renamed = AssetRegistry.Asset(cmcId: 1, symbol: "XBT", name: "Bitcoin")
        let first = registry.indexes(for: [btc, renamed])
        let second = registry.indexes(for: [renamed, btc])
        #expect(first.indexes == [0, 1])
        #expect(first.added.count == 2)
        #expect(second.indexes == [1, 0])
        #expect(second.added.isEmpty)
        registry.truncate(to: 1)
        #expect(registry.indexes(for: [renamed]).indexes == [1])
    }

    @Test(arguments: [Int64.min, 0, 253_402_300_800_000, Int64.max])
    func aHeaderTimeOutsideThePlausibleRangeIsCorrupt(milliseconds: Int64) throws {
        // A stored header of Int64.min killed http-api when it was rendered.
        let original = Self.snapshot(rows: [(1, "BTC", "Bitcoin", "61923.4", 1)])
        var registry = AssetRegistry()
        let (indexes, _) = registry.indexes(for: original.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        for (which, edited) in [
            ("timestamp", MergedSnapshot(timestamp: Timestamp(milliseconds: milliseconds), prices: original.prices, ranks: original.ranks, rows: original.rows, leftOut: [:])),
            ("fetched_at", MergedSnapshot(
                timestamp: original.timestamp, prices: .init(name: "p", fetchedAt: Timestamp(milliseconds: milliseconds), entryID: "1-0"), ranks: original.ranks,
                rows: original.rows, leftOut: [:])),
        ] {
            let bytes = SnapshotCodec.encode(edited, assetIndexes: indexes)
            #expect(throws: SnapshotCodec.DecodeError.corrupt("implausible timestamp \(milliseconds)"), "\(which)") {
                try SnapshotCodec.decode(bytes, registry: registry)
            }
        }
    }
}
