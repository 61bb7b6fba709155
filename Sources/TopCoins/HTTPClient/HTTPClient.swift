import CCurl
import NIOPosix
import Synchronization

/// An HTTP request as the project sends it: upstream polls, and the tests' calls to the API.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var body: [UInt8]?
    public var connectTimeoutSeconds: Double
    public var timeoutSeconds: Double

    public init(
        method: String = "GET",
        url: String,
        query: [(String, String)] = [],
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        connectTimeoutSeconds: Double = 10,
        timeoutSeconds: Double = 30
    ) {
        self.method = method
        self.url = url
        self.query = query
        self.headers = headers
        self.body = body
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.timeoutSeconds = timeoutSeconds
    }

    /// The URL with `query` appended, each name and value percent-encoded.
    public var fullURL: String {
        guard !query.isEmpty else { return url }
        let encoded = query.map { "\(HTTPRequest.percentEncode($0.0))=\(HTTPRequest.percentEncode($0.1))" }.joined(separator: "&")
        return url + (url.contains("?") ? "&" : "?") + encoded
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters.
    public static func percentEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                result.unicodeScalars.append("%")
                result.unicodeScalars.append(hex[Int(byte >> 4)])
                result.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return result
    }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names as received; look them up with `header(_:)`, which ignores case.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.last { $0.name.lowercased() == lower }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A transfer that failed before a complete response arrived (DNS, refused, timeout, reset).
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public let code: Int
    public let message: String
    public var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }
    public var isCancelled: Bool { code == Int(CURLE_ABORTED_BY_CALLBACK.rawValue) }
    public var description: String { "curl error \(code): \(message)" }
}

/// HTTP over libcurl. Transfers are blocking C calls, so they run on this client's own
/// thread pool, never on an event loop or the cooperative pool; cancelling the calling task
/// aborts the transfer from curl's progress callback.
public final class HTTPClient: Sendable {
    private let threadPool: NIOThreadPool

    /// libcurl's global state must be set up once before any handle, and not concurrently.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(threads: Int = 2) {
        _ = HTTPClient.globalInit
        threadPool = NIOThreadPool(numberOfThreads: threads)
        threadPool.start()
    }

    public func shutdown() async throws {
        try await threadPool.shutdownGracefully()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = Transfer()
        return try await withTaskCancellationHandler {
            try await threadPool.runIfActive { try transfer.perform(request) }
        } onCancel: {
            transfer.cancel()
        }
    }
}

/// One transfer's state, shared with curl's C callbacks through an opaque pointer.
private final class Transfer: @unchecked Sendable {
    // Written by the transfer thread only; `cancelled` is the one cross-thread flag.
    var body: [UInt8] = []
    var headerLines: [String] = []
    private let cancelled = Atomic<Bool>(false)

    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let handle = curl_easy_init() else { throw HTTPTransportError(code: -1, message: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        let fullURL = request.fullURL
        topcoins_curl_setopt_string(handle, CURLOPT_URL, fullURL)
        topcoins_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // "" asks for every encoding this libcurl decodes (gzip, deflate, br, zstd).
        topcoins_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        topcoins_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeoutSeconds * 1000))
        topcoins_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeoutSeconds * 1000))
        topcoins_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        topcoins_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
        topcoins_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList)
        switch request.method {
        case "GET": break
        case "HEAD": topcoins_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default: topcoins_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        let requestBody = request.body ?? []
        if request.body != nil {
            topcoins_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, requestBody.count)
            topcoins_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, String(decoding: requestBody, as: UTF8.self))
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        topcoins_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            if let data { transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length)) }
            return length
        }
        topcoins_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        topcoins_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            if let data {
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                transfer.headerLines.append(line)
            }
            return length
        }
        topcoins_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        topcoins_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        topcoins_curl_setopt_progress_callback(handle) { userdata, _, _, _, _ in
            Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().isCancelled ? 1 : 0
        }
        topcoins_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            throw HTTPTransportError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        topcoins_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        // A file:// transfer has no status line; reading the file whole is its success.
        if status == 0, fullURL.lowercased().hasPrefix("file:") { status = 200 }
        return HTTPResponse(status: status, headers: parsedHeaders(), body: body)
    }

    /// Headers of the final response only (redirects and `100 Continue` each start a new block).
    private func parsedHeaders() -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for line in headerLines {
            if line.hasPrefix("HTTP/") {
                headers.removeAll()
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
            headers.append((name, value))
        }
        return headers
    }
}
