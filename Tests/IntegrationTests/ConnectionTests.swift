import Foundation
import Testing

@testable import TopCoins

/// The API's connection rules over real sockets: idle and header-read timeouts, the connection
/// limit, HTTP/1.0, `Host`, oversized request heads, and the ops listener.
@Suite("HTTP connections", .serialized, .timeLimit(.minutes(3)))
struct ConnectionTests {
    static let health = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"

    /// Starts the API with connection settings edited in.
    static func api(_ bed: TestBed, idle: Int = 60, header: Int = 10, maxConnections: Int = 2048, edit: (inout JSONValue) -> Void = { _ in }) async throws -> APIServer {
        try await bed.startFaultAPI {
            $0 = $0.setting(["idle_timeout_seconds"], .number(String(idle))).setting(["header_timeout_seconds"], .number(String(header)))
                .setting(["max_connections"], .number(String(maxConnections)))
            edit(&$0)
        }
    }

    static func errorCode(_ response: RawResponse?) -> String? {
        guard let response, case .string(let code)? = try? JSONParser.parse(Array(response.body.utf8))["error"]?["code"] else { return nil }
        return code
    }

    @Test("a connection with no request under way is closed after the idle timeout")
    func idleConnectionsAreClosed() async throws {
        try await TestBed.with { bed in
            let api = try await Self.api(bed, idle: 2, header: 30)
            let connection = try RawHTTPConnection(port: api.port)
            try connection.send(Self.health)
            #expect(RawResponse(await connection.readResponse().text)?.status == 200)
            let after = await connection.readUntilClosed(timeout: .seconds(15))
            #expect(after.closed, "the idle connection was kept")
            #expect(after.text.isEmpty)
        }
    }

    @Test("a head sent a header at a time (slowloris), or never sent, is cut off with a 408 after the header timeout")
    func slowHeadsAreCutOff() async throws {
        try await TestBed.with { bed in
            let api = try await Self.api(bed, idle: 60, header: 1)
            let slow = try RawHTTPConnection(port: api.port)
            try slow.send("GET /health HTTP/1.1\r\nHost: localhost\r\n")
            let dripping = Task {
                for index in 0..<40 {
                    try? await Task.sleep(for: .milliseconds(250))
                    guard (try? slow.send("X-Drip-\(index): a\r\n")) != nil else { return }
                }
            }
            let silent = try RawHTTPConnection(port: api.port)
            for connection in [slow, silent] {
                let answer = await connection.readUntilClosed(timeout: .seconds(8))
                #expect(answer.closed, "the connection was kept open")
                let response = RawResponse(answer.text)
                #expect(response?.status == 408, "\(answer.text)")
                #expect(Self.errorCode(response) == "request_timeout")
            }
            dripping.cancel()
            // A client that sends its head in time is served as ever.
            let prompt = try RawHTTPConnection(port: api.port)
            try prompt.send(Self.health)
            #expect(RawResponse(await prompt.readResponse().text)?.status == 200)
        }
    }

    @Test("past max_connections a new connection gets a 503 in the JSON shape while the open ones are served")
    func theConnectionLimitRefusesCleanly() async throws {
        try await TestBed.with { bed in
            let api = try await Self.api(bed, maxConnections: 3)
            let held = try (0..<3).map { _ in try RawHTTPConnection(port: api.port) }
            // Each held connection is served, so each has been accepted and counted.
            for connection in held {
                try connection.send(Self.health)
                #expect(RawResponse(await connection.readResponse().text)?.status == 200)
            }
            let refused = try RawHTTPConnection(port: api.port)
            let answer = await refused.readUntilClosed(timeout: .seconds(5))
            let response = RawResponse(answer.text)
            #expect(answer.closed && response?.status == 503, "\(answer.text)")
            #expect(Self.errorCode(response) == "too_many_connections")
            #expect(response?.headers["retry-after"] == "1")
            try held[0].send(Self.health)
            #expect(RawResponse(await held[0].readResponse().text)?.status == 200, "an existing connection was not served")
            #expect(api.process.isRunning)
        }
    }

