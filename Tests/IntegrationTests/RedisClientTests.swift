import Foundation
import Testing
@testable import TopCoins

/// The library's RedisClient against a real redis-server on a unix socket.
@Suite("RedisClient against a real redis-server", .timeLimit(.minutes(2)))
struct RedisClientTests {
    func withRedis(password: String? = nil, tcpPort: Int? = nil, _ body: (RedisServer, RedisClient) async throws -> Void) async throws {
        try await RedisServer.with(password: password, tcpPort: tcpPort, body)
    }

    /// The database number a client's connection is on, from `CLIENT INFO`.
    func database(of client: RedisClient) async throws -> Int? {
        let info = try await client.send(["CLIENT", "INFO"]).string ?? ""
        return info.split(separator: " ").first { $0.hasPrefix("db=") }.flatMap { Int($0.dropFirst(3)) }
    }

    @Test("SET/GET keep arbitrary bytes, NUL and 0xFF included")
    func binaryValues() async throws {
        try await withRedis { _, client in
            let value: [UInt8] = [0x00, 0xFF, 0x00, 0x41, 0x0D, 0x0A, 0xFE, 0x80] + (0...255).map { UInt8($0) } + [0x00]
            try await client.set("bin\u{0}key", RedisArgument(value))
            #expect(try await client.get("bin\u{0}key") == value)
            #expect(try await client.send(["STRLEN", "bin\u{0}key"]).int == value.count)
            #expect(try await client.get("bin") == nil)
            #expect(try await client.get("missing") == nil)
            try await client.set("empty", RedisArgument([UInt8]()))
            #expect(try await client.get("empty") == [])
        }
    }

    @Test("pipeline returns every reply in order, error replies in place")
    func pipeline() async throws {
        try await withRedis { _, client in
            let replies = try await client.pipeline([
                ["SET", "counter", "1"],
                ["INCR", "counter"],
                ["GET", "counter"],
                ["LPUSH", "counter", "x"],
                ["GET", "nothing"],
                ["RPUSH", "list", "a", "b"],
                ["LRANGE", "list", "0", "-1"],
            ])
            #expect(replies.count == 7)
            #expect(replies[0] == .status("OK"))
            #expect(replies[1] == .integer(2))
            #expect(replies[2] == .bulk(Array("2".utf8)))
            guard case .error(let message) = replies[3] else {
                Issue.record("expected an error reply, got \(replies[3])")
                return
            }
            #expect(message.hasPrefix("WRONGTYPE"))
            #expect(replies[4] == .null)
            #expect(replies[5] == .integer(2))
            #expect(replies[6] == .array([.bulk(Array("a".utf8)), .bulk(Array("b".utf8))]))
            // The connection is still usable after an error reply inside a pipeline.
            #expect(try await client.get("counter") == Array("2".utf8))
        }
    }

    @Test("transaction runs the commands in MULTI/EXEC and returns their replies")
    func transaction() async throws {
        try await withRedis { _, client in
            let results = try await client.transaction([
                ["SET", "a", "1"],
                ["INCRBY", "a", "41"],
                ["ZADD", "z", "5", "five"],
                ["GET", "a"],
            ])
            #expect(results == [.status("OK"), .integer(42), .integer(1), .bulk(Array("42".utf8))])
            #expect(try await client.get("a") == Array("42".utf8))

            // A command Redis refuses while queuing aborts the whole transaction.
            do throws(RedisError) {
                _ = try await client.transaction([["SET", "b", "1"], ["NOSUCHCOMMAND"]])
                Issue.record("expected the transaction to fail")
            } catch {
                guard case .server = error else {
                    Issue.record("expected RedisError.server, got \(error)")
                    return
                }
            }
            #expect(try await client.get("b") == nil)
            // The connection is not left inside MULTI.
            #expect(try await client.send(["SET", "c", "1"]) == .status("OK"))
        }
    }

