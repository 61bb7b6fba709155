import Testing

@testable import TopCoins

@Suite("Spreads: exact spread, flags, stored forms and summaries")
struct SpreadTests {
    static let rules = BookRules.defaults(for: "btc_mxn")
    static let t0 = Timestamp(milliseconds: 1_764_601_200_000)  // 2025-12-01T15:00:00Z

    static func quote(_ bid: String?, _ ask: String?, updated: Timestamp = t0, sequence: Int64 = 1) -> BookQuote {
        BookQuote(book: "btc_mxn", bid: bid.flatMap { DecimalNumber($0) }, ask: ask.flatMap { DecimalNumber($0) }, sequence: sequence, updatedAt: updated)
    }

    @Test("spread_pct is (ask − bid) / ask × 100 from exact decimals; a breach is strictly above the threshold on the exact quotient")
    func exactSpread() {
        // 0.1 / 100 × 100 = 0.1 exactly: equal to the threshold, so no breach.
        let atThreshold = SpreadObservation(quote: Self.quote("99.9", "100"), observedAt: Self.t0, rules: Self.rules)
        #expect(atThreshold.spreadPct?.text == "0.1" && !atThreshold.breach && atThreshold.flags.isEmpty)
        // 1e-9 of a peso wider: the rounded spread still reads 0.1, the exact one is above.
        let hair = SpreadObservation(quote: Self.quote("99.899999999", "100"), observedAt: Self.t0, rules: Self.rules)
        #expect(hair.spreadPct?.text == "0.1" && hair.breach)
        // 1,702,345.10 and 1,703,000: 654.9 / 1,703,000 × 100 = 0.038455666...
        let btc = SpreadObservation(quote: Self.quote("1702345.10", "1703000"), observedAt: Self.t0, rules: Self.rules)
        #expect(btc.spreadPct?.text == "0.03845567")
        #expect(abs((btc.spreadPct?.doubleValue ?? 0) - (1_703_000 - 1_702_345.10) / 1_703_000 * 100) < 1e-8)
        // Half up at the 8th decimal: 1 / 3 × 100 = 33.333333333... and 2 / 3 × 100 = 66.66666667.
        #expect(SpreadPercent(bid: DecimalNumber("2")!, ask: DecimalNumber("3")!).rounded.text == "33.33333333")
        #expect(SpreadPercent(bid: DecimalNumber("1")!, ask: DecimalNumber("3")!).rounded.text == "66.66666667")
        #expect(SpreadPercent(bid: DecimalNumber("99.92")!, ask: DecimalNumber("100")!).isBelow(DecimalNumber("0.08000001")!))
        #expect(!SpreadPercent(bid: DecimalNumber("99.92")!, ask: DecimalNumber("100")!).isBelow(DecimalNumber("0.08")!))
    }

    @Test("crossed, one-sided and stale books are flagged and never breach")
    func flags() {
        let crossed = SpreadObservation(quote: Self.quote("101", "100"), observedAt: Self.t0, rules: Self.rules)
        #expect(crossed.flags == .crossed && crossed.spreadPct == nil && !crossed.breach)
        let locked = SpreadObservation(quote: Self.quote("100", "100.00"), observedAt: Self.t0, rules: Self.rules)
        #expect(locked.flags == .crossed)
        let noBids = SpreadObservation(quote: Self.quote(nil, "100"), observedAt: Self.t0, rules: Self.rules)
        #expect(noBids.flags == .oneSided && noBids.spreadPct == nil)
        let empty = SpreadObservation(quote: Self.quote(nil, nil), observedAt: Self.t0, rules: Self.rules)
        #expect(empty.flags == .oneSided)
        // Wide and 61 s old: a spread, but stale, so no breach; 60 s old is not stale yet.
        let stale = SpreadObservation(quote: Self.quote("90", "100", updated: Self.t0.adding(milliseconds: -61_000)), observedAt: Self.t0, rules: Self.rules)
        #expect(stale.flags == .stale && stale.spreadPct?.text == "10" && !stale.breach)
        let fresh = SpreadObservation(quote: Self.quote("90", "100", updated: Self.t0.adding(milliseconds: -60_000)), observedAt: Self.t0, rules: Self.rules)
        #expect(fresh.flags.isEmpty && fresh.breach)
        #expect(SpreadFlags([.crossed, .stale]).names == ["crossed", "stale"])
    }