    @Test("HTTP/1.0 is closed after its response unless it asks for keep-alive")
    func http10ClosesAfterTheResponse() async throws {
        try await TestBed.with { bed in
            let api = try await Self.api(bed)
            let plain = try RawHTTPConnection(port: api.port)
            try plain.send("GET /health HTTP/1.0\r\n\r\n")
            let answer = await plain.readUntilClosed(timeout: .seconds(5))
            #expect(answer.closed, "the HTTP/1.0 connection was left open")
            #expect(RawResponse(answer.text)?.status == 200)
            #expect(RawResponse(answer.text)?.headers["connection"]?.lowercased() == "close")

            let keepAlive = try RawHTTPConnection(port: api.port)
            for _ in 0..<2 {
                try keepAlive.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let response = await keepAlive.readResponse()
                #expect(RawResponse(response.text)?.status == 200 && !response.closed)
            }
        }
    }

    @Test("HTTP/1.1 without Host, an oversized request line, oversized headers: 400, 414, 431 in the JSON error shape")
    func malformedHeadsAreAnsweredInTheErrorShape() async throws {
        try await TestBed.with { bed in
            let api = try await Self.api(bed)
            let cases: [(String, Int, String)] = [
                ("GET /health HTTP/1.1\r\n\r\n", 400, "missing_host"),
                ("GET /?limit=\(String(repeating: "9", count: 100_000)) HTTP/1.1\r\nHost: localhost\r\n\r\n", 414, "uri_too_long"),
                ("GET /?q=\(String(repeating: "a", count: 9_000)) HTTP/1.1\r\nHost: localhost\r\n\r\n", 414, "uri_too_long"),
                ("GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: \(String(repeating: "b", count: 9_000))\r\n\r\n", 431, "headers_too_large"),
                ("GET /health HTTP/1.1\r\nHost: localhost\r\n" + (0..<10).map { "X-H\($0): \(String(repeating: "c", count: 4_000))\r\n" }.joined() + "\r\n", 431,
                    "headers_too_large"),
                ("NOT HTTP AT ALL\r\n\r\n", 400, "bad_request"),
            ]
            for (request, status, code) in cases {
                let connection = try RawHTTPConnection(port: api.port)
                try? connection.send(request)
                let answer = await connection.readUntilClosed(timeout: .seconds(5))
                let response = RawResponse(answer.text)
                #expect(response?.status == status, "\(request.prefix(60)): \(answer.text.prefix(300))")
                #expect(Self.errorCode(response) == code, "\(request.prefix(60))")
                #expect(response?.headers["content-type"]?.hasPrefix("application/json") == true)
                #expect(answer.closed)
            }
            #expect(api.process.isRunning)
        }
    }

    @Test("with ops_port set, /ready and /metrics leave the public listener for the ops one")
    func theOpsListenerKeepsOperationsOffThePublicPort() async throws {
        try await TestBed.with { bed in
            let api = try await Self.api(bed) { $0 = $0.setting(["ops_port"], .number("0")).setting(["ops_host"], .string("127.0.0.1")) }
            let line = try await api.process.waitForLine { $0.contains("msg=\"ops listening\"") }
            let opsPort = try #require(line.split(separator: " ").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) })
            let ops = APIServer(process: api.process, port: opsPort)
            for path in ["/ready", "/metrics"] {
                #expect(try await api.request(path).status == 404, "public \(path)")
                #expect([200, 503].contains(try await ops.request(path).status), "ops \(path)")
            }
            #expect(try await ops.request("/metrics").bodyText.contains("topcoins_redis_up"))
            #expect(try await ops.request("/").status == 404)
            #expect(try await api.request("/openapi.yaml").status == 200)
            #expect(try await ops.request("/health").status == 200)
        }
    }
}
