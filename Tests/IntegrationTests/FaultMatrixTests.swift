import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import TopCoins

/// The fault matrix: the built executables against a real redis-server and the fake upstream,
/// with the upstream misbehaving, a component down, Redis away or restarted empty, signals,
/// config mistakes, and secrets that must never reach a log.
@Suite("Fault matrix", .serialized, .timeLimit(.minutes(3)))
struct FaultMatrixTests {
    static let cycleFailed = "fetch cycle failed"

    // MARK: - 1. A run of upstream faults under a long-running fetcher

    @Test("long-running price-fetcher: 500s, malformed, wrong shape, empty list publish nothing, are logged and counted; then it recovers")
    func upstreamFaultRunThenRecovery() async throws {
        try await TestBed.with { bed in
            let attemptsValue = try #require(try TestConfigs.shipped("price-fetcher")["retry"]?["attempts"])
            let attempts = try #require(Int({ if case .number(let text) = attemptsValue { text } else { "" } }()))
            let fetcher = try bed.startFaultFetcher("price-fetcher")
            _ = try await bed.redis.waitForStreamEntries(Faults.prices, count: 1, timeout: .seconds(30), producer: fetcher)

            let wrongShape = #"{"status":{"error_code":0},"foo":[]}"#
            let empty = #"{"status":{"timestamp":"2024-06-14T12:00:00.000Z","error_code":0,"error_message":null,"elapsed":1,"credit_count":1,"notice":null,"total_count":9843},"data":[]}"#
            // One cycle each: every attempt of a cycle gets the same fault; an empty list is not retried.
            try await bed.upstream.script(
                FakeUpstream.listingPath,
                Array(repeating: .file(500, "errors/cmc-500.json"), count: attempts)
                    + Array(repeating: .file(200, "errors/malformed.json"), count: attempts)
                    + Array(repeating: .text(200, wrongShape), count: attempts)
                    + [.text(200, empty)])

            // Cycles run one after another: once the first fault is logged, the last good cycle
            // has published and recorded its status.
            try await fetcher.waitForLine(timeout: .seconds(20)) { $0.contains("upstream request failed") && $0.contains(" reason=server_error") }
            let entriesBefore = try await bed.redis.xrange(Faults.prices).count
            let statusBefore = try await Faults.status(bed.redis, "coinmarketcap")
            let successBefore = try #require(statusBefore["last_success_at"].flatMap { Int64($0) }, "status before: \(statusBefore)")

            try await fetcher.waitForLine(timeout: .seconds(30)) { $0.contains(Self.cycleFailed) && $0.contains(" reason=no_records") }
            #expect(try await bed.redis.xrange(Faults.prices).count == entriesBefore, "an entry was published during the faulty cycles")

            // Each faulty cycle is logged with its reason.
            #expect(Faults.lines(fetcher, containing: Self.cycleFailed, " reason=server_error").count == 1, "stderr:\n\(fetcher.stderr.text.suffix(4000))")
            #expect(Faults.lines(fetcher, containing: Self.cycleFailed, " reason=malformed").count == 2, "stderr:\n\(fetcher.stderr.text.suffix(4000))")
            #expect(Faults.lines(fetcher, containing: Self.cycleFailed, " reason=no_records").count == 1)
            #expect(Faults.lines(fetcher, containing: "upstream request failed", " reason=server_error").count == attempts)
            #expect(Faults.lines(fetcher, containing: "upstream request failed", " reason=malformed").count == 2 * attempts)

            // ... and counted in the pipeline status (written just after the log line).
            try await Faults.waitUntil("the fourth failure is recorded") {
                try await Faults.status(bed.redis, "coinmarketcap")["cycles_failed"] == "4"
            }
            let failed = try await Faults.status(bed.redis, "coinmarketcap")
            #expect(failed["cycles_failed"] == "4", "status: \(failed)")
            #expect(failed["failed.server_error"] == "1", "status: \(failed)")
            #expect(failed["failed.malformed"] == "2", "status: \(failed)")
            #expect(failed["failed.no_records"] == "1", "status: \(failed)")
            #expect(failed["last_error_reason"] == "no_records", "status: \(failed)")
            #expect(failed["last_success_at"] == String(successBefore), "no success was recorded during the faults")
            #expect((failed["last_error_at"].flatMap { Int64($0) } ?? 0) > successBefore)

            // Recovery: the next cycle publishes a whole snapshot and records the success.
            let entries = try await bed.redis.waitForStreamEntries(Faults.prices, count: entriesBefore + 1, timeout: .seconds(20), producer: fetcher)
            #expect(entries.last?.text("count") == "2500")
            try await Faults.waitUntil("last_success_at advances") {
                let status = try await Faults.status(bed.redis, "coinmarketcap")
                return (status["last_success_at"].flatMap { Int64($0) } ?? 0) > successBefore
            }
            let recovered = try await Faults.status(bed.redis, "coinmarketcap")
            #expect((recovered["cycles_ok"].flatMap { Int($0) } ?? 0) >= 2)
            #expect(recovered["cycles_failed"] == "4")
            #expect(fetcher.isRunning)
            #expect(try await fetcher.terminate(timeout: .seconds(5)) == .exited(0))
        }
    }

