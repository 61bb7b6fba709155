import Testing

@testable import TopCoins

@Suite("SentinelSet")
struct SentinelSetTests {
    typealias Server = SentinelSet.Server

    static func sentinel(
        _ servers: [Server], _ name: String = "mymaster", password: String? = nil, role: SentinelSet.Role = .primary,
        dataUser: String? = nil, dataPassword: String? = nil, database: Int = 0
    ) -> RedisEndpoint {
        RedisEndpoint(
            address: .sentinel(SentinelSet(sentinels: servers, masterName: name, password: password, role: role)), username: dataUser, password: dataPassword,
            database: database)
    }

    @Test(arguments: [
        ("redis-sentinel://s1:26379/mymaster", sentinel([Server(host: "s1", port: 26379)])),
        ("redis-sentinel://s1,s2:26380,s3/top-coins_1.a", sentinel([Server(host: "s1", port: 26379), Server(host: "s2", port: 26380), Server(host: "s3", port: 26379)], "top-coins_1.a")),
        ("redis-sentinel://:data%40pw@s1:1/m?db=3", sentinel([Server(host: "s1", port: 1)], "m", dataPassword: "data@pw", database: 3)),
        ("redis-sentinel://alice:pw@s1/m", sentinel([Server(host: "s1", port: 26379)], "m", dataUser: "alice", dataPassword: "pw")),
        ("redis-sentinel://s1/m?sentinel_password=s%26p&db=2", sentinel([Server(host: "s1", port: 26379)], "m", password: "s&p", database: 2)),
        ("redis-sentinel://:d@s1/m?sentinel_password=s", sentinel([Server(host: "s1", port: 26379)], "m", password: "s", dataPassword: "d")),
        ("redis-sentinel://[::1]:26380,[fe80::1]/m?replica=1", sentinel([Server(host: "::1", port: 26380), Server(host: "fe80::1", port: 26379)], "m", role: .replica)),
        ("redis-sentinel://s1/m?replica=0", sentinel([Server(host: "s1", port: 26379)], "m")),
    ])
    func parses(url: String, expected: RedisEndpoint) throws {
        #expect(try RedisEndpoint(url: url) == expected)
    }

    @Test(arguments: [
        "redis-sentinel://", "redis-sentinel://s1", "redis-sentinel://s1/", "redis-sentinel:///m", "redis-sentinel://s1,,s2/m", "redis-sentinel://s1,/m",
        "redis-sentinel://,s1/m", "redis-sentinel://s1:0/m", "redis-sentinel://s1:65536/m", "redis-sentinel://s1:x/m", "redis-sentinel://[::1/m",
        "redis-sentinel://s1/m/x", "redis-sentinel://s1/m x", "redis-sentinel://s1/m%20", "redis-sentinel://s1/m?db=x", "redis-sentinel://s1/m?db=-1",
        "redis-sentinel://s1/m?db=1&db=2", "redis-sentinel://s1/m?database=1", "redis-sentinel://s1/m?db", "redis-sentinel://s1/m?", "redis-sentinel://s1/m?replica=yes",
        "redis-sentinel://s1/m?replica=1&replica=1", "redis-sentinel://s1/m?sentinel_password=", "redis-sentinel://s1/m?db=1&", "redis-sentinel://:pw@/m",
        "redis-sentinel://s1/" + String(repeating: "m", count: 129),
        "redis-sentinel://" + Array(repeating: "s", count: 17).joined(separator: ",") + "/m",
    ])
    func rejects(url: String) {
        #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: url) }
    }

    @Test func errorsSayWhatIsWrong() {
        let name = #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: "redis-sentinel://:s3cret@s1:26379") }
        #expect(name?.description.contains("monitored name") == true)
        #expect(name?.description.contains("s3cret") == false)
        let empty = #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: "redis-sentinel://s1,,s2/m") }
        #expect(empty?.description == "an empty Sentinel address in the list")
        let unknown = #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: "redis-sentinel://s1/m?master=x") }
        #expect(unknown?.description.contains("unknown query parameter master") == true)
    }

    @Test func descriptionNeverShowsAPassword() throws {
        let endpoint = try RedisEndpoint(url: "redis-sentinel://:d4ta@s1:26379,[::1]:26380/m?sentinel_password=s3nt&db=2&replica=1")
        #expect(endpoint.description == "redis-sentinel://***@s1:26379,[::1]:26380/m?db=2&sentinel_password=***&replica=1")
        #expect(try RedisEndpoint(url: "redis-sentinel://s1/m").description == "redis-sentinel://s1:26379/m")
    }