    @Test("XADD with MAXLEN ~, XRANGE and XREVRANGE")
    func streamsAddAndRange() async throws {
        try await withRedis { _, client in
            var ids: [String] = []
            for index in 1...3 {
                let payload: [UInt8] = [0x00, UInt8(index), 0xFF]
                ids.append(try await client.xadd("s", maxLength: 1000, fields: [("n", RedisArgument(index)), ("bin", RedisArgument(payload))]))
            }
            #expect(ids.allSatisfy { $0.contains("-") })
            #expect(Set(ids).count == 3)

            let all = try await client.xrange("s")
            #expect(all.map(\.id) == ids)
            #expect(all.map { $0.text("n") } == ["1", "2", "3"])
            #expect(all[1].field("bin") == [0x00, 0x02, 0xFF])
            #expect(all[0].fields.map(\.name) == ["n", "bin"])

            let newestTwo = try await client.xrevrange("s", count: 2)
            #expect(newestTwo.map(\.id) == [ids[2], ids[1]])
            let firstOne = try await client.xrange("s", count: 1)
            #expect(firstOne.map(\.id) == [ids[0]])
            let fromSecond = try await client.xrange("s", from: ids[1])
            #expect(fromSecond.map(\.id) == [ids[1], ids[2]])
            #expect(try await client.xrange("no-such-stream").isEmpty)
            #expect(try await client.xrevrange("no-such-stream").isEmpty)

            // MAXLEN ~ trims whole nodes: the stream stays bounded near the limit.
            for index in 0..<600 {
                try await client.xadd("trimmed", maxLength: 10, fields: [("i", RedisArgument(index))])
            }
            let length = try await client.send(["XLEN", "trimmed"]).int ?? -1
            #expect(length >= 10)
            #expect(length < 600)
            let newest = try await client.xrevrange("trimmed", count: 1)
            #expect(newest.first?.text("i") == "599")
        }
    }

