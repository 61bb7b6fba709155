import Testing

@testable import TopCoins

@Suite("RedisEndpoint")
struct RedisEndpointTests {
    @Test(arguments: [
        ("redis://127.0.0.1:6379", RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379))),
        ("redis://cache:6380", RedisEndpoint(address: .tcp(host: "cache", port: 6380))),
        ("redis://cache", RedisEndpoint(address: .tcp(host: "cache", port: 6379))),
        ("redis://cache/", RedisEndpoint(address: .tcp(host: "cache", port: 6379))),
        ("redis://cache:6379/3", RedisEndpoint(address: .tcp(host: "cache", port: 6379), database: 3)),
        ("redis://cache/15", RedisEndpoint(address: .tcp(host: "cache", port: 6379), database: 15)),
        ("redis://:s3cret@cache:6379", RedisEndpoint(address: .tcp(host: "cache", port: 6379), password: "s3cret")),
        ("redis://alice:s3cret@cache:7000/2", RedisEndpoint(address: .tcp(host: "cache", port: 7000), username: "alice", password: "s3cret", database: 2)),
        ("redis://:p%40ss%3Aw%2Fd%25@cache", RedisEndpoint(address: .tcp(host: "cache", port: 6379), password: "p@ss:w/d%")),
        ("redis://:%E2%82%AC@cache", RedisEndpoint(address: .tcp(host: "cache", port: 6379), password: "€")),
        ("redis://al%69ce:pw@cache", RedisEndpoint(address: .tcp(host: "cache", port: 6379), username: "alice", password: "pw")),
        ("redis://:p@ss@cache", RedisEndpoint(address: .tcp(host: "cache", port: 6379), password: "p@ss")),  // the last '@' ends the credentials
        ("redis://:a:b@cache", RedisEndpoint(address: .tcp(host: "cache", port: 6379), password: "a:b")),
        ("redis://[::1]:6380", RedisEndpoint(address: .tcp(host: "::1", port: 6380))),
        ("redis://[::1]", RedisEndpoint(address: .tcp(host: "::1", port: 6379))),
        ("redis://:pw@[fe80::1]:7001/4", RedisEndpoint(address: .tcp(host: "fe80::1", port: 7001), password: "pw", database: 4)),
        ("redis://cache:1", RedisEndpoint(address: .tcp(host: "cache", port: 1))),
        ("redis://cache:65535", RedisEndpoint(address: .tcp(host: "cache", port: 65535))),
        ("unix:///run/redis/redis.sock", RedisEndpoint(address: .unix(path: "/run/redis/redis.sock"))),
        ("unix:///tmp/r.sock?db=5", RedisEndpoint(address: .unix(path: "/tmp/r.sock"), database: 5)),
    ])
    func parses(url: String, expected: RedisEndpoint) throws {
        #expect(try RedisEndpoint(url: url) == expected)
    }

    @Test(arguments: [
        "http://cache:6379", "https://cache", "rediss://cache:6379", "cache:6379", "",
        "redis://cache:0", "redis://cache:65536", "redis://cache:port", "redis://cache:", "redis://cache:-1", "redis://cache:6379x",
        "redis://", "redis://:6379", "redis://:pw@", "redis://:pw@:6379", "redis:///0", "redis://[]:6379", "redis://[::1",
        "redis://[::1]:99999", "redis://cache/x", "redis://cache/-1",
        "unix://relative.sock", "unix://", "unix:///tmp/r.sock?database=1", "unix:///tmp/r.sock?db=x", "unix:///tmp/r.sock?db=-1",
    ])
    func rejects(url: String) {
        #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: url) }
    }

    @Test(arguments: [("redis://:50%@cache", "50%"), ("redis://:%41%42@cache", "AB")])
    func aPercentSignThatStartsNoEscapeAtTheEndIsKept(url: String, password: String) throws {
        #expect(try RedisEndpoint(url: url).password == password)
    }

    /// A '%' not followed by two hex digits is kept as written, never half-decoded.
    @Test func invalidPercentEscapesAreKeptLiterally() throws {
        #expect(try RedisEndpoint(url: "redis://:100%zz@cache").password == "100%zz")
        #expect(try RedisEndpoint(url: "redis://:a%4g@cache").password == "a%4g")
        #expect(try RedisEndpoint(url: "redis://:%+1@cache").password == "%+1")
        #expect(try RedisEndpoint(url: "redis://:a%2@cache").password == "a%2")
    }

    /// Text between an IPv6 host's ']' and the port would otherwise silently mean the default port.
    @Test(arguments: ["redis://[::1]6380", "redis://[::1]junk", "redis://[::1]x:6380"])
    func textAfterAnIPv6HostOtherThanAPortIsRejected(url: String) {
        #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: url) }
    }

    @Test func errorsSayWhatIsWrong() {
        let scheme = #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: "http://cache") }
        #expect(scheme?.description.contains("redis://") == true)
        let port = #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: "redis://cache:99999") }
        #expect(port?.description == "invalid port")
        let host = #expect(throws: RedisEndpoint.InvalidURL.self) { try RedisEndpoint(url: "redis://:secret@:6379") }
        #expect(host?.description == "missing host")
        #expect(host?.description.contains("secret") == false)
    }

    @Test(arguments: [
        ("redis://:s3cret@cache:6380/2", "redis://***@cache:6380/2"),
        ("redis://alice:s3cret@cache", "redis://***@cache:6379/0"),
        ("redis://cache", "redis://cache:6379/0"),
        ("unix:///tmp/r.sock", "unix:///tmp/r.sock"),
        ("unix:///tmp/r.sock?db=3", "unix:///tmp/r.sock?db=3"),
    ])
    func descriptionNeverShowsThePassword(url: String, description: String) throws {
        let endpoint = try RedisEndpoint(url: url)
        #expect(endpoint.description == description)
        #expect(!endpoint.description.contains("s3cret"))
    }

    @Test func descriptionHidesRandomPasswords() throws {
        var random = SplitMix64(seed: 6379)
        let alphabet: [Character] = Array("abcXYZ0189-_.~!*")
        for _ in 0..<200 {
            let password = "pw" + random.string(from: alphabet, length: Int.random(in: 4...16, using: &random))
            let endpoint = try RedisEndpoint(url: "redis://user:\(password)@host:6379/1")
            #expect(endpoint.password == password)
            #expect(!endpoint.description.contains(password), "\(endpoint.description)")
            #expect(!"\(endpoint)".contains(password))
        }
    }
}

