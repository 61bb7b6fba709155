import Foundation
import Logging
import Testing

@testable import TopCoins

/// The series store with a real Redis and the built merger: the series say what the snapshots
/// say, retention folds without changing a bucket, and older history converts resumably.
@Suite("Series store", .serialized)
struct SeriesStoreTests {
    static let hour: Int64 = 3_600_000
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// The (time, price) pairs of raw points, to compare with the snapshots' rows.
    static func pairs(_ points: [PriceBucket]) -> [(Int64, String)] {
        points.map { ($0.start.milliseconds, $0.price.text) }
    }

    static func same(_ a: [(Int64, String)], _ b: [(Int64, String)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// Independently of `PriceBucket.aggregate`: group by the UTC bucket, then first, highest,
    /// lowest, last and count (prices here have at most 15 significant digits, so Double orders them).
    static func ohlc(_ points: [(Int64, String)], width: Int64) -> [(Int64, String, String, String, String, Int)] {
        Dictionary(grouping: points) { $0.0 / width * width }.sorted { $0.key < $1.key }.map { start, members in
            let byValue = members.sorted { Double($0.1)! < Double($1.1)! }
            return (start, members.first!.1, byValue.last!.1, byValue.first!.1, members.last!.1, members.count)
        }
    }

    static func ohlc(_ buckets: [PriceBucket]) -> [(Int64, String, String, String, String, Int)] {
        buckets.map { ($0.start.milliseconds, $0.open.text, $0.high.text, $0.low.text, $0.close.text, $0.count) }
    }

    static func sameBuckets(_ a: [(Int64, String, String, String, String, Int)], _ b: [(Int64, String, String, String, String, Int)]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                x.0 == y.0 && Double(x.1) == Double(y.1) && Double(x.2) == Double(y.2) && Double(x.3) == Double(y.3) && Double(x.4) == Double(y.4) && x.5 == y.5
            }
    }

    @Test("the merger's series hold exactly each snapshot's rows, closed hours compacted, and the catalogue every listed coin")
    func seriesEqualSnapshots() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startMerger()
            let market = MovingMarket()
            // Three hours of snapshots ending now, so the older hours are closed and compacted.
            let now = Timestamp.now.milliseconds
            let steps = 36
            for step in 0..<steps {
                let time = Timestamp(milliseconds: now - 3 * Self.hour + Int64(step) * 5 * 60_000)
                try await bed.publish(market, step: step, at: time)
                try await Faults.waitUntil("snapshot \(step)") { try await bed.latestSnapshot() == time }
            }
            let expected = try await bed.seriesFromSnapshots()
            #expect(try await bed.historyTimestamps().count == steps)
            for id in 1...Int64(market.assets) {
                let stored = try await bed.storedSeries(of: id)
                #expect(Self.same(Self.pairs(stored), expected[id] ?? []), "asset \(id)")
                #expect(stored.allSatisfy { $0.isRawPoint })
            }
            // A coin that is priced but never ranked has no series, yet is in the catalogue.
            #expect(expected[7] == nil)
            let catalogue = try #require(try await History(redis: bed.redis).catalogue())
            #expect(catalogue.count == market.assets)
            let renamed = try #require(catalogue.entries[3])
            #expect(renamed.symbol == "NEW" && renamed.firstSeen.milliseconds == now - 3 * Self.hour)
            #expect(catalogue.entries[5]?.symbol == "币安币")
            // Hours that closed over an hour ago were rewritten as compact blocks. A field of
            // one or two points stays plain (a block would not be smaller), so the hour checked
            // is the oldest holding at least three snapshots (the oldest hour holds one when
            // the test starts in an hour's last five minutes).
            var checked: SeriesSpan?
            for span in try await History(redis: bed.redis).spans(overlapping: (now - 3 * Self.hour)...now) {
                let times = try await bed.redis.send(["HGET", RedisArgument(HistoryKeys().series(span)), RedisArgument(SeriesCodec.timesField)]).bytes ?? []
                if times.count >= 3 * 8 {
                    checked = span
                    break
                }
            }
            let full = try #require(checked)
            let field = try #require(try await bed.redis.send(["HGET", RedisArgument(HistoryKeys().series(full)), "1"]).bytes)
            #expect(field.first == SeriesCodec.blockTag, "\(full.member)")
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    @Test("retention folds raw hours into hour buckets and those into days without changing any bucket's values")
    func retentionFoldsWithoutChangingBuckets() async throws {
        try await TestBed.with { bed in
            let history = History(redis: bed.redis)
            let lease = MergerLease(redis: bed.redis, key: history.keys.mergerLease, owner: "test", seconds: 60)
            #expect(try await lease.acquire())
            var hold = LeaseHold(lease)
            var registry = AssetRegistry()
            let catalogue = Catalogue()
            let market = MovingMarket(assets: 12)
            let start = (Timestamp.now.milliseconds / 86_400_000 - 10) * 86_400_000
            for step in 0..<(2 * 24 * 6) {
                let time = Timestamp(milliseconds: start + Int64(step) * 10 * 60_000 + Int64(step % 7) * 1000)
                let snapshot = market.snapshot(step: step, at: time)
                #expect(try await history.write(snapshot, registry: &registry, catalogue: catalogue, announceOn: "topcoins:merged", lease: lease, latestLimit: .latestRepresentable) == .written)
            }
            let raw = try await bed.seriesFromSnapshots()
            let now = Timestamp.now
            #expect(try await history.applyRetention(.default, now: now, hold: &hold, logger: Self.quiet))
            for (id, points) in raw {
                let stored = try await bed.storedSeries(of: id)
                #expect(stored.allSatisfy { $0.width == Self.hour })
                #expect(Self.sameBuckets(Self.ohlc(stored), Self.ohlc(points, width: Self.hour)), "asset \(id) hourly")
            }
            // 100 days on, the hour buckets fold into days: the same as folding the raw points.
            #expect(try await history.applyRetention(.default, now: now.adding(milliseconds: 100 * 86_400_000), hold: &hold, logger: Self.quiet))
            for (id, points) in raw {
                let stored = try await bed.storedSeries(of: id)
                #expect(stored.allSatisfy { $0.width == 86_400_000 } && stored.count == 2)
                #expect(Self.sameBuckets(Self.ohlc(stored), Self.ohlc(points, width: 86_400_000)), "asset \(id) daily")
            }
        }
    }

    /// Two days of ten-minute snapshots of 30 coins, written without series.
    static func writeOldHistory(_ bed: TestBed) async throws {
        let market = MovingMarket(assets: 30)
        let start = (Timestamp.now.milliseconds / 86_400_000 - 3) * 86_400_000
        for step in 0..<(2 * 24 * 6) {
            try await bed.writeSnapshotWithoutSeries(market.snapshot(step: step, at: Timestamp(milliseconds: start + Int64(step) * 10 * 60_000 + 17)))
        }
    }

    static func waitForConversion(_ bed: TestBed, merger: ChildProcess) async throws {
        try await Faults.waitUntil("conversion") {
            guard merger.isRunning else { throw HarnessError("merger exited:\n\(merger.stderr.text.suffix(3000))") }
            let progress = try await bed.redis.hgetall(HistoryKeys().seriesConversion)
            return progress["through"] != nil && progress["through"] == progress["until"]
        }
    }

    @Test("older history converts into series at merger start; killed at random points and restarted it ends identical to an uninterrupted run")
    func conversionIsResumableAndIdempotent() async throws {
        let uninterrupted = try await TestBed.with { bed in
            try await Self.writeOldHistory(bed)
            let merger = try bed.startMerger()
            try await Self.waitForConversion(bed, merger: merger)
            let expected = try await bed.seriesFromSnapshots()
            for (id, points) in expected { #expect(Self.same(Self.pairs(try await bed.storedSeries(of: id)), points), "asset \(id)") }
            // Every coin the snapshots held (each seventh is never ranked, so never in them).
            #expect(try #require(try await History(redis: bed.redis).catalogue()).count == 26)
            // Run twice: a restart changes nothing.
            let dump = try await bed.seriesDump()
            #expect(try await merger.terminate(timeout: .seconds(5)) == .exited(0))
            let again = try bed.startMerger()
            try await again.waitForLine { $0.contains("merger started") }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await bed.seriesDump() == dump)
            #expect(try await again.terminate(timeout: .seconds(5)) == .exited(0))
            return dump
        }
        try await TestBed.with { bed in
            try await Self.writeOldHistory(bed)
            var random = SystemRandomNumberGenerator()
            var interruptedMidway = 0
            for _ in 0..<5 {
                // Killed once the conversion has reached a random hour of the two days.
                let spans = try await bed.redis.send(["ZCARD", RedisArgument(HistoryKeys().seriesSpans)]).int ?? 0
                let target = spans + Int.random(in: 1...12, using: &random)
                let merger = try bed.startMerger()
                await Faults.poll(timeout: .seconds(10), every: .milliseconds(1)) {
                    let reached = try await bed.redis.send(["ZCARD", RedisArgument(HistoryKeys().seriesSpans)]).int ?? 0
                    return !merger.isRunning || reached >= target
                }
                merger.killNow()
                _ = try await merger.waitForExit()
                let progress = try await bed.redis.hgetall(HistoryKeys().seriesConversion)
                if progress["through"] != progress["until"] { interruptedMidway += 1 }
                // The lease of the killed merger must lapse before the next one writes.
                try await bed.redis.send(["DEL", RedisArgument(HistoryKeys().mergerLease)])
            }
            #expect(interruptedMidway > 0, "no kill landed during the conversion")
            let merger = try bed.startMerger()
            try await merger.waitForLine { $0.contains("merger started") }
            try await Self.waitForConversion(bed, merger: merger)
            #expect(try await bed.seriesDump() == uninterrupted)
            let exit = try await merger.terminate(timeout: .seconds(5))
            #expect(exit == .exited(0), "merger log:\n\(merger.stderr.text.suffix(3000))")
        }
    }
}
