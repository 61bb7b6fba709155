import Foundation
import Testing

@testable import TopCoins

@Suite("spread-monitor with a real Redis", .serialized, .timeLimit(.minutes(5)))
struct SpreadMonitorTests {
    /// A whole second a few minutes back, so a run of scripted seconds stays in the past.
    static func base(minutesBack: Int64 = 10) -> Timestamp {
        Timestamp(milliseconds: (Timestamp.now.milliseconds / 1000 - minutesBack * 60) * 1000)
    }

    /// The issue's sequence on btc_mxn, 10 s apart, ask 1,700,000: below (0.05 %), above
    /// (0.15 %), above (0.2 %), crossed, one-sided, below the clear level (0.07 %), above (0.12 %).
    static func issueSequence(from base: Timestamp) -> [TestBed.BookMessage] {
        let bids: [String?] = ["1699150", "1697450", "1696600", "1700100", nil, "1698810", "1697960"]
        return bids.enumerated().map { index, bid in
            TestBed.BookMessage(at: base.adding(milliseconds: Int64(index) * 10_000), bid: bid, ask: "1700000", sequence: Int64(100 + index))
        }
    }

    /// `(state, spread_pct, started s, ended s or nil, peak)` of each alert message, times in
    /// seconds after `base`.
    static func transitions(_ messages: [[String: String]], base: Timestamp) -> [String] {
        func second(_ text: String?) -> String {
            guard let text, let time = Timestamp(iso8601: text) else { return "-" }
            return String((time.milliseconds - base.milliseconds) / 1000)
        }
        return messages.map { "\($0["state"] ?? "?") \($0["spread_pct"] ?? "?") \(second($0["started_at"]))-\(second($0["ended_at"])) peak \($0["peak_spread_pct"] ?? "?")" }
    }

    @Test("the issue's sequence: exactly its observations, flags, episodes, alert messages and counters")
    func issueSequence() async throws {
        try await TestBed.with { bed in
            let base = Self.base()
            for message in Self.issueSequence(from: base) { try await bed.publishBook(message) }
            let monitor = try await bed.startMonitor(config: try bed.writeMonitorConfig())
            try await bed.waitForObservations(7)

            let observations = try await bed.observations()
            #expect(observations.map { $0.spreadPct?.text ?? "-" } == ["0.05", "0.15", "0.2", "-", "-", "0.07", "0.12"])
            #expect(observations.map { $0.flags.names.joined(separator: ";") } == ["", "", "", "crossed", "one_sided", "", ""])
            #expect(observations.map(\.breach) == [false, true, true, false, false, false, true])
            #expect(observations.map(\.observedAt) == (0..<7).map { base.adding(milliseconds: Int64($0) * 10_000) })
            #expect(observations.map(\.sequence) == Array(100...106))
            #expect(observations[4].bid == nil && observations[4].ask?.text == "1700000")

            let messages = try await bed.alertMessages()
            #expect(Self.transitions(messages, base: base) == ["open 0.15 10-- peak 0.15", "closed 0.07 10-50 peak 0.2", "open 0.12 60-- peak 0.12"])
            #expect(messages.map { $0["id"] ?? "" } == ["btc_mxn-\(base.milliseconds + 10_000)", "btc_mxn-\(base.milliseconds + 10_000)", "btc_mxn-\(base.milliseconds + 60_000)"])
            #expect(messages.allSatisfy { $0["book"] == "btc_mxn" && $0["threshold_pct"] == "0.1" })
            #expect(messages.map { $0["observed_at"] ?? "" } == [10_000, 50_000, 60_000].map { base.adding(milliseconds: $0).iso8601 })
            #expect(messages.first.map { $0.keys.sorted() } == ["book", "ended_at", "id", "observed_at", "peak_spread_pct", "spread_pct", "started_at", "state", "threshold_pct"])

            let store = SpreadStore(redis: bed.redis)
            let episodes = try await store.episodes(book: "btc_mxn", from: .earliestPlausible, to: .latestRepresentable).values
            #expect(episodes.map { "\($0.state.rawValue) \($0.peakSpreadPct) \($0.endedAt.map { String(($0.milliseconds - base.milliseconds) / 1000) } ?? "-")" } == ["closed 0.2 50", "open 0.12 -"])
            #expect(try await store.openEpisodes(book: nil).values.map(\.id) == ["btc_mxn-\(base.milliseconds + 60_000)"])
            let counters = try await bed.spreadCounters()
            #expect(counters == ["btc_mxn:observations": 7, "btc_mxn:breaches": 3, "btc_mxn:episodes": 2, "btc_mxn:flagged_crossed": 1, "btc_mxn:flagged_one_sided": 1])
            #expect(try await store.books().keys.sorted() == ["btc_mxn", "usd_mxn"])
            let status = try await Faults.status(bed.redis, "spread-monitor")
            #expect(status["last_success_at"] != nil && status["records_kept"] != nil)

            // The same entries delivered again (the group moved back to the start), then one
            // new observation below the clear level: only that one is written.
            #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
            try await bed.redis.send(["XGROUP", "SETID", RedisArgument(TestBed.booksStream), "spread-monitor", "0"])
            try await bed.publishBook(TestBed.BookMessage(at: base.adding(milliseconds: 70_000), bid: "1699150", ask: "1700000", sequence: 107))
            let again = try await bed.startMonitor(config: try bed.writeMonitorConfig())
            try await bed.waitForObservations(8)
            #expect(Self.transitions(try await bed.alertMessages(), base: base).count == 4)
            #expect(try await bed.spreadCounters()["btc_mxn:observations"] == 8)
            #expect(try await again.terminate(timeout: .seconds(10)) == .exited(0))
        }
    }