    @Test func primaryReplies() throws {
        #expect(try SentinelSet.primary(in: .array([.bulk(Array("10.0.0.5".utf8)), .bulk(Array("6380".utf8))])) == Server(host: "10.0.0.5", port: 6380))
        #expect(try SentinelSet.primary(in: .null) == nil)
        for hostile: RedisValue in [
            .array([]), .array([.bulk(Array("h".utf8))]), .array([.bulk([]), .bulk(Array("1".utf8))]), .array([.bulk(Array("h".utf8)), .bulk(Array("0".utf8))]),
            .array([.bulk(Array("h".utf8)), .bulk(Array("99999".utf8))]), .array([.bulk(Array("h".utf8)), .bulk(Array("x".utf8))]), .integer(1), .bulk(Array("h:1".utf8)),
        ] {
            #expect(throws: RedisError.self) { try SentinelSet.primary(in: hostile) }
        }
    }

    static func replica(_ fields: [String: String]) -> RedisValue {
        .array(fields.sorted { $0.key < $1.key }.flatMap { [RedisValue.bulk(Array($0.key.utf8)), .bulk(Array($0.value.utf8))] })
    }

    @Test func upReplicasSkipDownDisconnectedAndMalformedOnes() throws {
        let reply = RedisValue.array([
            Self.replica(["ip": "10.0.0.6", "port": "6380", "flags": "slave", "master-link-status": "err"]),
            Self.replica(["ip": "10.0.0.7", "port": "6381", "flags": "s_down,slave"]),
            Self.replica(["ip": "10.0.0.8", "port": "6382", "flags": "slave,disconnected"]),
            Self.replica(["ip": "10.0.0.9", "port": "6383", "flags": "o_down,slave"]),
            Self.replica(["ip": "10.0.0.10", "port": "70000", "flags": "slave"]),
            Self.replica(["port": "6384", "flags": "slave"]),
            .integer(3),
        ])
        #expect(try SentinelSet.upReplicas(in: reply) == [Server(host: "10.0.0.6", port: 6380)])
        #expect(try SentinelSet.upReplicas(in: .array([])) == [])
        #expect(throws: RedisError.self) { try SentinelSet.upReplicas(in: .error("ERR No such master with that name")) }
    }

    @Test func rolesAccepted() throws {
        let primary = SentinelSet(sentinels: [], masterName: "m")
        let reader = SentinelSet(sentinels: [], masterName: "m", role: .replica)
        #expect(primary.accepts(role: "master") && !primary.accepts(role: "slave") && !primary.accepts(role: "sentinel"))
        #expect(reader.accepts(role: "master") && reader.accepts(role: "slave") && !reader.accepts(role: "sentinel"))
        #expect(try SentinelSet.role(in: .array([.bulk(Array("slave".utf8)), .bulk(Array("h".utf8))])) == "slave")
        #expect(throws: RedisError.self) { try SentinelSet.role(in: .array([])) }
    }

    static func apiConfig(environment: [String: String]) throws(ConfigError) -> APIConfig {
        try APIConfig(reading: ConfigObject.parse(file: "/nonexistent/topcoins/http-api.json", bytes: Array("{}".utf8), environment: environment))
    }

    @Test func replicaReadsAreForREDIS_READ_URLOnly() throws {
        let sentinels = "redis-sentinel://:pw@s1,s2/topcoins"
        let config = try Self.apiConfig(environment: ["REDIS_URL": sentinels, "REDIS_READ_URL": sentinels + "?replica=1"])
        guard case .sentinel(let primary) = config.settings.redis.address, case .sentinel(let reads) = config.readRedis.address else {
            Issue.record("both URLs should be the Sentinel form")
            return
        }
        #expect(primary.role == .primary && reads.role == .replica)
        #expect(try Self.apiConfig(environment: ["REDIS_URL": sentinels]).readRedis == config.settings.redis)
        #expect(try Self.apiConfig(environment: ["REDIS_URL": sentinels, "REDIS_READ_URL": "redis://replica:6380"]).readRedis.address == .tcp(host: "replica", port: 6380))

        let writesToAReplica = #expect(throws: ConfigError.self) { try Self.apiConfig(environment: ["REDIS_URL": sentinels + "?replica=1"]) }
        #expect(writesToAReplica?.keyPath == "REDIS_URL (environment)")
        #expect(writesToAReplica?.message.contains("REDIS_READ_URL") == true)
        let badReadURL = #expect(throws: ConfigError.self) { try Self.apiConfig(environment: ["REDIS_READ_URL": "redis-sentinel://s1/"]) }
        #expect(badReadURL?.keyPath == "REDIS_READ_URL (environment)")
    }
}
