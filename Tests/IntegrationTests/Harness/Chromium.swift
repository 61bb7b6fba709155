import Foundation
import Synchronization

@testable import TopCoins

#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium (Debian's `chromium`), driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`: commands on the child's descriptor 3, answers and events on 4,
/// each a JSON message ended by a NUL byte). A page is opened in a fresh tab, its load event
/// awaited, and everything the page reported meanwhile is kept: uncaught exceptions, console
/// errors and the browser's log errors (a resource that failed to load is one), so a test can
/// require "loaded without errors" and then ask the page itself (`evaluate`).
///
///     let browser = try await Chromium.start(in: bed.directory)
///     let page = try await browser.open("http://127.0.0.1:\(api.port)/dashboard")
///     #expect(page.errors.isEmpty)
///     let rows = try await browser.evaluate("document.querySelectorAll('tr').length", in: page)
final class Chromium: @unchecked Sendable, ReadsJSONAnswers {
    let process: ChildProcess
    private let commands: FileHandle
    private let replies = OutputCapture()
    private let nextID = Mutex(0)

    /// A loaded tab: its DevTools session, and what went wrong while it loaded.
    struct Page: Sendable {
        let session: String
        let errors: [String]
    }

    /// The browser, or an error saying how to install it.
    static func executable() throws -> URL {
        let candidates = [ProcessInfo.processInfo.environment["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"].compactMap { $0 }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw HarnessError("no chromium (tried \(candidates.joined(separator: ", "))): scripts/install-deps chromium, or set CHROMIUM")
        }
        return URL(fileURLWithPath: path)
    }

    private init(process: ChildProcess, commands: FileHandle, replies: Int32) {
        self.process = process
        self.commands = commands
        ChildProcess.startReader(replies, into: self.replies, name: "chromium-devtools")
    }

    /// Starts a browser with its own profile in `directory`, viewport `width`×`height`.
    static func start(in directory: TemporaryDirectory, width: Int = 1200, height: Int = 900) async throws -> Chromium {
        let toBrowser = try ChildProcess.closeOnExecPipe()
        let fromBrowser = try ChildProcess.closeOnExecPipe()
        let profile = directory.file("chromium-profile-\(UUID().uuidString.prefix(8))")
        let process = try ChildProcess(
            executable: try executable(),
            arguments: [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--user-data-dir=\(profile)", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking", "--disable-sync", "--hide-scrollbars",
                "--window-size=\(width),\(height)", "about:blank",
            ],
            descriptors: [3: toBrowser[0], 4: fromBrowser[1]]
        )
        Glibc.close(toBrowser[0])
        Glibc.close(fromBrowser[1])
        let browser = Chromium(process: process, commands: FileHandle(fileDescriptor: toBrowser[1], closeOnDealloc: true), replies: fromBrowser[0])
        _ = try await browser.send("Browser.getVersion")
        return browser
    }

    /// Every message the browser sent so far, parsed.
    var messages: [JSONValue] {
        replies.bytes.split(separator: 0).compactMap { try? JSONParser.parse(Array($0)) }
    }

