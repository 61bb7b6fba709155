import Foundation
import Testing

@testable import TopCoins

/// The built `book-fetcher` against the fake upstream's Bitso order books and a real
/// redis-server: what it publishes is checked against bodies scripted here (the best levels
/// worked out in the test with Foundation's `Decimal`, not the library's decimals), what it
/// asked and when is read from the fake's request log.
@Suite("book-fetcher end to end", .serialized, .timeLimit(.minutes(3)))
struct BookFetcherTests {
    static let path = "/v3/order_book/"
    static let stream = "topcoins:books"
    static let rateLimitBody = #"{"success":false,"error":{"code":"0801","message":"You have hit the request rate-limit"}}"#

    /// The shipped config on the bed's upstream, every second, with a budget that allows it.
    static func config(_ bed: TestBed, name: String = "book-fetcher.json", edit: @escaping (JSONValue) -> JSONValue = { $0 }) throws -> String {
        try bed.writeFetcherConfig("book-fetcher", name: name) { config in
            config = edit(config.setting(["budget", "per_minute"], .number("600")))
        }
    }

    /// One side of a book: `[{book, price, amount}]` in the given (unsorted) order.
    static func side(_ book: String, _ prices: [String]) -> String {
        "[" + prices.enumerated().map { #"{"book":"\#(book)","price":"\#($0.element)","amount":"0.\#($0.offset + 1)"}"# }.joined(separator: ",") + "]"
    }

    /// A Bitso order-book answer.
    static func body(_ book: String, bids: [String], asks: [String], sequence: Int, updatedAt: String) -> String {
        #"{"success":true,"payload":{"asks":\#(side(book, asks)),"bids":\#(side(book, bids)),"updated_at":"\#(updatedAt)","sequence":"\#(sequence)"}}"#
    }

    /// The price `better` prefers among `prices`, compared as Foundation decimals.
    static func best(_ prices: [String], _ better: (Decimal, Decimal) -> Bool) -> String? {
        prices.reduce(nil as String?) { best, price in
            guard let best else { return price }
            return better(Decimal(string: price)!, Decimal(string: best)!) ? price : best
        }
    }

    static func snapshots(_ bed: TestBed) async throws -> [FetchedSnapshot] {
        try await bed.redis.xrange(Self.stream).map { try FetchedSnapshot(entry: $0) }
    }

    static func record(_ snapshot: FetchedSnapshot) throws -> JSONObject {
        #expect(snapshot.source == "bitso")
        #expect(snapshot.records.count == 1)
        return try #require(snapshot.records.first)
    }

    static func book(_ snapshot: FetchedSnapshot) -> String? {
        if case .string(let book)? = snapshot.records.first?["book"] { book } else { nil }
    }

    /// The book of every message on the stream, oldest first.
    static func publishedBooks(_ bed: TestBed) async throws -> [String] {
        try await snapshots(bed).map { book($0) ?? "" }
    }

    static func occurrences(of book: String, in books: [String]) -> Int {
        books.filter { $0 == book }.count
    }

    /// Scripted books, unsorted and hostile, three cycles of both books: each message carries
    /// exactly the best bid and ask of what was served, and the books after the scripted
    /// ones (the fake's own) publish too.
    @Test("one message per book per cycle with the best bid and ask of the served body")
    func publishesTheBestLevelsOfEachBook() async throws {
        try await TestBed.with { bed in
            struct Served {
                let book: String
                let bids: [String]
                let asks: [String]
                let sequence: Int
                let updatedAt: String
                let publishedAt: String
            }
            let served = [
                Served(book: "btc_mxn", bids: ["1702000", "1702345.10", "99", "1702345.09"], asks: ["1703500", "1703000", "1703000.5"], sequence: 101, updatedAt: "2026-12-01T15:00:00.000+00:00", publishedAt: "2026-12-01T15:00:00.000Z"),
                Served(book: "usd_mxn", bids: ["18.5101", "18.52", "18.5199"], asks: ["18.5301", "18.53", "18.6"], sequence: 7, updatedAt: "2026-12-01T15:00:01+00:00", publishedAt: "2026-12-01T15:00:01.000Z"),
                Served(book: "btc_mxn", bids: ["1702100"], asks: ["1702900.25", "1702900.3"], sequence: 102, updatedAt: "2026-12-01T15:00:02.500+00:00", publishedAt: "2026-12-01T15:00:02.500Z"),
                // One-sided: no bids.
                Served(book: "usd_mxn", bids: [], asks: ["18.54", "18.5400001"], sequence: 8, updatedAt: "2026-12-01T15:00:03.000+00:00", publishedAt: "2026-12-01T15:00:03.000Z"),
                // Crossed, and priced beyond a double's digits.
                Served(book: "btc_mxn", bids: ["1702900.000000000000000002", "1702900.000000000000000001"], asks: ["1702900.000000000000000001"], sequence: 103, updatedAt: "2026-12-01T15:00:04.000+00:00", publishedAt: "2026-12-01T15:00:04.000Z"),
                Served(book: "usd_mxn", bids: ["18.49"], asks: [], sequence: 9, updatedAt: "2026-12-01T15:00:05.000+00:00", publishedAt: "2026-12-01T15:00:05.000Z"),
            ]
            try await bed.upstream.script(
                Self.path, served.map { .text(200, Self.body($0.book, bids: $0.bids, asks: $0.asks, sequence: $0.sequence, updatedAt: $0.updatedAt)) })
            let fetcher = try bed.start("book-fetcher", arguments: ["--config", try Self.config(bed)])
            try await Faults.waitUntil("eight book messages") { try await Self.snapshots(bed).count >= 8 }
            fetcher.stopNow()

            let snapshots = try await Self.snapshots(bed)
            for (message, book) in zip(snapshots.prefix(served.count), served) {
                let record = try Self.record(message)
                let bid = Self.best(book.bids, >).map { JSONValue.number($0) } ?? .null
                let ask = Self.best(book.asks, <).map { JSONValue.number($0) } ?? .null
                #expect(
                    record
                        == JSONObject([
                            ("book", .string(book.book)), ("bid", bid), ("ask", ask), ("sequence", .number(String(book.sequence))),
                            ("updated_at", .string(book.publishedAt)), ("source_rank", .number("1")),
                        ]), "sequence \(book.sequence)")
                #expect(message.skipped.isEmpty)
            }
            // The fake's own books: both published, in order, with both sides decimal.
            let later = snapshots.dropFirst(served.count)
            #expect(later.prefix(2).map { Self.book($0) } == ["btc_mxn", "usd_mxn"])
            for message in later {
                let record = try Self.record(message)
                guard case .number(let bid)? = record["bid"], case .number(let ask)? = record["ask"] else {
                    // A one-sided slot has a null bid; nothing else may be missing.
                    #expect(record["bid"] == .null && record["ask"] != .null, "\(record)")
                    continue
                }
                #expect(Decimal(string: bid) != nil && Decimal(string: ask) != nil)
            }
            // Every request names its book, in the configured order, with the shipped query.
            let requests = try await bed.upstream.requests(path: Self.path)
            #expect(requests.count >= 8)
            #expect(requests.prefix(8).map { $0.query["book"] } == Array(repeating: ["btc_mxn", "usd_mxn"], count: 4).flatMap { $0 })
            #expect(requests.allSatisfy { $0.query["aggregate"] == "true" })
            let status = try await Faults.status(bed.redis, "bitso")
            #expect(status["values_published"] == "2")
            #expect(status["values_failed"] == "0")
            #expect(status["values_parked"] == "0")
            #expect(status["records_kept"] == "2")
        }
    }

