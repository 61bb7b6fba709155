import Foundation
import Testing

@testable import TopCoins

/// The spread routes, `/ready` and `/metrics` over real sockets, with the built API on a real
/// Redis seeded through `SpreadWriter` exactly as the monitor writes: every answer is held
/// against values this test counts itself from the quotes it wrote.
@Suite("Spread API", .serialized)
struct SpreadAPITests: ReadsJSONAnswers {
    static let books = ["btc_mxn", "usd_mxn"]
    static let asks = ["btc_mxn": "1703000", "usd_mxn": "17.25"]
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    /// What a quote in the script is: its spread (percent, exact), or a flagged book.
    enum Kind {
        case spread(Decimal)
        case crossed, oneSided
        /// A spread, but `updated_at` two minutes before the observation.
        case stale(Decimal)
    }

    /// One seeded observation as this test wrote it.
    struct Seeded {
        let book: String
        let observedAt: Int64
        let bid: String?
        let ask: String
        let sequence: Int64
        let updatedAt: Int64
        let kind: Kind

        /// The spread in percent, computed here from the prices; nil when crossed or one-sided.
        var spread: Double? {
            guard let bid = bid.flatMap(Double.init), let ask = Double(ask), bid < ask else { return nil }
            return (ask - bid) / ask * 100
        }

        var flags: [String] {
            var flags: [String] = []
            if case .crossed = kind { flags.append("crossed") }
            if case .oneSided = kind { flags.append("one_sided") }
            if case .stale = kind { flags.append("stale") }
            return flags
        }

        /// Unflagged and above the default threshold of 0.1 %.
        var breach: Bool { flags.isEmpty && (spread ?? 0) > 0.1 + 1e-9 }
    }

    /// An episode as this test's own rules open and close it (threshold 0.1, clear 0.08).
    struct Episode {
        let book: String
        let startedAt: Int64
        var endedAt: Int64?
        var peak: Decimal
    }

    struct World {
        var observations: [Seeded] = []
        var episodes: [Episode] = []
        var counters: [String: Int] = [:]
        /// Each book's newest observation written (the monitor's state text is its index).
        var last: [String: Int] = [:]
    }

    /// The script: a kind per step, per book (offset, so the books differ), with spreads
    /// between 0.11 and 0.19 % when above, 0.05 below and 0.07 under the clear level.
    static func kind(_ step: Int, book: String) -> Kind {
        let above = Decimal(string: "0.1")! + Decimal(((step * 7) % 9) + 1) / 100
        switch (step + (book == "usd_mxn" ? 3 : 0)) % 9 {
        case 0, 8: return .spread(Decimal(string: "0.05")!)
        case 1, 2, 7: return .spread(above)
        case 3: return .crossed
        case 4: return .oneSided
        case 5: return .spread(Decimal(string: "0.07")!)
        default: return .stale(above)
        }
    }

    static func bid(ask: String, kind: Kind) -> String? {
        let price = Decimal(string: ask)!
        switch kind {
        case .spread(let pct), .stale(let pct): return "\(price - price * pct / 100)"
        case .crossed: return "\(price + price / 1000)"
        case .oneSided: return nil
        }
    }