    @Test("consumer group: create twice, read new then pending, ack, autoclaim from a dead consumer")
    func consumerGroups() async throws {
        try await withRedis { _, client in
            // MKSTREAM creates the stream; a second create is BUSYGROUP, which is tolerated.
            try await client.xgroupCreate("g-stream", group: "merger")
            try await client.xgroupCreate("g-stream", group: "merger")
            #expect(try await client.send(["TYPE", "g-stream"]) == .status("stream"))
            // Other server errors still surface.
            await #expect(throws: RedisError.self) {
                try await client.xgroupCreate("g-stream", group: "bad", startingAt: "not-an-id")
            }

            let first = try await client.xadd("g-stream", maxLength: 100, fields: [("k", "1")])
            let second = try await client.xadd("g-stream", maxLength: 100, fields: [("k", "2")])

            let read = try await client.xreadgroup(group: "merger", consumer: "A", count: 10, blockMilliseconds: nil, streams: [("g-stream", ">")])
            #expect(read.count == 1)
            #expect(read.first?.key == "g-stream")
            #expect(read.first?.entries.map(\.id) == [first, second])
            #expect(read.first?.entries.map { $0.text("k") } == ["1", "2"])

            // Nothing new for anyone now (a short BLOCK times out with a nil reply).
            let none = try await client.xreadgroup(group: "merger", consumer: "A", count: 10, blockMilliseconds: 50, streams: [("g-stream", ">")])
            #expect(none.allSatisfy { $0.entries.isEmpty })

            // `0`: this consumer's pending entries.
            let pending = try await client.xreadgroup(group: "merger", consumer: "A", count: 10, blockMilliseconds: nil, streams: [("g-stream", "0")])
            #expect(pending.first?.entries.map(\.id) == [first, second])

            #expect(try await client.xack("g-stream", group: "merger", ids: [first]) == 1)
            #expect(try await client.xack("g-stream", group: "merger", ids: [first]) == 0)
            let stillPending = try await client.xreadgroup(group: "merger", consumer: "A", count: 10, blockMilliseconds: nil, streams: [("g-stream", "0")])
            #expect(stillPending.first?.entries.map(\.id) == [second])

            // A dies; B takes over its idle entry.
            try await Task.sleep(for: .milliseconds(120))
            let claimed = try await client.xautoclaim("g-stream", group: "merger", consumer: "B", minIdleMilliseconds: 100)
            #expect(claimed.next == "0-0")
            #expect(claimed.entries.map(\.id) == [second])
            #expect(claimed.entries.first?.text("k") == "2")
            let owners = try await client.send(["XPENDING", "g-stream", "merger", "-", "+", "10"]).array ?? []
            #expect(owners.count == 1)
            #expect(owners.first?.array?[0].string == second)
            #expect(owners.first?.array?[1].string == "B")
            let pendingA = try await client.xreadgroup(group: "merger", consumer: "A", count: 10, blockMilliseconds: nil, streams: [("g-stream", "0")])
            #expect(pendingA.allSatisfy { $0.entries.isEmpty })
            let pendingB = try await client.xreadgroup(group: "merger", consumer: "B", count: 10, blockMilliseconds: nil, streams: [("g-stream", "0")])
            #expect(pendingB.first?.entries.map(\.id) == [second])
            #expect(try await client.xack("g-stream", group: "merger", ids: [second]) == 1)

            // A group on a stream that is gone: NOGROUP surfaces as a server error with its code.
            try await client.del(["g-stream"])
            do throws(RedisError) {
                _ = try await client.xreadgroup(group: "merger", consumer: "A", count: 1, blockMilliseconds: nil, streams: [("g-stream", ">")])
                Issue.record("expected NOGROUP")
            } catch {
                #expect(error.serverCode == "NOGROUP")
            }
        }
    }

    @Test("ZADD, ZRANGEBYSCORE and ZREVRANGEBYSCORE with LIMIT")
    func sortedSets() async throws {
        try await withRedis { _, client in
            let base: Int64 = 1_718_366_400_000
            for (offset, member) in ["a", "b", "c", "d", "e"].enumerated() {
                try await client.zadd("history", score: base + Int64(offset) * 60_000, member: "snap:\(member)")
            }
            let all = try await client.zrangeByScore("history", minimum: "-inf", maximum: "+inf")
            #expect(all.map(\.member) == ["snap:a", "snap:b", "snap:c", "snap:d", "snap:e"])
            #expect(all.map(\.score) == (0..<5).map { base + Int64($0) * 60_000 })

            let firstTwo = try await client.zrangeByScore("history", minimum: "-inf", maximum: "+inf", limit: 2)
            #expect(firstTwo.map(\.member) == ["snap:a", "snap:b"])

            // The newest at or before an instant: ZREVRANGEBYSCORE key instant -inf LIMIT 0 1.
            let atOrBefore = try await client.zrevrangeByScore("history", maximum: String(base + 150_000), minimum: "-inf", limit: 1)
            #expect(atOrBefore.map(\.member) == ["snap:c"])
            #expect(atOrBefore.first?.score == base + 120_000)

            let newestTwo = try await client.zrevrangeByScore("history", maximum: "+inf", minimum: "-inf", limit: 2)
            #expect(newestTwo.map(\.member) == ["snap:e", "snap:d"])

            let exclusive = try await client.zrangeByScore("history", minimum: "(\(base + 60_000)", maximum: String(base + 180_000))
            #expect(exclusive.map(\.member) == ["snap:c", "snap:d"])
            #expect(try await client.zrangeByScore("history", minimum: String(base + 1), maximum: String(base + 2)).isEmpty)
            #expect(try await client.zrangeByScore("no-such-key", minimum: "-inf", maximum: "+inf").isEmpty)
        }
    }

    @Test("a server error reply surfaces as RedisError.server with the message")
    func serverErrors() async throws {
        try await withRedis { _, client in
            try await client.set("text", "not a number")
            do throws(RedisError) {
                try await client.send(["INCR", "text"])
                Issue.record("expected an error")
            } catch {
                #expect(error == .server("ERR value is not an integer or out of range"))
                #expect(error.serverCode == "ERR")
            }
            do throws(RedisError) {
                try await client.send(["NOSUCHCOMMAND", "x"])
                Issue.record("expected an error")
            } catch {
                guard case .server(let message) = error else {
                    Issue.record("expected RedisError.server, got \(error)")
                    return
                }
                #expect(message.hasPrefix("ERR unknown command"))
                #expect(message.lowercased().contains("nosuchcommand"))
            }
            do throws(RedisError) {
                _ = try await client.zrangeByScore("text", minimum: "-inf", maximum: "+inf")
                Issue.record("expected WRONGTYPE")
            } catch {
                #expect(error.serverCode == "WRONGTYPE")
            }
            // The connection survives error replies.
            #expect(try await client.get("text") == Array("not a number".utf8))
        }
    }

    @Test("AUTH with a password and SELECT of a database, from an endpoint and from URLs")
    func authenticationAndDatabase() async throws {
        let password = "s3cr:t@pw/\(UInt32.random(in: 0...UInt32.max))"
        let port = try RedisServer.freeTCPPort()
        try await withRedis(password: password, tcpPort: port) { server, _ in
            // No password: the server refuses commands.
            let anonymous = RedisClient(endpoint: RedisEndpoint(address: .unix(path: server.socketPath)))
            do throws(RedisError) {
                try await anonymous.ping()
                Issue.record("expected NOAUTH")
            } catch {
                #expect(error.serverCode == "NOAUTH")
            }
            await anonymous.shutdown()

            // RedisEndpoint(address:password:database:).
            let db2 = RedisClient(endpoint: RedisEndpoint(address: .unix(path: server.socketPath), password: password, database: 2))
            try await db2.set("where", "db2")
            #expect(try await database(of: db2) == 2)
            #expect(try await db2.get("where") == Array("db2".utf8))
            await db2.shutdown()

            // redis://:password@host:port/db with a percent-encoded password.
            let encoded = HTTPRequest.percentEncode(password)
            let fromURL = try RedisEndpoint(url: "redis://:\(encoded)@127.0.0.1:\(port)/3")
            #expect(fromURL.address == .tcp(host: "127.0.0.1", port: port))
            #expect(fromURL.password == password)
            #expect(fromURL.database == 3)
            #expect(!fromURL.description.contains(password))
            let db3 = RedisClient(endpoint: fromURL)
            #expect(try await database(of: db3) == 3)
            #expect(try await db3.get("where") == nil)
            try await db3.set("where", "db3")
            await db3.shutdown()

            // redis://user:password@host:port/db (the ACL form, user "default").
            let withUser = try RedisEndpoint(url: "redis://default:\(encoded)@127.0.0.1:\(port)/2")
            #expect(withUser.username == "default")
            let db2AsUser = RedisClient(endpoint: withUser)
            #expect(try await db2AsUser.get("where") == Array("db2".utf8))
            await db2AsUser.shutdown()

            // Database 0 saw neither write.
            let db0 = server.client()
            #expect(try await db0.get("where") == nil)
            #expect(try await database(of: db0) == 0)
            await db0.shutdown()
        }
    }

    /// A failed AUTH or SELECT frees the hiredis context exactly once (it once crashed here).
    @Test("a wrong password or a database that does not exist is a connection error")
    func failedLogin() async throws {
        let password = "right-\(UInt32.random(in: 0...UInt32.max))"
        try await withRedis(password: password) { server, _ in
            // A wrong password fails while connecting.
            let wrong = RedisClient(endpoint: RedisEndpoint(address: .unix(path: server.socketPath), password: "wrong"))
            do throws(RedisError) {
                try await wrong.ping()
                Issue.record("expected an authentication failure")
            } catch {
                guard case .connection(let message) = error else {
                    Issue.record("expected RedisError.connection, got \(error)")
                    await wrong.shutdown()
                    return
                }
                #expect(message.contains("authentication failed"))
                #expect(!message.contains(password))
            }
            await wrong.shutdown()

            let noSuchDatabase = RedisClient(endpoint: RedisEndpoint(address: .unix(path: server.socketPath), password: password, database: 999))
            do throws(RedisError) {
                try await noSuchDatabase.ping()
                Issue.record("expected SELECT 999 to fail")
            } catch {
                guard case .connection(let message) = error else {
                    Issue.record("expected RedisError.connection, got \(error)")
                    await noSuchDatabase.shutdown()
                    return
                }
                #expect(message.contains("SELECT"))
            }
            await noSuchDatabase.shutdown()
        }
    }

    @Test("unix:///path?db=N selects the database")
    func unixURLDatabase() async throws {
        try await withRedis { server, client in
            let endpoint = try RedisEndpoint(url: "unix://\(server.socketPath)?db=2")
            #expect(endpoint == RedisEndpoint(address: .unix(path: server.socketPath), database: 2))
            let db2 = RedisClient(endpoint: endpoint)
            try await db2.set("k", "in db 2")
            #expect(try await database(of: db2) == 2)
            await db2.shutdown()
            #expect(try await client.get("k") == nil)
            let plain = RedisClient(endpoint: try RedisEndpoint(url: server.url))
            #expect(try await database(of: plain) == 0)
            await plain.shutdown()
        }
    }

    @Test("a stopped server gives RedisError.connection; the same client reconnects when it is back")
    func reconnects() async throws {
        try await withRedis { server, client in
            try await client.set("before", "1")
            try await server.shutdownServer()

            // The old connection is dead and the socket is gone: connection errors, not a crash.
            for _ in 0..<2 {
                do throws(RedisError) {
                    try await client.ping()
                    Issue.record("expected a connection error while redis-server is down")
                } catch {
                    guard case .connection = error else {
                        Issue.record("expected RedisError.connection, got \(error)")
                        return
                    }
                }
            }

            try await server.restart()
            // Without persistence the server comes back empty; the client just works again.
            try await client.ping()
            #expect(try await client.get("before") == nil)
            try await client.set("after", "2")
            #expect(try await client.get("after") == Array("2".utf8))
        }
    }

    @Test("a READONLY reply (a primary demoted under the client) makes the next command connect anew; other errors do not")
    func readOnlyReplyReconnects() async throws {
        let other = try await RedisServer.startOnFreePort()
        do {
            try await withRedis { server, client in
                let first = try await client.send(["CLIENT", "ID"]).int
                try await client.set("text", "x")
                _ = try? await client.send(["INCR", "text"])
                #expect(try await client.send(["CLIENT", "ID"]).int == first, "an ordinary error reply kept the connection")

                try await client.send(["REPLICAOF", "127.0.0.1", RedisArgument(other.tcpPort ?? 0)])
                do throws(RedisError) {
                    try await client.set("write", "1")
                    Issue.record("a replica accepted a write")
                } catch {
                    #expect(error.serverCode == "READONLY", "\(error)")
                }
                let next = try await client.send(["CLIENT", "ID"]).int
                #expect(next != nil && next != first, "the connection that got READONLY was kept")
                try await client.send(["REPLICAOF", "NO", "ONE"])
            }
        } catch {
            await other.stop()
            throw error
        }
        await other.stop()
    }
}
