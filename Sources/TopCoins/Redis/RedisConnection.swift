import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One hiredis connection. Every call blocks, so it is only ever used from its client's
/// single worker thread; it is not shared and needs no lock.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects, authenticates and selects the database. `timeoutSeconds` bounds connecting
    /// and every later read or write on the socket (it must exceed any `BLOCK` time used).
    init(endpoint: RedisEndpoint, timeoutSeconds: Double) throws(RedisError) {
        let timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - Double(Int(timeoutSeconds))) * 1_000_000))
        let connected: UnsafeMutablePointer<redisContext>?
        switch endpoint.address {
        case .tcp(let host, let port): connected = redisConnectWithTimeout(host, Int32(port), timeout)
        case .unix(let path): connected = redisConnectUnixWithTimeout(path, timeout)
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

    /// Whether the socket failed; such a connection is dropped and replaced.
    var isBroken: Bool { context.pointee.err != 0 }

    /// Sends one command and waits for its reply. Error replies are returned as `.error`.
    func command(_ arguments: [RedisArgument]) throws(RedisError) -> RedisValue {
        let reply = RedisConnection.withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let reply else { throw .connection(RedisConnection.errorMessage(context)) }
        defer { freeReplyObject(reply) }
        return RedisConnection.value(of: reply.assumingMemoryBound(to: redisReply.self))
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
            replies.append(RedisConnection.value(of: reply.assumingMemoryBound(to: redisReply.self)))
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