    @Test(
        "min_consecutive and cooldown_seconds change the issue sequence's episodes as defined",
        arguments: [
            (2, 0, ["open 0.2 20-- peak 0.2", "closed 0.07 20-50 peak 0.2"]),
            (3, 0, []),
            (1, 15, ["open 0.15 10-- peak 0.15", "closed 0.07 10-50 peak 0.2"]),
            (1, 10, ["open 0.15 10-- peak 0.15", "closed 0.07 10-50 peak 0.2", "open 0.12 60-- peak 0.12"]),
        ])
    func rules(minConsecutive: Int, cooldownSeconds: Int, expected: [String]) async throws {
        try await TestBed.with { bed in
            let base = Self.base()
            for message in Self.issueSequence(from: base) { try await bed.publishBook(message) }
            let config = try bed.writeMonitorConfig { config in
                config = config.setting(["books", "btc_mxn", "min_consecutive"], .number(String(minConsecutive)))
                    .setting(["books", "btc_mxn", "cooldown_seconds"], .number(String(cooldownSeconds)))
            }
            let monitor = try await bed.startMonitor(config: config)
            try await bed.waitForObservations(7)
            #expect(Self.transitions(try await bed.alertMessages(), base: base) == expected)
            #expect(try await bed.spreadCounters()["btc_mxn:episodes"] == (expected.isEmpty ? nil : Int64(expected.filter { $0.hasPrefix("open") }.count)))
            let stored = try await SpreadStore(redis: bed.redis).books()
            #expect(stored["btc_mxn"]?.minConsecutive == minConsecutive && stored["btc_mxn"]?.cooldownSeconds == cooldownSeconds)
            #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
        }
    }

    @Test("a config mistake exits 2 naming the file and the key, before touching Redis")
    func configMistake() async throws {
        try await TestBed.with { bed in
            let config = try bed.writeMonitorConfig { $0 = $0.setting(["books", "btc_mxn", "threshold_pct"], .string("0.1")) }
            let run = try await bed.run("spread-monitor", arguments: ["--config", config])
            #expect(run.status == .exited(2))
            #expect(run.stderr.contains("\(config): books.btc_mxn.threshold_pct: must be a percentage"), "\(run.stderr)")
            #expect(try await bed.redis.send(["DBSIZE"]).int == 0)
        }
    }