    /// Writes one observation as the monitor would: the observation, its counters, the episode
    /// it opens or closes with its alert, and the summaries of the buckets it closes.
    static func write(_ seeded: Seeded, into world: inout World, writer: SpreadWriter) async throws {
        let rules = BookRules.defaults(for: seeded.book)
        let quote = BookQuote(
            book: seeded.book, bid: seeded.bid.flatMap { DecimalNumber($0) }, ask: DecimalNumber(seeded.ask), sequence: seeded.sequence,
            updatedAt: Timestamp(milliseconds: seeded.updatedAt))
        let observation = SpreadObservation(quote: quote, observedAt: Timestamp(milliseconds: seeded.observedAt), rules: rules)
        let previous = world.last[seeded.book]
        let index = world.observations.count
        var change = SpreadWriter.Change(observation: observation, before: previous.map(String.init), after: String(index))
        change.counters = [("observations", 1)]
        if seeded.breach { change.counters.append(("breaches", 1)) }
        for flag in seeded.flags { change.counters.append(("flagged_\(flag)", 1)) }
        let openIndex = world.episodes.lastIndex { $0.book == seeded.book && $0.endedAt == nil }
        if let spread = seeded.spread, seeded.flags.isEmpty, case .spread(let pct) = seeded.kind {
            if let openIndex {
                if spread < 0.08 {
                    world.episodes[openIndex].endedAt = seeded.observedAt
                } else if pct > world.episodes[openIndex].peak {
                    world.episodes[openIndex].peak = pct
                }
                change.episodes = [episode(world.episodes[openIndex])]
                if spread < 0.08 { change.alerts = [[("id", change.episodes[0].id), ("state", "closed")]] }
            } else if seeded.breach {
                world.episodes.append(Episode(book: seeded.book, startedAt: seeded.observedAt, endedAt: nil, peak: pct))
                change.episodes = [episode(world.episodes.last!)]
                change.alerts = [[("id", change.episodes[0].id), ("state", "open")]]
                change.counters.append(("episodes", 1))
            }
        }
        // The buckets this observation closes, summarised as the monitor does.
        if let previous {
            let before = world.observations[previous]
            for width in SpreadSummary.Width.allCases where width.start(of: Timestamp(milliseconds: before.observedAt)) != width.start(of: observation.observedAt) {
                let start = width.start(of: Timestamp(milliseconds: before.observedAt))
                let members = world.observations.filter { $0.book == seeded.book && width.start(of: Timestamp(milliseconds: $0.observedAt)) == start } + [seeded]
                let summary = SpreadSummary.buckets(
                    of: members.map { member in
                        SpreadObservation(
                            quote: BookQuote(
                                book: member.book, bid: member.bid.flatMap { DecimalNumber($0) }, ask: DecimalNumber(member.ask), sequence: member.sequence,
                                updatedAt: Timestamp(milliseconds: member.updatedAt)), observedAt: Timestamp(milliseconds: member.observedAt), rules: rules)
                    }, width: width, maxGapSeconds: rules.maxGapSeconds,
                    episodeStarts: world.episodes.filter { $0.book == seeded.book }.map { Timestamp(milliseconds: $0.startedAt) })
                change.summaries.append((width, summary.first { $0.start == start }!))
            }
        }
        #expect(try await writer.write(change) == .written)
        for (name, increment) in change.counters { world.counters["\(seeded.book):\(name)", default: 0] += increment }
        world.observations.append(seeded)
        world.last[seeded.book] = index
    }

    static func episode(_ episode: Episode) -> AlertEpisode {
        AlertEpisode(
            book: episode.book, state: episode.endedAt == nil ? .open : .closed, thresholdPct: DecimalNumber("0.1")!,
            startedAt: Timestamp(milliseconds: episode.startedAt), endedAt: episode.endedAt.map { Timestamp(milliseconds: $0) },
            peakSpreadPct: DecimalNumber("\(episode.peak)")!)
    }

    /// Three hours and some of both books, 10 s, 10 s then 280 s apart, up to a few seconds
    /// ago for btc_mxn; usd_mxn stops an hour earlier, with an episode open.
    static func seed(_ bed: TestBed, now: Timestamp) async throws -> World {
        let writer = SpreadWriter(redis: bed.redis, alertStream: "topcoins:alerts", alertStreamLength: 1000, retentionDays: 30)
        try await writer.publish(rules: books.map { BookRules.defaults(for: $0) })
        var world = World()
        let start = (now.milliseconds / hour - 3) * hour + 30_000
        var time = start
        var step = 0
        while time < now.milliseconds - 5_000 {
            let next = time + [10_000, 10_000, 280_000][step % 3]
            for book in books {
                var kind = kind(step, book: book)
                // btc_mxn ends on an unflagged spread below the clear level (its gauge, and a
                // closed episode); usd_mxn stops an hour early, above its threshold (an open one).
                if book == "btc_mxn", next >= now.milliseconds - 5_000 { kind = .spread(Decimal(string: "0.05")!) }
                if book == "usd_mxn" {
                    guard time < now.milliseconds - hour else { continue }
                    if next >= now.milliseconds - hour { kind = .spread(Decimal(string: "0.13")!) }
                }
                let updated: Int64
                if case .stale = kind { updated = time - 120_000 } else { updated = time - 500 }
                let seeded = Seeded(
                    book: book, observedAt: time + (book == "usd_mxn" ? 3 : 0), bid: bid(ask: asks[book]!, kind: kind), ask: asks[book]!,
                    sequence: Int64(1000 + step), updatedAt: updated, kind: kind)
                try await write(seeded, into: &world, writer: writer)
            }
            time = next
            step += 1
        }
        return world
    }

