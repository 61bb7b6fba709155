import NIOCore
import NIOHTTP1

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
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: error.status.code), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