@Suite("RedisValue")
struct RedisValueTests {
    @Test func accessors() {
        #expect(RedisValue.bulk(Array("abc".utf8)).string == "abc")
        #expect(RedisValue.status("OK").string == "OK")
        #expect(RedisValue.status("OK").bytes == Array("OK".utf8))
        #expect(RedisValue.integer(5).string == nil)
        #expect(RedisValue.null.bytes == nil)
        #expect(RedisValue.integer(-3).int == -3)
        #expect(RedisValue.bulk(Array("42".utf8)).int == 42)
        #expect(RedisValue.bulk(Array("4.2".utf8)).int == nil)
        #expect(RedisValue.error("ERR x").int == nil)
        #expect(RedisValue.array([.null]).array == [.null])
        #expect(RedisValue.bulk([]).array == nil)
        #expect(RedisValue.bulk([0xFF, 0x00]).bytes == [0xFF, 0x00])
    }

    @Test func argumentsAreBytes() {
        #expect(RedisArgument("XADD").bytes == Array("XADD".utf8))
        #expect(RedisArgument(1440).bytes == Array("1440".utf8))
        #expect(RedisArgument(Int64(-1_718_366_400_000)).bytes == Array("-1718366400000".utf8))
        #expect(RedisArgument([0x00, 0xFF]).bytes == [0x00, 0xFF])
        let literal: RedisArgument = "MAXLEN"
        #expect(literal.bytes == Array("MAXLEN".utf8))
        let count = 3
        let interpolated: RedisArgument = "n=\(count)"
        #expect(interpolated.bytes == Array("n=3".utf8))
    }

    @Test func serverErrorCodes() {
        #expect(RedisError.server("NOGROUP No such key 'x'").serverCode == "NOGROUP")
        #expect(RedisError.server("BUSYGROUP Consumer Group name already exists").serverCode == "BUSYGROUP")
        #expect(RedisError.connection("refused").serverCode == nil)
        #expect(RedisError.server("ERR").serverCode == "ERR")
    }
}