    static func iso(_ milliseconds: Int64) -> String { Timestamp(milliseconds: milliseconds).iso8601 }

    /// An observation as the test expects it served: each field's text ("" for null).
    static func fields(_ seeded: Seeded) -> [String] {
        [iso(seeded.observedAt), seeded.book, seeded.bid ?? "", seeded.ask, "", seeded.flags.joined(separator: ";"), String(seeded.sequence), iso(seeded.updatedAt)]
    }

    /// Served fields against the seeded observation; the spread compared as a number.
    static func check(served: [String], seeded: Seeded, _ context: String) {
        var expected = fields(seeded)
        #expect(served.count == expected.count, "\(context)")
        guard served.count == expected.count else { return }
        if let spread = seeded.spread {
            #expect(abs((Double(served[4]) ?? -1) - spread) < 5e-9, "\(context) spread \(served[4]) vs \(spread)")
        } else {
            #expect(served[4] == "", "\(context) spread of a crossed or one-sided book")
        }
        expected[4] = served[4]
        #expect(served == expected, "\(context)")
    }

    /// A bucket's expected figures, counted here.
    struct Bucket: Equatable {
        var samples = 0
        var breaches = 0
        var spreads: [Double] = []
        var millisecondsAbove: Int64 = 0
        var episodes = 0
        var crossed = 0
        var oneSided = 0
        var stale = 0
    }

    static func buckets(_ world: World, book: String, width: Int64) -> [Int64: Bucket] {
        let mine = world.observations.filter { $0.book == book }
        var buckets: [Int64: Bucket] = [:]
        for (index, seeded) in mine.enumerated() {
            let start = seeded.observedAt / width * width
            var bucket = buckets[start, default: Bucket()]
            bucket.samples += 1
            if seeded.breach {
                bucket.breaches += 1
                if index + 1 < mine.count { bucket.millisecondsAbove += min(mine[index + 1].observedAt - seeded.observedAt, 60_000) }
            }
            if seeded.flags.isEmpty, let spread = seeded.spread { bucket.spreads.append(spread) }
            bucket.crossed += seeded.flags.contains("crossed") ? 1 : 0
            bucket.oneSided += seeded.flags.contains("one_sided") ? 1 : 0
            bucket.stale += seeded.flags.contains("stale") ? 1 : 0
            buckets[start] = bucket
        }
        for episode in world.episodes where episode.book == book { buckets[episode.startedAt / width * width]?.episodes += 1 }
        return buckets
    }