    @Test("a stream record decodes to a quote; anything else is a named reason")
    func quotes() throws {
        func record(_ members: [(String, JSONValue)]) -> JSONObject { JSONObject(members) }
        let good = try BookQuote(
            record: record([
                ("book", .string("btc_mxn")), ("bid", .number("1702345.10")), ("ask", .null), ("sequence", .number("42")),
                ("updated_at", .string("2025-12-01T15:00:00.000Z")), ("source_rank", .number("1")),
            ]))
        #expect(good.bid?.text == "1702345.10" && good.ask == nil && good.sequence == 42 && good.updatedAt == Self.t0)
        let base: [(String, JSONValue)] = [("book", .string("btc_mxn")), ("sequence", .number("1")), ("updated_at", .string("2025-12-01T15:00:00Z"))]
        let cases: [([(String, JSONValue)], String)] = [
            ([("book", .string("BTC/MXN")), ("sequence", .number("1")), ("updated_at", .string("2025-12-01T15:00:00Z"))], "invalid_book"),
            ([("book", .string(String(repeating: "a", count: 33))), ("sequence", .number("1")), ("updated_at", .string("2025-12-01T15:00:00Z"))], "invalid_book"),
            (base + [("bid", .number("0"))], "invalid_price"),
            (base + [("ask", .number("-1"))], "invalid_price"),
            (base + [("ask", .string("100"))], "invalid_price"),
            (base + [("ask", .number("1" + String(repeating: "0", count: 24)))], "invalid_price"),
            (base + [("ask", .number("0." + String(repeating: "1", count: 19)))], "invalid_price"),
            ([("book", .string("btc_mxn")), ("sequence", .number("-1")), ("updated_at", .string("2025-12-01T15:00:00Z"))], "invalid_sequence"),
            ([("book", .string("btc_mxn")), ("sequence", .number("99999999999999999999")), ("updated_at", .string("2025-12-01T15:00:00Z"))], "invalid_sequence"),
            ([("book", .string("btc_mxn")), ("sequence", .number("1")), ("updated_at", .string("yesterday"))], "invalid_updated_at"),
            ([("book", .string("btc_mxn")), ("sequence", .number("1")), ("updated_at", .string("1970-01-01T00:00:00Z"))], "invalid_updated_at"),
        ]
        for (members, reason) in cases {
            #expect(throws: BookQuote.Invalid.self) { try BookQuote(record: record(members)) }
            do {
                _ = try BookQuote(record: record(members))
            } catch {
                #expect(error.reason == reason, "\(members)")
            }
        }
    }

    @Test("observations, episodes and summaries read back what was stored; malformed stored text is an error")
    func storedForms() throws {
        let observations = [
            SpreadObservation(quote: Self.quote("1702345.10", "1703000", sequence: 7), observedAt: Self.t0, rules: Self.rules),
            SpreadObservation(quote: Self.quote(nil, "17.1"), observedAt: Self.t0.adding(milliseconds: 10_000), rules: Self.rules),
            SpreadObservation(quote: Self.quote("18", "17.5", updated: Self.t0.adding(milliseconds: -3_600_000)), observedAt: Self.t0, rules: Self.rules),
        ]
        for observation in observations {
            #expect(try SpreadObservation(encoded: observation.encoded, book: "btc_mxn") == observation)
        }
        for bad in ["", "1|2|3", "x|||||0|1|1", "1764601200000|||||2|1|1764601200000", "1764601200000|||1|8|0|1|1764601200000", "1764601200000|abc||||0|1|1764601200000"] {
            #expect(throws: SpreadStoreError.self) { try SpreadObservation(encoded: bad, book: "btc_mxn") }
        }
        var episode = AlertEpisode(book: "usd_mxn", state: .open, thresholdPct: DecimalNumber("0.1")!, startedAt: Self.t0, endedAt: nil, peakSpreadPct: DecimalNumber("0.15")!)
        #expect(try AlertEpisode(json: JSONWriter.encode(episode.json)) == episode)
        episode.state = .closed
        episode.endedAt = Self.t0.adding(milliseconds: 30_000)
        #expect(try AlertEpisode(json: JSONWriter.encode(episode.json)) == episode)
        #expect(episode.id == "usd_mxn-1764601200000")
        #expect(throws: SpreadStoreError.self) { try AlertEpisode(json: Array(#"{"book":"usd_mxn","state":"closed","threshold_pct":0.1,"peak_spread_pct":1,"started_at":"2025-12-01T15:00:00Z","ended_at":null}"#.utf8)) }
        let summary = SpreadSummary.buckets(of: observations.sorted { $0.observedAt < $1.observedAt }, width: .hour, maxGapSeconds: 60, episodeStarts: [Self.t0])
        #expect(summary.count == 1)
        #expect(try SpreadSummary(json: JSONWriter.encode(summary[0].json)) == summary[0])
        #expect(throws: SpreadStoreError.self) { try SpreadSummary(json: Array(#"{"start":"2025-12-01T15:00:00Z","samples":-1}"#.utf8)) }
    }