    // MARK: - 2. Upstream refusing connections

    @Test("an upstream that refuses connections: --once exits 1, nothing published, reason=transport")
    func upstreamRefusesConnections() async throws {
        try await TestBed.with { bed in
            let port = try RedisServer.freeTCPPort()
            let config = try TestConfigs.fetcher("price-fetcher", upstreamBaseURL: "http://127.0.0.1:\(port)")
            let path = bed.directory.file("refused-price-fetcher.json")
            try TestConfigs.write(config, to: path)
            let run = try await bed.run("price-fetcher", arguments: ["--config", path, "--once"], timeout: .seconds(30))
            #expect(run.status == .exited(1), "stderr:\n\(run.stderr)")
            #expect(try await bed.redis.send(["EXISTS", RedisArgument(Faults.prices)]) == .integer(0), "something was published")
            #expect(run.stderrLines.contains { $0.contains(Self.cycleFailed) && $0.contains(" reason=transport") }, "stderr:\n\(run.stderr)")
            #expect(run.stderrLines.contains { $0.contains("upstream request failed") && $0.contains(" reason=transport") })
            let status = try await Faults.status(bed.redis, "coinmarketcap")
            #expect(status["failed.transport"] == "1", "status: \(status)")
            #expect(status["last_success_at"] == nil)
        }
    }

    // MARK: - 3. One fetcher down for several windows

    @Test("rank-fetcher down: the merger stops pairing, the API serves the last snapshot flagged stale, /ready names the stalled source")
    func oneFetcherDown() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startFaultMerger { $0 = $0.setting(["window_seconds"], .number("2")) }
            let api = try await bed.startFaultAPI {
                $0 = $0.setting(["stale_after_seconds"], .number("3")).setting(["snapshot_interval_seconds"], .number("1"))
            }
            let priceFetcher = try bed.startFaultFetcher("price-fetcher")
            let rankFetcher = try bed.startFaultFetcher("rank-fetcher")
            _ = try await Faults.waitForServed(api)

            #expect(try await rankFetcher.terminate(timeout: .seconds(5)) == .exited(0))
            let newestRank = try #require(try await Faults.newestFetch(bed.redis, Faults.ranks)).fetchedAt
            let windowEnd = newestRank.milliseconds + 2000

            // The API reads the pipeline status every 2 s; staleness needs more than 3 s.
            let flagged = await Faults.poll(timeout: .seconds(20), every: .milliseconds(250)) {
                let (response, _) = try await Faults.served(api, limit: 1)
                let ready = try await Faults.readiness(api)
                return response.header("X-Snapshot-Stale") == "true" && ready.reasons.contains("snapshot_stale")
                    && ready.reasons.contains("stalled:cryptocompare")
            }
            #expect(flagged, "the API never flagged the stale snapshot and the stalled source")
            // Prices went on well past the window.
            try await Faults.waitUntil("a price fetched more than the window after the last rank", timeout: .seconds(10)) {
                try await Faults.newestFetch(bed.redis, Faults.prices).map { $0.fetchedAt.milliseconds > windowEnd + 1000 } ?? false
            }
            try await Faults.waitUntil("the merger records not_paired") {
                try await Faults.status(bed.redis, "merger")["failed.not_paired"].flatMap { Int($0) }.map { $0 >= 1 } ?? false
            }

            let history = try await bed.historyTimestamps()
            #expect(!history.isEmpty)
            #expect(history.allSatisfy { $0 <= windowEnd }, "snapshots after the newest rank + window (\(windowEnd)): \(history.filter { $0 > windowEnd })")
            let latest = try #require(try await bed.latestSnapshot())
            #expect(latest.milliseconds == history.max())