    @Test("a stored state that does not decode starts the book afresh, and is replaced by the next write")
    func undecodableState() async throws {
        try await TestBed.with { bed in
            try await bed.redis.send(["HSET", "{topcoins}:spreads:state", "btc_mxn", "not a state"])
            let base = Self.base()
            for message in Self.issueSequence(from: base) { try await bed.publishBook(message) }
            let monitor = try await bed.startMonitor(config: try bed.writeMonitorConfig())
            try await bed.waitForObservations(7)
            #expect(Self.transitions(try await bed.alertMessages(), base: base).count == 3)
            let stored = try #require(try await bed.redis.hgetall("{topcoins}:spreads:state")["btc_mxn"])
            #expect(try MonitorState(text: stored).lastObservedAt == base.adding(milliseconds: 60_000))
            #expect(try await Faults.status(bed.redis, "spread-monitor")["failed.corrupt_state"] == "1")
            #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
        }
    }

    @Test("hostile entries are skipped, counted and acknowledged while the good ones go on")
    func hostileEntries() async throws {
        try await TestBed.with { bed in
            let base = Self.base()
            let good = Self.issueSequence(from: base)
            let monitor = try await bed.startMonitor(config: try bed.writeMonitorConfig())
            var ms = base.milliseconds - 5000
            func next() -> String {
                ms += 1
                return "\(ms)-0"
            }
            func fetch(_ records: String, at: Int64? = nil) -> [(String, RedisArgument)] {
                [("source", "bitso"), ("fetched_at", RedisArgument(at ?? ms)), ("count", "1"), ("records", RedisArgument(records)), ("skipped", "{}")]
            }
            try await bed.publishRaw(id: next(), fields: [("garbage", "\u{0}\u{1}not a message")])
            try await bed.publishRaw(id: next(), fields: fetch("[{\"book\": oops"))
            let huge = "{\"book\":\"btc_mxn\",\"bid\":\(String(repeating: "9", count: 10_000_000)),\"ask\":\"1\",\"sequence\":1,\"updated_at\":\"\(base.iso8601)\"}"
            try await bed.publishRaw(id: next(), fields: fetch("[\(huge)]"))
            try await bed.publishRaw(
                id: next(), fields: fetch("[{\"book\":\"btc/mxn\",\"bid\":1,\"ask\":2,\"sequence\":1,\"updated_at\":\"\(base.iso8601)\"}]"))
            try await bed.publishRaw(
                id: next(), fields: fetch("[{\"book\":\"eth_mxn\",\"bid\":1,\"ask\":2,\"sequence\":1,\"updated_at\":\"\(base.iso8601)\"}]"))
            try await bed.publishRaw(
                id: next(),
                fields: fetch("[{\"book\":\"btc_mxn\",\"bid\":1,\"ask\":2,\"sequence\":1,\"updated_at\":\"\(base.iso8601)\"}]", at: 4_070_908_800_000))  // 2099
            for message in good[0..<4] { try await bed.publishBook(message) }
            // The same time again, then an earlier one: out of order.
            try await bed.publishBook(TestBed.BookMessage(at: good[3].at, bid: "1", ask: "2"), seq: 1)
            try await bed.publishRaw(
                id: "\(good[3].at.milliseconds + 1)-0",
                fields: FetchedSnapshot(source: "bitso", fetchedAt: good[2].at, records: [good[2].record], skipped: [:]).streamFields)
            for message in good[4...] { try await bed.publishBook(message) }

            try await bed.waitForObservations(7)
            #expect(try await bed.observations().map { $0.spreadPct?.text ?? "-" } == ["0.05", "0.15", "0.2", "-", "-", "0.07", "0.12"])
            #expect(try await bed.alertMessages().count == 3)
            let counters = try await bed.spreadCounters()
            #expect(counters["invalid_entry"] == 2)
            #expect(counters["btc_mxn:invalid_price"] == 1)
            #expect(counters["invalid_book"] == 1)
            #expect(counters["unlisted_book"] == 1)
            #expect(counters["implausible_time"] == 1)
            #expect(counters["btc_mxn:out_of_order"] == 2)
            #expect(counters["btc_mxn:observations"] == 7)
            let status = try await Faults.status(bed.redis, "spread-monitor")
            for reason in ["invalid_entry", "invalid_price", "invalid_book", "unlisted_book", "implausible_time", "out_of_order"] {
                #expect(status["failed.\(reason)"] != nil, "\(reason)")
            }
            #expect(monitor.isRunning)
            #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
        }
    }
}

