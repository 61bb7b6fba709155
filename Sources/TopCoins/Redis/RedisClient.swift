import Logging
import NIOPosix

/// A Redis client over one hiredis connection, driven by its own worker thread so blocking
/// calls never touch an event loop or the cooperative pool. Commands from concurrent tasks
/// queue on that thread in order. A broken connection is dropped; the next command
/// reconnects (asking the Sentinels again for a Sentinel endpoint, so a failover is followed). Give a blocking reader (`XREADGROUP ... BLOCK`) a client of its own.
public final class RedisClient: Sendable {
    public let endpoint: RedisEndpoint
    private let threadPool: NIOThreadPool
    private let slot: ConnectionSlot
    private let timeoutSeconds: Double

    /// The connection, touched only by the client's single worker thread.
    private final class ConnectionSlot: @unchecked Sendable {
        var connection: RedisConnection?
    }

    public init(endpoint: RedisEndpoint, timeoutSeconds: Double = 5) {
        self.endpoint = endpoint
        self.timeoutSeconds = timeoutSeconds
        self.slot = ConnectionSlot()
        self.threadPool = NIOThreadPool(numberOfThreads: 1)
        threadPool.start()
    }

    public func shutdown() async {
        try? await threadPool.runIfActive { [slot] in slot.connection = nil }
        try? await threadPool.shutdownGracefully()
    }

    /// Runs `body` with a live connection on the worker thread.
    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> T) async throws(RedisError) -> T {
        do {
            return try await threadPool.runIfActive { [slot, endpoint, timeoutSeconds] () throws(RedisError) -> T in
                if slot.connection == nil || slot.connection?.isBroken == true {
                    slot.connection = nil
                    slot.connection = try RedisConnection.open(endpoint, timeoutSeconds: timeoutSeconds)
                }
                do throws(RedisError) {
                    return try body(slot.connection!)
                } catch {
                    if slot.connection?.isBroken != false { slot.connection = nil }
                    throw error
                }
            }
        } catch let error as RedisError {
            throw error
        } catch {
            throw .connection("\(error)")
        }
    }

    /// Sends one command; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func send(_ arguments: [RedisArgument]) async throws(RedisError) -> RedisValue {
        let reply = try await withConnection { connection throws(RedisError) in try connection.command(arguments) }
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    /// Sends the commands in one round trip; error replies come back in place as `.error`.
    public func pipeline(_ commands: [[RedisArgument]]) async throws(RedisError) -> [RedisValue] {
        try await withConnection { connection throws(RedisError) in try connection.pipeline(commands) }
    }

    /// Runs the commands inside `MULTI`/`EXEC` in one round trip and returns their replies.
    public func transaction(_ commands: [[RedisArgument]]) async throws(RedisError) -> [RedisValue] {
        let replies = try await pipeline([["MULTI"]] + commands + [["EXEC"]])
        for reply in replies.dropLast() {
            if case .error(let message) = reply { throw .server(message) }
        }
        switch replies.last {
        case .array(let results): return results
        case .error(let message): throw .server(message)
        default: throw .server("transaction aborted")
        }
    }
}