    @Test("hourly summaries equal a count made here: samples, breaches, share, max, nearest-rank p95, time above, episodes, flags")
    func summaries() {
        // Two hours of observations every 10 s with a seeded spread between 0 and 0.2 %, a
        // crossed book every 17th, a one-sided every 23rd and a 70 s gap now and then.
        var random = SplitMix64(seed: 7)
        var observations: [SpreadObservation] = []
        var time = Self.t0.milliseconds
        for index in 0..<720 {
            time += index % 50 == 49 ? 70_000 : 10_000
            let ask = DecimalNumber("1000")!
            let bidUnits = 100_000 - Int64(random.next() % 200)
            let bid = index % 17 == 0 ? "1000.5" : index % 23 == 0 ? nil : DecimalNumber(mantissa: bidUnits, scale: 2).text
            observations.append(
                SpreadObservation(quote: Self.quote(bid, ask.text, updated: Timestamp(milliseconds: time)), observedAt: Timestamp(milliseconds: time), rules: Self.rules))
        }
        let starts = [Timestamp(milliseconds: time - 1_000_000), Self.t0.adding(milliseconds: 1_000)]
        let summaries = SpreadSummary.buckets(of: observations, width: .hour, maxGapSeconds: 60, episodeStarts: starts)
        let hour: Int64 = 3_600_000
        let groups = Dictionary(grouping: observations.indices) { observations[$0].observedAt.milliseconds / hour * hour }
        #expect(summaries.map(\.start.milliseconds) == groups.keys.sorted())
        for summary in summaries {
            let members = groups[summary.start.milliseconds]!
            // Independently: spreads recomputed from the prices in Double.
            let spreads = members.compactMap { index -> Double? in
                let o = observations[index]
                guard let bid = o.bid?.doubleValue, let ask = o.ask?.doubleValue, bid < ask else { return nil }
                return (ask - bid) / ask * 100
            }.sorted()
            let breaches = members.filter { index in
                let o = observations[index]
                guard let bid = o.bid?.doubleValue, let ask = o.ask?.doubleValue, bid < ask else { return false }
                return (ask - bid) / ask * 100 > 0.1 + 1e-12
            }
            let above = breaches.reduce(Int64(0)) { total, index in
                index + 1 < observations.count ? total + min(observations[index + 1].observedAt.milliseconds - observations[index].observedAt.milliseconds, 60_000) : total
            }
            #expect(summary.samples == members.count)
            #expect(summary.breaches == breaches.count)
            #expect(abs(summary.breachShare.doubleValue - Double(breaches.count) / Double(members.count)) < 1e-6)
            #expect(abs((summary.maxSpreadPct?.doubleValue ?? -1) - spreads.last!) < 1e-8)
            let rank = Int((0.95 * Double(spreads.count)).rounded(.up))
            #expect(abs((summary.p95SpreadPct?.doubleValue ?? -1) - spreads[rank - 1]) < 1e-8)
            #expect(summary.millisecondsAbove == above)
            #expect(summary.episodes == starts.filter { $0.milliseconds / hour * hour == summary.start.milliseconds }.count)
            #expect(summary.flagged["crossed"] == members.filter { (observations[$0].bid?.doubleValue ?? 0) >= 1000 }.count)
            #expect(summary.flagged["one_sided"] == members.filter { observations[$0].bid == nil }.count)
            #expect(summary.flagged["stale"] == 0)
        }
    }

    @Test("book rules read from a config object: defaults, overrides, and clear errors")
    func rules() throws {
        func read(_ text: String) throws(ConfigError) -> BookRules {
            let object = try ConfigObject.parse(file: "spread-monitor.json", bytes: Array(text.utf8), environment: [:])
            return try BookRules(reading: object, book: "usd_mxn", base: .defaults(for: "usd_mxn"))
        }
        #expect(try read("{}") == .defaults(for: "usd_mxn"))
        let custom = try read(#"{"threshold_pct": 0.25, "clear_below_pct": 0.2, "min_consecutive": 3, "cooldown_seconds": 120}"#)
        #expect(custom.thresholdPct.text == "0.25" && custom.clearBelowPct.text == "0.2" && custom.minConsecutive == 3 && custom.cooldownSeconds == 120)
        let stored = try ConfigObject.parse(file: "redis", bytes: JSONWriter.encode(custom.json), environment: [:])
        #expect(try BookRules(reading: stored, book: "usd_mxn", base: .defaults(for: "usd_mxn")) == custom)
        for (text, key) in [
            (#"{"threshold_pct": 0.05}"#, "threshold_pct"), (#"{"clear_below_pct": 0.2}"#, "clear_below_pct"), (#"{"threshold_pct": "0.1"}"#, "threshold_pct"),
            (#"{"threshold_pct": 0}"#, "threshold_pct"), (#"{"threshold_pct": 0.000000001}"#, "threshold_pct"), (#"{"min_consecutive": 0}"#, "min_consecutive"),
            (#"{"treshold_pct": 0.1}"#, "treshold_pct"),
        ] {
            #expect(throws: ConfigError.self) { try read(text) }
            do { _ = try read(text) } catch { #expect(error.keyPath == key, "\(text)") }
        }
    }
}