extension SpreadMonitorTests {
    /// A small deterministic generator for scripted spreads (the kill moments use the system's).
    struct Scripted {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// A book at ask 1,000,000 with the spread `k / 1000` percent (bid = ask − 10 k).
    static func book(_ book: String, at: Timestamp, k: Int, sequence: Int64) -> TestBed.BookMessage {
        TestBed.BookMessage(at: at, book: book, bid: String(1_000_000 - 10 * k), ask: "1000000", sequence: sequence)
    }

    /// The default rules' transitions over unflagged spreads `k / 1000` %, counted here on
    /// integers: open above 100 (0.1 %), close below 80 (0.08 %).
    static func expectedTransitions(_ spreads: [(at: Timestamp, k: Int)]) -> [String] {
        var openedAt: Timestamp?
        var result: [String] = []
        for (at, k) in spreads {
            if let started = openedAt {
                if k < 80 {
                    result.append("closed \(started.milliseconds)-\(at.milliseconds)")
                    openedAt = nil
                }
            } else if k > 100 {
                result.append("open \(at.milliseconds)-")
                openedAt = at
            }
        }
        return result
    }

    static func transitionKeys(_ messages: [[String: String]]) -> [String] {
        messages.map { message in
            let started = message["started_at"].flatMap { Timestamp(iso8601: $0) }?.milliseconds ?? -1
            let ended = message["ended_at"].flatMap { Timestamp(iso8601: $0) }.map { String($0.milliseconds) } ?? ""
            return "\(message["state"] ?? "?") \(started)-\(ended)"
        }
    }

