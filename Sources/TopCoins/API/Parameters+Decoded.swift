import Hummingbird

extension Parameters {
    /// The path parameter `name` (`{id}` of `/assets/{id}`), percent-decoded: the router
    /// matches the raw path, and a symbol may be non-ASCII (`%C3%A9`) or hold a reserved byte.
    /// A route that names no such parameter is the server's mistake, not the client's.
    func decoded(_ name: String) throws(APIError) -> String {
        guard let raw = self[name[...]] else {
            throw APIError(status: .internalServerError, code: "internal_error", message: "the route has no parameter \(name)")
        }
        return QueryString.decode(raw, plusAsSpace: false)
    }
}
