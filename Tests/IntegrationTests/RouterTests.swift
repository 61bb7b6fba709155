import Foundation
import Hummingbird
import NIOCore
import Testing

@testable import TopCoins

/// The router's contract over real sockets, read byte for byte as sent: every method but GET
/// and HEAD is a 405, unknown paths are the JSON 404, HEAD has GET's headers and no body, and
/// metrics count requests by route template.
@Suite("HTTP routing", .serialized, .timeLimit(.minutes(3)))
struct RouterTests {
    /// Sends one request with `Connection: close` and reads until the server closes, so the
    /// body is exactly what came after the head (nothing, for a HEAD).
    static func exchange(_ api: APIServer, _ method: String, _ target: String, headers: [String] = []) async throws -> RawResponse {
        let connection = try RawHTTPConnection(port: api.port)
        let extra = headers.map { $0 + "\r\n" }.joined()
        try connection.send("\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n\(extra)Connection: close\r\n\r\n")
        let answer = await connection.readUntilClosed(timeout: .seconds(10))
        #expect(answer.closed, "\(method) \(target): the server kept the connection")
        return try #require(RawResponse(answer.text), "\(method) \(target): \(answer.text.prefix(300))")
    }

    static func error(_ response: RawResponse) throws -> JSONValue? {
        try JSONParser.parse(Array(response.body.utf8))["error"]
    }

    @Test("any method but GET and HEAD is a 405 with Allow and the JSON error, on known and unknown paths")
    func otherMethodsAre405() async throws {
        try await TestBed.with { bed in
            let api = try await bed.startAPI()
            for (method, target) in [("POST", "/"), ("PUT", "/openapi.yaml"), ("DELETE", "/health"), ("PATCH", "/nowhere"), ("OPTIONS", "/ready")] {
                let response = try await Self.exchange(api, method, target, headers: method == "OPTIONS" ? [] : ["Content-Length: 0"])
                #expect(response.status == 405, "\(method) \(target)")
                #expect(response.headers["allow"] == "GET, HEAD", "\(method) \(target)")
                #expect(response.headers["content-type"] == "application/json; charset=utf-8")
                #expect(try Self.error(response)?["code"] == .string("method_not_allowed"), "\(method) \(target)")
                #expect(try Self.error(response)?["status"] == .number("405"))
            }
        }
    }

    @Test("an unknown path is the JSON 404, to GET and (without a body) to HEAD")
    func unknownPathsAreJSON404() async throws {
        try await TestBed.with { bed in
            let api = try await bed.startAPI()
            for target in ["/nowhere", "/health/extra", "/health/", "//health", "/openapi.yaml/", "/%00", "/assets/1/volume", "/assets/1/prices/"] {
                let response = try await Self.exchange(api, "GET", target)
                #expect(response.status == 404, "\(target)")
                #expect(response.headers["content-type"] == "application/json; charset=utf-8", "\(target)")
                #expect(try Self.error(response)?["code"] == .string("not_found"), "\(target): \(response.body)")
            }
            let head = try await Self.exchange(api, "HEAD", "/nowhere")
            #expect(head.status == 404)
            #expect(head.body.isEmpty)
            #expect(head.headers["content-type"] == "application/json; charset=utf-8")
        }
    }

    @Test("HEAD answers every GET route with its headers and no body")
    func headHasHeadersAndNoBody() async throws {
        try await TestBed.with { bed in
            let api = try await bed.startAPI()
            for target in ["/openapi.yaml", "/health", "/metrics", "/ready", "/"] {
                let get = try await Self.exchange(api, "GET", target)
                let head = try await Self.exchange(api, "HEAD", target)
                #expect(head.status == get.status, "\(target)")
                #expect(head.body.isEmpty, "\(target): \(head.body.prefix(100))")
                #expect(head.headers["content-type"] == get.headers["content-type"], "\(target)")
                // /metrics and /ready change from one request to the next; the document does not.
                if target == "/openapi.yaml" || target == "/health" {
                    #expect(head.headers["content-length"] == String(get.body.utf8.count), "\(target)")
                }
            }
            let document = try await Self.exchange(api, "HEAD", "/openapi.yaml")
            let etag = try #require(document.headers["etag"])
            #expect(document.headers["last-modified"] != nil)
            #expect(document.headers["cache-control"]?.hasPrefix("public, max-age=") == true)
            let notModified = try await Self.exchange(api, "GET", "/openapi.yaml", headers: ["If-None-Match: W/\(etag)"])
            #expect(notModified.status == 304)
            #expect(notModified.body.isEmpty)
        }
    }

    @Test("metrics count requests by route template; unmatched paths share one label")
    func metricsAreLabelledByRoute() async throws {
        try await TestBed.with { bed in
            let api = try await bed.startAPI()
            let scanned = "/scan-\(UUID().uuidString.lowercased())"
            for target in ["/openapi.yaml", "/?limit=0", scanned, scanned + "/deeper"] {
                _ = try await api.request(target)
            }
            _ = try await api.request("/openapi.yaml", method: "POST")
            let metrics = try await api.request("/metrics").bodyText
            let requests = metrics.split(separator: "\n").filter { $0.hasPrefix("topcoins_http_requests_total{") }
            #expect(requests.contains { $0.contains(#"route="/openapi.yaml""#) && $0.contains(#"status="200""#) }, "\(requests)")
            #expect(requests.contains { $0.contains(#"route="/""#) && $0.contains(#"status="400""#) }, "\(requests)")
            #expect(requests.contains { $0.contains(#"route="unmatched""#) && $0.contains(#"status="404""#) && $0.hasSuffix(" 2") }, "\(requests)")
            #expect(requests.contains { $0.contains(#"route="unmatched""#) && $0.contains(#"status="405""#) }, "\(requests)")
            #expect(!metrics.contains("scan-"), "a raw path became a label")
        }
    }

    @Test("Hummingbird's own errors take the JSON shape, their code the status in snake case")
    func hummingbirdErrorsAreTranslated() throws {
        let tooLarge = APIError(HTTPError(.contentTooLarge, message: "the body is too large"), path: "/")
        #expect(tooLarge.status == 413 && tooLarge.code == "content_too_large" && tooLarge.message == "the body is too large")
        let badRequest = APIError(HTTPError(400), path: "/")
        #expect(badRequest.status == 400 && badRequest.code == "bad_request" && badRequest.message == "Bad Request")
        #expect(APIError(NIOTooManyBytesError(maxBytes: 10), path: "/").code == "content_too_large")
        #expect(APIError(HTTPError(.notFound), path: "/x") == .notFound("/x"))
        let body = try JSONParser.parse(tooLarge.body)["error"]
        #expect(body?["status"] == .number("413"))
    }

    @Test("a path parameter is read percent-decoded, with + kept as itself")
    func pathParametersArePercentDecoded() throws {
        var parameters = Parameters()
        parameters["id"] = "st%C3%A9TH+1%2F2"
        #expect(try parameters.decoded("id") == "stéTH+1/2")
        #expect(throws: APIError.self) { try parameters.decoded("symbol") }
    }
}
