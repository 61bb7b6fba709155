import NIOCore
import NIOHTTP1

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
        let reason = HTTPResponseStatus(statusCode: status.code).reasonPhrase
        var head = "HTTP/1.1 \(status.code) \(reason)\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
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
            answer(context, error)
            return
        }
        beginHead(context)
    }

    private func beginHead(_ context: ChannelHandlerContext) {
        guard !head.reading, !head.answering else { return }
        head.reading = true
        head.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: headerTimeout) { [head] in
            guard head.reading else { return }
            self.answer(context, APIError(status: 408, code: "request_timeout", message: "the request head did not arrive in time"))
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

    /// Answers with `error` as raw bytes (the HTTP codec is behind this handler) and closes.
    private func answer(_ context: ChannelHandlerContext, _ error: APIError) {
        context.writeAndFlush(wrapOutboundOut(error.rawResponse)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