    @Test("hourly (and daily) summaries equal an independent count over the observations written in the test")
    func hourlySummaries() async throws {
        try await TestBed.with { bed in
            let now = Timestamp.now
            let currentHour = SpreadSummary.Width.hour.start(of: now)
            let first = currentHour.adding(milliseconds: -3 * 3_600_000 + 7_000)
            let gap = (first.adding(milliseconds: 3_600_000 + 20 * 60_000))...(first.adding(milliseconds: 3_600_000 + 25 * 60_000))
            var generator = Scripted(state: 12)
            /// What the test published, per book: time, spread (k / 1000 %) or nil, and flags.
            struct Published {
                var at: Timestamp
                var k: Int?
                var flags: Set<String>
            }
            var published: [String: [Published]] = [:]
            var index = 0
            var at = first
            while at <= currentHour.adding(milliseconds: 10_000) {
                defer { at = at.adding(milliseconds: 30_000) }
                if gap.contains(at) { continue }
                for (seq, name) in ["btc_mxn", "usd_mxn"].enumerated() {
                    index += 1
                    var message = Self.book(name, at: at, k: 1 + generator.next(199), sequence: Int64(index))
                    var entry = Published(at: at, k: (1_000_000 - Int(message.bid!)!) / 10, flags: [])
                    if index % 17 == 0 {
                        message.bid = nil
                        entry = Published(at: at, k: nil, flags: ["one_sided"])
                    } else if index % 23 == 0 {
                        message.bid = "1000010"
                        entry = Published(at: at, k: nil, flags: ["crossed"])
                    }
                    if index % 29 == 0 {
                        message.updatedAt = at.adding(milliseconds: -120_000)
                        entry.flags.insert("stale")
                    }
                    published[name, default: []].append(entry)
                    try await bed.publishBook(message, seq: seq)
                }
            }
            let monitor = try await bed.startMonitor(config: try bed.writeMonitorConfig())
            for name in ["btc_mxn", "usd_mxn"] { try await bed.waitForObservations(published[name]!.count, book: name, timeout: .seconds(60)) }
            let opens = try await bed.alertMessages().filter { $0["state"] == "open" }
            let store = SpreadStore(redis: bed.redis)

            for name in ["btc_mxn", "usd_mxn"] {
                let observations = published[name]!
                let stored = try await bed.observations(name)
                #expect(stored.map { $0.spreadPct.flatMap { Double($0.text) } } == observations.map { $0.k.map { Double($0) / 1000 } })
                #expect(stored.map { Set($0.flags.names) } == observations.map(\.flags))
                let starts = opens.filter { $0["book"] == name }.compactMap { $0["started_at"].flatMap { Timestamp(iso8601: $0) } }
                for width in SpreadSummary.Width.allCases {
                    let buckets = Dictionary(grouping: observations.indices) { width.start(of: observations[$0].at) }
                    let ordered = buckets.keys.sorted()
                    let read = try await store.closedSummaries(of: name, width: width, starts: ordered)
                    #expect(read.corrupt == 0)
                    // Every bucket but the last has closed: the last has no later observation.
                    #expect(read.values.map(\.start) == Array(ordered.dropLast()), "\(name) \(width)")
                    for summary in read.values {
                        let members = buckets[summary.start]!.sorted()
                        let unflagged = members.filter { observations[$0].flags.isEmpty }.map { observations[$0].k! }.sorted()
                        let breaches = members.filter { observations[$0].flags.isEmpty && observations[$0].k! > 100 }
                        var millisecondsAbove: Int64 = 0
                        for member in breaches where member + 1 < observations.count {
                            millisecondsAbove += min(observations[member + 1].at.milliseconds - observations[member].at.milliseconds, 60_000)
                        }
                        let label = "\(name) \(width) \(summary.start)"
                        #expect(summary.samples == members.count, "\(label)")
                        #expect(summary.breaches == breaches.count, "\(label)")
                        #expect(abs(Double(summary.breachShare.text)! - Double(breaches.count) / Double(members.count)) <= 5e-7, "\(label)")
                        #expect(summary.maxSpreadPct.flatMap { Double($0.text) } == unflagged.last.map { Double($0) / 1000 }, "\(label)")
                        let rank = (unflagged.count * 95 + 99) / 100
                        #expect(summary.p95SpreadPct.flatMap { Double($0.text) } == (unflagged.isEmpty ? nil : Double(unflagged[rank - 1]) / 1000), "\(label)")
                        #expect(summary.millisecondsAbove == millisecondsAbove, "\(label)")
                        #expect(summary.episodes == starts.filter { width.start(of: $0) == summary.start }.count, "\(label)")
                        for flag in ["crossed", "one_sided", "stale"] {
                            #expect(summary.flagged[flag] == members.filter { observations[$0].flags.contains(flag) }.count, "\(label) \(flag)")
                        }
                    }
                }
            }
            #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
        }
    }