    /// A served summary row (named fields, as JSON or CSV gives them) against the count here.
    static func check(row: [String: String], expected bucket: Bucket, _ context: String) {
        #expect(Int(row["samples"] ?? "") == bucket.samples, "\(context) samples")
        #expect(Int(row["breaches"] ?? "") == bucket.breaches, "\(context) breaches")
        #expect(abs((Double(row["breach_share"] ?? "") ?? -1) - Double(bucket.breaches) / Double(bucket.samples)) <= 5e-7, "\(context) share")
        let sorted = bucket.spreads.sorted()
        if sorted.isEmpty {
            #expect(row["max_spread_pct"] == "" && row["p95_spread_pct"] == "", "\(context) no unflagged spread")
        } else {
            #expect(abs((Double(row["max_spread_pct"] ?? "") ?? -1) - sorted.last!) < 5e-9, "\(context) max")
            let rank = Int((0.95 * Double(sorted.count)).rounded(.up))
            #expect(abs((Double(row["p95_spread_pct"] ?? "") ?? -1) - sorted[rank - 1]) < 5e-9, "\(context) p95")
        }
        #expect(Double(row["seconds_above"] ?? "") == Double(bucket.millisecondsAbove) / 1000, "\(context) seconds_above")
        #expect(Int(row["episodes"] ?? "") == bucket.episodes, "\(context) episodes")
        #expect(
            [row["flagged_crossed"], row["flagged_one_sided"], row["flagged_stale"]].map { Int($0 ?? "") } == [bucket.crossed, bucket.oneSided, bucket.stale],
            "\(context) flagged")
    }

    /// A JSON summary element as named fields (nulls as "", the flag counts flattened).
    static func row(_ element: JSONValue) -> [String: String] {
        var row: [String: String] = [:]
        for key in ["start", "book", "samples", "breaches", "breach_share", "max_spread_pct", "p95_spread_pct", "seconds_above", "episodes"] {
            row[key] = text(element[key]) ?? ""
        }
        for flag in ["crossed", "one_sided", "stale"] { row["flagged_\(flag)"] = text(element["flagged"]?[flag]) ?? "" }
        return row
    }

    static func csvRows(_ response: HTTPResponse) -> (header: String, rows: [[String]]) {
        let lines = String(decoding: response.body, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        return (lines.first ?? "", lines.dropFirst().map { $0.components(separatedBy: ",") })
    }

    @Test("/spreads and /spreads/summary (by hour and day, JSON and CSV) equal what was seeded and counted here; /alerts lists the episodes")
    func answersEqualTheSeededRecord() async throws {
        try await TestBed.with { bed in
            let now = Timestamp.now
            let world = try await Self.seed(bed, now: now)
            let api = try await bed.startAPI()
            let first = world.observations.map(\.observedAt).min()!
            let last = world.observations.map(\.observedAt).max()!

            // Observations, one book and all of them, JSON and CSV.
            for book in Self.books {
                let seeded = world.observations.filter { $0.book == book }
                let answer = try Self.json(try await api.request("/spreads?book=\(book)&from=\(Self.iso(first))&to=\(Self.iso(last))"))
                #expect(Self.text(answer["book"]) == book && Int(Self.text(answer["count"]) ?? "") == seeded.count)
                let data = Self.array(answer["data"])
                #expect(data.count == seeded.count)
                for (element, expected) in zip(data, seeded) {
                    let flags = Self.array(element["flags"]).compactMap { Self.text($0) }.joined(separator: ";")
                    let served = ["observed_at", "book", "bid", "ask", "spread_pct"].map { Self.text(element[$0]) ?? "" } + [flags]
                        + ["sequence", "updated_at"].map { Self.text(element[$0]) ?? "" }
                    Self.check(served: served, seeded: expected, "\(book) JSON")
                }
            }
            let window = (from: now.milliseconds - 2 * Self.hour, to: now.milliseconds)
            let inWindow = world.observations.filter { $0.observedAt >= window.from && $0.observedAt <= window.to }
                .sorted { ($0.observedAt, $0.book) < ($1.observedAt, $1.book) }
            let csv = Self.csvRows(try await api.request("/spreads?from=\(Self.iso(window.from))&to=\(Self.iso(window.to))&format=csv"))
            #expect(csv.header == "observed_at,book,bid,ask,spread_pct,flags,sequence,updated_at")
            #expect(csv.rows.count == inWindow.count && inWindow.count > 10)
            for (served, expected) in zip(csv.rows, inWindow) { Self.check(served: served, seeded: expected, "all books CSV") }
            let all = try Self.json(try await api.request("/spreads?from=\(Self.iso(window.from))&to=\(Self.iso(window.to))"))
            #expect(all["book"] == .null && Int(Self.text(all["count"]) ?? "") == inWindow.count)
            // Default: the last hour, where only btc_mxn still reports.
            let recent = Self.array(try Self.json(try await api.request("/spreads"))["data"])
            #expect(!recent.isEmpty && recent.allSatisfy { Self.text($0["book"]) == "btc_mxn" })

            // Summaries by hour and day, one book and all, JSON and CSV.
            for (by, width) in [("hour", Self.hour), ("day", Self.day)] {
                let from = Self.iso(first / width * width)
                for book in Self.books {
                    let expected = Self.buckets(world, book: book, width: width)
                    let answer = try Self.json(try await api.request("/spreads/summary?book=\(book)&by=\(by)&from=\(from)"))
                    #expect(Self.text(answer["by"]) == by && Self.text(answer["book"]) == book)
                    let data = Self.array(answer["data"])
                    #expect(data.map { Self.text($0["start"]) } == expected.keys.sorted().map { Self.iso($0) }, "\(book) by \(by)")
                    for element in data {
                        let row = Self.row(element)
                        let start = Timestamp(iso8601: row["start"] ?? "")?.milliseconds ?? 0
                        #expect(row["book"] == "", "a one-book answer names no book per element")
                        Self.check(row: row, expected: expected[start] ?? Bucket(), "\(book) by \(by) at \(row["start"] ?? "")")
                    }
                }
                let expected = Self.books.flatMap { book in Self.buckets(world, book: book, width: width).map { (start: $0.key, book: book, bucket: $0.value) } }
                    .sorted { ($0.start, $0.book) < ($1.start, $1.book) }
                let both = Self.array(try Self.json(try await api.request("/spreads/summary?by=\(by)&from=\(from)"))["data"])
                #expect(both.map { "\(Self.text($0["start"]) ?? "") \(Self.text($0["book"]) ?? "")" } == expected.map { "\(Self.iso($0.start)) \($0.book)" })
                let csv = Self.csvRows(try await api.request("/spreads/summary?by=\(by)&from=\(from)&format=csv"))
                let columns = "start,book,samples,breaches,breach_share,max_spread_pct,p95_spread_pct,seconds_above,episodes,flagged_crossed,flagged_one_sided,flagged_stale"
                #expect(csv.header == columns)
                #expect(csv.rows.count == expected.count)
                for (cells, bucket) in zip(csv.rows, expected) {
                    let row = Dictionary(uniqueKeysWithValues: zip(columns.components(separatedBy: ","), cells))
                    #expect(row["start"] == Self.iso(bucket.start) && row["book"] == bucket.book)
                    Self.check(row: row, expected: bucket.bucket, "CSV \(bucket.book) by \(by) at \(row["start"] ?? "")")
                }
            }

            // Hours the monitor has not closed (their stored summaries gone, as before the
            // monitor closes them) are computed from their observations, the one after each
            // ending its last breach, and the episodes that opened in them.
            _ = try await bed.redis.del([SpreadKeys().summaries("usd_mxn", width: .hour)])
            _ = try await bed.redis.send(["INCR", RedisArgument(SpreadKeys().version)])
            let computed = Self.buckets(world, book: "usd_mxn", width: Self.hour)
            let recomputed = Self.array(try Self.json(try await api.request("/spreads/summary?book=usd_mxn&from=\(Self.iso(first / Self.hour * Self.hour))"))["data"])
            #expect(recomputed.map { Self.text($0["start"]) } == computed.keys.sorted().map { Self.iso($0) })
            #expect(computed.values.contains { $0.millisecondsAbove > 0 } && computed.values.contains { $0.episodes > 0 })
            for element in recomputed {
                let row = Self.row(element)
                Self.check(row: row, expected: computed[Timestamp(iso8601: row["start"] ?? "")?.milliseconds ?? 0] ?? Bucket(), "computed usd_mxn hour \(row["start"] ?? "")")
            }

            // Alerts: every episode over the retention, and the open ones.
            let episodes = world.episodes.sorted { $0.startedAt < $1.startedAt }
            #expect(episodes.contains { $0.endedAt == nil } && episodes.contains { $0.endedAt != nil })
            func served(_ answer: JSONValue) -> [String] {
                Self.array(answer["data"]).map { element in
                    ["id", "book", "state", "threshold_pct", "started_at", "ended_at", "peak_spread_pct"].map { Self.text(element[$0]) ?? "" }.joined(separator: ",")
                }
            }
            func line(_ episode: Episode) -> String {
                "\(episode.book)-\(episode.startedAt),\(episode.book),\(episode.endedAt == nil ? "open" : "closed"),0.1,\(Self.iso(episode.startedAt)),"
                    + "\(episode.endedAt.map { Self.iso($0) } ?? ""),\(episode.peak)"
            }
            #expect(served(try Self.json(try await api.request("/alerts"))) == episodes.map(line))
            #expect(served(try Self.json(try await api.request("/alerts?state=all&book=btc_mxn"))) == episodes.filter { $0.book == "btc_mxn" }.map(line))
            #expect(served(try Self.json(try await api.request("/alerts?state=open"))) == episodes.filter { $0.endedAt == nil }.map(line))
            let since = episodes[episodes.count / 2].startedAt
            #expect(served(try Self.json(try await api.request("/alerts?from=\(Self.iso(since))"))) == episodes.filter { $0.startedAt >= since }.map(line))
            let alertsCSV = String(decoding: try await api.request("/alerts?state=open&format=csv").body, as: UTF8.self)
            #expect(alertsCSV == "id,book,state,threshold_pct,started_at,ended_at,peak_spread_pct\r\n" + episodes.filter { $0.endedAt == nil }.map { line($0) + "\r\n" }.joined())
        }
    }

    @Test("bad parameters are the right 4xx naming them; caching headers, 304 and HEAD; a new observation changes the summary; Redis away is 503")
    func errorsCachingAndOutage() async throws {
        try await TestBed.with { bed in
            let now = Timestamp.now
            var world = try await Self.seed(bed, now: now)
            let api = try await bed.startAPI()
            for (request, status, code, parameter) in [
                ("/spreads?book=eth_mxn", 404, "unknown_book", "book"), ("/spreads/summary?book=BTC/MXN", 404, "unknown_book", "book"),
                ("/alerts?book=eth_mxn", 404, "unknown_book", "book"), ("/spreads?book=btc_mxn&book=usd_mxn", 400, "invalid_book", "book"),
                ("/spreads/summary?by=week", 400, "invalid_by", "by"), ("/alerts?state=closed", 400, "invalid_state", "state"),
                ("/spreads?from=yesterday", 400, "invalid_from", "from"), ("/spreads/summary?to=soon", 400, "invalid_to", "to"),
                ("/alerts?from=2026-01-02&to=2026-01-01", 400, "invalid_from", "from"), ("/spreads?from=2026-01-02&to=2026-01-01", 400, "invalid_from", "from"),
                ("/spreads?format=xml", 400, "invalid_format", "format"), ("/spreads/summary?from=2010-01-01", 400, "range_too_large", "from"),
            ] {
                let response = try await api.request(request)
                #expect(response.status == status, "\(request)")
                let error = try Self.json(response)["error"]
                #expect(Self.text(error?["code"]) == code && Self.text(error?["parameter"]) == parameter, "\(request)")
                if code == "unknown_book" { #expect(Self.array(error?["books"]).compactMap { Self.text($0) } == Self.books, "\(request)") }
                if code == "range_too_large" { #expect(Self.text(error?["max_points"]) == "10000") }
            }
            #expect(try await api.request("/alerts", method: "POST").status == 405)

            // Caching: a tag, 304 for it, HEAD with the same headers and no body.
            let path = "/spreads/summary?book=btc_mxn&from=\(Self.iso(now.milliseconds / Self.hour * Self.hour - 3 * Self.hour))"
            let answer = try await api.request(path)
            #expect(answer.status == 200)
            let etag = try #require(answer.header("ETag"))
            #expect(answer.header("Cache-Control") == "public, max-age=5" && answer.header("Last-Modified") != nil && answer.header("Vary") == "Accept")
            #expect(try await api.request(path, headers: [("If-None-Match", etag)]).status == 304)
            let head = try await api.request(path, method: "HEAD")
            #expect(head.status == 200 && head.body.isEmpty && head.header("ETag") == etag)
            let past = "/spreads?book=btc_mxn&from=\(Self.iso(now.milliseconds - 3 * Self.hour))&to=\(Self.iso(now.milliseconds - 2 * Self.hour))"
            #expect(try await api.request(past).header("Cache-Control") == "public, max-age=3600")
            let csv = try await api.request(path + "&format=csv")
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true && csv.header("ETag") != etag)

            // One more observation in the open hour: the cached summary gives way to one that counts it.
            let writer = SpreadWriter(redis: bed.redis, alertStream: "topcoins:alerts", alertStreamLength: 1000, retentionDays: 30)
            let time = max(Timestamp.now.milliseconds, world.observations.map(\.observedAt).max()! + 1)
            try await Self.write(
                Seeded(book: "btc_mxn", observedAt: time, bid: "1702148.5", ask: "1703000", sequence: 99_999, updatedAt: time, kind: .spread(Decimal(string: "0.05")!)),
                into: &world, writer: writer)
            let after = try await api.request(path)
            #expect(after.header("ETag") != etag)
            let newest = try #require(Self.array(try Self.json(after)["data"]).last.map(Self.row))
            #expect(newest["start"] == Self.iso(time / Self.hour * Self.hour))
            Self.check(row: newest, expected: Self.buckets(world, book: "btc_mxn", width: Self.hour)[time / Self.hour * Self.hour] ?? Bucket(), "after a write")

            // A corrupt stored observation is left out and counted, never a 500.
            let hourKey = SpreadKeys().observations("btc_mxn", hour: Timestamp(milliseconds: time / Self.hour * Self.hour))
            try await bed.redis.zadd(hourKey, score: time - 1, member: "garbage")
            let withGarbage = try await api.request("/spreads?book=btc_mxn&from=\(Self.iso(time - 1))&to=\(Self.iso(time))")
            let garbageCount = Int(Self.text(try Self.json(withGarbage)["count"]) ?? "")
            #expect(withGarbage.status == 200 && garbageCount == 1)
            let metrics = String(decoding: try await api.request("/metrics").body, as: UTF8.self)
            #expect(metrics.contains("topcoins_spread_corrupt_entries_total 1"), "\(metrics)")

            // Redis away: 503 with Retry-After, in the one error shape.
            try await bed.redisServer.shutdownServer()
            let down = try await api.request("/spreads/summary?book=btc_mxn")
            #expect(down.status == 503 && down.header("Retry-After") != nil)
            #expect(Self.text(try Self.json(down)["error"]?["code"]) == "unavailable")
        }
    }

    @Test("/ready names the stalled book and lists the spread components; /metrics has the spread gauge and counters; the point limit holds")
    func readinessMetricsAndLimit() async throws {
        try await TestBed.with { bed in
            let now = Timestamp.now
            let world = try await Self.seed(bed, now: now)
            for component in ["spread-monitor", "bitso"] {
                try await PipelineStatus(redis: bed.redis, component: component).recordSuccess(at: .now, duration: .milliseconds(3), figures: [:])
            }
            // usd_mxn's newest observation is over an hour old, btc_mxn's seconds old.
            let api = try await bed.startAPI { $0 = $0.setting(["books_stale_after_seconds"], .number("1800")).setting(["max_points"], .number("50")) }
            try await Faults.waitUntil("book_stalled in /ready") {
                let ready = try Self.json(try await api.request("/ready"))
                return Self.array(ready["reasons"]).compactMap { Self.text($0) }.contains("book_stalled:usd_mxn")
            }
            let ready = try Self.json(try await api.request("/ready"))
            let reasons = Self.array(ready["reasons"]).compactMap { Self.text($0) }
            #expect(!reasons.contains("book_stalled:btc_mxn"))
            guard case .object(let components)? = ready["components"] else { Issue.record("no components"); return }
            #expect(components["spread-monitor"]?["last_success_at"] != nil && components["bitso"]?["last_success_at"] != nil)

            let metrics = String(decoding: try await api.request("/metrics").body, as: UTF8.self)
            let lines = Set(metrics.split(separator: "\n").map(String.init))
            let btc = world.observations.last { $0.book == "btc_mxn" }!
            #expect(btc.flags.isEmpty && btc.bid == "1702148.5")
            let gauge = lines.first { $0.hasPrefix("topcoins_spread_pct{book=\"btc_mxn\"} ") }.map { Double($0.split(separator: " ").last!) ?? -1 }
            #expect(abs((gauge ?? -1) - btc.spread!) < 5e-9, "\(metrics)")
            #expect(lines.contains("# TYPE topcoins_spread_breaches_total counter"))
            for book in Self.books {
                for (family, counter) in [
                    ("topcoins_spread_observations_total", "observations"), ("topcoins_spread_breaches_total", "breaches"),
                    ("topcoins_spread_episodes_total", "episodes"),
                ] {
                    let expected = world.counters["\(book):\(counter)"] ?? 0
                    #expect(expected > 0 && lines.contains("\(family){book=\"\(book)\"} \(expected)"), "\(family) \(book)")
                }
                for flag in ["crossed", "one_sided", "stale"] {
                    let expected = world.observations.filter { $0.book == book && $0.flags.contains(flag) }.count
                    #expect(expected > 0 && lines.contains("topcoins_spread_flagged_total{book=\"\(book)\",flag=\"\(flag)\"} \(expected)"), "\(flag) \(book)")
                }
            }

            // max_points 50: more observations than that is a 400 naming the limit.
            let tooMany = try await api.request("/spreads?book=btc_mxn&from=\(Self.iso(now.milliseconds - 4 * Self.hour))")
            #expect(tooMany.status == 400)
            let error = try Self.json(tooMany)["error"]
            #expect(Self.text(error?["code"]) == "range_too_large" && Self.text(error?["max_points"]) == "50")
            #expect(try await api.request("/spreads?book=btc_mxn&from=\(Self.iso(now.milliseconds - 20 * 60_000))").status == 200)
        }
    }
}
