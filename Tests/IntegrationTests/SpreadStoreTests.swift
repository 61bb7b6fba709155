import Testing

@testable import TopCoins

/// The spread store's one write script and its reads, against a real Redis.
@Suite("Spread store", .serialized)
struct SpreadStoreTests {
    static let rules = BookRules.defaults(for: "btc_mxn")

    static func observation(_ bid: String?, _ ask: String, at time: Timestamp) -> SpreadObservation {
        SpreadObservation(
            quote: BookQuote(book: "btc_mxn", bid: bid.flatMap { DecimalNumber($0) }, ask: DecimalNumber(ask), sequence: time.milliseconds / 1000, updatedAt: time),
            observedAt: time, rules: rules)
    }

    @Test("a write stores the observation, state, counters, episode, alert and summaries at once; a write from a stale state writes nothing")
    func writeIsAtomicAndFenced() async throws {
        try await TestBed.with { bed in
            let writer = SpreadWriter(redis: bed.redis, alertStream: "topcoins:alerts", alertStreamLength: 100, retentionDays: 30)
            let store = SpreadStore(redis: bed.redis)
            try await writer.publish(rules: [Self.rules, .defaults(for: "usd_mxn")])
            #expect(try await store.books().keys.sorted() == ["btc_mxn", "usd_mxn"])

            let hour = SpreadSummary.Width.hour.start(of: .now).adding(milliseconds: -3 * 3_600_000)
            let first = Self.observation("99.8", "100", at: hour.adding(milliseconds: 5_000))
            #expect(first.breach)
            var change = SpreadWriter.Change(observation: first, before: nil, after: "s1")
            change.counters = [("observations", 1), ("breaches", 1), ("episodes", 1)]
            let episode = AlertEpisode(book: "btc_mxn", state: .open, thresholdPct: Self.rules.thresholdPct, startedAt: first.observedAt, endedAt: nil, peakSpreadPct: first.spreadPct!)
            change.episodes = [episode]
            change.alerts = [[("id", episode.id), ("state", "open")]]
            #expect(try await writer.write(change) == .written)
            // The same change again (a redelivered entry): the state moved on, nothing is written.
            #expect(try await writer.write(change) == .stateMoved)

            let second = Self.observation("99.99", "100", at: hour.adding(milliseconds: 3_600_000 + 10_000))
            var closing = SpreadWriter.Change(observation: second, before: "s1", after: "s2")
            var closed = episode
            closed.state = .closed
            closed.endedAt = second.observedAt
            closing.episodes = [closed]
            closing.counters = [("observations", 1)]
            let summary = SpreadSummary.buckets(of: [first, second], width: .hour, maxGapSeconds: 60, episodeStarts: [first.observedAt])[0]
            closing.summaries = [(.hour, summary)]
            #expect(try await writer.write(closing) == .written)

            let read = try await store.observations(of: "btc_mxn", from: hour, to: .now, limit: 10)
            #expect(read.values == [first, second] && read.corrupt == 0)
            let limited = try await store.observations(of: "btc_mxn", from: hour, to: .now, limit: 1)
            #expect(limited.values == [first])
            #expect(try await store.latest()["btc_mxn"] == second)
            #expect(try await writer.states()["btc_mxn"] == "s2")
            #expect(try await store.counters() == ["btc_mxn:observations": 2, "btc_mxn:breaches": 1, "btc_mxn:episodes": 1])
            #expect(try await store.version() == 2)
            #expect(try await store.openEpisodes(book: nil).values.isEmpty)
            #expect(try await store.episodes(book: "btc_mxn", from: hour, to: .now).values == [closed])
            #expect(try await store.episodes(book: "usd_mxn", from: hour, to: .now).values.isEmpty)
            let stored = try await store.closedSummaries(of: "btc_mxn", width: .hour, starts: [hour, hour.adding(milliseconds: 3_600_000)])
            #expect(stored.values == [summary] && summary.millisecondsAbove == 60_000 && summary.episodes == 1)
            let alerts = try await bed.redis.xrange("topcoins:alerts")
            #expect(alerts.count == 1 && alerts.first?.text("id") == episode.id)
            // Hours expire a retention after they end.
            let ttl = try await bed.redis.send(["TTL", RedisArgument(SpreadKeys().observations("btc_mxn", hour: hour))]).int ?? -1
            #expect(ttl > 29 * 86_400 && ttl <= 30 * 86_400)

            // Stored garbage is counted, never returned.
            try await bed.redis.zadd(SpreadKeys().observations("btc_mxn", hour: hour), score: hour.milliseconds + 6_000, member: "garbage")
            let withGarbage = try await store.observations(of: "btc_mxn", from: hour, to: .now, limit: 10)
            #expect(withGarbage.values == [first, second] && withGarbage.corrupt == 1)
        }
    }
}