            let (response, served) = try await Faults.served(api, limit: 1)
            #expect(response.status == 200)
            #expect(served == latest, "the API serves the last snapshot")
            #expect(response.header("X-Snapshot-Stale") == "true")
            #expect((response.header("X-Snapshot-Age").flatMap { Int($0) } ?? 0) > 3)
            let ready = try await Faults.readiness(api)
            #expect(ready.status == 503)
            #expect(ready.reasons.contains("snapshot_stale"), "\(ready.body)")
            #expect(ready.reasons.contains("stalled:cryptocompare"), "\(ready.body)")
            #expect(!ready.reasons.contains("redis_unreachable"))

            #expect(priceFetcher.isRunning && merger.isRunning && api.process.isRunning)
            for child in [priceFetcher, merger, api.process] {
                #expect(try await child.terminate(timeout: .seconds(5)) == .exited(0), "\(child.name)")
            }
        }
    }

    // MARK: - 4. Redis absent at start, then restarted empty mid-run

    @Test("Redis absent at start, then restarted empty: every process waits, the API holds its snapshot, the pipeline recovers")
    func redisAbsentThenRestartedEmpty() async throws {
        try await TestBed.with { bed in
            try await bed.redisServer.shutdownServer()
            let merger = try bed.startFaultMerger()
            let api = try await bed.startFaultAPI { $0 = $0.setting(["snapshot_interval_seconds"], .number("1")) }
            let priceFetcher = try bed.startFaultFetcher("price-fetcher")
            let rankFetcher = try bed.startFaultFetcher("rank-fetcher")
            let all = [priceFetcher, rankFetcher, merger, api.process]

            // Without Redis: the API has nothing to serve and says why.
            let unreachable = await Faults.poll(timeout: .seconds(10)) { try await Faults.readiness(api).reasons.contains("redis_unreachable") }
            #expect(unreachable)
            let root = try await api.request("/")
            #expect(root.status == 503)
            #expect(root.header("Retry-After") != nil)
            #expect(try JSONParser.parse(root.body)["error"]?["code"] == .string("unavailable"))
            let ready = try await Faults.readiness(api)
            #expect(ready.status == 503)
            #expect(ready.reasons.contains("redis_unreachable"), "\(ready.body)")
            // The others keep trying instead of dying.
            try await priceFetcher.waitForLine(timeout: .seconds(15)) { $0.contains("could not publish snapshot") }
            try await rankFetcher.waitForLine(timeout: .seconds(15)) { $0.contains("could not publish snapshot") }
            try await merger.waitForLine(timeout: .seconds(15)) { $0.contains("level=error") }
            for child in all { #expect(child.isRunning, "\(child.name) exited without Redis: \(child.exitStatus.map { "\($0)" } ?? "")\n\(child.stderr.text.suffix(2000))") }

            // Redis arrives: the first snapshot is served, nothing restarted.
            try await bed.redisServer.restart()
            let first = try await Faults.waitForServed(api, timeout: .seconds(40))
            #expect(first.response.header("X-Snapshot-Age") != nil)

            // Redis goes away: the held snapshot is still served.
            try await bed.redisServer.shutdownServer()
            let noticed = await Faults.poll(timeout: .seconds(10)) { try await Faults.readiness(api).reasons.contains("redis_unreachable") }
            #expect(noticed, "/ready never reported redis_unreachable")
            let held = try await Faults.served(api)
            #expect(held.response.status == 200)
            let heldTimestamp = try #require(held.timestamp)
            #expect(heldTimestamp >= first.timestamp)
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(300))
                let again = try await api.request("/?limit=5")
                #expect(again.status == 200)
                #expect(again.body == held.response.body, "the held snapshot changed while Redis was down")
            }
            // A past instant: answered from what the API holds (404, before all history) or a 503
            // with Retry-After when it needs Redis; never another 5xx. The held instant is served.
            let past = try await api.request("/?datetime=2020-01-01T00:00:00Z")
            let pastCode = try JSONParser.parse(past.body)["error"]?["code"]
            if past.status == 503 {
                #expect(past.header("Retry-After") != nil)
                #expect(pastCode == .string("unavailable"))
            } else {
                #expect(past.status == 404, "\(past.status): \(past.bodyText)")
                #expect(pastCode == .string("no_snapshot_at_datetime"))
            }
            let atHeld = try await api.request("/?limit=5&datetime=\(heldTimestamp.iso8601)")
            #expect(atHeld.status == 200, "\(atHeld.status): \(atHeld.bodyText.prefix(300))")
            for child in all { #expect(child.isRunning, "\(child.name) exited while Redis was down\n\(child.stderr.text.suffix(2000))") }

            // Redis is back, empty (no persistence): a new snapshot is merged and served.
            try await bed.redisServer.restart()
            let next = try await Faults.waitForServed(api, after: heldTimestamp, timeout: .seconds(40))
            #expect(try await bed.latestSnapshot() != nil)
            #expect(try await bed.historyTimestamps().allSatisfy { $0 > heldTimestamp.milliseconds }, "the new Redis holds only new snapshots")
            #expect(next.response.status == 200)
            // The first Redis's history is gone: its instants are a 404 (or still served), never a 5xx.
            let lost = try await api.request("/?limit=5&datetime=\(heldTimestamp.iso8601)")
            #expect(lost.status == 200 || lost.status == 404, "\(lost.status): \(lost.bodyText.prefix(300))")
            let readyAgain = await Faults.poll(timeout: .seconds(10)) { !(try await Faults.readiness(api).reasons.contains("redis_unreachable")) }
            #expect(readyAgain)

            for child in all { #expect(child.isRunning, "\(child.name) is not running at the end") }
            for child in all {
                let status = try await child.terminate(timeout: .seconds(5))
                #expect(status == .exited(0), "\(child.name): \(status)\n\(child.stderr.text.suffix(2000))")
            }
        }
    }

    // MARK: - 5. SIGTERM to each busy process

    @Test("SIGTERM to each busy process exits 0; the merger leaves nothing pending and its snapshot in history")
    func sigtermEachProcess() async throws {
        try await TestBed.with { bed in
            let merger = try bed.startFaultMerger()
            let api = try await bed.startFaultAPI()
            let priceFetcher = try bed.startFaultFetcher("price-fetcher")
            let rankFetcher = try bed.startFaultFetcher("rank-fetcher")
            _ = try await Faults.waitForServed(api)

            // The price-fetcher is stopped in the middle of a transfer the upstream holds back.
            let listingRequests = try await bed.upstream.requests(path: FakeUpstream.listingPath).count
            try await bed.upstream.script(
                FakeUpstream.listingPath, Array(repeating: .file(200, "coinmarketcap/listings-latest.json", delayMilliseconds: 15_000), count: 2))
            try await Faults.waitUntil("price-fetcher sends a held-back request", timeout: .seconds(10)) {
                try await bed.upstream.requests(path: FakeUpstream.listingPath).count > listingRequests
            }
            let priceStatus = try await priceFetcher.terminate(timeout: .seconds(5))
            #expect(priceStatus == .exited(0), "price-fetcher: \(priceStatus)\n\(priceFetcher.stderr.text.suffix(2000))")

            // The rank-fetcher is stopped while it waits out a 30 s Retry-After.
            try await bed.upstream.script(FakeUpstream.toplistPath, [.file(429, "errors/cryptocompare-429.json", headers: ["Retry-After": "30"])])
            try await rankFetcher.waitForLine(timeout: .seconds(10)) { $0.contains(" reason=rate_limited") && $0.contains("retry_in_s=30") }
            let rankStatus = try await rankFetcher.terminate(timeout: .seconds(5))
            #expect(rankStatus == .exited(0), "rank-fetcher: \(rankStatus)\n\(rankFetcher.stderr.text.suffix(2000))")

            // The merger has written and acknowledged everything, then is stopped.
            let latest = try #require(try await bed.latestSnapshot())
            try await Faults.waitUntil("nothing pending") {
                let prices = try await Faults.pendingCount(bed.redis, stream: Faults.prices)
                let ranks = try await Faults.pendingCount(bed.redis, stream: Faults.ranks)
                return prices == 0 && ranks == 0
            }
            let mergerStatus = try await merger.terminate(timeout: .seconds(5))
            #expect(mergerStatus == .exited(0), "merger: \(mergerStatus)\n\(merger.stderr.text.suffix(2000))")
            #expect(try await Faults.pendingCount(bed.redis, stream: Faults.prices) == 0)
            #expect(try await Faults.pendingCount(bed.redis, stream: Faults.ranks) == 0)
            #expect(try await bed.latestSnapshot() == latest)
            #expect(try await bed.historyTimestamps().contains(latest.milliseconds))
            #expect(try await bed.redis.get(TestBed.keys.snapshot(latest)) != nil, "the snapshot body is gone")

            // The API is stopped while it answers requests.
            let port = api.port
            let load = Task {
                var answered = 0
                while !Task.isCancelled {
                    if (try? await APIServer.http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/?limit=2000", timeoutSeconds: 5)))?.status == 200 {
                        answered += 1
                    } else {
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                return answered
            }
            try await Task.sleep(for: .milliseconds(300))
            let apiStatus = try await api.process.terminate(timeout: .seconds(5))
            load.cancel()
            #expect(await load.value > 0, "the API answered nothing under load")
            #expect(apiStatus == .exited(0), "http-api: \(apiStatus)\n\(api.process.stderr.text.suffix(2000))")
        }
    }

    @Test("SIGTERM while Redis is away: every process exits 0")
    func sigtermWhileRedisIsAway() async throws {
        try await TestBed.with { bed in
            try await bed.redisServer.shutdownServer()
            let merger = try bed.startFaultMerger()
            let api = try await bed.startFaultAPI()
            let priceFetcher = try bed.startFaultFetcher("price-fetcher")
            let rankFetcher = try bed.startFaultFetcher("rank-fetcher")
            // Each is in its Redis retry loop: publishing, reconnecting, following.
            try await priceFetcher.waitForLine(timeout: .seconds(15)) { $0.contains("could not publish snapshot") }
            try await rankFetcher.waitForLine(timeout: .seconds(15)) { $0.contains("could not publish snapshot") }
            try await merger.waitForLine(timeout: .seconds(15)) { $0.contains("level=error") }
            try await api.process.waitForLine(timeout: .seconds(15)) { $0.contains("level=warning") || $0.contains("level=error") }
            for child in [priceFetcher, rankFetcher, merger, api.process] {
                let status = try await child.terminate(timeout: .seconds(5))
                #expect(status == .exited(0), "\(child.name): \(status)\n\(child.stderr.text.suffix(2000))")
            }
        }
    }

    // MARK: - 6. Config mistakes for the merger and the API

    struct ConfigMistake: Sendable {
        let name: String
        let executable: String
        let edit: @Sendable (JSONValue) -> JSONValue
        var environment: [String: String] = [:]
        var unset: [String] = []
        /// The key path stderr must name right after the file (`<file>: <key path>`).
        let keyPath: String
        /// Further text stderr must contain.
        var mentions: [String] = []
    }

    static let configMistakes: [ConfigMistake] = [
        ConfigMistake(name: "merger unknown key", executable: "merger", edit: { $0.setting(["window_secs"], .number("60")) }, keyPath: "window_secs", mentions: ["unknown key"]),
        ConfigMistake(
            name: "merger unknown nested key", executable: "merger", edit: { $0.setting(["streams", "prizes"], .string("x")) }, keyPath: "streams.prizes",
            mentions: ["unknown key"]),
        ConfigMistake(name: "merger wrong type", executable: "merger", edit: { $0.setting(["window_seconds"], .string("60")) }, keyPath: "window_seconds"),
        ConfigMistake(
            name: "merger retention tier not longer than the previous", executable: "merger",
            edit: {
                $0.setting(["retention"], .array([
                    .object(JSONObject([("every", .string("snapshot")), ("for_days", .number("7"))])),
                    .object(JSONObject([("every", .string("hour")), ("for_days", .number("3"))])),
                ]))
            }, keyPath: "retention[1].for_days"),
        ConfigMistake(
            name: "merger retention tier without for_days before the last", executable: "merger",
            edit: {
                $0.setting(["retention"], .array([
                    .object(JSONObject([("every", .string("snapshot"))])), .object(JSONObject([("every", .string("day"))])),
                ]))
            }, keyPath: "retention[0].for_days"),
        ConfigMistake(
            name: "merger retention tier with an unknown key", executable: "merger",
            edit: { $0.setting(["retention"], .array([.object(JSONObject([("every", .string("day")), ("keep", .number("3"))]))])) },
            keyPath: "retention[0].keep", mentions: ["unknown key"]),
        ConfigMistake(
            name: "merger unset ${VAR} in redis.url", executable: "merger", edit: { $0.setting(["redis", "url"], .string("${TOPCOINS_FAULT_UNSET_VAR}")) },
            unset: ["REDIS_URL", "TOPCOINS_FAULT_UNSET_VAR"], keyPath: "redis.url", mentions: ["TOPCOINS_FAULT_UNSET_VAR"]),
        ConfigMistake(
            name: "merger bad redis URL scheme", executable: "merger", edit: { $0.setting(["redis", "url"], .string("http://127.0.0.1:6379")) },
            unset: ["REDIS_URL"], keyPath: "redis.url"),
        ConfigMistake(
            name: "merger bad REDIS_URL scheme in the environment", executable: "merger", edit: { $0 }, environment: ["REDIS_URL": "rediss://127.0.0.1:6379"],
            keyPath: "REDIS_URL"),
        ConfigMistake(name: "merger empty retention", executable: "merger", edit: { $0.setting(["retention"], .array([])) }, keyPath: "retention"),
        ConfigMistake(name: "http-api bad log_level", executable: "http-api", edit: { $0.setting(["log_level"], .string("verbose")) }, keyPath: "log_level"),
        ConfigMistake(name: "http-api unknown key", executable: "http-api", edit: { $0.setting(["max_limt"], .number("10")) }, keyPath: "max_limt", mentions: ["unknown key"]),
        ConfigMistake(name: "http-api wrong type", executable: "http-api", edit: { $0.setting(["stale_after_seconds"], .string("180")) }, keyPath: "stale_after_seconds"),
        ConfigMistake(
            name: "http-api unset ${VAR} in redis.url", executable: "http-api", edit: { $0.setting(["redis", "url"], .string("redis://${TOPCOINS_FAULT_UNSET_VAR}:6379")) },
            unset: ["REDIS_URL", "TOPCOINS_FAULT_UNSET_VAR"], keyPath: "redis.url", mentions: ["TOPCOINS_FAULT_UNSET_VAR"]),
        ConfigMistake(
            name: "http-api bad redis URL scheme", executable: "http-api", edit: { $0.setting(["redis", "url"], .string("tcp://127.0.0.1:6379")) },
            unset: ["REDIS_URL"], keyPath: "redis.url"),
        ConfigMistake(
            name: "http-api default_limit above max_limit", executable: "http-api",
            edit: { $0.setting(["default_limit"], .number("200")).setting(["max_limit"], .number("100")) }, keyPath: "default_limit"),
        ConfigMistake(
            name: "http-api unreadable openapi_path", executable: "http-api", edit: { $0.setting(["openapi_path"], .string("/nonexistent/topcoins/oas.yaml")) },
            keyPath: "openapi_path", mentions: ["/nonexistent/topcoins/oas.yaml"]),
        ConfigMistake(
            name: "http-api openapi_path relative to the config file, missing there", executable: "http-api",
            edit: { $0.setting(["openapi_path"], .string("no-such-oas.yaml")) }, keyPath: "openapi_path", mentions: ["no-such-oas.yaml"]),
    ]

    @Test("config mistakes stop the merger and the API with exit code 2, naming the file and the key path")
    func configMistakes() async throws {
        try await TestBed.with { bed in
            for (index, mistake) in Self.configMistakes.enumerated() {
                let path: String
                if mistake.executable == "http-api" {
                    path = try bed.writeFaultAPIConfig(name: "bad-\(index)-http-api.json") { $0 = mistake.edit($0) }
                } else {
                    path = try bed.writeConfig("merger", name: "bad-\(index)-merger.json") { $0 = mistake.edit($0) }
                }
                do {
                    let run = try await bed.run(
                        mistake.executable, arguments: ["--config", path], environment: mistake.environment, unsetEnvironment: mistake.unset,
                        timeout: .seconds(10))
                    #expect(run.status == .exited(2), "\(mistake.name): \(run.status)\nstderr:\n\(run.stderr.suffix(2000))")
                    #expect(run.stderr.contains("\(path): \(mistake.keyPath)"), "\(mistake.name): stderr:\n\(run.stderr.suffix(2000))")
                    for mention in mistake.mentions { #expect(run.stderr.contains(mention), "\(mistake.name): stderr:\n\(run.stderr.suffix(2000))") }
                    #expect(!run.stderr.contains("listening"), "\(mistake.name)")
                } catch {
                    Issue.record("\(mistake.name): \(error)")
                }
            }
            #expect(try await bed.redis.send(["DBSIZE"]) == .integer(0), "a process with a bad config touched Redis")
        }
    }

    // MARK: - 7. No secret in any log

    @Test("with a Redis password and API keys, after a merged snapshot, failures and a Redis restart, no log holds a secret")
    func noSecretInAnyLog() async throws {
        try await TestBed.with { bed in
            let password = "pw-\(UUID().uuidString.lowercased())"
            try await RedisServer.with(password: password, tcpPort: try RedisServer.freeTCPPort()) { server, client in
                try await Self.secretsScenario(bed, server: server, client: client, password: password)
            }
        }
    }

    static func secretsScenario(_ bed: TestBed, server: RedisServer, client: RedisClient, password: String) async throws {
        let port = try #require(server.tcpPort)
        let url = "redis://:\(password)@127.0.0.1:\(port)/0"
        let environment = ["REDIS_URL": url]
        let verbose: (inout JSONValue) -> Void = { $0 = $0.setting(["log_level"], .string("trace")) }
        let merger = try bed.startFaultMerger(environment: environment, edit: verbose)
        let api = try await bed.startFaultAPI(environment: environment, edit: verbose)
        let priceFetcher = try bed.startFaultFetcher("price-fetcher", environment: environment, edit: verbose)
        let rankFetcher = try bed.startFaultFetcher("rank-fetcher", environment: environment, edit: verbose)
        let all = [priceFetcher, rankFetcher, merger, api.process]

        // A merged snapshot in the password-protected Redis, served by the API.
        let store = History(redis: client)
        try await Faults.waitUntil("a snapshot in the password-protected Redis", timeout: .seconds(30)) { try await store.latestTimestamp() != nil }
        let first = try await Faults.waitForServed(api)
        #expect(try await bed.redis.send(["DBSIZE"]) == .integer(0), "the bed's own Redis was used instead of REDIS_URL")

        // Forced failures: both upstreams reject the key.
        try await bed.upstream.script(FakeUpstream.listingPath, [.file(401, "errors/cmc-401-invalid-key.json")])
        try await bed.upstream.script(FakeUpstream.toplistPath, [.file(401, "errors/cryptocompare-401.json")])
        try await priceFetcher.waitForLine(timeout: .seconds(15)) { $0.contains(" reason=key_problem") }
        try await rankFetcher.waitForLine(timeout: .seconds(15)) { $0.contains(" reason=key_problem") }

        // Redis restarted (empty): every process logs the lost connection and logs in again.
        try await server.restart()
        try await Faults.waitUntil("a snapshot after the Redis restart", timeout: .seconds(40)) { try await store.latestTimestamp() != nil }
        _ = try await Faults.waitForServed(api, after: first.timestamp, timeout: .seconds(20))

        // A merger with a wrong password logs its failure to log in.
        let wrongPassword = "wrong-\(UUID().uuidString.lowercased())"
        let intruder = try bed.startFaultMerger(
            consumer: "intruder", name: "merger-wrong-password.json", environment: ["REDIS_URL": "redis://:\(wrongPassword)@127.0.0.1:\(port)/0"], edit: verbose)
        try await intruder.waitForLine(timeout: .seconds(15)) { $0.contains("level=error") }
        #expect(try await intruder.terminate(timeout: .seconds(5)) == .exited(0))

        let ready = try await Faults.readiness(api)
        let metrics = try await api.request("/metrics")
        var statusText = ""
        for component in ["coinmarketcap", "cryptocompare", "merger"] {
            statusText += try await Faults.status(client, component).map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        }

        for child in all {
            let status = try await child.terminate(timeout: .seconds(5))
            #expect(status == .exited(0), "\(child.name): \(status)")
        }
        let secrets = bed.secrets + [password]
        for child in all + [intruder] {
            let log = child.stderr.text + child.stdout.text
            #expect(!log.isEmpty, "\(child.name) logged nothing")
            for secret in secrets + [wrongPassword] {
                let leaks = log.components(separatedBy: "\n").filter { $0.contains(secret) }
                #expect(leaks.isEmpty, "\(child.name) logged a secret in \(leaks.count) lines, first: \(leaks.first?.prefix(500) ?? "")")
            }
        }
        // Nor what operators read from the API or Redis.
        for (what, text) in [("/ready", ready.body), ("/metrics", metrics.bodyText), ("status hashes", statusText)] {
            for secret in secrets {
                let leaked = text.contains(secret)
                #expect(!leaked, "\(what) holds a secret")
            }
        }
        #expect(Faults.lines(priceFetcher, containing: " reason=key_problem").count >= 1)
    }
}