    @Test("SIGKILL at random moments and a Redis restart lose and duplicate no transition")
    func killsAndRedisRestart() async throws {
        try await TestBed.with { bed in
            let base = Self.base(minutesBack: 4)
            var generator = Scripted(state: 7)
            let spreads = (0..<240).map { (at: base.adding(milliseconds: Int64($0) * 1000), k: [40, 90, 130][generator.next(3)]) }
            let expected = Self.expectedTransitions(spreads)
            let config = try bed.writeMonitorConfig { $0 = $0.setting(["log_level"], .string("info")) }
            var published = 0
            var kills: [Int] = []
            for chunk in 0..<12 where chunk != 7 {  // chunk 7's entries are published around the restart
                for (offset, spread) in spreads[(chunk * 20)..<(chunk * 20 + 20)].enumerated() {
                    try await bed.publishBook(Self.book("btc_mxn", at: spread.at, k: spread.k, sequence: Int64(chunk * 20 + offset)))
                }
                published += 20
                let monitor = try await bed.startMonitor(config: config)
                if chunk == 6 {
                    // Caught up, then Redis stops and comes back with its data under a running monitor.
                    try await bed.waitForObservations(published)
                    try await bed.redis.send(["SAVE"])
                    try await bed.redisServer.restart()
                    try await Faults.waitUntil("the test's client reconnected") {
                        try await bed.redis.ping()
                        return true
                    }
                    for spread in spreads[140..<150] { try await bed.publishBook(Self.book("btc_mxn", at: spread.at, k: spread.k, sequence: 0)) }
                    try await bed.waitForObservations(150)
                    for spread in spreads[150..<160] { try await bed.publishBook(Self.book("btc_mxn", at: spread.at, k: spread.k, sequence: 0)) }
                    published = 160
                    #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
                    continue
                }
                // Killed once it has written a random number of this chunk's observations,
                // so the kill lands mid-stream (and sometimes mid-write).
                let target = published - 20 + Int.random(in: 1...19)
                kills.append(target)
                let reached = await Faults.poll(timeout: .seconds(20), every: .milliseconds(1)) { try await bed.observations().count >= target }
                guard reached else { throw HarnessError("\(target) observations not written before the kill") }
                monitor.killNow()
                _ = try await monitor.waitForExit(timeout: .seconds(10))
            }
            let monitor = try await bed.startMonitor(config: config)
            try await bed.waitForObservations(240, timeout: .seconds(60))
            let messages = try await bed.alertMessages()
            #expect(Self.transitionKeys(messages) == expected, "killed after observations \(kills)")
            #expect(expected.count > 20)
            let counters = try await bed.spreadCounters()
            #expect(counters["btc_mxn:observations"] == 240)
            #expect(counters["btc_mxn:episodes"] == Int64(expected.filter { $0.hasPrefix("open") }.count))
            let episodes = try await SpreadStore(redis: bed.redis).episodes(book: "btc_mxn", from: .earliestPlausible, to: .latestRepresentable).values
            // One episode per opening, closed when a closing follows it.
            let expectedEpisodes = expected.filter { $0.hasPrefix("open ") }.map { line in
                let started = line.dropFirst("open ".count).dropLast()
                return expected.contains { $0.hasPrefix("closed \(started)-") } ? "closed \(started)" : "open \(started)"
            }
            #expect(episodes.map { "\($0.state.rawValue) \($0.startedAt.milliseconds)" } == expectedEpisodes)
            let status = try await monitor.terminate(timeout: .seconds(10))
            #expect(status == .exited(0), "\(status): \(monitor.stderr.text.suffix(2000))")
        }
    }

    @Test("the webhook gets every transition at least once, with its idempotency key and secret header, across a SIGKILL and a receiver answering 500")
    func webhook() async throws {
        try await TestBed.with { bed in
            let path = "/hooks/alerts"
            let token = "hook-\(UUID().uuidString.lowercased())"
            try await bed.upstream.script(path, Array(repeating: .text(500, "busy"), count: 3) + Array(repeating: .text(200, "{}"), count: 400))
            let config = try bed.writeMonitorConfig { config in
                config = config.setting(
                    ["alerts", "webhook"],
                    .object(
                        JSONObject([
                            ("url", .string(bed.upstream.baseURL + path)),
                            ("headers", .object(JSONObject([("Authorization", .string("Bearer ${ALERT_WEBHOOK_TOKEN}"))]))), ("timeout_seconds", .number("5")),
                        ])))
            }
            let base = Self.base(minutesBack: 3)
            var generator = Scripted(state: 3)
            let spreads = (0..<60).map { (at: base.adding(milliseconds: Int64($0) * 1000), k: [40, 130][generator.next(2)]) }
            let environment = ["ALERT_WEBHOOK_TOKEN": token]
            var monitor = try await bed.startMonitor(config: config, environment: environment)
            for spread in spreads[0..<30] { try await bed.publishBook(Self.book("btc_mxn", at: spread.at, k: spread.k, sequence: 1)) }
            try await bed.waitForObservations(30)
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...1500)))
            monitor.killNow()
            _ = try await monitor.waitForExit(timeout: .seconds(10))
            for spread in spreads[30...] { try await bed.publishBook(Self.book("btc_mxn", at: spread.at, k: spread.k, sequence: 1)) }
            monitor = try await bed.startMonitor(config: config, environment: environment)
            try await bed.waitForObservations(60)

