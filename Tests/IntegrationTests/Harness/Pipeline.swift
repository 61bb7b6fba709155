import Foundation
import Testing

@testable import TopCoins

/// The merger and the API on a `TestBed`: configs derived from the shipped ones, the API on a
/// free port, and small waits for what the pipeline writes.
extension TestBed {
    static let keys = HistoryKeys()

    /// Writes `Config/<executable>.json` as shipped, with `edit` applied, and returns its path.
    func writeConfig(_ executable: String, name: String? = nil, edit: (inout JSONValue) -> Void = { _ in }) throws -> String {
        var config = try TestConfigs.shipped(executable)
        edit(&config)
        let path = directory.file(name ?? "\(executable).json")
        try TestConfigs.write(config, to: path)
        return path
    }

    /// Starts the merger with a stable consumer name (so a restart re-reads its pending entries).
    func startMerger(consumer: String = "merger-test", edit: (inout JSONValue) -> Void = { _ in }) throws -> ChildProcess {
        let config = try writeConfig("merger") { config in
            config = config.setting(["consumer"], .string(consumer))
            edit(&config)
        }
        return try start("merger", arguments: ["--config", config])
    }

    /// Runs both fetchers once against the fake upstream: one price and one rank snapshot.
    func publishPair() async throws {
        for executable in ["price-fetcher", "rank-fetcher"] {
            let config = try writeFetcherConfig(executable)
            let run = try await run(executable, arguments: ["--config", config, "--once"])
            try #require(run.status == .exited(0), "\(executable) --once failed:\n\(run.stderr)")
        }
    }

    /// The timestamp the merge of the newest price and rank messages gets: the later fetch.
    func newestPairTimestamp() async throws -> Timestamp {
        let prices = try #require(try await redis.xrevrange("topcoins:prices", count: 1).first)
        let ranks = try #require(try await redis.xrevrange("topcoins:ranks", count: 1).first)
        return max(try FetchedSnapshot(entry: prices).fetchedAt, try FetchedSnapshot(entry: ranks).fetchedAt)
    }

    /// The newest merged snapshot's timestamp in Redis.
    func latestSnapshot() async throws -> Timestamp? {
        try await History(redis: redis).latestTimestamp()
    }

    /// Polls until the latest snapshot is newer than `previous`.
    @discardableResult
    func waitForSnapshot(after previous: Timestamp? = nil, timeout: Duration = .seconds(20), merger: ChildProcess? = nil) async throws -> Timestamp {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let latest = try? await latestSnapshot(), previous.map({ latest > $0 }) ?? true { return latest }
            if let merger, !merger.isRunning { throw HarnessError("merger exited:\n\(merger.stderr.text.suffix(4000))") }
            guard ContinuousClock.now < deadline else { throw HarnessError("no new snapshot within \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Timestamps (unix ms) history holds, oldest first.
    func historyTimestamps() async throws -> [Int64] {
        try await redis.zrangeByScore(Self.keys.history, minimum: "-inf", maximum: "+inf").map(\.score)
    }

    /// Starts the API on a free port (with `environment` beside the bed's); returns it once it listens.
    func startAPI(environment: [String: String] = [:], edit: (inout JSONValue) -> Void = { _ in }) async throws -> APIServer {
        let config = try writeConfig("http-api") { config in
            config = config
                .setting(["port"], .number("0"))
                .setting(["host"], .string("127.0.0.1"))
                .setting(["openapi_path"], .string(BuildProducts.packageRoot.appendingPathComponent("oas.yaml").path))
            edit(&config)
        }
        return try await APIServer.listening(try start("http-api", arguments: ["--config", config], environment: environment))
    }
}

/// A running http-api and a libcurl client for it.
struct APIServer: Sendable {
    let process: ChildProcess
    let port: Int
    static let http = HTTPClient(threads: 2)

    /// Waits until `process` (an http-api) logs that it listens, and reads the port from that line.
    static func listening(_ process: ChildProcess) async throws -> APIServer {
        let line = try await process.waitForLine { $0.contains("msg=\"http-api listening\"") }
        guard let portText = line.split(separator: " ").first(where: { $0.hasPrefix("port=") })?.dropFirst(5), let port = Int(portText) else {
            throw HarnessError("no port in \(line)")
        }
        return APIServer(process: process, port: port)
    }

    func request(_ pathAndQuery: String, method: String = "GET", headers: [(String, String)] = []) async throws -> HTTPResponse {
        try await APIServer.http.send(HTTPRequest(method: method, url: "http://127.0.0.1:\(port)\(pathAndQuery)", headers: headers, timeoutSeconds: 10))
    }

    /// Polls `GET /` until it serves the snapshot at `timestamp`.
    func waitForServing(_ timestamp: Timestamp, timeout: Duration = .seconds(20)) async throws {
        try await waitForServing(timeout: timeout, description: "\(timestamp)") { $0 == timestamp }
    }

    /// Polls `GET /` until it serves a snapshot at `timestamp` or later (a running pipeline
    /// may already have moved past it); returns the one served.
    @discardableResult
    func waitForServing(atLeast timestamp: Timestamp, timeout: Duration = .seconds(20)) async throws -> Timestamp {
        try await waitForServing(timeout: timeout, description: "\(timestamp) or later") { $0 >= timestamp }
    }

    private func waitForServing(timeout: Duration, description: String, _ accept: (Timestamp) -> Bool) async throws -> Timestamp {
        let deadline = ContinuousClock.now + timeout
        var last = "nothing yet"
        while true {
            let response = try await request("/?limit=1")
            if response.status == 200, case .string(let text)? = try JSONParser.parse(response.body)["timestamp"], let served = Timestamp(iso8601: text) {
                if accept(served) { return served }
                last = text
            } else {
                last = "status \(response.status)"
            }
            guard ContinuousClock.now < deadline else { throw HarnessError("the API did not serve \(description) within \(timeout) (last: \(last))") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
