import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import TopCoins

/// The faults adversarial testing found in the top list: clocks that jump, values at the edges
/// of their types, bytes in Redis that are not what they should be, an empty merge, a stalled
/// source behind a fresh one, Redis out of memory, a fetcher stopped and continued, a snapshot
/// deleted under the API's index. Each runs the built executables against a real redis-server.
@Suite("Hostile time, data and Redis", .serialized, .timeLimit(.minutes(3)))
struct HostileInputTests {
    static let day: Int64 = 86_400_000

    // MARK: - 1. A fetcher clock ahead

    @Test("entries fetched days ahead are refused and named; history, retention and later merges are untouched")
    func aClockAheadNeitherFreezesNorDeletes() async throws {
        try await TestBed.with { bed in
            // Every snapshot for a day, then one a day: retention counted from an 8-day-ahead
            // snapshot used to thin today's history to one.
            let merger = try bed.startFaultMerger {
                $0 = $0.setting(["retention"], .array([
                    .object(JSONObject([("every", .string("snapshot")), ("for_days", .number("1"))])),
                    .object(JSONObject([("every", .string("day"))])),
                ]))
            }
            let api = try await bed.startFaultAPI()
            for _ in 0..<3 { try await bed.publishPair() }
            let written = try await bed.newestPairTimestamp()
            _ = try await bed.waitForSnapshot(after: Timestamp(milliseconds: written.milliseconds - 1), merger: merger)
            let historyBefore = try await bed.historyTimestamps()
            #expect(historyBefore.count >= 3)

            let ahead = Timestamp.now.adding(milliseconds: 8 * Self.day)
            try await bed.republishNewest(Faults.prices, fetchedAt: ahead)
            try await bed.republishNewest(Faults.ranks, fetchedAt: ahead)
            try await merger.waitForLine { $0.contains("stream entry from the future skipped") && $0.contains(" source=cryptocompare") }
            try await Faults.waitUntil("both future entries are counted") {
                try await Faults.status(bed.redis, "merger")["failed.future_fetch"] == "2"
            }
            let status = try await Faults.status(bed.redis, "merger")
            #expect(status["clock_skew.coinmarketcap"] != nil && status["clock_skew.cryptocompare"] != nil, "status: \(status)")
            #expect(try await bed.historyTimestamps() == historyBefore, "a future entry changed history")
            #expect(try await bed.latestSnapshot() == Timestamp(milliseconds: historyBefore.last!))
            try await Faults.waitUntil("/ready names both skewed sources") {
                let ready = try await Faults.readiness(api)
                return ready.status == 503 && ready.reasons.contains("clock_skew:coinmarketcap") && ready.reasons.contains("clock_skew:cryptocompare")
            }
            // Acknowledged, not left pending for a retry.
            try await Faults.waitUntil("nothing pending") {
                let prices = try await Faults.pendingCount(bed.redis, stream: Faults.prices)
                let ranks = try await Faults.pendingCount(bed.redis, stream: Faults.ranks)
                return prices == 0 && ranks == 0
            }

            // Sane fetches merge again, the skew marks clear, and the API serves the new snapshot.
            try await bed.publishPair()
            let next = try await bed.newestPairTimestamp()
            try await api.waitForServing(next)
            try await Faults.waitUntil("the skew marks are cleared") {
                let status = try await Faults.status(bed.redis, "merger")
                return status["clock_skew.coinmarketcap"] == nil && status["clock_skew.cryptocompare"] == nil
            }
            #expect(Set(historyBefore).isSubset(of: Set(try await bed.historyTimestamps())), "retention removed real history")
            #expect(merger.isRunning)
        }
    }

