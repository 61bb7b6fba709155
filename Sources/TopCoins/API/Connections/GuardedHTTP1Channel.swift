import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypesHTTP1

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
