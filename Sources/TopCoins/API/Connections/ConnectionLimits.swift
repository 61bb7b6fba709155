import Synchronization

/// What the API holds each connection to: how long a client may take to send a request head,
/// how many connections may be open at once, and how large a request head may be.
public struct ConnectionLimits: Sendable {
    /// A connection with no request under way is closed after this long.
    public let idleTimeout: Duration
    /// From a connection's start, or the first byte of its next request, to the request head's
    /// end: a client that sends its head slowly (slowloris) is cut off after this long.
    public let headerTimeout: Duration
    /// Past this many open connections, new ones are answered 503 and closed.
    public let maxConnections: Int
    /// The request line (`GET /?... HTTP/1.1`) and any one header line: longer is 414 or 431.
    public static let maxLineBytes = 8 * 1024
    /// All header lines together: more is 431.
    public static let maxHeaderBytes = 32 * 1024
    public static let maxHeaderCount = 100

    public init(idleTimeout: Duration, headerTimeout: Duration, maxConnections: Int) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxConnections = maxConnections
    }
}

/// The number of open connections, shared by every connection of one server.
final class OpenConnections: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection; false when it is one past the limit.
    func open() -> Bool {
        count.wrappingAdd(1, ordering: .relaxed).newValue <= limit
    }

    func close() {
        count.wrappingSubtract(1, ordering: .relaxed)
    }
}
