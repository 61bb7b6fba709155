import Foundation
@testable import TopCoins

/// The `fake-upstream` executable on a free port, replaying the shipped payloads in
/// `Config/demo/upstream` (or another data directory), with scripted faults.
final class FakeUpstream: @unchecked Sendable {
    /// One scripted answer for `POST /_faults`.
    struct Response: Sendable {
        var status: Int
        var headers: [String: String] = [:]
        /// A file relative to the data directory (`errors/cmc-500.json`).
        var bodyFile: String? = nil
        var body: String? = nil
        var delayMilliseconds: Int = 0

        static func file(_ status: Int, _ bodyFile: String, headers: [String: String] = [:], delayMilliseconds: Int = 0) -> Response {
            Response(status: status, headers: headers, bodyFile: bodyFile, delayMilliseconds: delayMilliseconds)
        }

        static func text(_ status: Int, _ body: String, headers: [String: String] = [:], delayMilliseconds: Int = 0) -> Response {
            Response(status: status, headers: headers, body: body, delayMilliseconds: delayMilliseconds)
        }

        var json: JSONValue {
            var object = JSONObject([("status", .number(String(status)))])
            if !headers.isEmpty {
                object.append("headers", .object(JSONObject(headers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
            }
            if let bodyFile { object.append("body_file", .string(bodyFile)) }
            if let body { object.append("body", .string(body)) }
            if delayMilliseconds > 0 { object.append("delay_ms", .number(String(delayMilliseconds))) }
            return .object(object)
        }
    }

    /// A request the fake upstream received, as `GET /_requests` reports it.
    struct ReceivedRequest: Sendable {
        let path: String
        let query: [String: String]
        /// Header names lowercased.
        let headers: [String: String]
        /// When the fake received it (unix ms, its clock).
        let receivedAt: Int64?
        /// A POST's body as text.
        var body: String? = nil

        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    static let listingPath = "/v1/cryptocurrency/listings/latest"
    static let toplistPath = "/asset/v1/top/list"
    static let defaultDataDirectory = BuildProducts.packageRoot.appendingPathComponent("Config/demo/upstream").path

    let process: ChildProcess
    let port: Int
    let dataDirectory: String
    private let http = HTTPClient(threads: 1)

    /// `http://127.0.0.1:PORT`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    static func start(dataDirectory: String = FakeUpstream.defaultDataDirectory) async throws -> FakeUpstream {
        let process = try ChildProcess(product: "fake-upstream", arguments: ["--port", "0", "--data", dataDirectory])
        do {
            let line = try await process.waitForLine(on: .stdout, timeout: .seconds(30)) { $0.hasPrefix("listening on 127.0.0.1:") }
            guard let port = Int(line.dropFirst("listening on 127.0.0.1:".count)), port > 0 else {
                throw HarnessError("fake-upstream printed an unexpected line: \(line)")
            }
            return FakeUpstream(process: process, port: port, dataDirectory: dataDirectory)
        } catch {
            process.stopNow()
            throw error
        }
    }

    private init(process: ChildProcess, port: Int, dataDirectory: String) {
        self.process = process
        self.port = port
        self.dataDirectory = dataDirectory
    }

    /// Queues answers for the next requests to `path`, in order; later requests get the data.
    func script(_ path: String, _ responses: [Response]) async throws {
        let body = JSONWriter.encode(.object(JSONObject([("path", .string(path)), ("responses", .array(responses.map(\.json)))])))
        let response = try await http.send(
            HTTPRequest(method: "POST", url: "\(baseURL)/_faults", headers: [("Content-Type", "application/json")], body: body, timeoutSeconds: 10))
        guard response.status == 200 else { throw HarnessError("POST /_faults answered \(response.status): \(response.bodyText)") }
    }

    /// Clears scripted faults and the request log.
    func reset() async throws {
        let response = try await http.send(HTTPRequest(method: "DELETE", url: "\(baseURL)/_faults", timeoutSeconds: 10))
        guard response.status == 200 else { throw HarnessError("DELETE /_faults answered \(response.status)") }
    }

    /// Every request received so far (except the harness's own), oldest first.
    func requests(path: String? = nil) async throws -> [ReceivedRequest] {
        let response = try await http.send(HTTPRequest(url: "\(baseURL)/_requests", timeoutSeconds: 10))
        guard response.status == 200, case .array(let items) = try JSONParser.parse(response.body) else {
            throw HarnessError("GET /_requests answered \(response.status): \(response.bodyText.prefix(300))")
        }
        func strings(_ value: JSONValue?, lowercasingKeys: Bool) -> [String: String] {
            guard case .object(let object)? = value else { return [:] }
            var result: [String: String] = [:]
            for (key, value) in object.members {
                if case .string(let text) = value { result[lowercasingKeys ? key.lowercased() : key] = text }
            }
            return result
        }
        let all = items.compactMap { item -> ReceivedRequest? in
            guard case .string(let path)? = item["path"] else { return nil }
            let receivedAt: Int64? = if case .number(let literal)? = item["at_ms"] { Int64(literal) } else { nil }
            let body: String? = if case .string(let text)? = item["body"] { text } else { nil }
            return ReceivedRequest(
                path: path, query: strings(item["query"], lowercasingKeys: false), headers: strings(item["headers"], lowercasingKeys: true), receivedAt: receivedAt,
                body: body)
        }
        return path.map { wanted in all.filter { $0.path == wanted } } ?? all
    }

    /// Stops the server and the harness's HTTP client.
    func stop() async {
        process.stopNow(grace: 1)
        try? await http.shutdown()
    }
}
