import Testing

@testable import TopCoins

/// A deterministic market for series tests: `assets` coins whose prices walk a little on
/// every step, a ranking that lists most of them (some are priced but never ranked), a coin
/// renamed half-way and a non-ASCII symbol.
struct MovingMarket {
    let assets: Int
    let renameAtStep: Int
    /// Names other than `Coin <id>` (an upstream's hostile one, say).
    var names: [Int64: String] = [:]

    init(assets: Int = 40, renameAtStep: Int = 10) {
        self.assets = assets
        self.renameAtStep = renameAtStep
    }

    func symbol(_ id: Int64, step: Int) -> String {
        switch id {
        case 3: step < renameAtStep ? "OLD" : "NEW"
        case 5: "币安币"
        default: "C\(id)"
        }
    }

    /// Prices with CoinMarketCap-like digits, moving with `step`: exact text the test can
    /// compare digit for digit.
    func price(_ id: Int64, step: Int) -> String {
        var random = SplitMix64(seed: UInt64(id) &* 1_000_003 &+ UInt64(step))
        let mantissa = 1_000_000_000 * id + Int64(random.next() % 900_000_000)
        return DecimalNumber(mantissa: mantissa, scale: UInt8(6 + id % 5)).text
    }

    func prices(step: Int, at time: Timestamp) -> FetchedSnapshot {
        let records = (1...Int64(assets)).map { id in
            JSONObject([
                ("cmc_id", .number(String(id))), ("symbol", .string(symbol(id, step: step))), ("name", .string(names[id] ?? "Coin \(id)")),
                ("price_usd", .number(price(id, step: step))), ("source_rank", .number(String(id))),
            ])
        }
        return FetchedSnapshot(source: "coinmarketcap", fetchedAt: time, records: records, skipped: [:])
    }

    /// Every coin but each seventh, in an order that changes with `step`.
    func ranks(step: Int, at time: Timestamp) -> FetchedSnapshot {
        let ranked: [Int64] = (1...Int64(assets)).filter { $0 % 7 != 0 }
        let cut = step % ranked.count
        let rotated: [Int64] = Array(ranked[cut...]) + Array(ranked[..<cut])
        let records = rotated.enumerated().map { index, id in
            JSONObject([("cmc_id", .number(String(id))), ("symbol", .string(symbol(id, step: step))), ("source_rank", .number(String(index + 1)))])
        }
        return FetchedSnapshot(source: "cryptocompare", fetchedAt: time, records: records, skipped: [:])
    }

    /// The merged snapshot of `step` as the merger would write it.
    func snapshot(step: Int, at time: Timestamp) -> MergedSnapshot {
        MergeRule.merge(prices: .init(entryID: "\(step)-0", snapshot: prices(step: step, at: time)), ranks: .init(entryID: "\(step)-1", snapshot: ranks(step: step, at: time)))
    }
}

extension TestBed {
    /// Publishes step `step` of `market` on both streams, fetched at `time`.
    func publish(_ market: MovingMarket, step: Int, at time: Timestamp) async throws {
        _ = try await redis.xadd("topcoins:prices", maxLength: 32, fields: market.prices(step: step, at: time).streamFields)
        _ = try await redis.xadd("topcoins:ranks", maxLength: 32, fields: market.ranks(step: step, at: time).streamFields)
    }

    /// Writes `snapshot` as a merger before the series store did: registry, body, history
    /// entry and latest pointer, no series.
    func writeSnapshotWithoutSeries(_ snapshot: MergedSnapshot) async throws {
        let keys = HistoryKeys()
        var registry = AssetRegistry()
        try await History(redis: redis).refresh(&registry)
        let (indexes, added) = registry.indexes(for: snapshot.rows.map { .init(cmcId: $0.cmcId, symbol: $0.symbol, name: $0.name) })
        var commands: [[RedisArgument]] = added.isEmpty ? [] : [["RPUSH", RedisArgument(keys.assets)] + added.map { RedisArgument($0) }]
        commands += [
            ["SET", RedisArgument(keys.snapshot(snapshot.timestamp)), RedisArgument(SnapshotCodec.encode(snapshot, assetIndexes: indexes))],
            ["ZADD", RedisArgument(keys.history), RedisArgument(snapshot.timestamp.milliseconds), RedisArgument(String(snapshot.timestamp.milliseconds))],
            ["SET", RedisArgument(keys.latest), RedisArgument(snapshot.timestamp.milliseconds)],
        ]
        _ = try await redis.transaction(commands)
    }

    /// Every stored snapshot, decoded: the oracle series are checked against.
    func storedSnapshots() async throws -> [MergedSnapshot] {
        let history = History(redis: redis)
        var registry = AssetRegistry()
        try await history.refresh(&registry)
        var snapshots: [MergedSnapshot] = []
        for milliseconds in try await historyTimestamps() {
            let body = try #require(try await history.body(at: Timestamp(milliseconds: milliseconds)))
            snapshots.append(try SnapshotCodec.decode(body, registry: registry))
        }
        return snapshots
    }

    /// Each asset's (time, price text) in every stored snapshot that lists it.
    func seriesFromSnapshots() async throws -> [Int64: [(Int64, String)]] {
        var series: [Int64: [(Int64, String)]] = [:]
        for snapshot in try await storedSnapshots() {
            for row in snapshot.rows { series[row.cmcId, default: []].append((snapshot.timestamp.milliseconds, row.price.text)) }
        }
        return series
    }

    /// One asset's stored points from the series store, over all time.
    func storedSeries(of cmcId: Int64) async throws -> [PriceBucket] {
        let history = History(redis: redis)
        let spans = try await history.spans(overlapping: Timestamp.earliestPlausible.milliseconds...Timestamp.latestRepresentable.milliseconds)
        return try await history.points(of: cmcId, in: spans).flatMap { $0 }
    }

    /// Every series key and the catalogue, byte for byte, to compare two runs.
    func seriesDump() async throws -> [String: [String: [UInt8]]] {
        let keys = HistoryKeys()
        var dump: [String: [String: [UInt8]]] = [:]
        let spans = try await redis.zrangeByScore(keys.seriesSpans, minimum: "-inf", maximum: "+inf").map(\.member)
        for member in spans + ["versions", "conversion"] {
            let key = member == "versions" ? keys.seriesVersions : member == "conversion" ? keys.seriesConversion : "\(keys.prefix):series:\(member)"
            let items = try await redis.send(["HGETALL", RedisArgument(key)]).array ?? []
            var fields: [String: [UInt8]] = [:]
            for index in stride(from: 0, to: items.count - 1, by: 2) { fields[items[index].string ?? ""] = items[index + 1].bytes ?? [] }
            dump[key] = fields
        }
        dump[keys.catalogue] = ["": try await redis.get(keys.catalogue) ?? []]
        return dump
    }
}
