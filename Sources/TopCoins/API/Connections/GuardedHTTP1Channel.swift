import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
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

/// Hummingbird's HTTP/1 channel with TopCoins' connection rules in front of it: the connection
/// limit, the header-read timeout, HTTP/1.0 closed after its response, `Host` required on
/// HTTP/1.1, and oversized request heads answered 414/431 in the one JSON error shape (NIO's
/// parser alone would answer an empty 400).
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let limits: ConnectionLimits
    let openConnections: OpenConnections

    init(responder: @escaping HTTPChannelHandler.Responder, limits: ConnectionLimits) {
        self.http1 = HTTP1Channel(
            responder: responder,
            configuration: .init(
                idleTimeout: .init(limits.idleTimeout),
                httpDecoderConfiguration: .init(
                    maxHeaderFieldSize: ConnectionLimits.maxLineBytes, maxHeaderListSize: ConnectionLimits.maxHeaderBytes,
                    maxHeaderFieldCount: ConnectionLimits.maxHeaderCount)))
        self.limits = limits
        self.openConnections = OpenConnections(limit: limits.maxConnections)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admitted = openConnections.open()
        channel.closeFuture.whenComplete { [openConnections] _ in openConnections.close() }
        let headerTimeout = TimeAmount(limits.headerTimeout)
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let head = RequestHeadProgress()
            try pipeline.addHandler(RequestBytesGuard(head: head, admitted: admitted, headerTimeout: headerTimeout), position: .first)
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(HTTP1RulesHandler(head: head), position: .before(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
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

/// Where a connection is in reading its current request head, shared by the two handlers:
/// the raw-byte guard (before the parser) and the HTTP/1 rules (after it).
final class RequestHeadProgress {
    /// Bytes of a request head are arriving and its end has not been parsed yet.
    var reading = false
    /// A head was parsed and its response has not ended: bytes now are its body.
    var answering = false
    /// How long the current head's request line is (so far, until `requestLineEnded`): the
    /// parser reads it first, so when it is over the limit an overflow is a 414, else a 431.
    var requestLineBytes = 0
    var requestLineEnded = false
    var timeout: Scheduled<Void>?

    var requestLineTooLong: Bool { requestLineBytes > ConnectionLimits.maxLineBytes }

    func read(_ bytes: ByteBuffer) {
        guard !requestLineEnded else { return }
        if let end = bytes.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            requestLineBytes += end - bytes.readerIndex
            requestLineEnded = true
        } else {
            requestLineBytes += bytes.readableBytes
        }
    }

    func headParsed() {
        reading = false
        answering = true
        timeout?.cancel()
        timeout = nil
    }

    func requestAnswered() {
        reading = false
        answering = false
        requestLineBytes = 0
        requestLineEnded = false
    }
}

extension APIError {
    /// The whole HTTP/1.1 response, for the handlers that answer before the HTTP codec runs.
    var rawResponse: ByteBuffer {
        let body = self.body
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        var head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if let retryAfterSeconds { head += "Retry-After: \(retryAfterSeconds)\r\n" }
        var buffer = ByteBuffer(string: head + "\r\n")
        buffer.writeBytes(body)
        return buffer
    }
}

/// First in the pipeline, on raw bytes: refuses a connection past the limit, and closes one
/// whose request head does not arrive within the header timeout. It also notes where in the
/// head the bytes are, so that an overflow can be told apart (414 or 431).
final class RequestBytesGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let head: RequestHeadProgress
    let admitted: Bool
    let headerTimeout: TimeAmount
    private var refused = false

    init(head: RequestHeadProgress, admitted: Bool, headerTimeout: TimeAmount) {
        self.head = head
        self.admitted = admitted
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    /// A new connection is refused past the limit, or must send its first head in time.
    private func start(_ context: ChannelHandlerContext) {
        guard admitted else {
            guard !refused else { return }
            refused = true
            var error = APIError(status: 503, code: "too_many_connections", message: "the server holds as many connections as it may; retry shortly")
            error.retryAfterSeconds = 1
            context.writeAndFlush(wrapOutboundOut(error.rawResponse)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        beginHead(context)
    }

    private func beginHead(_ context: ChannelHandlerContext) {
        guard !head.reading, !head.answering else { return }
        head.reading = true
        head.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: headerTimeout) { [head] in
            guard head.reading else { return }
            let error = APIError(status: 408, code: "request_timeout", message: "the request head did not arrive in time")
            context.writeAndFlush(self.wrapOutboundOut(error.rawResponse)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        if !head.answering {
            beginHead(context)
            head.read(unwrapInboundIn(data))
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        head.timeout?.cancel()
        context.fireChannelInactive()
    }
}

/// After the HTTP/1 parser, where the protocol version is still known: HTTP/1.1 without
/// `Host` is a 400, an HTTP/1.0 connection closes after its response unless it asked to be
/// kept alive, and a request head the parser refuses is answered in the one JSON error shape.
final class HTTP1RulesHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let head: RequestHeadProgress
    private var closeAfterResponse = false
    /// The parts of a refused request are dropped; the connection closes after the answer.
    private var refusing = false

    init(head: RequestHeadProgress) {
        self.head = head
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let request) = part {
            head.headParsed()
            if request.version.major == 1, request.version.minor >= 1, !request.headers.contains(name: "Host") {
                refusing = true
                answer(context, APIError(status: 400, code: "missing_host", message: "an HTTP/1.1 request must name its Host"))
                return
            }
            closeAfterResponse = !request.isKeepAlive
        }
        guard !refusing else { return }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where closeAfterResponse:
            response.headers.replaceOrAdd(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end where closeAfterResponse:
            head.requestAnswered()
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        case .end:
            head.requestAnswered()
            context.write(data, promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        refusing = true
        switch parserError {
        case .headerOverflow where head.requestLineTooLong:
            answer(context, APIError(status: 414, code: "uri_too_long", message: "the request line is longer than \(ConnectionLimits.maxLineBytes) bytes"))
        case .headerOverflow:
            answer(
                context,
                APIError(
                    status: 431, code: "headers_too_large",
                    message: "request headers exceed \(ConnectionLimits.maxLineBytes) bytes a line, \(ConnectionLimits.maxHeaderBytes) in all or \(ConnectionLimits.maxHeaderCount) lines"))
        default:
            answer(context, APIError(status: 400, code: "bad_request", message: "the request is not valid HTTP/1.1 (\(parserError))"))
        }
    }

    /// Answers with `error` and closes the connection.
    private func answer(_ context: ChannelHandlerContext, _ error: APIError) {
        let body = error.body
        var headers = HTTPHeaders([("Content-Type", "application/json; charset=utf-8"), ("Content-Length", String(body.count)), ("Connection", "close")])
        if let retryAfterSeconds = error.retryAfterSeconds { headers.add(name: "Retry-After", value: String(retryAfterSeconds)) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: error.status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
