import Foundation
import Testing

@testable import TopCoins

@Suite("Merger with a real Redis", .serialized, .timeLimit(.minutes(3)))
struct MergerTests {
    static let prices = "topcoins:prices"
    static let ranks = "topcoins:ranks"
    static let merged = "topcoins:merged"

    /// Publishes a fetch message directly, as a fetcher would, with a chosen fetch time.
    static func publish(_ bed: TestBed, stream: String, source: String, at milliseconds: Int64, records: [JSONObject]) async throws {
        let snapshot = FetchedSnapshot(source: source, fetchedAt: Timestamp(milliseconds: milliseconds), records: records, skipped: [:])
        try await bed.redis.xadd(stream, maxLength: 1000, fields: snapshot.streamFields)
    }

    static func publishPair(_ bed: TestBed, priceAt: Int64, rankAt: Int64, price: String = "100.5") async throws {
        try await publish(bed, stream: prices, source: "coinmarketcap", at: priceAt, records: [
            JSONObject([("cmc_id", .number("1")), ("symbol", .string("BTC")), ("name", .string("Bitcoin")), ("price_usd", .number(price)), ("source_rank", .number("1"))]),
        ])
        try await publish(bed, stream: ranks, source: "cryptocompare", at: rankAt, records: [
            JSONObject([("cmc_id", .number("1")), ("symbol", .string("BTC")), ("source_rank", .number("1"))]),
        ])
    }

    static func pendingCount(_ bed: TestBed, _ stream: String) async throws -> Int {
        let reply = try await bed.redis.send(["XPENDING", RedisArgument(stream), "merger"])
        return reply.array?.first?.int ?? -1
    }

