import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Something in the harness did not happen as the test needed (a process did not start, a
/// line did not appear in time). Tests let it propagate: it fails the test with the message.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Everything a child process wrote to one of its output streams, collected by a reader thread.
final class OutputCapture: Sendable {
    private let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))

    func append(_ chunk: ArraySlice<UInt8>) { state.withLock { $0.bytes += chunk } }
    func markClosed() { state.withLock { $0.closed = true } }

    /// Whether the writer side reached end of file (every writer has closed it).
    var isClosed: Bool { state.withLock { $0.closed } }
    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Complete lines so far (a trailing line without its newline is included once the stream closed).
    var lines: [String] {
        let (bytes, closed) = state.withLock { ($0.bytes, $0.closed) }
        var parts = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if !closed || parts.last?.isEmpty == true { parts.removeLast() }
        return parts.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// How a child process ended.
enum ExitStatus: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    var exitCode: Int32? {
        if case .exited(let code) = self { return code }
        return nil
    }

    var description: String {
        switch self {
        case .exited(let code): "exit code \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        }
    }
}

/// A child process started from a built executable, with stdout and stderr captured.
///
/// Started with `posix_spawn` rather than Foundation's `Process`: the child must begin with an
/// empty signal mask and default signal dispositions, as a service under a real supervisor
/// does. Test runners call `Process.run()` on dispatch worker threads that block most
/// signals, and `Process` passes that mask on, so a child would never see SIGTERM (and an
/// ignored SIGPIPE in the test process would be inherited too).
///
/// Always stop it: `await terminate(timeout:)`/`waitForExit` in the test, `stopNow()` in
/// cleanup (also called from `deinit` as a last resort, so a failing test never leaks a child).
final class ChildProcess: @unchecked Sendable {
    enum Stream: Sendable { case stdout, stderr }

    let name: String
    let arguments: [String]
    let pid: pid_t
    let stdout = OutputCapture()
    let stderr = OutputCapture()
    private let status = Mutex<ExitStatus?>(nil)

    /// Starts `executable` with `arguments`. The environment is this process's, minus
    /// `unsetEnvironment`, plus `environment`. `descriptors` hands the child more open files:
    /// each of this process's descriptors (a value) as the child's descriptor (its key).
    init(
        executable: URL,
        arguments: [String] = [],
        environment: [String: String] = [:],
        unsetEnvironment: [String] = [],
        currentDirectory: URL? = nil,
        descriptors: [Int32: Int32] = [:]
    ) throws {
        name = executable.lastPathComponent
        self.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for key in unsetEnvironment { merged[key] = nil }
        merged.merge(environment) { $1 }

        // Close-on-exec pipes: only the dup2'ed copies reach this child, none leak into others.
        // Pipes and spawn under one lock, so no other spawn of the harness sees these ends
        // before they are marked close-on-exec.
        ChildProcess.spawnLock.lock()
        defer { ChildProcess.spawnLock.unlock() }
        let outPipe = try ChildProcess.closeOnExecPipe()
        let errPipe: [Int32]
        do {
            errPipe = try ChildProcess.closeOnExecPipe()
        } catch {
            close(outPipe[0])
            close(outPipe[1])
            throw error
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for (child, parent) in descriptors { posix_spawn_file_actions_adddup2(&actions, parent, child) }
        if let currentDirectory {
            guard let addChdir = ChildProcess.addChdir else { throw HarnessError("posix_spawn_file_actions_addchdir_np is not available") }
            _ = addChdir(&actions, currentDirectory.path)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal: Int32 in 1..<32 where signal != SIGKILL && signal != SIGSTOP { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable.path, &actions, &attributes, argv, envp)
        close(outPipe[1])
        close(errPipe[1])
        guard result == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw HarnessError("cannot start \(executable.path): \(String(cString: strerror(result)))")
        }
        pid = child
        ChildProcess.startReader(outPipe[0], into: stdout, name: "\(name)-stdout")
        ChildProcess.startReader(errPipe[0], into: stderr, name: "\(name)-stderr")
    }

    /// Starts one of the package's built executables (`price-fetcher`, `fake-upstream`, `merger`, ...).
    convenience init(
        product: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        unsetEnvironment: [String] = [],
        currentDirectory: URL? = nil
    ) throws {
        try self.init(
            executable: try BuildProducts.executable(product), arguments: arguments, environment: environment,
            unsetEnvironment: unsetEnvironment, currentDirectory: currentDirectory ?? BuildProducts.packageRoot)
    }

    deinit {
        stopNow()
    }

    private static let spawnLock = NSLock()

    static func closeOnExecPipe() throws -> [Int32] {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw HarnessError("pipe failed: \(String(cString: strerror(errno)))") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        return ends
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+), which the Glibc module does not export.
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    static func startReader(_ descriptor: Int32, into capture: OutputCapture, name: String) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    capture.append(buffer[0..<count])
                } else if count < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(descriptor)
            capture.markClosed()
        }
        thread.name = name
        thread.start()
    }

    /// Reaps the child if it has exited (non-blocking) and returns its status.
    private func reap() -> ExitStatus? {
        status.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            guard result == pid else { return nil }
            let signal = raw & 0x7F
            status = signal == 0 ? .exited((raw >> 8) & 0xFF) : .signalled(signal)
            return status
        }
    }

    var isRunning: Bool { reap() == nil }

    /// The exit status once the process has ended.
    var exitStatus: ExitStatus? { reap() }

    func capture(_ stream: Stream) -> OutputCapture { stream == .stdout ? stdout : stderr }

    /// Sends `signal` if the process is still running.
    func send(signal: Int32) {
        guard isRunning else { return }
        kill(pid, signal)
    }

    func terminate() { send(signal: SIGTERM) }
    func killNow() { send(signal: SIGKILL) }

    /// Waits (polling) until the process exits, then until its output is drained.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> ExitStatus {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = reap() {
                let drainDeadline = ContinuousClock.now + .seconds(3)
                while !(stdout.isClosed && stderr.isClosed), ContinuousClock.now < drainDeadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                return status
            }
            guard ContinuousClock.now < deadline else {
                throw HarnessError("\(name) did not exit within \(timeout); stderr so far:\n\(stderr.text.suffix(4000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Sends SIGTERM and waits for the exit.
    func terminate(timeout: Duration) async throws -> ExitStatus {
        terminate()
        return try await waitForExit(timeout: timeout)
    }

    /// Waits until a line of `stream` satisfies `predicate` and returns it. Fails if the
    /// process exits first or the timeout passes.
    @discardableResult
    func waitForLine(
        on stream: Stream = .stderr, timeout: Duration = .seconds(20), where predicate: (String) -> Bool
    ) async throws -> String {
        let capture = capture(stream)
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = capture.lines.first(where: predicate) { return line }
            if capture.isClosed, !isRunning {
                throw HarnessError("\(name) exited (\(exitStatus.map { "\($0)" } ?? "?")) before the expected line; \(stream):\n\(capture.text.suffix(4000))")
            }
            guard ContinuousClock.now < deadline else {
                throw HarnessError("no expected line from \(name) within \(timeout); \(stream):\n\(capture.text.suffix(4000))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Synchronous stop for cleanup paths: SIGTERM, a short grace period, then SIGKILL; reaps it.
    func stopNow(grace: Double = 2) {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        if ChildProcess.poll(seconds: grace, until: { !isRunning }) { return }
        kill(pid, SIGKILL)
        _ = ChildProcess.poll(seconds: 5, until: { !isRunning })
    }

    private static func poll(seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

/// Where the built executables and the package's files are.
enum BuildProducts {
    /// The package root, found from this source file's location.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Harness
        .deletingLastPathComponent()  // IntegrationTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The directory of the running test binary: the executables are built next to it.
    static let directory: URL = {
        #if os(Linux)
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: resolved).deletingLastPathComponent()
        }
        #endif
        // macOS: the test bundle is `<dir>/<name>.xctest/Contents/MacOS/<name>`.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1, !url.lastPathComponent.hasSuffix(".xctest") { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent()
    }()

    static func executable(_ product: String) throws -> URL {
        let url = directory.appendingPathComponent(product)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw HarnessError("no executable \(product) in \(directory.path): build it first (swift build --build-tests)")
        }
        return url
    }
}

/// A fresh directory under /tmp (short, so unix socket paths stay under 108 bytes).
final class TemporaryDirectory: Sendable {
    let path: String
    var url: URL { URL(fileURLWithPath: path) }

    init(prefix: String = "tc") throws {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
