import Foundation
import Testing

@testable import TopCoins

/// Small helpers for the fault-matrix tests: polling, pipeline status, pending counts,
/// readiness, and starting the merger and the API with a chosen environment.
enum Faults {
    static let prices = "topcoins:prices"
    static let ranks = "topcoins:ranks"
    static let merged = "topcoins:merged"

    /// Polls `condition` until it holds (errors count as "not yet"); false when `timeout` passed.
    @discardableResult
    static func poll(timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if (try? await condition()) == true { return true }
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: interval)
        }
    }

    /// Like `poll`, but throws a `HarnessError` naming `what` when the timeout passes.
    static func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
        guard await poll(timeout: timeout, condition) else { throw HarnessError("\(what): not within \(timeout)") }
    }

    /// The `{topcoins}:status:<component>` hash.
    static func status(_ redis: RedisClient, _ component: String) async throws -> [String: String] {
        try await redis.hgetall(PipelineStatus.key(component))
    }

    /// `XPENDING <stream> <group>`'s count (0 when the stream or group is gone).
    static func pendingCount(_ redis: RedisClient, stream: String, group: String = "merger") async throws -> Int {
        let reply = try await redis.send(["XPENDING", RedisArgument(stream), RedisArgument(group)])
        guard let count = reply.array?.first?.int else { throw HarnessError("XPENDING \(stream) \(group) answered \(reply)") }
        return count
    }

    /// The newest entry of `stream`, parsed as a fetch message.
    static func newestFetch(_ redis: RedisClient, _ stream: String) async throws -> FetchedSnapshot? {
        guard let entry = try await redis.xrevrange(stream, count: 1).first else { return nil }
        return try FetchedSnapshot(entry: entry)
    }

    /// `GET /ready`: the status, the `reasons` array and the whole document.
    static func readiness(_ api: APIServer) async throws -> (status: Int, reasons: [String], body: String) {
        let response = try await api.request("/ready")
        var reasons: [String] = []
        if case .array(let items)? = try JSONParser.parse(response.body)["reasons"] {
            reasons = items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }
        return (response.status, reasons, response.bodyText)
    }

    /// What `GET /?limit=N` served: the response and its `timestamp`, when it is a 200.
    static func served(_ api: APIServer, limit: Int = 5) async throws -> (response: HTTPResponse, timestamp: Timestamp?) {
        let response = try await api.request("/?limit=\(limit)")
        guard response.status == 200, case .string(let text)? = try JSONParser.parse(response.body)["timestamp"] else { return (response, nil) }
        return (response, Timestamp(iso8601: text))
    }

    /// Polls until the API serves a snapshot newer than `previous` (any, when nil).
    static func waitForServed(_ api: APIServer, after previous: Timestamp? = nil, timeout: Duration = .seconds(30)) async throws -> (response: HTTPResponse, timestamp: Timestamp) {
        var found: (HTTPResponse, Timestamp)?
        let ok = await poll(timeout: timeout) {
            let (response, timestamp) = try await served(api)
            guard let timestamp, previous.map({ timestamp > $0 }) ?? true else { return false }
            found = (response, timestamp)
            return true
        }
        guard ok, let found else {
            throw HarnessError("the API did not serve a snapshot\(previous.map { " newer than \($0.iso8601)" } ?? "") within \(timeout); API log:\n\(api.process.stderr.text.suffix(3000))")
        }
        return found
    }

    /// Lines of `child`'s stderr containing every one of `parts`.
    static func lines(_ child: ChildProcess, containing parts: String...) -> [String] {
        child.stderr.lines.filter { line in parts.allSatisfy { line.contains($0) } }
    }
}

extension TestBed {
    /// Starts the merger (stable consumer name) with extra environment.
    func startFaultMerger(
        consumer: String = "merger-test", name: String? = nil, environment: [String: String] = [:], unsetEnvironment: [String] = [],
        edit: (inout JSONValue) -> Void = { _ in }
    ) throws -> ChildProcess {
        let config = try writeConfig("merger", name: name) { config in
            config = config.setting(["consumer"], .string(consumer))
            edit(&config)
        }
        return try start("merger", arguments: ["--config", config], environment: environment, unsetEnvironment: unsetEnvironment)
    }

    /// Starts a long-running fetcher (interval 1 s unless edited) with extra environment.
    func startFaultFetcher(_ executable: String, environment: [String: String] = [:], edit: (inout JSONValue) -> Void = { _ in }) throws -> ChildProcess {
        let config = try writeFetcherConfig(executable, intervalSeconds: 1, edit: edit)
        return try start(executable, arguments: ["--config", config], environment: environment)
    }

    /// The http-api config as `startAPI` writes it (free port, loopback, absolute `openapi_path`), plus `edit`.
    func writeFaultAPIConfig(name: String? = nil, edit: (inout JSONValue) -> Void = { _ in }) throws -> String {
        try writeConfig("http-api", name: name) { config in
            config = config
                .setting(["port"], .number("0"))
                .setting(["host"], .string("127.0.0.1"))
                .setting(["openapi_path"], .string(BuildProducts.packageRoot.appendingPathComponent("oas.yaml").path))
            edit(&config)
        }
    }

    /// Starts the API on a free port with extra environment; returns once it listens.
    func startFaultAPI(environment: [String: String] = [:], edit: (inout JSONValue) -> Void = { _ in }) async throws -> APIServer {
        let config = try writeFaultAPIConfig(edit: edit)
        return try await APIServer.listening(try start("http-api", arguments: ["--config", config], environment: environment))
    }
}