            let expected = Set(try await bed.alertMessages().map { "\($0["id"] ?? ""):\($0["state"] ?? "")" })
            #expect(expected.count == Self.expectedTransitions(spreads).count)
            try await Faults.waitUntil("every transition delivered and acknowledged", timeout: .seconds(90)) {
                let answered = try await bed.upstream.requests(path: path).dropFirst(3).compactMap { $0.header("idempotency-key") }
                guard Set(answered).isSuperset(of: expected) else { return false }
                return try await Faults.pendingCount(bed.redis, stream: TestBed.alertsStream, group: "webhook") == 0
            }
            let requests = try await bed.upstream.requests(path: path)
            let delivered = Set(requests.dropFirst(3).compactMap { $0.header("idempotency-key") })
            #expect(delivered == expected)
            #expect(requests.allSatisfy { $0.header("authorization") == "Bearer \(token)" && $0.header("content-type") == "application/json" })
            // Each POST's body is its alert message's fields as a JSON object.
            let messages = Dictionary(try await bed.alertMessages().map { ("\($0["id"] ?? ""):\($0["state"] ?? "")", $0) }, uniquingKeysWith: { $1 })
            for request in requests {
                guard case .object(let object)? = try? JSONParser.parse(Array((request.body ?? "").utf8)) else {
                    Issue.record("a webhook body is not a JSON object: \(request.body ?? "none")")
                    continue
                }
                let fields = Dictionary(object.members.map { name, value in if case .string(let text) = value { (name, text) } else { (name, "?") } }, uniquingKeysWith: { $1 })
                #expect(fields == messages[request.header("idempotency-key") ?? ""])
            }
            #expect(!monitor.stderr.text.contains(token) && !monitor.stdout.text.contains(token))
            #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
        }
    }
}