    @Test("merges the fetchers' real messages, writes history atomically, acknowledges both")
    func mergesRealMessages() async throws {
        try await TestBed.with { bed in
            try await bed.publishPair()
            let merger = try bed.startMerger()
            let timestamp = try await bed.waitForSnapshot(merger: merger)
            let priceEntry = try #require(try await bed.redis.xrevrange(Self.prices, count: 1).first)
            let rankEntry = try #require(try await bed.redis.xrevrange(Self.ranks, count: 1).first)
            let priceFetch = try FetchedSnapshot(entry: priceEntry)
            let rankFetch = try FetchedSnapshot(entry: rankEntry)
            #expect(timestamp == max(priceFetch.fetchedAt, rankFetch.fetchedAt))
            #expect(try await bed.historyTimestamps() == [timestamp.milliseconds])
            let announcements = try await bed.redis.xrange(Self.merged)
            #expect(announcements.map { $0.text("timestamp") } == [String(timestamp.milliseconds)])

            let store = History(redis: bed.redis)
            var registry = AssetRegistry()
            try await store.refresh(&registry)
            let body = try #require(try await store.body(at: timestamp))
            let snapshot = try SnapshotCodec.decode(body, registry: registry)
            let expected = MergeRule.merge(prices: .init(entryID: priceEntry.id, snapshot: priceFetch), ranks: .init(entryID: rankEntry.id, snapshot: rankFetch))
            #expect(snapshot == expected)
            #expect(snapshot.rows.count == 455)
            #expect(snapshot.leftOut == ["no_cmc_id": 26, "duplicate_cmc_id": 3, "no_price_record": 14, "null_price": 2])

            // Acknowledged only after the write: nothing stays pending.
            try await Self.waitUntilNothingPending(bed)
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("entries read but not acknowledged before a crash are merged and acknowledged on restart")
    func pendingEntriesAreMergedOnRestart() async throws {
        try await TestBed.with { bed in
            try await Self.publishPair(bed, priceAt: 1_715_667_000_000, rankAt: 1_715_667_030_000)
            // A merger that read both entries and died before writing: they are pending for its name.
            for stream in [Self.prices, Self.ranks] { try await bed.redis.xgroupCreate(stream, group: "merger", startingAt: "0") }
            let read = try await bed.redis.xreadgroup(
                group: "merger", consumer: "merger-test", count: 10, blockMilliseconds: nil, streams: [(Self.prices, ">"), (Self.ranks, ">")])
            #expect(read.flatMap(\.entries).count == 2)
            #expect(try await Self.pendingCount(bed, Self.prices) == 1)

            let merger = try bed.startMerger(consumer: "merger-test")
            #expect(try await bed.waitForSnapshot(merger: merger) == Timestamp(milliseconds: 1_715_667_030_000))
            try await Self.waitUntilNothingPending(bed)
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("killed after writing but before acknowledging: the restart acknowledges and writes nothing twice")
    func writtenButNotAcknowledged() async throws {
        try await TestBed.with { bed in
            try await Self.publishPair(bed, priceAt: 1_715_667_000_000, rankAt: 1_715_667_010_000)
            let first = try bed.startMerger()
            try await bed.waitForSnapshot(merger: first)
            try await Self.waitUntil { try await Self.pendingCount(bed, Self.prices) == 0 }
            first.killNow()
            _ = try await first.waitForExit()

            // Make the acknowledged entries pending again, as if the ack had never happened.
            for stream in [Self.prices, Self.ranks] { try await bed.redis.send(["XGROUP", "SETID", RedisArgument(stream), "merger", "0"]) }
            _ = try await bed.redis.xreadgroup(
                group: "merger", consumer: "merger-test", count: 10, blockMilliseconds: nil, streams: [(Self.prices, ">"), (Self.ranks, ">")])
            #expect(try await Self.pendingCount(bed, Self.ranks) == 1)

            let second = try bed.startMerger()
            try await Self.waitUntilNothingPending(bed)
            #expect(try await bed.historyTimestamps() == [1_715_667_010_000])
            #expect(try await bed.redis.xrange(Self.merged).count == 1)
            #expect(try await second.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("SIGKILL at arbitrary points while fetchers publish: no snapshot lost, none duplicated")
    func killedRepeatedlyWhileFetchersRun() async throws {
        try await TestBed.with { bed in
            let priceConfig = try bed.writeFetcherConfig("price-fetcher")
            let rankConfig = try bed.writeFetcherConfig("rank-fetcher")
            let priceFetcher = try bed.start("price-fetcher", arguments: ["--config", priceConfig])
            let rankFetcher = try bed.start("rank-fetcher", arguments: ["--config", rankConfig])
            for round in 0..<4 {
                let merger = try bed.startMerger()
                try await Task.sleep(for: .milliseconds(300 + 370 * round))
                merger.killNow()
                _ = try await merger.waitForExit()
            }
            #expect(try await priceFetcher.terminate(timeout: .seconds(5)) == .exited(0))
            #expect(try await rankFetcher.terminate(timeout: .seconds(5)) == .exited(0))

            let merger = try bed.startMerger()
            // Signals before main() installs handlers take their default action; wait for start-up.
            try await merger.waitForLine { $0.contains("merger started") }
            try await Self.waitUntilNothingPending(bed)
            // The newest pair of messages is merged: nothing was lost.
            let newestPrice = try FetchedSnapshot(entry: try #require(try await bed.redis.xrevrange(Self.prices, count: 1).first))
            let newestRank = try FetchedSnapshot(entry: try #require(try await bed.redis.xrevrange(Self.ranks, count: 1).first))
            let expected = max(newestPrice.fetchedAt, newestRank.fetchedAt)
            try await Self.waitUntil { try await bed.latestSnapshot() == expected }
            // Every snapshot written once: as many announcements as history entries, all distinct.
            let history = try await bed.historyTimestamps()
            let announced = try await bed.redis.xrange(Self.merged).compactMap { $0.text("timestamp").flatMap { Int64($0) } }
            #expect(announced == history)
            #expect(Set(history).count == history.count)
            let exit = try await merger.terminate(timeout: .seconds(5))
            #expect(exit == .exited(0), "merger log:\n\(merger.stderr.text.suffix(3000))")
        }
    }

    @Test("snapshots further apart than the window are not merged; exactly the window is")
    func windowIsHonoured() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger { $0 = $0.setting(["window_seconds"], .number("60")) }
            try await Self.publishPair(bed, priceAt: 1_715_667_000_000, rankAt: 1_715_667_060_001)
            try await merger.waitForLine { $0.contains("too far apart") }
            #expect(try await bed.latestSnapshot() == nil)
            try await Self.publish(bed, stream: Self.prices, source: "coinmarketcap", at: 1_715_667_000_001, records: [
                JSONObject([("cmc_id", .number("1")), ("symbol", .string("BTC")), ("name", .string("Bitcoin")), ("price_usd", .number("7")), ("source_rank", .number("1"))]),
            ])
            #expect(try await bed.waitForSnapshot(merger: merger) == Timestamp(milliseconds: 1_715_667_060_001))
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("Redis emptied under a running merger: it recreates its group and merges the next messages")
    func emptiedRedisIsNormal() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger()
            try await Self.publishPair(bed, priceAt: 1_715_667_000_000, rankAt: 1_715_667_001_000)
            try await bed.waitForSnapshot(merger: merger)
            try await bed.redis.send(["FLUSHALL"])
            try await merger.waitForLine { $0.contains("consumer group missing") }
            try await Self.publishPair(bed, priceAt: 1_715_667_100_000, rankAt: 1_715_667_101_000)
            #expect(try await bed.waitForSnapshot(merger: merger) == Timestamp(milliseconds: 1_715_667_101_000))
            #expect(try await bed.historyTimestamps() == [1_715_667_101_000])
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("retention thins history by age: every snapshot for a day, hourly for two, then daily")
    func retentionThinsHistory() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger { config in
                config = config.setting(["retention"], .array([
                    .object(JSONObject([("every", .string("snapshot")), ("for_days", .number("1"))])),
                    .object(JSONObject([("every", .string("hour")), ("for_days", .number("2"))])),
                    .object(JSONObject([("every", .string("day"))])),
                ]))
            }
            // Ages count from the wall clock (a snapshot's own time comes from a fetcher's clock).
            let now = Timestamp.now.milliseconds
            let minute: Int64 = 60_000
            let hour = 60 * minute
            let day = 24 * hour
            let oldDay = (now - 4 * day).floorDividedWithRemainder(by: day).0 * day
            let oldHour = (now - 36 * hour).floorDividedWithRemainder(by: hour).0 * hour
            let written = [
                oldDay + 10 * minute, oldDay + 20 * minute,  // same UTC day, older than two days
                oldHour + minute, oldHour + 5 * minute,  // same hour, between one and two days old
                now - 12 * hour, now - 12 * hour + minute,  // within a day
                now - minute,
            ]
            // History that aged in place, then one merge: retention thins it from scratch.
            for timestamp in written.dropLast() { try await bed.writeSnapshotDirectly(at: Timestamp(milliseconds: timestamp)) }
            try await Self.publishPair(bed, priceAt: written.last!, rankAt: written.last!)
            _ = try await bed.waitForSnapshot(after: Timestamp(milliseconds: written[5]), merger: merger)
            try await Self.waitUntil { try await bed.historyTimestamps().count == 5 }
            let kept = [written[0], written[2], written[4], written[5], written[6]]
            #expect(try await bed.historyTimestamps() == kept)
            for removed in Set(written).subtracting(kept) {
                #expect(try await bed.redis.get(TestBed.keys.snapshot(Timestamp(milliseconds: removed))) == nil)
            }
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("two mergers at once: exactly one writes; when it dies the other takes over")
    func twoMergersOneWriter() async throws {
        try await TestBed.with { bed in try await Self.twoMergers(bed) }
    }

    static func twoMergers(_ bed: TestBed) async throws {
        let first = try bed.startMerger(consumer: "merger-a") { $0 = $0.setting(["lease_seconds"], .number("2")) }
        try await first.waitForLine { $0.contains("holding the merger lease") }
        let second = try bed.startMerger(consumer: "merger-b") { $0 = $0.setting(["lease_seconds"], .number("2")) }
        try await second.waitForLine { $0.contains("standing by") }

        var previous: Timestamp?
        for round: Int64 in 0..<3 {
            try await publishPair(bed, priceAt: 1_715_667_000_000 + round * 60_000, rankAt: 1_715_667_000_000 + round * 60_000)
            previous = try await bed.waitForSnapshot(after: previous)
        }
        // Each arriving message can merge (the price with the previous ranking, then the new pair).
        let writtenByFirst = try await bed.historyTimestamps().count
        // The log line follows the write: give it a moment to arrive.
        try await waitUntil(timeout: .seconds(5)) {
            first.stderr.lines.filter { $0.contains("msg=\"merged snapshot\"") && $0.contains("outcome=written") }.count == writtenByFirst
        }
        #expect(!second.stderr.text.contains("msg=\"merged snapshot\""))
        #expect(!second.stderr.text.contains("holding the merger lease"))

        first.killNow()
        _ = try await first.waitForExit()
        try await publishPair(bed, priceAt: 1_715_667_600_000, rankAt: 1_715_667_600_000)
        try await second.waitForLine { $0.contains("holding the merger lease") }
        #expect(try await bed.waitForSnapshot(after: previous) == Timestamp(milliseconds: 1_715_667_600_000))
        let history = try await bed.historyTimestamps()
        let announced = try await bed.redis.xrange(merged).compactMap { $0.text("timestamp").flatMap { Int64($0) } }
        #expect(history.count > writtenByFirst)
        #expect(announced == history)
        #expect(try await second.terminate(timeout: .seconds(5)) == .exited(0))
        // A merger that stops gives the lease up at once.
        #expect(try await bed.redis.get(TestBed.keys.mergerLease) == nil)
    }

    @Test("a bad merger config stops it with exit code 2 naming the key")
    func badConfig() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeConfig("merger") { $0 = $0.setting(["retention"], .array([.object(JSONObject([("every", .string("fortnight"))]))])) }
            let run = try await bed.run("merger", arguments: ["--config", config])
            #expect(run.status == .exited(2))
            #expect(run.stderr.contains("\(config): retention[0].every: must be one of snapshot, minute, hour, day"))
        }
    }

    static func waitUntilNothingPending(_ bed: TestBed) async throws {
        try await waitUntil {
            let prices = try await pendingCount(bed, Self.prices)
            let ranks = try await pendingCount(bed, Self.ranks)
            return prices == 0 && ranks == 0
        }
    }

    /// Polls `condition` (Redis errors count as "not yet") until it holds, for up to 20 s.
    static func waitUntil(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if (try? await condition()) == true { return }
            guard ContinuousClock.now < deadline else { throw HarnessError("condition not met within \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
