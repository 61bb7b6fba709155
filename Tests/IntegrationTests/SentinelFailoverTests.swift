import Foundation
import Testing

@testable import TopCoins

/// The whole pipeline on a primary, a replica and three Sentinels (real servers on loopback),
/// every process given `REDIS_URL` in Sentinel form. One failover per test: the primary is
/// SIGKILLed and the processes must follow the promoted replica without a restart.
@Suite("Sentinel failover", .serialized)
struct SentinelFailoverTests {
    static let merged = "topcoins:merged"

    /// The snapshots a merger logged as written (`msg="merged snapshot" ... outcome=written`).
    static func written(by merger: ChildProcess) -> [String] {
        merger.stderr.lines.filter { $0.contains("msg=\"merged snapshot\"") && $0.contains("outcome=written") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("snapshot=") }.map { String($0.dropFirst("snapshot=".count)) }
        }
    }

    /// No process logged a secret: the API keys, the data password, the Sentinels' password.
    static func expectNoSecretsLogged(_ bed: TestBed, _ processes: [ChildProcess]) {
        for process in processes {
            let log = process.stdout.text + process.stderr.text
            for secret in bed.secrets { #expect(!log.contains(secret), "\(process.name) logged a secret") }
        }
    }

    /// The timestamps `topcoins:merged` announces, oldest first.
    static func announced(_ redis: RedisClient) async throws -> [Int64] {
        try await redis.xrange(merged).compactMap { $0.text("timestamp").flatMap { Int64($0) } }
    }

    @Test("SIGKILL of the primary: every process follows the promoted replica; what reached it stays, nothing is written twice")
    func primaryKilled() async throws {
        try await TestBed.with(redis: .sentinels(promotableReplica: true)) { bed in
            let cluster = try #require(bed.cluster)
            let priceFetcher = try bed.start("price-fetcher", arguments: ["--config", try bed.writeFetcherConfig("price-fetcher")])
            let rankFetcher = try bed.start("rank-fetcher", arguments: ["--config", try bed.writeFetcherConfig("rank-fetcher")])
            // Two mergers: the lease must keep one writer across the failover.
            let first = try bed.startMerger(consumer: "merger-a") { $0 = $0.setting(["lease_seconds"], .number("3")) }
            try await first.waitForLine(timeout: .seconds(30)) { $0.contains("holding the merger lease") }
            let second = try bed.startMerger(consumer: "merger-b") { $0 = $0.setting(["lease_seconds"], .number("3")) }
            try await second.waitForLine(timeout: .seconds(30)) { $0.contains("standing by") }
            let api = try await bed.startAPI()
            let processes = [priceFetcher, rankFetcher, first, second, api.process]

            var latest = try await bed.waitForSnapshot(timeout: .seconds(60), merger: first)
            for _ in 0..<2 { latest = try await bed.waitForSnapshot(after: latest, timeout: .seconds(60), merger: first) }
            try await api.waitForServing(atLeast: latest, timeout: .seconds(60))

            let killedAt = Timestamp.now
            let primary = try #require(cluster.primary.process)
            primary.killNow()
            _ = try await primary.waitForExit()
            // What the replica holds now is all it will ever get from the dead primary.
            let reachedReplica = try await cluster.replica.withTCPClient { replica in
                try await replica.zrangeByScore(TestBed.keys.history, minimum: "-inf", maximum: "+inf").map(\.score)
            }
            try #require(reachedReplica.count >= 3, "the replica had \(reachedReplica.count) snapshots at the kill")

            try await cluster.waitForPromotion()
            // A snapshot fetched after the kill: published, merged and served on the new primary.
            let recovered = try await bed.waitForSnapshot(after: killedAt, timeout: .seconds(90))
            try await api.waitForServing(atLeast: recovered, timeout: .seconds(60))
            for process in processes {
                #expect(process.isRunning, "\(process.name) exited:\n\(process.stderr.text.suffix(3000))")
            }

            let history = try await bed.historyTimestamps()
            #expect(Set(reachedReplica).isSubset(of: Set(history)), "lost after promotion: \(Set(reachedReplica).subtracting(history).sorted())")
            // Every snapshot written once: one announcement per history entry, all distinct.
            #expect(try await Self.announced(bed.redis) == history)
            #expect(Set(history).count == history.count)
            // Writes the old primary acknowledged but never replicated: counted, not hidden.
            let stored = Set(history.map { Timestamp(milliseconds: $0).description })
            let lost = Set(Self.written(by: first) + Self.written(by: second)).subtracting(stored)
            print("Sentinel failover: \(lost.count) snapshot write(s) lost with the old primary \(lost.sorted())")
            Self.expectNoSecretsLogged(bed, processes)
            #expect(try await first.terminate(timeout: .seconds(10)) == .exited(0))
            #expect(try await second.terminate(timeout: .seconds(10)) == .exited(0))
        }
    }

    @Test("with the primary down for good, an API reading a replica answers / and past instants")
    func replicaReadsWhilePrimaryIsDown() async throws {
        // An unpromotable replica: the primary stays down, so every answer comes from the replica.
        try await TestBed.with(redis: .sentinels(promotableReplica: false)) { bed in
            let cluster = try #require(bed.cluster)
            try await bed.publishPair()
            let merger = try bed.startMerger()
            let oldest = try await bed.newestPairTimestamp()
            try await Faults.waitUntil("the first pair merged", timeout: .seconds(60)) { try await bed.latestSnapshot() == oldest }
            // The new price merges with the old ranking first: wait for the pair's own merge.
            try await bed.publishPair()
            let newest = try await bed.newestPairTimestamp()
            try await Faults.waitUntil("the second pair merged", timeout: .seconds(60)) { try await bed.latestSnapshot() == newest }
            // Both snapshots on the replica before the API starts reading it.
            #expect(try await bed.redis.send(["WAIT", "1", "30000"]).int == 1)
            #expect(try await merger.terminate(timeout: .seconds(10)) == .exited(0))

            let api = try await bed.startAPI(environment: ["REDIS_READ_URL": cluster.replicaURL])
            try await api.waitForServing(newest, timeout: .seconds(60))
            let primary = try #require(cluster.primary.process)
            primary.killNow()
            _ = try await primary.waitForExit()

            let now = try await api.request("/?limit=5")
            #expect(now.status == 200)
            #expect(try JSONParser.parse(now.body)["timestamp"] == .string(newest.iso8601))
            // Never asked before, so not in the API's cache: read from the replica now.
            let past = try await api.request("/?limit=5&datetime=\(oldest.adding(milliseconds: 1).iso8601)")
            #expect(past.status == 200, "\(String(decoding: past.body, as: UTF8.self))")
            #expect(try JSONParser.parse(past.body)["timestamp"] == .string(oldest.iso8601))
            #expect(api.process.isRunning)
            Self.expectNoSecretsLogged(bed, [merger, api.process])
        }
    }
}