    /// A malformed level makes its book's record invalid: skipped and counted, no message for
    /// that book in that cycle, the other book published; `--once` exits 1.
    @Test("a malformed level skips that book's message and the other book still publishes")
    func malformedLevelSkipsOnlyThatBook() async throws {
        try await TestBed.with { bed in
            try await bed.upstream.script(
                Self.path,
                [
                    .text(200, Self.body("btc_mxn", bids: ["1702000", "not-a-price"], asks: ["1703000"], sequence: 1, updatedAt: "2026-12-01T15:00:00Z")),
                    .text(200, Self.body("usd_mxn", bids: ["18.5"], asks: ["18.6"], sequence: 2, updatedAt: "2026-12-01T15:00:00Z")),
                ])
            let run = try await bed.run("book-fetcher", arguments: ["--config", try Self.config(bed), "--once"])
            #expect(run.status == .exited(1), "stderr:\n\(run.stderr)")
            let snapshots = try await Self.snapshots(bed)
            #expect(snapshots.map { Self.book($0) } == ["usd_mxn"])
            #expect(run.stderrLines.contains { $0.contains("level=error") && $0.contains("book=btc_mxn") && $0.contains("invalid:bid=1") }, "stderr:\n\(run.stderr)")
            let status = try await Faults.status(bed.redis, "bitso")
            #expect(status["values_published"] == "1")
            #expect(status["values_failed"] == "1")
        }
    }

    @Test("an unknown book is asked once, logged once, and parked while the others keep publishing")
    func unknownBookIsParked() async throws {
        try await TestBed.with { bed in
            let config = try Self.config(bed) { $0.setting(["each", "values"], .array([.string("btc_mxn"), .string("xyz_mxn"), .string("usd_mxn")])) }
            let fetcher = try bed.start("book-fetcher", arguments: ["--config", config])
            try await Faults.waitUntil("three cycles of both known books") {
                let published = try await Self.publishedBooks(bed)
                return Self.occurrences(of: "btc_mxn", in: published) >= 3 && Self.occurrences(of: "usd_mxn", in: published) >= 3
            }
            fetcher.stopNow()

            let asked = try await bed.upstream.requests(path: Self.path).compactMap { $0.query["book"] }
            #expect(Self.occurrences(of: "xyz_mxn", in: asked) == 1, "\(asked)")
            #expect(Self.occurrences(of: "btc_mxn", in: asked) >= 3)
            let published = Set(try await Self.publishedBooks(bed))
            #expect(published == ["btc_mxn", "usd_mxn"])
            let errors = fetcher.stderr.lines.filter { $0.contains("level=error") }
            #expect(errors.count == 1, "\(errors)")
            let error = errors.first ?? ""
            #expect(error.contains("book=xyz_mxn"), "\(error)")
            #expect(error.contains("reason=rejected"), "\(error)")
            #expect(error.contains("Unknown OrderBook"), "\(error)")
            let status = try await Faults.status(bed.redis, "bitso")
            #expect(status["values_parked"] == "1")
            #expect(status["values_published"] == "2")
            #expect(status["last_success_at"] != nil)
        }
    }

