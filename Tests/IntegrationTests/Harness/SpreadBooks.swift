import Foundation

@testable import TopCoins

/// Book messages on `topcoins:books` as the book fetcher publishes them, written by the test
/// itself with explicit entry ids (the fetch time's milliseconds), so a test chooses the
/// observation times; and the spread monitor started on the bed.
extension TestBed {
    static let booksStream = "topcoins:books"
    static let alertsStream = "topcoins:alerts"

    /// One scripted book: ask and bid as decimal text (nil: that side empty), `updatedAt` the
    /// upstream's own time (the fetch time unless given).
    struct BookMessage: Sendable {
        var at: Timestamp
        var book = "btc_mxn"
        var bid: String?
        var ask: String?
        var sequence: Int64 = 1
        var updatedAt: Timestamp?

        var record: JSONObject {
            JSONObject([
                ("book", .string(book)), ("bid", bid.map { .number($0) } ?? .null), ("ask", ask.map { .number($0) } ?? .null),
                ("sequence", .number(String(sequence))), ("updated_at", .string((updatedAt ?? at).iso8601)), ("source_rank", .number("1")),
            ])
        }
    }

    /// XADD with the id `<at ms>-<seq>`; returns it.
    @discardableResult
    func publishBook(_ message: BookMessage, seq: Int = 0) async throws -> String {
        let snapshot = FetchedSnapshot(source: "bitso", fetchedAt: message.at, records: [message.record], skipped: [:])
        return try await publishRaw(id: "\(message.at.milliseconds)-\(seq)", fields: snapshot.streamFields)
    }

    /// XADD of any fields with an explicit id, for hostile entries.
    @discardableResult
    func publishRaw(id: String, fields: [(String, RedisArgument)]) async throws -> String {
        var arguments: [RedisArgument] = ["XADD", RedisArgument(TestBed.booksStream), RedisArgument(id)]
        for (name, value) in fields { arguments += [RedisArgument(name), value] }
        return try await redis.send(arguments).string ?? ""
    }

    /// Writes a monitor config from the shipped one (consumer `monitor-test`, edited) and
    /// returns its path.
    func writeMonitorConfig(name: String = "spread-monitor.json", edit: (inout JSONValue) -> Void = { _ in }) throws -> String {
        try writeConfig("spread-monitor", name: name) { config in
            config = config.setting(["consumer"], .string("monitor-test")).setting(["log_level"], .string("debug"))
            edit(&config)
        }
    }

    /// Starts the monitor and returns once it has logged its start (its signal handling is in
    /// place then, so a SIGTERM right after is a graceful stop).
    func startMonitor(config: String, environment: [String: String] = [:]) async throws -> ChildProcess {
        let monitor = try start("spread-monitor", arguments: ["--config", config], environment: environment)
        _ = try await monitor.waitForLine { $0.contains("spread monitor started") }
        return monitor
    }

    /// The stored observations of `book`, oldest first.
    func observations(_ book: String = "btc_mxn") async throws -> [SpreadObservation] {
        try await SpreadStore(redis: redis).observations(of: book, from: .earliestPlausible, to: .latestRepresentable, limit: Int.max).values
    }

    /// Waits until `book` has `count` stored observations and nothing is pending.
    func waitForObservations(_ count: Int, book: String = "btc_mxn", timeout: Duration = .seconds(30)) async throws {
        try await Faults.waitUntil("\(count) observations of \(book), nothing pending", timeout: timeout) {
            let stored = try await observations(book).count
            if stored > count { throw HarnessError("\(stored) observations of \(book), more than \(count)") }
            guard stored == count else { return false }
            return try await Faults.pendingCount(redis, stream: TestBed.booksStream, group: "spread-monitor") == 0
        }
    }

    /// Every `topcoins:alerts` message's fields by name, oldest first.
    func alertMessages() async throws -> [[String: String]] {
        try await redis.xrange(TestBed.alertsStream).map { entry in
            Dictionary(entry.fields.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) }, uniquingKeysWith: { $1 })
        }
    }

    func spreadCounters() async throws -> [String: Int64] {
        try await SpreadStore(redis: redis).counters()
    }
}