    @Test("a future snapshot already in history neither blocks newer merges nor serves as the latest")
    func aFutureSnapshotInHistoryGivesWay() async throws {
        try await TestBed.with { bed in
            try await bed.publishPair()
            let merger = try bed.startFaultMerger()
            let real = try await bed.waitForSnapshot(merger: merger)
            // What a merger without the skew check wrote for a fetcher 8 days ahead.
            let future = Timestamp.now.adding(milliseconds: 8 * Self.day)
            try await bed.writeSnapshotDirectly(at: future)
            #expect(try await bed.latestSnapshot() == future)

            let api = try await bed.startFaultAPI()
            try await api.waitForServing(real)
            try await bed.publishPair()
            let next = try await bed.newestPairTimestamp()
            try await api.waitForServing(next)
            #expect(try await bed.latestSnapshot() == next, "the latest pointer still names the future snapshot")
            let (response, _) = try await Faults.served(api, limit: 1)
            #expect(response.header("X-Snapshot-Age").flatMap { Int($0) }.map { $0 < 60 } == true)
            // An instant 30 s ago answers (it was a 404 while the future snapshot was "latest").
            let recent = try await api.request("/?limit=1&datetime=\(Timestamp.now.adding(milliseconds: -1).iso8601)")
            #expect(recent.status == 200, "\(recent.bodyText)")
        }
    }

    // MARK: - 2. Values at the edges of their types

    @Test("fetched_at = Int64.min: the merger skips and counts it, keeps running, and survives a restart")
    func anInt64MinFetchTimeCrashesNothing() async throws {
        try await TestBed.with { bed in
            try await bed.publishPair()
            let merger = try bed.startFaultMerger()
            let first = try await bed.waitForSnapshot(merger: merger)
            try await bed.republishNewest(Faults.prices, fetchedAtText: String(Int64.min))
            try await merger.waitForLine { $0.contains("unreadable stream entry skipped") && $0.contains("-9223372036854775808") }
            try await Faults.waitUntil("the invalid entry is counted") {
                try await Faults.status(bed.redis, "merger")["failed.invalid_entry"] == "1"
            }
            #expect(merger.isRunning)
            // Restarted while that entry is the newest: it looks past it.
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
            let restarted = try bed.startFaultMerger()
            try await restarted.waitForLine { $0.contains("holding the merger lease") }
            try await bed.publishPair()
            _ = try await bed.waitForSnapshot(after: first, merger: restarted)
            #expect(restarted.isRunning)
        }
    }

    // MARK: - 3. A corrupt snapshot in Redis

    @Test("a stored body that does not decode is a 500 corrupt_snapshot, logged once and counted; the rest of history answers")
    func aCorruptSnapshotIsNotAnOutage() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startFaultMerger()
            try await bed.publishPair()
            let good = try await bed.waitForSnapshot(merger: merger)
            let api = try await bed.startFaultAPI()
            try await api.waitForServing(good)

            // Garbage, and a well-formed header whose time is Int64.min, an hour and two hours back.
            let garbage = good.adding(milliseconds: -3_600_000)
            let minHeader = good.adding(milliseconds: -7_200_000)
            let keys = HistoryKeys()
            try await bed.redis.set(keys.snapshot(garbage), RedisArgument(Array("not a snapshot at all".utf8)))
            try await bed.redis.set(keys.snapshot(minHeader), RedisArgument(Self.snapshotBody(timestamp: Int64.min)))
            for timestamp in [garbage, minHeader] { try await bed.redis.zadd(keys.history, score: timestamp.milliseconds, member: String(timestamp.milliseconds)) }

