import Foundation
@testable import TopCoins

/// A primary, one replica and three Sentinels on loopback TCP: what a failover test runs on.
/// The primary is a `TestBed`'s own server (started with a TCP port and a password, which the
/// replica shares); the Sentinels have a password of their own, as in production. Each server
/// has a directory of its own, removed when it stops.
final class SentinelCluster: @unchecked Sendable {
    /// The name the Sentinels monitor the primary under.
    static let name = "topcoins"

    let primary: RedisServer
    let replica: RedisServer
    let sentinels: [RedisServer]

    /// `REDIS_URL` in Sentinel form: the primary, whichever server that is now.
    var url: String {
        let sentinelList = sentinels.map { "127.0.0.1:\($0.tcpPort ?? 0)" }.joined(separator: ",")
        return "redis-sentinel://:\(primary.password ?? "")@\(sentinelList)/\(SentinelCluster.name)?sentinel_password=\(sentinelPassword)"
    }
    /// `REDIS_READ_URL` for a replica.
    var replicaURL: String { url + "&replica=1" }
    /// Both passwords, which no log may contain.
    var secrets: [String] { [primary.password ?? "", sentinelPassword] }
    let sentinelPassword: String
    var endpoint: RedisEndpoint { get throws { try RedisEndpoint(url: url) } }

    private init(primary: RedisServer, replica: RedisServer, sentinels: [RedisServer], sentinelPassword: String) {
        self.sentinelPassword = sentinelPassword
        self.primary = primary
        self.replica = replica
        self.sentinels = sentinels
    }

    /// Starts the replica of `primary` (a TCP server), waits until it is in sync, then starts
    /// three Sentinels and waits until each knows the replica and the two other Sentinels.
    /// `promotable: false` gives the replica priority 0, so the primary's death is final.
    static func start(primary: RedisServer, promotable: Bool = true) async throws -> SentinelCluster {
        guard let primaryPort = primary.tcpPort else { throw HarnessError("a Sentinel cluster's primary needs a TCP port") }
        let sentinelPassword = "sentinel-\(UUID().uuidString.lowercased())"
        var started: [RedisServer] = []
        do {
            let replica = try await RedisServer.startOnFreePort(
                password: primary.password, kind: .replica(ofPort: primaryPort, promotable: promotable))
            started.append(replica)
            try await replica.waitForReplicationLink()
            // Sentinels find the replica in the primary's INFO, and each other through its pub/sub.
            for _ in 0..<3 {
                started.append(
                    try await RedisServer.startOnFreePort(
                        password: sentinelPassword,
                        kind: .sentinel(monitoringPort: primaryPort, name: name, dataPassword: primary.password, downAfterMilliseconds: 1000)))
            }
            let cluster = SentinelCluster(primary: primary, replica: replica, sentinels: Array(started.dropFirst()), sentinelPassword: sentinelPassword)
            try await cluster.waitUntilFormed()
            return cluster
        } catch {
            for server in started { await server.stop() }
            throw error
        }
    }

    /// Asks every Sentinel `command` until `accept` holds of each answer.
    private func waitForEverySentinel(_ what: String, timeout: Duration = .seconds(60), _ command: [RedisArgument], _ accept: @escaping (RedisValue) -> Bool) async throws {
        for sentinel in sentinels {
            try await sentinel.withTCPClient { client in
                try await Faults.waitUntil("Sentinel \(sentinel.tcpPort ?? 0): \(what)", timeout: timeout) { accept(try await client.send(command)) }
            }
        }
    }

    private func waitUntilFormed() async throws {
        let replicaPort = replica.tcpPort ?? 0
        try await waitForEverySentinel("knows the replica", ["SENTINEL", "replicas", RedisArgument(SentinelCluster.name)]) { reply in
            (try? SentinelSet.upReplicas(in: reply))?.contains(SentinelSet.Server(host: "127.0.0.1", port: replicaPort)) == true
        }
        try await waitForEverySentinel("knows the two other Sentinels", ["SENTINEL", "sentinels", RedisArgument(SentinelCluster.name)]) { $0.array?.count == 2 }
    }

    /// Waits until every Sentinel names the replica as the primary and the replica says it is one.
    func waitForPromotion() async throws {
        let replicaPort = replica.tcpPort ?? 0
        try await waitForEverySentinel("names the replica as primary", ["SENTINEL", "get-master-addr-by-name", RedisArgument(SentinelCluster.name)]) { reply in
            (try? SentinelSet.primary(in: reply)) == SentinelSet.Server(host: "127.0.0.1", port: replicaPort)
        }
        try await replica.withTCPClient { client in
            try await Faults.waitUntil("the replica reports the master role") { try SentinelSet.role(in: try await client.send(["ROLE"])) == "master" }
        }
    }

    func stop() async {
        for sentinel in sentinels { await sentinel.stop() }
        await replica.stop()
    }
}

extension RedisServer {
    /// Waits until this replica's link to its primary is up and the first sync is done.
    func waitForReplicationLink() async throws {
        try await withTCPClient { client in
            try await Faults.waitUntil("replica \(tcpPort ?? 0) in sync", timeout: .seconds(30)) {
                let info = try await client.send(["INFO", "replication"]).string ?? ""
                return info.contains("master_link_status:up") && info.contains("master_sync_in_progress:0")
            }
        }
    }
}