    @Test("a 420 with Bitso's 0801 holds every request back for the pause, then both books publish")
    func rateLimitHoldsEveryRequestBack() async throws {
        try await TestBed.with { bed in
            let pauseSeconds: Int64 = 3
            let config = try Self.config(bed) { $0.setting(["budget", "rate_limit_pause_seconds"], .number(String(pauseSeconds))) }
            try await bed.upstream.script(Self.path, [.text(420, Self.rateLimitBody)])
            let fetcher = try bed.start("book-fetcher", arguments: ["--config", config])
            try await Faults.waitUntil("both books published after the pause") {
                Set(try await Self.publishedBooks(bed)) == ["btc_mxn", "usd_mxn"]
            }
            fetcher.stopNow()

            let requests = try await bed.upstream.requests(path: Self.path)
            let times = requests.compactMap(\.receivedAt)
            #expect(times.count == requests.count && times.count >= 3)
            let limited = try #require(times.first)
            // The request after the rate-limited one (btc_mxn's retry or usd_mxn) came after the pause.
            #expect(times.dropFirst().allSatisfy { $0 - limited >= pauseSeconds * 1000 }, "arrivals after the 420, ms: \(times.map { $0 - limited })")
            let held = fetcher.stderr.lines.filter { $0.contains("every request held back") }
            #expect(held.count == 1, "\(held)")
            #expect(held.first?.contains("pause_s=3.0") == true, "\(held)")
        }
    }

    @Test("a Retry-After on the rate limit sets the pause instead of the configured one")
    func retryAfterSetsThePause() async throws {
        try await TestBed.with { bed in
            // A configured pause far longer than the test: only Retry-After can end it in time.
            let config = try Self.config(bed) { $0.setting(["budget", "rate_limit_pause_seconds"], .number("600")) }
            try await bed.upstream.script(Self.path, [.text(429, Self.rateLimitBody, headers: ["Retry-After": "2"])])
            let fetcher = try bed.start("book-fetcher", arguments: ["--config", config])
            try await Faults.waitUntil("both books published after the pause") {
                Set(try await Self.publishedBooks(bed)) == ["btc_mxn", "usd_mxn"]
            }
            fetcher.stopNow()
            let times = try await bed.upstream.requests(path: Self.path).compactMap(\.receivedAt)
            let limited = try #require(times.first)
            #expect(times.dropFirst().allSatisfy { $0 - limited >= 2000 }, "arrivals after the 429, ms: \(times.map { $0 - limited })")
        }
    }

    /// Each applied to the test config with a budget that fits a one-second schedule, so only
    /// the mistake itself is wrong.
    static let mistakes: [ConfigMistake] = [
        ConfigMistake(name: "every second at 50 a minute", edit: { $0.setting(["budget", "per_minute"], .number("50")) }, mentions: ["budget.per_minute", "2 × 60 = 120"]),
        ConfigMistake(
            name: "a book twice", edit: { $0.setting(["each", "values"], .array([.string("btc_mxn"), .string("btc_mxn")])) },
            mentions: ["each.values[1]", "twice"]),
        ConfigMistake(name: "max_of on an integer", edit: { $0.setting(["fields", "sequence", "max_of"], .string("price")) }, mentions: ["fields.sequence.max_of"]),
        ConfigMistake(name: "records and record", edit: { $0.setting(["records"], .string("payload.asks")) }, mentions: ["record", "goes without records"]),
    ]

    @Test("a bad config exits 2 naming the file and the key, before asking anything", arguments: mistakes)
    func badConfigExits2(_ mistake: ConfigMistake) async throws {
        try await TestBed.with { bed in
            let path = bed.directory.file("bad-book-fetcher.json")
            let config = try TestConfigs.fetcher("book-fetcher", upstreamBaseURL: bed.upstream.baseURL).setting(["budget", "per_minute"], .number("600"))
            try TestConfigs.write(mistake.edit(config), to: path)
            let run = try await bed.run("book-fetcher", arguments: ["--config", path, "--once"])
            #expect(run.status == .exited(2), "stderr:\n\(run.stderr)")
            #expect(run.stderr.contains(path), "stderr:\n\(run.stderr)")
            for mention in mistake.mentions { #expect(run.stderr.contains(mention), "stderr:\n\(run.stderr)") }
            #expect(try await bed.upstream.requests().isEmpty)
            #expect(try await bed.redis.send(["DBSIZE"]) == .integer(0))
        }
    }
}