            for timestamp in [garbage, minHeader] {
                for _ in 0..<2 {
                    let response = try await api.request("/?datetime=\(timestamp.iso8601)")
                    #expect(response.status == 500, "\(response.bodyText)")
                    #expect(try JSONParser.parse(response.body)["error"]?["code"] == .string("corrupt_snapshot"))
                }
                let key = keys.snapshot(timestamp)
                #expect(Faults.lines(api.process, containing: "stored snapshot does not decode", "key=\(key)").count == 1, "\(api.process.stderr.text.suffix(3000))")
            }
            #expect(try await api.request("/?datetime=\(good.iso8601)").status == 200)
            #expect(try await api.request("/?limit=1").status == 200)
            let metrics = try await api.request("/metrics").bodyText
            #expect(metrics.contains("topcoins_corrupt_snapshots_total 2"), "\(metrics)")
            #expect(api.process.isRunning)
        }
    }

    @Test("a series field that does not decode is a 500 corrupt_series, logged once and counted; other assets answer")
    func aCorruptSeriesFieldIsNotAnOutage() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startFaultMerger()
            try await bed.publishPair()
            let good = try await bed.waitForSnapshot(merger: merger)
            let api = try await bed.startFaultAPI()
            try await Faults.waitUntil("catalogue served") { try await api.request("/assets/1").status == 200 }
            // Bitcoin's points in the snapshot's hour: a block tag and nothing after it.
            let span = SeriesSpan(granularity: .snapshot, containing: good.milliseconds)
            try await bed.redis.send(["HSET", RedisArgument(HistoryKeys().series(span)), "1", RedisArgument([SeriesCodec.blockTag, 0xFF])])
            for _ in 0..<2 {
                let response = try await api.request("/assets/1/prices")
                #expect(response.status == 500, "\(response.bodyText)")
                #expect(try JSONParser.parse(response.body)["error"]?["code"] == .string("corrupt_series"))
            }
            #expect(Faults.lines(api.process, containing: "stored series does not decode").count == 1, "\(api.process.stderr.text.suffix(3000))")
            #expect(try await api.request("/assets/1027/prices").status == 200)
            #expect(try await api.request("/?limit=1").status == 200)
            #expect(try await api.request("/metrics").bodyText.contains("topcoins_corrupt_series_total 1"))
            #expect(api.process.isRunning)
        }
    }

    // MARK: - 4. An empty merge

    @Test("price records that are all {} merge to no rows: nothing is written, the latest stays, it is counted")
    func anEmptyMergeIsNotWritten() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startFaultMerger()
            try await bed.publishPair()
            let latest = try await bed.waitForSnapshot(merger: merger)
            let history = try await bed.historyTimestamps()

            try await bed.republishNewest(Faults.prices, fetchedAt: .now, records: "[{},{},{}]")
            try await merger.waitForLine { $0.contains("merge yielded no rows, nothing written") && $0.contains("invalid_price_record=3") }
            try await Faults.waitUntil("the empty merge is counted") {
                try await Faults.status(bed.redis, "merger")["failed.empty_merge"] == "1"
            }
            #expect(try await bed.latestSnapshot() == latest)
            #expect(try await bed.historyTimestamps() == history)
        }
    }

    @Test("a price config that does not publish the merger's fields exits 2 naming the key")
    func aPriceConfigWithoutTheSchemaIsRefused() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("price-fetcher") { $0 = $0.setting(["fields", "name"], nil) }
            let run = try await bed.run("price-fetcher", arguments: ["--config", config, "--once"])
            #expect(run.status == .exited(2))
            #expect(run.stderr.contains("fields") && run.stderr.contains("must publish name (string): the merger reads it"), "\(run.stderr)")
            #expect(try await bed.redis.send(["EXISTS", RedisArgument(Faults.prices)]) == .integer(0))
        }
    }

    // MARK: - 5. A stalled source behind a fresh one

    @Test("the rank fetcher stopped while prices go on: the snapshot is as old as its ranking, flagged stale, and /ready names the source")
    func aStalledRankingIsNotHiddenByFreshPrices() async throws {
        try await TestBed.with { bed in
            // The shipped 60 s window: merges go on with the old ranking and fresh prices.
            let merger = try bed.startFaultMerger()
            let api = try await bed.startFaultAPI { $0 = $0.setting(["stale_after_seconds"], .number("3")).setting(["snapshot_interval_seconds"], .number("1")) }
            let prices = try bed.startFaultFetcher("price-fetcher")
            let ranks = try bed.startFaultFetcher("rank-fetcher")
            _ = try await Faults.waitForServed(api)
            #expect(try await ranks.terminate(timeout: .seconds(5)) == .exited(0))
            let lastRank = try #require(try await Faults.newestFetch(bed.redis, Faults.ranks)).fetchedAt

            let flagged = await Faults.poll(timeout: .seconds(20), every: .milliseconds(250)) {
                let (response, timestamp) = try await Faults.served(api, limit: 1)
                let ready = try await Faults.readiness(api)
                // Still merging: the served snapshot is newer than the last ranking...
                guard let timestamp, timestamp > lastRank.adding(milliseconds: 3_000) else { return false }
                // ...but as old as it.
                return response.header("X-Snapshot-Stale") == "true" && (response.header("X-Snapshot-Age").flatMap { Int($0) } ?? 0) >= 3
                    && ready.status == 503 && ready.reasons.contains("snapshot_stale") && ready.reasons.contains("stalled:cryptocompare")
                    && !ready.reasons.contains("stalled:coinmarketcap")
            }
            #expect(flagged, "API log:\n\(api.process.stderr.text.suffix(2000))")
            #expect(prices.isRunning && merger.isRunning)
        }
    }

    // MARK: - 8. Redis out of memory

    @Test("Redis out of memory: redis_oom in the logs and /ready, and a fetcher publishes once memory is back within its cycle")
    func outOfMemoryIsItsOwnReason() async throws {
        try await TestBed.with { bed in
            let api = try await bed.startFaultAPI()
            try await bed.redis.send(["CONFIG", "SET", "maxmemory-policy", "noeviction"])
            try await bed.redis.send(["CONFIG", "SET", "maxmemory", "1"])
            let ready = await Faults.poll(timeout: .seconds(10)) { try await Faults.readiness(api).reasons.contains("redis_oom") }
            #expect(ready, "/ready never said redis_oom")

            let merger = try bed.startFaultMerger()
            try await merger.waitForLine { $0.contains("Redis is out of memory") && $0.contains(" reason=redis_oom") }
            let config = try bed.writeFetcherConfig("price-fetcher")
            let fetcher = try bed.start("price-fetcher", arguments: ["--config", config, "--once"])
            try await fetcher.waitForLine { $0.contains("could not publish snapshot") && $0.contains(" reason=redis_oom") }
            try await bed.redis.send(["CONFIG", "SET", "maxmemory", "0"])
            #expect(try await fetcher.waitForExit(timeout: .seconds(20)) == .exited(0), "\(fetcher.stderr.text.suffix(3000))")
            #expect(try await bed.redis.xrange(Faults.prices).count == 1)
            #expect(!Faults.lines(merger, containing: "merger lost Redis").contains { $0.contains("OOM") })
            try await Faults.waitUntil("/ready drops redis_oom") { try await !Faults.readiness(api).reasons.contains("redis_oom") }
        }
    }

    // MARK: - 9. A fetcher stopped and continued

    @Test("a fetcher stopped for several intervals and continued does not burst: missed ticks are skipped")
    func missedTicksAreNotReplayed() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeFetcherConfig("price-fetcher", intervalSeconds: 2)
            let fetcher = try bed.start("price-fetcher", arguments: ["--config", config])
            let before = try await bed.redis.waitForStreamEntries(Faults.prices, count: 2, timeout: .seconds(30), producer: fetcher).count
            fetcher.send(signal: SIGSTOP)
            try await Task.sleep(for: .seconds(7))
            fetcher.send(signal: SIGCONT)
            let entries = try await bed.redis.waitForStreamEntries(Faults.prices, count: before + 3, timeout: .seconds(30), producer: fetcher)
            let times = try entries.map { try FetchedSnapshot(entry: $0).fetchedAt.milliseconds }
            // Ticks are 2 s apart; a replayed tick follows its predecessor by one fetch's duration.
            let gaps = zip(times.dropFirst(before - 1), times.dropFirst(before)).map { $1 - $0 }
            #expect(gaps.allSatisfy { $0 >= 1_000 }, "gaps after the stop (ms): \(gaps)")
        }
    }

    // MARK: - 10. A snapshot deleted under the API's index

    @Test("a datetime whose indexed snapshot was just deleted answers from Redis, not a false 404")
    func aJustDeletedSnapshotIsLookedUpAgain() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startFaultMerger()
            for _ in 0..<2 { try await bed.publishPair() }
            _ = try await bed.waitForSnapshot(after: Timestamp(milliseconds: try await bed.newestPairTimestamp().milliseconds - 1), merger: merger)
            let api = try await bed.startFaultAPI()
            let history = try await bed.historyTimestamps()
            try #require(history.count >= 2)
            try await api.waitForServing(Timestamp(milliseconds: history.last!))
            // The index is read right after the latest snapshot is served.
            try await Task.sleep(for: .milliseconds(500))

            // As retention does: the newest but one disappears after the API indexed it.
            let doomed = history[history.count - 2]
            let keys = HistoryKeys()
            _ = try await bed.redis.transaction([
                ["ZREM", RedisArgument(keys.history), RedisArgument(String(doomed))], ["DEL", RedisArgument(keys.snapshot(Timestamp(milliseconds: doomed)))],
            ])
            let response = try await api.request("/?limit=1&datetime=\(Timestamp(milliseconds: doomed + 1).iso8601)")
            #expect(response.status == 200, "\(response.bodyText)")
            let expected = history.filter { $0 < doomed }.last
            if let expected {
                #expect(try JSONParser.parse(response.body)["timestamp"] == .string(Timestamp(milliseconds: expected).iso8601))
            }
        }
    }

    /// A snapshot body with the given header time, one row.
    static func snapshotBody(timestamp: Int64) -> [UInt8] {
        let source = MergedSnapshot.Source(name: "coinmarketcap", fetchedAt: Timestamp(milliseconds: 1_718_366_400_000), entryID: "1-0")
        let row = MergedSnapshot.Row(rank: 1, cmcId: 1, symbol: "BTC", name: "Bitcoin", price: DecimalNumber("61923.4")!, sourceRank: 1)
        return SnapshotCodec.encode(
            MergedSnapshot(timestamp: Timestamp(milliseconds: timestamp), prices: source, ranks: source, rows: [row], leftOut: [:]), assetIndexes: [0])
    }
}