    /// Sends a command and waits for its answer's `result`; an `error` answer throws.
    @discardableResult
    func send(
        _ method: String,
        _ parameters: [(String, JSONValue)] = [],
        session: String? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> JSONValue {
        let id = nextID.withLock { id in
            id += 1
            return id
        }
        var message: [(String, JSONValue)] = [("id", .number(String(id))), ("method", .string(method)), ("params", .object(JSONObject(parameters)))]
        if let session { message.append(("sessionId", .string(session))) }
        try commands.write(contentsOf: JSONWriter.encode(.object(JSONObject(message))) + [0])
        let deadline = ContinuousClock.now + timeout
        while true {
            if let answer = messages.first(where: { $0["id"] == .number(String(id)) }) {
                if let error = answer["error"] {
                    throw HarnessError("chromium \(method): \(String(decoding: JSONWriter.encode(error), as: UTF8.self))")
                }
                return answer["result"] ?? .null
            }
            guard process.isRunning else { throw HarnessError("chromium exited during \(method):\n\(process.stderr.text.suffix(4000))") }
            guard ContinuousClock.now < deadline else { throw HarnessError("chromium did not answer \(method) within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Opens `url` in a new tab and waits for its load event (images included); the page's
    /// errors are those reported until then and for a moment after.
    func open(_ url: String, timeout: Duration = .seconds(30)) async throws -> Page {
        guard case .string(let target)? = try await send("Target.createTarget", [("url", .string("about:blank"))])["targetId"],
            case .string(let session)? = try await send("Target.attachToTarget", [("targetId", .string(target)), ("flatten", .bool(true))])[
                "sessionId"
            ]
        else { throw HarnessError("chromium opened no tab") }
        for domain in ["Page", "Runtime", "Log"] { try await send("\(domain).enable", session: session) }
        let before = messages.count
        try await send("Page.navigate", [("url", .string(url))], session: session)
        let deadline = ContinuousClock.now + timeout
        while !messages.dropFirst(before).contains(where: { $0["sessionId"] == .string(session) && $0["method"] == .string("Page.loadEventFired") }) {
            guard ContinuousClock.now < deadline else { throw HarnessError("\(url) did not finish loading within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Errors reported right after the load event still count.
        try await Task.sleep(for: .milliseconds(300))
        let errors = messages.dropFirst(before).filter { $0["sessionId"] == .string(session) }.compactMap(Chromium.error)
        return Page(session: session, errors: errors)
    }

    /// What an event says went wrong, if it is an error.
    static func error(_ event: JSONValue) -> String? {
        let parameters = event["params"]
        switch event["method"] {
        case .string("Runtime.exceptionThrown"):
            return "exception: \(String(decoding: JSONWriter.encode(parameters?["exceptionDetails"] ?? .null), as: UTF8.self))"
        case .string("Runtime.consoleAPICalled") where parameters?["type"] == .string("error"):
            return "console.error: \(String(decoding: JSONWriter.encode(parameters?["args"] ?? .null), as: UTF8.self))"
        case .string("Log.entryAdded") where parameters?["entry"]?["level"] == .string("error"):
            let entry = parameters?["entry"]
            return "log: \(Self.text(entry?["text"]) ?? "?") (\(Self.text(entry?["url"]) ?? ""))"
        default:
            return nil
        }
    }

    /// The value of a JavaScript expression in `page` (return a JSON string for structures).
    func evaluate(_ expression: String, in page: Page) async throws -> JSONValue {
        let result = try await send("Runtime.evaluate", [("expression", .string(expression)), ("returnByValue", .bool(true))], session: page.session)
        if let exception = result["exceptionDetails"] {
            throw HarnessError("\(expression) threw \(String(decoding: JSONWriter.encode(exception), as: UTF8.self))")
        }
        return result["result"]?["value"] ?? .null
    }

    /// A PNG of the page's top-left `width`×`height` CSS pixels, whatever the window's size.
    func screenshot(_ page: Page, width: Int, height: Int) async throws -> Data {
        let clip = JSONObject([
            ("x", .number("0")), ("y", .number("0")), ("width", .number(String(width))), ("height", .number(String(height))), ("scale", .number("1")),
        ])
        let parameters: [(String, JSONValue)] = [("format", .string("png")), ("clip", .object(clip)), ("captureBeyondViewport", .bool(true))]
        guard case .string(let base64)? = try await send("Page.captureScreenshot", parameters, session: page.session)["data"],
            let png = Data(base64Encoded: base64)
        else { throw HarnessError("chromium sent no screenshot") }
        return png
    }

    /// Closes the browser; it is killed if it does not exit.
    func close() async {
        _ = try? await send("Browser.close", timeout: .seconds(5))
        if (try? await process.waitForExit(timeout: .seconds(10))) == nil { process.stopNow() }
    }
}