extension SpreadMonitorTests {
    /// Runs the committed DuckDB reader over an export directory: one object per row.
    static func duckDB(_ directory: String) throws -> [[String: String]] {
        guard let python = ProcessInfo.processInfo.environment["TOPCOINS_ORACLE_PYTHON"], !python.isEmpty else {
            throw HarnessError("TOPCOINS_ORACLE_PYTHON is not set: run scripts/test, which installs DuckDB (scripts/oracle-venv) and sets it")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [BuildProducts.packageRoot.appendingPathComponent("Tests/Oracles/hive_partitions.py").path, directory]
        let (output, errors) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("DuckDB failed (\(process.terminationStatus)): \(errorText)") }
        return try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            guard case .object(let object) = try JSONParser.parse(Array(line.utf8)) else { throw HarnessError("not an object: \(line)") }
            return Dictionary(
                object.members.map { name, value in
                    if case .string(let text) = value { (name, text) } else { (name, "") }
                }, uniquingKeysWith: { $1 })
        }
    }

    /// An observation as DuckDB should read it back (partition columns included, as text:
    /// `all_varchar` keeps the folder names' `06`).
    static func row(_ observation: SpreadObservation) -> [String: String] {
        let iso = observation.observedAt.iso8601
        return [
            "book": observation.book, "date": String(iso.prefix(10)), "hour": String(iso.dropFirst(11).prefix(2)), "observed_at": iso,
            "bid": observation.bid?.text ?? "", "ask": observation.ask?.text ?? "", "spread_pct": observation.spreadPct?.text ?? "",
            "flags": observation.flags.names.joined(separator: ";"), "breach": observation.breach ? "true" : "false", "sequence": String(observation.sequence),
            "updated_at": observation.updatedAt.iso8601,
        ]
    }

    @Test("export writes Hive partitions that DuckDB reads back whole, row for row; a re-export replaces a partition; mistakes exit clearly")
    func export() async throws {
        try await TestBed.with { bed in
            // btc_mxn: the issue's sequence; usd_mxn: one observation a minute across two hours.
            let base = Self.base(minutesBack: 100)
            for message in Self.issueSequence(from: base) { try await bed.publishBook(message) }
            var generator = Scripted(state: 5)
            for minute in 2..<95 {
                try await bed.publishBook(
                    Self.book("usd_mxn", at: base.adding(milliseconds: Int64(minute) * 60_000), k: generator.next(200), sequence: Int64(minute)), seq: 0)
            }
            let config = try bed.writeMonitorConfig()
            let monitor = try await bed.startMonitor(config: config)
            try await bed.waitForObservations(7)
            try await bed.waitForObservations(93, book: "usd_mxn")
            #expect(try await monitor.terminate(timeout: .seconds(10)) == .exited(0))
            let stored = try await bed.observations("btc_mxn") + bed.observations("usd_mxn")

            let directory = bed.directory.file("export")
            let run = try await bed.run("spread-monitor", arguments: ["export", "--config", config, "--to", directory])
            #expect(run.status == .exited(0), "\(run.stderr)")
            #expect(run.stdout.contains("exported 100 observations"))
            let rows = try Self.duckDB(directory)
            #expect(rows == stored.map(Self.row))

            // One partition's file: a header, CRLF line ends, columns without the partition's.
            let hour = SpreadSummary.Width.hour.start(of: base)
            let file = "\(directory)/\(SpreadExport.partition(book: "btc_mxn", hour: hour))/spreads.csv"
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(text.hasPrefix("observed_at,bid,ask,spread_pct,flags,breach,sequence,updated_at\r\n"))
            #expect(text.components(separatedBy: "\r\n").count == stored.filter { $0.book == "btc_mxn" && SpreadSummary.Width.hour.start(of: $0.observedAt) == hour }.count + 2)

            // A re-export of one book and a time range replaces that partition whole.
            try "garbage\r\n".write(toFile: file, atomically: false, encoding: .utf8)
            let until = base.adding(milliseconds: 30_000)
            let partial = try await bed.run(
                "spread-monitor", arguments: ["export", "--config", config, "--to", directory, "--book", "btc_mxn", "--from", base.iso8601, "--until", until.iso8601])
            #expect(partial.status == .exited(0), "\(partial.stderr)")
            let replaced = try String(contentsOfFile: file, encoding: .utf8)
            #expect(!replaced.contains("garbage") && replaced.components(separatedBy: "\r\n").count == 4 + 2)
            #expect(try FileManager.default.contentsOfDirectory(atPath: (file as NSString).deletingLastPathComponent) == ["spreads.csv"])

            // Mistakes: an unknown book and a bad time are usage errors (2); a directory that
            // cannot be made fails the run (1). Each says why.
            let unknown = try await bed.run("spread-monitor", arguments: ["export", "--config", config, "--to", directory, "--book", "eth_mxn"])
            #expect(unknown.status == .exited(2) && unknown.stderr.contains("unknown book \"eth_mxn\""))
            let badTime = try await bed.run("spread-monitor", arguments: ["export", "--config", config, "--to", directory, "--from", "yesterday"])
            #expect(badTime.status == .exited(2) && badTime.stderr.contains("--from must be an ISO-8601 UTC time"))
            let blocked = bed.directory.file("a-file")
            try "x".write(toFile: blocked, atomically: false, encoding: .utf8)
            let unwritable = try await bed.run("spread-monitor", arguments: ["export", "--config", config, "--to", blocked + "/out"])
            #expect(unwritable.status == .exited(1) && unwritable.stderr.contains("\(blocked)/out"))
        }
    }
}
