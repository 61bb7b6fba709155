import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One hiredis connection. Every call blocks, so it is only ever used from its client's
/// single worker thread; it is not shared and needs no lock.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    /// Set when the server answered `READONLY` or `LOADING` (or Sentinel's `MASTERDOWN`): it is
    /// no longer (or not yet) the server wanted, so the next command connects anew, asking the
    /// Sentinels again.
    private var wrongServer = false

    /// Connects to the endpoint; for a Sentinel set, to the server the Sentinels name now.
    static func open(_ endpoint: RedisEndpoint, timeoutSeconds: Double) throws(RedisError) -> RedisConnection {
        guard case .sentinel(let sentinels) = endpoint.address else { return try RedisConnection(endpoint: endpoint, timeoutSeconds: timeoutSeconds) }
        return try resolve(sentinels, credentials: endpoint, timeoutSeconds: timeoutSeconds)
    }

    /// Asks each Sentinel in turn for the server `sentinels.role` wants and connects to it,
    /// keeping the connection only when the server's own `ROLE` agrees (a Sentinel can lag a
    /// failover). Throws a connection error naming each Sentinel's answer when none works.
    private static func resolve(_ sentinels: SentinelSet, credentials: RedisEndpoint, timeoutSeconds: Double) throws(RedisError) -> RedisConnection {
        var failures: [String] = []
        for sentinel in sentinels.sentinels {
            do throws(RedisError) {
                let asking = try RedisConnection(
                    endpoint: RedisEndpoint(address: .tcp(host: sentinel.host, port: sentinel.port), password: sentinels.password), timeoutSeconds: timeoutSeconds)
                let primaryReply = try asking.command(["SENTINEL", "get-master-addr-by-name", RedisArgument(sentinels.masterName)])
                if case .error(let message) = primaryReply { throw .server(message) }
                guard let primary = try SentinelSet.primary(in: primaryReply) else {
                    failures.append("\(sentinel): does not monitor \(sentinels.masterName)")
                    continue
                }
                var server = primary
                if sentinels.role == .replica {
                    let replicasReply = try asking.command(["SENTINEL", "replicas", RedisArgument(sentinels.masterName)])
                    if case .error(let message) = replicasReply { throw .server(message) }
                    server = try SentinelSet.upReplicas(in: replicasReply).filter { $0 != primary }.randomElement() ?? primary
                }
                let connection = try RedisConnection(
                    endpoint: RedisEndpoint(
                        address: .tcp(host: server.host, port: server.port), username: credentials.username, password: credentials.password,
                        database: credentials.database),
                    timeoutSeconds: timeoutSeconds)
                let roleReply = try connection.command(["ROLE"])
                if case .error(let message) = roleReply { throw .server(message) }
                let role = try SentinelSet.role(in: roleReply)
                guard sentinels.accepts(role: role) else {
                    failures.append("\(sentinel) named \(server), which is a \(role)")
                    continue
                }
                return connection
            } catch {
                // A Sentinel's or server's error text is outside input: at most 200 characters of it.
                failures.append("\(sentinel): \(String("\(error)".prefix(200)))")
            }
        }
        throw .connection("no Sentinel of \(sentinels.masterName) named a usable server: \(failures.joined(separator: "; "))")
    }

    /// Connects to one server, authenticates and selects the database. `timeoutSeconds` bounds
    /// connecting and every later read or write on the socket (it must exceed any `BLOCK` time used).
    private init(endpoint: RedisEndpoint, timeoutSeconds: Double) throws(RedisError) {
        let timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1_000_000))
        let connected: UnsafeMutablePointer<redisContext>?
        switch endpoint.address {
        case .tcp(let host, let port): connected = redisConnectWithTimeout(host, Int32(port), timeout)
        case .unix(let path): connected = redisConnectUnixWithTimeout(path, timeout)
        case .sentinel: throw .connection("a Sentinel set is resolved before connecting")
        }
        guard let connected else { throw .connection("cannot allocate a hiredis context") }
        guard connected.pointee.err == 0 else {
            let message = RedisConnection.errorMessage(connected)
            redisFree(connected)
            throw .connection("\(endpoint): \(message)")
        }
        context = connected
        redisSetTimeout(context, timeout)
        do {
            if let password = endpoint.password {
                let auth: [RedisArgument] = endpoint.username.map { ["AUTH", RedisArgument($0), RedisArgument(password)] } ?? ["AUTH", RedisArgument(password)]
                if case .error(let message) = try command(auth) { throw RedisError.connection("authentication failed: \(message)") }
            }
            if endpoint.database != 0, case .error(let message) = try command(["SELECT", RedisArgument(endpoint.database)]) {
                throw RedisError.connection("SELECT \(endpoint.database) failed: \(message)")
            }
        } catch let error as RedisError {
            // The object is fully initialised here: deinit frees the context.
            throw error
        } catch {
            throw .connection("\(error)")
        }
    }

    deinit {
        redisFree(context)
    }

    /// Whether the socket failed or the server is the wrong one; such a connection is dropped
    /// and replaced.
    var isBroken: Bool { context.pointee.err != 0 || wrongServer }

    /// Error codes that say this server cannot serve us (now): a demoted primary, one still
    /// loading its data, a replica whose Sentinel-known primary is down.
    private static let wrongServerCodes: Set<Substring> = ["READONLY", "LOADING", "MASTERDOWN"]

    /// Returns `value`, noting an error reply that means another server must be found.
    private func noting(_ value: RedisValue) -> RedisValue {
        if case .error(let message) = value, let code = message.split(separator: " ", maxSplits: 1).first, RedisConnection.wrongServerCodes.contains(code) {
            wrongServer = true
        }
        return value
    }

    /// Sends one command and waits for its reply. Error replies are returned as `.error`.
    func command(_ arguments: [RedisArgument]) throws(RedisError) -> RedisValue {
        let reply = RedisConnection.withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let reply else { throw .connection(RedisConnection.errorMessage(context)) }
        defer { freeReplyObject(reply) }
        return noting(RedisConnection.value(of: reply.assumingMemoryBound(to: redisReply.self)))
    }

    /// Sends every command before reading any reply: one round trip for the lot.
    func pipeline(_ commands: [[RedisArgument]]) throws(RedisError) -> [RedisValue] {
        for arguments in commands {
            let status = RedisConnection.withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard status == REDIS_OK else { throw .connection(RedisConnection.errorMessage(context)) }
        }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == REDIS_OK, let reply else {
                throw .connection(RedisConnection.errorMessage(context))
            }
            replies.append(noting(RedisConnection.value(of: reply.assumingMemoryBound(to: redisReply.self))))
            freeReplyObject(reply)
        }
        return replies
    }

    private static func withArgv<T>(
        _ arguments: [RedisArgument],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> T
    ) -> T {
        // One contiguous copy of all argument bytes, with a pointer and a length per argument:
        // hiredis sends lengths, so arguments may hold any bytes, NULs included.
        var storage: [UInt8] = []
        storage.reserveCapacity(arguments.reduce(0) { $0 + $1.bytes.count })
        var offsets: [Int] = []
        var lengths: [Int] = []
        for argument in arguments {
            offsets.append(storage.count)
            lengths.append(argument.bytes.count)
            storage.append(contentsOf: argument.bytes)
        }
        return storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    body(Int32(arguments.count), argv.baseAddress!, lengthBuffer.baseAddress!)
                }
            }
        }
    }

    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(Array(UnsafeRawBufferPointer(start: r.str, count: r.len)))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(r.elements)
            for index in 0..<r.elements {
                if let element = r.element[index] { elements.append(value(of: element)) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func errorMessage(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let message = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return message.isEmpty ? "connection lost" : message
    }
}
