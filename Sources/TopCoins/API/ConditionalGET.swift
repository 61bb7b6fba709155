import HTTPTypes
import Hummingbird
import NIOCore

/// The caching contract of every answer that returns data: `ETag`, `Last-Modified` and a
/// `Cache-Control` max-age, and a 304 without a body when `If-None-Match` names the ETag, so
/// CDNs and clients absorb refresh storms. A route builds one and lets it pick 304 or 200.
struct ConditionalGET: Sendable {
    let etag: String
    let lastModified: Timestamp
    let maxAgeSeconds: Int64

    /// `headers` plus the validators; then a 304 when `If-None-Match` matches, otherwise a 200
    /// with what `content` returns (it adds its content headers, and is not run for a 304).
    func response(to request: Request, headers: HTTPFields, content: (inout HTTPFields) -> ByteBuffer) -> Response {
        var headers = headers
        headers[.eTag] = etag
        headers[.lastModified] = lastModified.httpDate
        headers[.cacheControl] = "public, max-age=\(max(0, maxAgeSeconds))"
        if let ifNoneMatch = request.headers[.ifNoneMatch], ConditionalGET.matches(ifNoneMatch, etag) {
            return Response(status: .notModified, headers: headers)
        }
        let body = content(&headers)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// `If-None-Match` holds `*` or a list of entity tags, possibly weak (`W/"..."`).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: " \t")
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }
}