extension TestBed {
    /// Adds a copy of `stream`'s newest entry with another `fetched_at` (and, when given,
    /// other `records`), as a fetcher whose clock or mapping went wrong would publish it.
    func republishNewest(_ stream: String, fetchedAt: Timestamp? = nil, fetchedAtText: String? = nil, records: String? = nil) async throws {
        let newest = try #require(try await redis.xrevrange(stream, count: 1).first)
        var fields = newest.fields.map { ($0.name, RedisArgument($0.value)) }
        if let time = fetchedAtText ?? fetchedAt.map({ String($0.milliseconds) }) {
            fields = fields.map { $0.0 == "fetched_at" ? ($0.0, RedisArgument(time)) : $0 }
        }
        if let records { fields = fields.map { $0.0 == "records" ? ($0.0, RedisArgument(records)) : $0 } }
        _ = try await redis.xadd(stream, maxLength: 32, fields: fields)
    }

    /// Writes a one-row snapshot at `timestamp` behind the merger's back (registry entry, body,
    /// history entry, latest pointer), as a merger without the skew check did, or as history
    /// that aged in place.
    func writeSnapshotDirectly(at timestamp: Timestamp) async throws {
        let keys = HistoryKeys()
        var registry = AssetRegistry()
        try await History(redis: redis).refresh(&registry)
        let (indexes, added) = registry.indexes(for: [.init(cmcId: 1, symbol: "BTC", name: "Bitcoin")])
        let source = MergedSnapshot.Source(name: "coinmarketcap", fetchedAt: timestamp, entryID: "\(timestamp.milliseconds)-0")
        let row = MergedSnapshot.Row(rank: 1, cmcId: 1, symbol: "BTC", name: "Bitcoin", price: DecimalNumber("61923.4")!, sourceRank: 1)
        let body = SnapshotCodec.encode(MergedSnapshot(timestamp: timestamp, prices: source, ranks: source, rows: [row], leftOut: [:]), assetIndexes: indexes)
        var commands: [[RedisArgument]] = added.isEmpty ? [] : [["RPUSH", RedisArgument(keys.assets)] + added.map { RedisArgument($0) }]
        commands += [
            ["SET", RedisArgument(keys.snapshot(timestamp)), RedisArgument(body)],
            ["ZADD", RedisArgument(keys.history), RedisArgument(timestamp.milliseconds), RedisArgument(String(timestamp.milliseconds))],
            ["SET", RedisArgument(keys.latest), RedisArgument(timestamp.milliseconds)],
        ]
        _ = try await redis.transaction(commands)
    }
}
