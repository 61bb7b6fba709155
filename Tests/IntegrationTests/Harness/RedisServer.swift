import Foundation
@testable import TopCoins

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` for one test: no persistence, listening on a unix socket in its own
/// directory (and on a TCP port when asked), optionally a replica of another server on
/// loopback, or a Sentinel (`redis-sentinel`, TCP only). Stop it with `stop()`; `restart()`
/// brings it back on the same socket (empty, as after a crash without persistence).
final class RedisServer: @unchecked Sendable {
    static let binary = URL(fileURLWithPath: "/usr/bin/redis-server")
    static let sentinelBinary = URL(fileURLWithPath: "/usr/bin/redis-sentinel")

    /// What the process is.
    enum Kind {
        case data
        /// A replica of the server on `127.0.0.1:port` (which has this server's password);
        /// Sentinel never promotes an unpromotable one.
        case replica(ofPort: Int, promotable: Bool)
        /// A Sentinel monitoring `127.0.0.1:port` as `name` (logging in with `dataPassword`), with
        /// a quorum of 2 and short timeouts (down after `downAfterMilliseconds`), so a test's
        /// failover takes seconds. The server's own `password` is the Sentinel's.
        case sentinel(monitoringPort: Int, name: String, dataPassword: String?, downAfterMilliseconds: Int)
    }

    let directory: TemporaryDirectory
    let socketPath: String
    let password: String?
    /// The TCP port, when started with one (`--port 0` otherwise: no TCP listener).
    let tcpPort: Int?
    let kind: Kind
    private let ownsDirectory: Bool
    private(set) var process: ChildProcess?

    /// `unix:///…/redis.sock`, the form `REDIS_URL` takes.
    var url: String { "unix://\(socketPath)" }
    var endpoint: RedisEndpoint { RedisEndpoint(address: .unix(path: socketPath), password: password) }

    /// Starts a server in `directory` (a fresh one when nil, removed by `stop()`).
    static func start(in directory: TemporaryDirectory? = nil, password: String? = nil, tcpPort: Int? = nil, kind: Kind = .data) async throws -> RedisServer {
        let server = try RedisServer(directory: directory, password: password, tcpPort: tcpPort, kind: kind)
        do {
            try await server.launch()
        } catch {
            server.stopNow()
            throw error
        }
        return server
    }

    /// Starts a server on a free TCP port. Another process can take the port between
    /// `freeTCPPort` and the server's bind (tests run side by side), so a clash is retried on
    /// a new port, a few times.
    static func startOnFreePort(in directory: TemporaryDirectory? = nil, password: String? = nil, kind: Kind = .data) async throws -> RedisServer {
        var attempt = 1
        while true {
            do {
                return try await start(in: directory, password: password, tcpPort: try freeTCPPort(), kind: kind)
            } catch where attempt < 5 && "\(error)".contains("Address already in use") {
                attempt += 1
            }
        }
    }

    private init(directory: TemporaryDirectory?, password: String?, tcpPort: Int?, kind: Kind) throws {
        ownsDirectory = directory == nil
        self.kind = kind
        self.directory = try directory ?? TemporaryDirectory(prefix: "redis")
        socketPath = self.directory.file("redis.sock")
        self.password = password
        self.tcpPort = tcpPort
        // The test process talks to a server that tests kill on purpose; a write to a closed
        // unix socket must be an error for the client, not a SIGPIPE that ends the test run.
        RedisServer.ignoreSIGPIPE
    }

    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    private func launch() async throws {
        if case .sentinel(let port, let name, let dataPassword, let downAfter) = kind {
            // Sentinel rewrites its config file as it learns the set: a file of its own.
            let config = directory.file("sentinel-\(tcpPort ?? 0).conf")
            try """
                port \(tcpPort ?? 0)
                bind 127.0.0.1
                dir \(directory.path)
                sentinel monitor \(name) 127.0.0.1 \(port) 2
                sentinel down-after-milliseconds \(name) \(downAfter)
                sentinel failover-timeout \(name) \(downAfter * 3)
                sentinel parallel-syncs \(name) 1
                \(dataPassword.map { "sentinel auth-pass \(name) \($0)" } ?? "")
                \(password.map { "requirepass \($0)" } ?? "")

                """.write(toFile: config, atomically: true, encoding: .utf8)
            let process = try ChildProcess(executable: RedisServer.sentinelBinary, arguments: [config, "--daemonize", "no", "--logfile", ""])
            self.process = process
            try await process.waitForLine(on: .stdout, timeout: .seconds(20)) { $0.contains("+monitor master") }
            return
        }
        var arguments = [
            "--port", String(tcpPort ?? 0), "--unixsocket", socketPath, "--unixsocketperm", "700",
            "--save", "", "--appendonly", "no", "--dir", directory.path, "--daemonize", "no", "--logfile", "",
        ]
        if tcpPort != nil { arguments += ["--bind", "127.0.0.1"] }
        if let password { arguments += ["--requirepass", password] }
        if case .replica(let port, let promotable) = kind {
            arguments += ["--replicaof", "127.0.0.1", String(port), "--replica-priority", promotable ? "100" : "0"]
            if let password { arguments += ["--masterauth", password] }
        }
        let process = try ChildProcess(executable: RedisServer.binary, arguments: arguments)
        self.process = process
        try await process.waitForLine(on: .stdout, timeout: .seconds(20)) { $0.lowercased().contains("ready to accept connections") }
    }

    /// Runs `body` with a client of the server's TCP port (a Sentinel has no unix socket).
    func withTCPClient<T>(_ body: (RedisClient) async throws -> T) async throws -> T {
        let client = RedisClient(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: tcpPort ?? 0), password: password))
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL) and waits for it to exit; the directory stays.
    func shutdownServer() async throws {
        guard let process else { return }
        process.terminate()
        do {
            _ = try await process.waitForExit(timeout: .seconds(10))
        } catch {
            process.killNow()
            _ = try await process.waitForExit(timeout: .seconds(10))
        }
        self.process = nil
        unlink(socketPath)
    }

    /// Starts the server again with the same socket, password and port.
    func restart() async throws {
        try await shutdownServer()
        try await launch()
    }

    /// Runs `body` with a fresh server and a client of it; both are always stopped.
    static func with(password: String? = nil, tcpPort: Int? = nil, _ body: (RedisServer, RedisClient) async throws -> Void) async throws {
        let server = try await start(password: password, tcpPort: tcpPort)
        let client = server.client()
        do {
            try await body(server, client)
        } catch {
            await client.shutdown()
            await server.stop()
            throw error
        }
        await client.shutdown()
        await server.stop()
    }

    /// A client for this server (shut it down with `await client.shutdown()`).
    func client(database: Int = 0, timeoutSeconds: Double = 5) -> RedisClient {
        RedisClient(endpoint: RedisEndpoint(address: .unix(path: socketPath), password: password, database: database), timeoutSeconds: timeoutSeconds)
    }

    /// The server log so far.
    var log: String { process?.stdout.text ?? "" }

    /// Stops the server and removes its directory if this server created it.
    func stop() async {
        try? await shutdownServer()
        stopNow()
    }

    /// Synchronous cleanup for paths that cannot await.
    func stopNow() {
        process?.stopNow(grace: 1)
        process = nil
        if ownsDirectory { directory.remove() }
    }

    deinit {
        process?.stopNow(grace: 1)
    }

    /// A free TCP port on 127.0.0.1 (bound and released; fine for tests).
    static func freeTCPPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw HarnessError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw HarnessError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension RedisClient {
    /// Polls `XRANGE key` until it holds at least `count` entries; returns them all. Connection
    /// errors (a server being restarted) are retried until the timeout. When `producer` is
    /// given and exits first, fails at once with its log.
    func waitForStreamEntries(
        _ key: String, count: Int = 1, timeout: Duration = .seconds(20), producer: ChildProcess? = nil
    ) async throws -> [StreamEntry] {
        let deadline = ContinuousClock.now + timeout
        var last = "no reply yet"
        while true {
            do throws(RedisError) {
                let entries = try await xrange(key)
                if entries.count >= count { return entries }
                last = "\(entries.count) entries"
            } catch {
                guard case .connection = error else { throw error }
                last = "\(error)"
            }
            if let producer, !producer.isRunning {
                throw HarnessError(
                    "\(producer.name) exited (\(producer.exitStatus.map { "\($0)" } ?? "?")) before \(key) had \(count) entries; stderr:\n\(producer.stderr.text.suffix(4000))")
            }
            guard ContinuousClock.now < deadline else {
                throw HarnessError("stream \(key) did not reach \(count) entries within \(timeout) (last: \(last))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
